// The sliding-window kernels (im2col, col2im, max pooling and its gradients; kernel/ir.ts
// WindowSpec) against naive float64 loops: convolution values and both gradients over strides,
// padding, dilation, groups and odd sizes; max pooling with ties (the first maximum takes the
// gradient, as in PyTorch), overlapping windows and padding; second order through both; and the
// kernels the scheduler makes of them.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

interface Geom { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number }

/** A deterministic pseudo-random array in [-1, 1). */
function rnd(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** y, and the gradients for dy, of a convolution, by its definition. */
function naiveConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], dy: Float64Array | null, g: Geom) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [O, Cg, kh, kw] = ws as [number, number, number, number];
  const [sh, sw] = g.stride, [ph, pw] = g.padding, [dh, dw] = g.dilation;
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const Og = O / g.groups;
  const y = new Float64Array(N * O * Ho * Wo), gx = new Float64Array(x.length), gw = new Float64Array(w.length);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    const yi = ((n * O + o) * Ho + i) * Wo + j;
    const d = dy ? dy[yi]! : 0;
    for (let c = 0; c < Cg; c++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
      const h = i * sh - ph + a * dh, ww = j * sw - pw + b * dw;
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      const ci = Math.floor(o / Og) * Cg + c;
      const xi = ((n * C + ci) * H + h) * W + ww, wi = ((o * Cg + c) * kh + a) * kw + b;
      y[yi] += x[xi]! * w[wi]!;
      gx[xi] += d * w[wi]!;
      gw[wi] += d * x[xi]!;
    }
  }
  return { y, gx, gw, shape: [N, O, Ho, Wo] };
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-10): void => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
};

const t64 = (a: Float64Array, shape: number[], grad = false): born.Tensor => {
  const t = born.tensor(a, { shape, dtype: 'float64' });
  return grad ? t.requiresGrad_() : t;
};

const cases: { name: string; xs: number[]; ws: number[]; g: Geom }[] = [
  { name: '3x3, no padding', xs: [2, 3, 7, 6], ws: [4, 3, 3, 3], g: { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } },
  { name: 'stride 2, padding 1, odd sizes', xs: [3, 2, 9, 8], ws: [5, 2, 3, 3], g: { stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 } },
  { name: 'rectangular kernel, mixed stride and padding', xs: [2, 3, 8, 11], ws: [2, 3, 2, 5], g: { stride: [3, 2], padding: [1, 2], dilation: [1, 1], groups: 1 } },
  { name: 'dilation 2, padding 2', xs: [2, 2, 10, 9], ws: [3, 2, 3, 3], g: { stride: [1, 1], padding: [2, 2], dilation: [2, 2], groups: 1 } },
  { name: 'groups 2', xs: [2, 4, 7, 7], ws: [6, 2, 3, 3], g: { stride: [1, 2], padding: [1, 0], dilation: [1, 1], groups: 2 } },
  { name: 'depthwise (groups = channels)', xs: [3, 5, 6, 7], ws: [5, 1, 3, 3], g: { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 5 } },
  { name: '1x1 kernel, stride 2', xs: [2, 3, 5, 5], ws: [4, 3, 1, 1], g: { stride: [2, 2], padding: [0, 0], dilation: [1, 1], groups: 1 } },
  { name: 'kernel as large as the padded input', xs: [1, 2, 3, 4], ws: [2, 2, 5, 4], g: { stride: [1, 1], padding: [1, 0], dilation: [1, 1], groups: 1 } },
];

