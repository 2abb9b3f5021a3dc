// The autodiff API: born.grad (JAX style, on unrealised graphs), backward()
// with .grad accumulation on requiresGrad_() leaves, zeroGrad / grad = null,
// noGrad, detach, errors, gradOutput, higher order, dead branches costing no
// kernels, and history kept across realisation for requiresGrad leaves.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';

const f64 = (values: number[], shape: number[] = [values.length]): Tensor =>
  born.tensor(Float64Array.from(values), { shape, dtype: 'float64' });
const f32 = (values: number[], shape: number[] = [values.length]): Tensor =>
  born.tensor(Float32Array.from(values), { shape });
const list = async (t: Tensor | null | undefined): Promise<number[]> => {
  expect(t, 'a gradient tensor').toBeTruthy();
  return Array.from(await t!.data());
};
const close = (got: number[], want: number[], tol = 1e-9): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `at ${i}: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!))));
};
const allZero = async (t: Tensor): Promise<boolean> => (await list(t)).every((v) => v === 0);

describe('born.grad (JAX style)', () => {
  test('returns lazy tensors with the inputs\' shapes and dtypes, no requiresGrad needed', async () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = f64([0.5, -1, 2]);
    const out = x.mul(x).sum().add(w.exp().sum());
    expect(x.requiresGrad).toBe(false);
    const [gx, gw] = born.grad(out, [x, w]);
    expect(gx).toBeInstanceOf(born.Tensor);
    expect([...gx!.shape]).toEqual([2, 3]);
    expect(gx!.dtype).toBe('float32');
    expect([...gw!.shape]).toEqual([3]);
    expect(gw!.dtype).toBe('float64');
    expect(await list(gx)).toEqual([2, 4, 6, 8, 10, 12]);
    close(await list(gw), [0.5, -1, 2].map(Math.exp));
  });

  test('gradient wrt an intermediate tensor of the graph', async () => {
    const x = f64([0.1, 0.2, 0.3]);
    const y = x.mul(2);
    const out = y.exp().sum();
    const [gy, gx] = born.grad(out, [y, x]);
    close(await list(gy), [0.2, 0.4, 0.6].map(Math.exp));
    close(await list(gx), [0.2, 0.4, 0.6].map((v) => 2 * Math.exp(v)));
  });

  test('the output itself as an input: gradient 1', async () => {
    const x = f32([3]);
    const out = x.mul(x).sum();
    const [g] = born.grad(out, [out]);
    expect(await list(g)).toEqual([1]);
  });

  test('the same input listed twice gets the same gradient twice', async () => {
    const x = f64([1, 2]);
    const [a, b] = born.grad(x.pow(3).sum(), [x, x]);
    expect(await list(a)).toEqual([3, 12]);
    expect(await list(b)).toEqual([3, 12]);
  });

  test('gradOutput gives a vector-Jacobian product for a non-scalar output', async () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(x); // dy/dx = diag(2x)
    const [g] = born.grad(y, [x], { gradOutput: f64([1, 10, 100]) });
    expect(await list(g)).toEqual([2, 40, 600]);
    // A one-element output with gradOutput scales the gradient.
    const [h] = born.grad(x.sum().reshape([1]), [x], { gradOutput: f64([3]) });
    expect(await list(h)).toEqual([3, 3, 3]);
  });

  test('a 0-d output and a [1, 1] output are both scalars', async () => {
    const x = f32([1, 2]);
    const [g0] = born.grad(x.sum(), [x]);
    const [g1] = born.grad(x.sum({ dim: 0, keepdim: true }).reshape([1, 1]), [x]);
    expect(await list(g0)).toEqual([1, 1]);
    expect(await list(g1)).toEqual([1, 1]);
  });

  test('grad of grad of x^3 at x = 2 is 12, and once more 6 (all built before realising)', async () => {
    const x = f64([2], []);
    const y = x.pow(3);
    const [g] = born.grad(y, [x]);
    const [h] = born.grad(g!, [x]);
    const [k] = born.grad(h!, [x]);
    await born.realize(g!, h!, k!);
    expect(await g!.item()).toBe(12);
    expect(await h!.item()).toBe(12);
    expect(await k!.item()).toBe(6);
    // The same through x * x * x (float32).
    const z = f32([2], []);
    const [gz] = born.grad(z.mul(z).mul(z), [z]);
    const [hz] = born.grad(gz!, [z]);
    expect(await hz!.item()).toBe(12);
  });

  test('grad of grad with a requiresGrad_() leaf survives realising the first gradient', async () => {
    const x = f64([2], []).requiresGrad_();
    const [g] = born.grad(x.pow(3), [x]);
    expect(await g!.item()).toBe(12);
    const [h] = born.grad(g!, [x]);
    expect(await h!.item()).toBe(12);
  });

  test('born.grad does not fill .grad and does not mark anything', async () => {
    const w = f32([1, 2]).requiresGrad_();
    const [g] = born.grad(w.mul(3).sum(), [w]);
    expect(await list(g)).toEqual([3, 3]);
    expect(w.grad).toBeNull();
  });

  test('calling born.grad twice on one graph gives the same answer (the graph is not consumed)', async () => {
    const x = f64([0.5, 1.5]);
    const out = x.sin().mul(x).sum();
    const [a] = born.grad(out, [x]);
    const [b] = born.grad(out, [x]);
    expect(await list(a)).toEqual(await list(b));
  });

  test('an output realised without any requiresGrad leaf: either the right gradient or an error, never a silent zero', async () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    await y.item();
    let g: Tensor | undefined;
    try {
      [g] = born.grad(y, [x]);
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      return;
    }
    expect(await list(g)).toEqual([2, 4]);
  });
});

describe('errors (thrown synchronously)', () => {
  test('non-scalar output without gradOutput: names the shape', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = x.mul(2);
    expect(() => born.grad(y, [x])).toThrow(Error);
    expect(() => born.grad(y, [x])).toThrow(/2, ?3/);
    const w = f32([1, 2, 3, 4, 5, 6], [2, 3]).requiresGrad_();
    expect(() => w.mul(2).backward()).toThrow(/2, ?3/);
  });

  test('gradOutput of the wrong shape', () => {
    const x = f32([1, 2, 3]);
    expect(() => born.grad(x.mul(2), [x], { gradOutput: f32([1, 2]) })).toThrow(born.ShapeError);
  });

  test('an input the output does not depend on: "not in the graph" / "not used"', () => {
    const x = f32([1, 2]), unrelated = f32([3, 4]);
    expect(() => born.grad(x.sum(), [x, unrelated])).toThrow(/not (in|part of) the graph|not used|unused|does not depend/i);
  });

  test('int32 or bool input, int32 output: DTypeError', () => {
    const x = f32([1, 2, 3]);
    const i = born.tensor(Int32Array.from([1, 2, 3]), { dtype: 'int32' });
    const b = x.gt(1);
    expect(() => born.grad(x.add(i).sum(), [i])).toThrow(born.DTypeError);
    expect(() => born.grad(born.where(b, x, 0).sum(), [b])).toThrow(born.DTypeError);
    expect(() => born.grad(x.gt(1).sum(), [x])).toThrow(born.DTypeError);
    expect(() => born.grad(x.argmax(), [x])).toThrow(born.DTypeError);
  });

  test('backward on a graph without any requiresGrad leaf is an error', () => {
    const x = f32([1, 2]);
    expect(() => x.mul(2).sum().backward()).toThrow(Error);
  });
});

describe('backward and .grad', () => {
  test('requiresGrad_ returns the tensor and sets the flag; ops on it record gradients', () => {
    const w = f32([1, 2]);
    expect(w.requiresGrad).toBe(false);
    expect(w.grad).toBeNull();
    expect(w.requiresGrad_()).toBe(w);
    expect(w.requiresGrad).toBe(true);
    expect(w.mul(2).requiresGrad).toBe(true);
    expect(w.mul(2).add(f32([1, 1])).requiresGrad).toBe(true);
    expect(f32([1]).mul(2).requiresGrad).toBe(false);
    w.requiresGrad_(false);
    expect(w.requiresGrad).toBe(false);
  });

  test('backward fills .grad on requiresGrad leaves only', async () => {
    const w = f64([1, 2, 3]).requiresGrad_();
    const c = f64([4, 5, 6]);
    const y = w.mul(c);
    y.sum().backward();
    expect(await list(w.grad)).toEqual([4, 5, 6]);
    expect(c.grad).toBeNull();
    expect(y.grad).toBeNull();
  });

  test('backward accumulates across calls until zeroGrad or grad = null', async () => {
    const w = f64([1, 2, 3]).requiresGrad_();
    w.mul(w).sum().backward(); // 2w
    expect(await list(w.grad)).toEqual([2, 4, 6]);
    w.mul(3).sum().backward(); // + 3
    expect(await list(w.grad)).toEqual([5, 7, 9]);
    w.sum().backward(); // + 1
    expect(await list(w.grad)).toEqual([6, 8, 10]);

    w.zeroGrad();
    if (w.grad !== null) expect(await allZero(w.grad)).toBe(true);
    w.mul(2).sum().backward();
    expect(await list(w.grad)).toEqual([2, 2, 2]);

    w.grad = null;
    expect(w.grad).toBeNull();
    w.mul(w).sum().backward();
    expect(await list(w.grad)).toEqual([2, 4, 6]);
  });

  test('accumulation works whether or not the previous .grad was realised', async () => {
    const w = f32([1, 2]).requiresGrad_();
    w.mul(2).sum().backward();
    w.mul(5).sum().backward(); // not realised in between
    expect(await list(w.grad)).toEqual([7, 7]);
    w.sum().backward(); // realised now
    expect(await list(w.grad)).toEqual([8, 8]);
  });

  test('backward with gradOutput', async () => {
    const w = f64([1, 2, 3]).requiresGrad_();
    w.mul(2).backward({ gradOutput: f64([1, 2, 3]) });
    expect(await list(w.grad)).toEqual([2, 4, 6]);
  });

  test('several leaves, one used twice, get their own gradients', async () => {
    const a = f64([1, 2]).requiresGrad_();
    const b = f64([3, 4]).requiresGrad_();
    a.mul(b).add(a.mul(a)).sum().backward();
    expect(await list(a.grad)).toEqual([3 + 2, 4 + 4]);
    expect(await list(b.grad)).toEqual([1, 2]);
  });

  test('backward after await loss.item() works when the params had requiresGrad_() (history kept)', async () => {
    const w = f64([0.5, -1, 2]).requiresGrad_();
    const x = f64([1, 2, 3]);
    const loss = w.mul(x).tanh().sum();
    const value = await loss.item();
    const want = [0.5, -2, 6].map(Math.tanh).reduce((s, v) => s + v, 0);
    expect(Math.abs(value - want)).toBeLessThan(1e-12);
    loss.backward();
    close(await list(w.grad), [0.5, -2, 6].map((v, i) => (1 - Math.tanh(v) ** 2) * [1, 2, 3][i]!));
    // born.grad on the realised loss works too, because w requires grad.
    const [g] = born.grad(loss, [w]);
    close(await list(g), [0.5, -2, 6].map((v, i) => (1 - Math.tanh(v) ** 2) * [1, 2, 3][i]!));
  });

  test('intermediate tensors realised along the way keep their history too', async () => {
    const w = f32([1, 2]).requiresGrad_();
    const h = w.mul(w);
    await h.data();
    const loss = h.mul(3).sum();
    await loss.item();
    loss.backward();
    expect(await list(w.grad)).toEqual([6, 12]);
  });

  test('assigning .grad by hand: backward accumulates onto it', async () => {
    const w = f32([1, 2]).requiresGrad_();
    w.grad = f32([10, 20]);
    w.mul(w).sum().backward();
    expect(await list(w.grad)).toEqual([12, 24]);
  });

  test('w.detach().requiresGrad_() is a new, independent leaf', async () => {
    const w = f64([1, 2]).requiresGrad_();
    const w2 = w.detach().requiresGrad_();
    w2.mul(w2).sum().backward();
    expect(await list(w2.grad)).toEqual([2, 4]);
    expect(w.grad).toBeNull();
  });

  test('requiresGrad_() on an int32 tensor is an error', () => {
    const i = born.tensor(Int32Array.from([1, 2]), { dtype: 'int32' });
    // @ts-expect-error: refused at compile time too, where the dtype is known
    expect(() => i.requiresGrad_()).toThrow(Error);
  });

  test('a small training loop: SGD on (w - t)^2 with backward and noGrad updates', async () => {
    const t = [1, -2, 3];
    let w = f64([0, 0, 0]).requiresGrad_();
    const target = f64(t);
    for (let step = 0; step < 5; step++) {
      const loss = w.sub(target).pow(2).sum();
      await loss.item();
      loss.backward();
      const g = w.grad!;
      const next = born.noGrad(() => w.sub(g.mul(0.25)));
      expect(next.requiresGrad).toBe(false);
      await next.data();
      w = next.requiresGrad_();
    }
    // w_k = t (1 - 0.5^k): each step halves the distance.
    close(await list(w), t.map((v) => v * (1 - 0.5 ** 5)), 1e-12);
  });
});

describe('noGrad and detach', () => {
  test('results made inside noGrad have requiresGrad false; the flag comes back afterwards', () => {
    const w = f32([1, 2]).requiresGrad_();
    const r = born.noGrad(() => w.mul(2).exp());
    expect(r.requiresGrad).toBe(false);
    expect(born.noGrad(() => 42)).toBe(42);
    expect(w.mul(2).requiresGrad).toBe(true);
    // Nested, and restored after a throw.
    born.noGrad(() => born.noGrad(() => w.add(1)));
    expect(() => born.noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(w.mul(2).requiresGrad).toBe(true);
  });

  test('backward does not flow through a noGrad result', async () => {
    const w = f64([1, 2]).requiresGrad_();
    const frozen = born.noGrad(() => w.mul(w));
    w.mul(3).add(frozen).sum().backward();
    expect(await list(w.grad)).toEqual([3, 3]);
  });

  test('born.grad through only a noGrad path: an error or a zero gradient', async () => {
    const x = f64([1, 2]);
    const y = born.noGrad(() => x.mul(x)).sum();
    let g: Tensor | undefined;
    try {
      [g] = born.grad(y, [x]);
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect(String((e as Error).message)).toMatch(/not (in|part of) the graph|not used|unused|does not depend|no grad/i);
      return;
    }
    expect(await allZero(g!)).toBe(true);
  });

  test('detach: same values, requiresGrad false, gradient cut', async () => {
    const w = f64([1, 2, 3]).requiresGrad_();
    const d = w.detach();
    expect(d.requiresGrad).toBe(false);
    expect(await list(d)).toEqual([1, 2, 3]);
    w.mul(d).sum().backward(); // d(w * stop(w))/dw = w
    expect(await list(w.grad)).toEqual([1, 2, 3]);
  });

  test('detach in a JAX-style graph: x.detach() * x has gradient x', async () => {
    const x = f64([0.5, -2]);
    const [g] = born.grad(x.detach().mul(x).sum(), [x]);
    expect(await list(g)).toEqual([0.5, -2]);
  });

  test('born.grad of a fully detached output wrt x: an error or a zero gradient', async () => {
    const x = f64([1, 2]);
    let g: Tensor | undefined;
    try {
      [g] = born.grad(x.detach().exp().sum(), [x]);
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      return;
    }
    expect(await allZero(g!)).toBe(true);
  });

  test('detach of an intermediate cuts only that path', async () => {
    const x = f64([1, 2]);
    const h = x.mul(x); // used twice: once cut
    const out = h.detach().mul(h).sum(); // d/dx = h.detach() * 2x
    const [g] = born.grad(out, [x]);
    expect(await list(g)).toEqual([1 * 2, 4 * 4]);
  });
});

describe('tensors off the path get no gradient work', () => {
  test('a big unrelated branch adds no kernels to the gradient', async () => {
    const x = born.randn([8, 8], { seed: 1, dtype: 'float64' });
    const w = born.randn([8, 8], { seed: 2, dtype: 'float64' });
    const big = born.randn([256, 256], { seed: 3, dtype: 'float64' });
    await born.realize(x, w, big);
    const small = x.mul(w).sum();
    const branch = big.matmul(big).exp().mean();
    const withBranch = small.add(branch);
    const [g0] = born.grad(small, [w]);
    const [g1] = born.grad(withBranch, [w]);
    const p0 = born.explain(g0!), p1 = born.explain(g1!);
    expect(p1.kernels.length, `without the branch:\n${p0}\nwith it:\n${p1}`).toBe(p0.kernels.length);
    expect(p1.kernels.flatMap((k) => k.ops), String(p1)).not.toContain('matmul');
    expect(p1.kernels.flatMap((k) => k.ops), String(p1)).not.toContain('exp');
    const bigBytes = 256 * 256 * 8;
    for (const k of p1.kernels) expect(k.bytes, String(p1)).toBeLessThan(bigBytes);
    expect(await list(g1)).toEqual(await list(x));
  });

  test('an input needed only as a coefficient is not differentiated', async () => {
    // d/dw sum(w * exp(u)) = exp(u): exp(u) must be computed, but nothing flows towards u.
    const u = born.randn([64, 64], { seed: 4, dtype: 'float64' });
    const w = born.randn([64, 64], { seed: 5, dtype: 'float64' });
    await born.realize(u, w);
    const [g] = born.grad(w.mul(u.exp()).sum(), [w]);
    const plan = born.explain(g!);
    expect(plan.kernels.length, String(plan)).toBeLessThanOrEqual(1);
    const ud = await u.data(), gd = await g!.data();
    for (let i = 0; i < ud.length; i += 101) expect(gd[i]).toBeCloseTo(Math.exp(ud[i]!), 12);
  });

  test('a requiresGrad parameter in a dead branch gets no .grad from backward', async () => {
    const a = f32([1, 2]).requiresGrad_();
    const b = f32([3, 4]).requiresGrad_();
    const unused = b.mul(100); // built, never used by the loss
    void unused;
    a.mul(2).sum().backward();
    expect(await list(a.grad)).toEqual([2, 2]);
    expect(b.grad).toBeNull();
  });
});
