// A tensor made by grad() stays differentiable after it is read, without pinning the forward
// values (they are recomputed when a second-order gradient asks), and grad() names the real
// cause when the graph was cut. Second derivatives are checked against finite differences of a
// plain JavaScript loss in float64.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

const N = 3, K = 4, M = 2;
const X = Array.from({ length: N * K }, (_, i) => Math.sin(i + 1) * 0.7);
const W0 = Array.from({ length: K * M }, (_, i) => Math.cos(2 * i + 1) * 0.5);
const V = Array.from({ length: K * M }, (_, i) => ((i * 7) % 5) / 4 - 0.5);

/** L(W) = Σ 0.1·exp(XW) + Σ tanh(XW), in plain float64 JavaScript. */
function lossJs(w: readonly number[]): number {
  let s = 0;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let z = 0;
      for (let k = 0; k < K; k++) z += X[n * K + k]! * w[k * M + m]!;
      s += 0.1 * Math.exp(z) + Math.tanh(z);
    }
  }
  return s;
}
const plus = (w: readonly number[], d: readonly number[], e: number): number[] => w.map((x, i) => x + e * d[i]!);
const unit = (i: number): number[] => W0.map((_, j) => (j === i ? 1 : 0));
/** ∂L/∂W by central differences. */
const gradFd = (w: readonly number[], h = 1e-5): number[] => w.map((_, i) => (lossJs(plus(w, unit(i), h)) - lossJs(plus(w, unit(i), -h))) / (2 * h));
/** H·v: the directional derivative of the gradient, by central differences of gradFd. */
const hvFd = (e = 1e-4): number[] => {
  const a = gradFd(plus(W0, V, e)), b = gradFd(plus(W0, V, -e));
  return a.map((x, i) => (x - b[i]!) / (2 * e));
};

const f64 = (v: readonly number[], shape: number[]): born.Tensor => born.tensor(Float64Array.from(v), { shape, dtype: 'float64' });
const forward = (w: born.Tensor): { z: born.Tensor; e: born.Tensor; loss: born.Tensor } => {
  const z = f64(X, [N, K]).matmul(w);
  const e = z.exp();
  return { z, e, loss: e.mul(0.1).sum().add(z.tanh().sum()) };
};
const close = (got: ArrayLike<number>, want: readonly number[], tol: number): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!), `at ${i}: got ${got[i]}, want ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
  }
};

describe('gradients stay differentiable after they are read', () => {
  test('grad, data(), then grad of g·v (JAX style, no requiresGrad): H·v matches finite differences', async () => {
    const W = f64(W0, [K, M]);
    const g = born.grad(forward(W).loss, [W])[0]!;
    close(await g.data(), gradFd(W0), 1e-8);
    const hv = born.grad(g.mul(f64(V, [K, M])).sum(), [W])[0]!;
    close(await hv.data(), hvFd(), 1e-6);
    // And once more, after reading the second-order result too.
    const hv2 = born.grad(g.mul(f64(V, [K, M])).sum(), [W])[0]!;
    close(await hv2.data(), hvFd(), 1e-6);
  });

  test('a forward value read after grad() keeps its history for the second order', async () => {
    const W = f64(W0, [K, M]);
    const { e, loss } = forward(W);
    const g = born.grad(loss, [W])[0]!; // d exp / dz reads e itself
    await e.data(); // realising e without requiresGrad used to cut the graph at e
    await g.data();
    close(await born.grad(g.mul(f64(V, [K, M])).sum(), [W])[0]!.data(), hvFd(), 1e-6);
  });

  test('with requiresGrad_ and backward(): the second order through .grad after reading it', async () => {
    const W = f64(W0, [K, M]).requiresGrad_();
    forward(W).loss.backward();
    const g = W.grad!;
    close(await g.data(), gradFd(W0), 1e-8);
    close(await born.grad(g.mul(f64(V, [K, M])).sum(), [W])[0]!.data(), hvFd(), 1e-6);
  });

  test('reading a gradient does not keep the forward intermediates on the device', async () => {
    const big = 256;
    const x = born.randn([big, big], { seed: 5, dtype: 'float64' });
    const w = born.randn([big, big], { seed: 6, dtype: 'float64' });
    await born.realize(x, w);
    const before = born.engine.memory().liveBytes;
    const g = born.grad(x.matmul(w).tanh().matmul(w).exp().sum(), [w])[0]!;
    await g.data();
    // g itself, and nothing of the two [256, 256] forward values in between.
    expect(born.engine.memory().liveBytes - before).toBeLessThanOrEqual(big * big * 8);
  });
});

describe('grad() names why an input is not in the graph', () => {
  test('the output was realised without requiresGrad, which released its history', async () => {
    const W = f64(W0, [K, M]);
    const { loss } = forward(W);
    await loss.data();
    expect(() => born.grad(loss, [W])).toThrow(/cut at a float64 tensor of shape \[\] that was realised .*without requiresGrad.*requiresGrad_\(\)/);
  });

  test('the path goes through detach() or noGrad', () => {
    const W = f64(W0, [K, M]);
    expect(() => born.grad(W.detach().mul(2).sum(), [W])).toThrow(/only through detach\(\) or a noGrad block/);
    expect(() => born.grad(born.noGrad(() => W.mul(2)).sum(), [W])).toThrow(/only through detach\(\) or a noGrad block/);
  });

  test('a disposed input, and a tensor that was never used', () => {
    const W = f64(W0, [K, M]);
    const loss = forward(W).loss;
    const other = f64(W0, [K, M]);
    expect(() => born.grad(loss, [other])).toThrow(/not in the graph of the output \(it was not used to compute it\)/);
    W.dispose();
    expect(() => born.grad(loss, [W])).toThrow(/an input of shape \[4, 2\] was disposed/);
  });
});