describe('convolution through the window kernels (float64, against the definition)', () => {
  for (const c of cases) {
    test(`${c.name}: values, input gradient, weight gradient, bias gradient`, async () => {
      const x = rnd(c.xs.reduce((a, b) => a * b), 1), w = rnd(c.ws.reduce((a, b) => a * b), 2);
      const ref0 = naiveConv(x, c.xs, w, c.ws, null, c.g);
      const dy = rnd(ref0.y.length, 3);
      const ref = naiveConv(x, c.xs, w, c.ws, dy, c.g);
      const O = c.ws[0]!;
      const bias = rnd(O, 4);
      const X = t64(x, c.xs, true), Wt = t64(w, c.ws, true), B = t64(bias, [O], true);
      const y = born.nn.functional.conv2d(X, Wt, B, c.g);
      expect(y.shape).toEqual(ref.shape);
      const [gx, gw, gb] = born.grad(y.mul(t64(dy, ref.shape)).sum(), [X, Wt, B]);
      const [N, , Ho, Wo] = ref.shape as [number, number, number, number];
      const withBias = ref.y.map((v, i) => v + bias[Math.floor(i / (Ho * Wo)) % O]!);
      const gbRef = Array.from({ length: O }, (_, o) => {
        let s = 0;
        for (let n = 0; n < N; n++) for (let k = 0; k < Ho * Wo; k++) s += dy[(n * O + o) * Ho * Wo + k]!;
        return s;
      });
      close(await y.data(), withBias);
      close(await gx!.data(), ref.gx);
      close(await gw!.data(), ref.gw);
      close(await gb!.data(), gbRef);
    });
  }

  test('second order: the input gradient differentiated by the output gradient is a convolution', async () => {
    const c = cases[1]!;
    const x = rnd(c.xs.reduce((a, b) => a * b), 5), w = rnd(c.ws.reduce((a, b) => a * b), 6);
    const shape = naiveConv(x, c.xs, w, c.ws, null, c.g).shape;
    const U = t64(rnd(shape.reduce((a, b) => a * b), 7), shape, true);
    const X = t64(x, c.xs, true), Wt = t64(w, c.ws);
    const [gx] = born.grad(born.nn.functional.conv2d(X, Wt, null, c.g).mul(U).sum(), [X], {});
    const v = rnd(x.length, 8);
    const [gu] = born.grad(gx!.mul(t64(v, c.xs)).sum(), [U]);
    close(await gu!.data(), naiveConv(v, c.xs, w, c.ws, null, c.g).y);
  });

  test('float32 matches float64 to float32 precision', async () => {
    const c = cases[4]!;
    const x = rnd(c.xs.reduce((a, b) => a * b), 9), w = rnd(c.ws.reduce((a, b) => a * b), 10);
    const y = born.nn.functional.conv2d(born.tensor(Float32Array.from(x), { shape: c.xs }), born.tensor(Float32Array.from(w), { shape: c.ws }), null, c.g);
    close(await y.data(), naiveConv(x, c.xs, w, c.ws, null, c.g).y, 1e-5);
  });
});

/** Max pooling's values, PyTorch's argmax (first maximum; padding never chosen) and gradient for dy. */
function naiveMaxPool(x: Float64Array, xs: number[], k: [number, number], s: [number, number], p: [number, number], dy: Float64Array | null) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const Ho = Math.floor((H + 2 * p[0] - k[0]) / s[0]) + 1, Wo = Math.floor((W + 2 * p[1] - k[1]) / s[1]) + 1;
  const y = new Float64Array(N * C * Ho * Wo), arg = new Int32Array(y.length), gx = new Float64Array(x.length);
  for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let m = -Infinity, at = -1;
    for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) {
      const h = i * s[0] - p[0] + a, w = j * s[1] - p[1] + b;
      if (h < 0 || h >= H || w < 0 || w >= W) continue;
      const v = x[(nc * H + h) * W + w]!;
      if (at < 0 || v > m) { m = v; at = (nc * H + h) * W + w; }
    }
    const o = (nc * Ho + i) * Wo + j;
    y[o] = m;
    arg[o] = at;
    if (dy) gx[at] += dy[o]!;
  }
  return { y, arg, gx, shape: [N, C, Ho, Wo] };
}

describe('max pooling through the window kernels', () => {
  const pools: { name: string; xs: number[]; k: [number, number]; s: [number, number]; p: [number, number] }[] = [
    { name: '2x2 stride 2 (odd input: the last row and column are dropped)', xs: [2, 3, 7, 9], k: [2, 2], s: [2, 2], p: [0, 0] },
    { name: '3x3 stride 2 padding 1 (overlapping windows)', xs: [2, 2, 8, 7], k: [3, 3], s: [2, 2], p: [1, 1] },
    { name: '3x2 stride 1', xs: [1, 2, 6, 5], k: [3, 2], s: [1, 1], p: [0, 0] },
  ];
  for (const c of pools) {
    test(`${c.name}: values and gradient, ties going to the first maximum`, async () => {
      // Few distinct values, so that most windows hold ties.
      const x = rnd(c.xs.reduce((a, b) => a * b), 11).map((v) => Math.round(v * 2));
      const ref0 = naiveMaxPool(x, c.xs, c.k, c.s, c.p, null);
      const dy = rnd(ref0.y.length, 12);
      const ref = naiveMaxPool(x, c.xs, c.k, c.s, c.p, dy);
      const X = t64(x, c.xs, true);
      const y = born.nn.functional.maxPool2d(X, c.k, { stride: c.s, padding: c.p });
      expect(y.shape).toEqual(ref.shape);
      const U = t64(dy, ref.shape, true);
      const [gx] = born.grad(y.mul(U).sum(), [X]);
      close(await y.data(), ref.y);
      close(await gx!.data(), ref.gx);
      // Second order: gx is linear in U; its derivative reads v at each window's maximum.
      const v = rnd(x.length, 13);
      const [gu] = born.grad(gx!.mul(t64(v, c.xs)).sum(), [U]);
      close(await gu!.data(), Array.from(ref.arg, (a) => v[a]!));
    });
  }

  test('relu then max pooling (pooled first where a gradient flows): values and gradient, ties and all-negative windows', async () => {
    const xs = [2, 3, 6, 7];
    // Few distinct values around zero: ties, and windows whose taps are all negative or zero.
    const x = rnd(xs.reduce((a, b) => a * b), 21).map((v) => Math.round(v * 2) - 0.5 * (v < -0.7 ? 1 : 0));
    const r = x.map((v) => Math.max(v, 0));
    const ref0 = naiveMaxPool(r, xs, [2, 2], [2, 2], [0, 0], null);
    const dy = rnd(ref0.y.length, 22);
    const ref = naiveMaxPool(r, xs, [2, 2], [2, 2], [0, 0], dy);
    const gxRef = ref.gx.map((g, i) => (x[i]! > 0 ? g : 0));
    const X = t64(x, xs, true);
    const y = born.nn.functional.maxPool2d(X.relu(), 2);
    const [gx] = born.grad(y.mul(t64(dy, ref.shape)).sum(), [X]);
    close(await y.data(), ref.y);
    close(await gx!.data(), gxRef);
    // Without gradients the value is the same (relu fused into the pool).
    close(await born.noGrad(() => born.nn.functional.maxPool2d(t64(x, xs).relu(), 2)).data(), ref.y);
  });

  test('the gradient of a window holding NaNs goes where the scan puts it (its last NaN); others to the first maximum', async () => {
    // Windows (2x2, stride 2): [1, NaN; 3, NaN] → the last NaN; [5, 6; 6, 2] → the first 6; [-0, 0; -1, 0] → -0.
    const x = born.tensor([1, NaN, 5, 6, -0, 0, 3, NaN, 6, 2, -1, 0], { shape: [1, 1, 2, 6], dtype: 'float64' }).requiresGrad_();
    const y = born.nn.functional.maxPool2d(x, 2);
    const [gx] = born.grad(y.mul(born.tensor([10, 20, 30], { shape: [1, 1, 1, 3], dtype: 'float64' })).sum(), [x]);
    expect(Array.from(await gx!.data())).toEqual([0, 0, 0, 20, 30, 0, 0, 10, 0, 0, 0, 0]);
    // The values: NaN, 6, and the first of the tied zeros (-0), as the scan gives them.
    const vals = Array.from(await y.data());
    expect(vals[0]).toBeNaN();
    expect(vals[1]).toBe(6);
    expect(Object.is(vals[2], -0)).toBe(true);
    // The same through float32 and a fused op before the pool (the maximum is compared as stored).
    const x32 = born.tensor([1, 2, 5, 6, 3, 4, 6, 2], { shape: [1, 1, 2, 4] }).requiresGrad_();
    const [g32] = born.grad(born.nn.functional.maxPool2d(x32.mul(0.1).exp(), 2).sum(), [x32]);
    const e = [1, 2, 5, 6, 3, 4, 6, 2].map((v) => Math.exp(v * 0.1) * 0.1);
    const got = Array.from(await g32!.data());
    [0, 0, 0, 1, 0, 1, 0, 0].forEach((hit, i) => (hit ? expect(got[i]).toBeCloseTo(e[i]!, 5) : expect(got[i]).toBe(0)));
  });

  test('a NaN in a window is its maximum', async () => {
    const x = born.tensor([1, NaN, 3, 2, 5, 6, 7, 8], { shape: [1, 1, 2, 4] });
    expect(Array.from(await born.nn.functional.maxPool2d(x, 2).data())).toEqual([NaN, 8]);
  });
});

describe('average pooling through the window kernels (padding counted as zeros)', () => {
  const pools: { xs: number[]; k: [number, number]; s: [number, number]; p: [number, number] }[] = [
    { xs: [2, 3, 7, 9], k: [2, 2], s: [2, 2], p: [0, 0] },
    { xs: [2, 2, 8, 7], k: [3, 3], s: [2, 2], p: [1, 1] },
    { xs: [1, 2, 6, 5], k: [3, 2], s: [1, 2], p: [1, 0] },
  ];
  for (const c of pools) {
    test(`kernel ${c.k}, stride ${c.s}, padding ${c.p}: values, gradient, second order`, async () => {
      const [N, C, H, W] = c.xs as [number, number, number, number];
      const Ho = Math.floor((H + 2 * c.p[0] - c.k[0]) / c.s[0]) + 1, Wo = Math.floor((W + 2 * c.p[1] - c.k[1]) / c.s[1]) + 1;
      const x = rnd(N * C * H * W, 14), dy = rnd(N * C * Ho * Wo, 15);
      const y = new Float64Array(dy.length), gx = new Float64Array(x.length);
      const kk = c.k[0] * c.k[1];
      for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
        for (let a = 0; a < c.k[0]; a++) for (let b = 0; b < c.k[1]; b++) {
          const h = i * c.s[0] - c.p[0] + a, w = j * c.s[1] - c.p[1] + b;
          if (h < 0 || h >= H || w < 0 || w >= W) continue;
          y[(nc * Ho + i) * Wo + j] += x[(nc * H + h) * W + w]! / kk;
          gx[(nc * H + h) * W + w] += dy[(nc * Ho + i) * Wo + j]! / kk;
        }
      }
      const X = t64(x, c.xs, true), U = t64(dy, [N, C, Ho, Wo], true);
      const out = born.nn.functional.avgPool2d(X, c.k, { stride: c.s, padding: c.p });
      const [g] = born.grad(out.mul(U).sum(), [X]);
      close(await out.data(), y);
      close(await g!.data(), gx);
      // g is linear in U: its derivative is the average pool of v.
      const v = rnd(x.length, 16);
      const [gu] = born.grad(g!.mul(t64(v, c.xs)).sum(), [U]);
      const want = new Float64Array(dy.length);
      for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
        for (let a = 0; a < c.k[0]; a++) for (let b = 0; b < c.k[1]; b++) {
          const h = i * c.s[0] - c.p[0] + a, w = j * c.s[1] - c.p[1] + b;
          if (h >= 0 && h < H && w >= 0 && w < W) want[(nc * Ho + i) * Wo + j] += v[(nc * H + h) * W + w]! / kk;
        }
      }
      close(await gu!.data(), want);
    });
  }
});

describe('window kernels in the plan', () => {
  test('conv → relu → max pool forward: patches, matmul (with the bias), pool, then relu on the pooled quarter', async () => {
    const x = born.rand([4, 3, 12, 12]), w = born.rand([8, 3, 3, 3]), b = born.rand([8]);
    await born.realize(x, w, b);
    const y = born.nn.functional.maxPool2d(born.nn.functional.conv2d(x, w, b).relu(), 2);
    const ks = born.explain(y).kernels;
    expect(ks.map((k) => k.ops)).toEqual([['im2col'], ['matmul', 'add'], ['maxPool'], ['relu']]);
    expect(ks[3]!.name).toBe('E_4_8_5_5');
  });

  test('an elementwise source read at several taps is written once; one read per element fuses', async () => {
    const x = born.rand([2, 3, 9, 9]), w = born.rand([4, 3, 3, 3]);
    await born.realize(x, w);
    // 3x3 patches read each element of relu(x) nine times: relu is its own (contiguous) kernel.
    const conv = born.explain(born.nn.functional.conv2d(x.relu(), w, null)).kernels.map((k) => k.ops);
    // (The last kernel lays the [O, N, Ho, Wo] product out as the [N, O, Ho, Wo] output.)
    expect(conv).toEqual([['relu'], ['im2col'], ['matmul'], []]);
    // 2x2 windows of stride 2 read each element once: the op stays fused into the pool.
    const pool = born.explain(born.nn.functional.maxPool2d(x.exp(), 2)).kernels.map((k) => k.ops);
    expect(pool).toEqual([['exp', 'maxPool']]);
    const vals = await born.nn.functional.conv2d(x.relu(), w, null).data();
    const ref = await born.nn.functional.conv2d(born.tensor(Array.from(await x.relu().data()), { shape: [2, 3, 9, 9] }), w, null).data();
    vals.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
  });

  test('the input gradient of a convolution is a matmul and one col2im kernel; max pooling\'s one kernel', async () => {
    const x = born.rand([4, 3, 12, 12]).requiresGrad_(), w = born.rand([8, 3, 3, 3]);
    await born.realize(x, w);
    const y = born.nn.functional.maxPool2d(born.nn.functional.conv2d(x, w, null), 2);
    const [gx] = born.grad(y.sum(), [x]);
    const ops = born.explain(gx!).kernels.map((k) => k.ops.join(','));
    expect(ops.filter((o) => o.includes('col2im'))).toHaveLength(1);
    expect(ops.filter((o) => o.includes('maxPoolGrad'))).toHaveLength(1);
    expect(ops.some((o) => o.includes('where') || o.includes('eq'))).toBe(false);
  });

  test('conv → relu → max pool backward: relu\'s mask is applied at the pooled size, inside the pool gradient', async () => {
    const x = born.rand([4, 3, 12, 12]), w = born.rand([8, 3, 3, 3]).requiresGrad_(), b = born.rand([8]).requiresGrad_();
    await born.realize(x, w, b);
    const y = born.nn.functional.maxPool2d(born.nn.functional.conv2d(x, w, b).relu(), 2);
    const [gw, gb] = born.grad(y.sum(), [w, b]);
    const ks = born.explain(gw!, gb!).kernels;
    // No full-size [4, 8, 10, 10] kernel computes the mask: it is the pool gradient's, read at windows.
    expect(ks.filter((k) => k.ops.includes('where')).map((k) => k.ops)).toEqual([['relu', 'lt', 'where', 'maxPoolGrad']]);
    expect(ks.filter((k) => k.ops.includes('maxPoolGrad'))).toHaveLength(1);
  });

  test('average pooling and its gradient are one kernel each', async () => {
    const x = born.rand([2, 3, 9, 9]).requiresGrad_();
    await born.realize(x);
    const y = born.nn.functional.avgPool2d(x, 3, { stride: 2, padding: 1 });
    expect(born.explain(y).kernels.map((k) => k.ops)).toEqual([['avgPool']]);
    const [gx] = born.grad(y.sum(), [x]);
    expect(born.explain(gx!).kernels.map((k) => k.ops)).toEqual([['avgPoolGrad']]);
  });
});
