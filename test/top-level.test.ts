// Top-level functions: *Like creation and empty, randperm / multinomial / bernoulli (statistics
// and seed determinism: Born's Philox streams, not PyTorch's), grad modes, the CPU thread count,
// and the functional forms of Tensor methods (born.exp(x) is x.exp()).
import { availableParallelism } from 'node:os';
import { describe, expect, expectTypeOf, test } from 'vitest';
import * as born from '../src/index.js';

type T<D extends born.DType> = born.Tensor<D>;
const list = async (t: born.Tensor): Promise<number[]> => [...(await t.data())].map(Number);

describe('zerosLike, onesLike, fullLike, randLike, randnLike, empty', () => {
  test('the shape and dtype of the model tensor, or { dtype }', async () => {
    const x = born.tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    const z = born.zerosLike(x);
    expect([z.shape, z.dtype]).toEqual([[2, 3], 'int32']);
    expect(await z.tolist()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(await born.onesLike(x, { dtype: 'float64' }).tolist()).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(born.onesLike(x, { dtype: 'float64' }).dtype).toBe('float64');
    expect(await born.fullLike(x, 7).tolist()).toEqual([[7, 7, 7], [7, 7, 7]]);
    expect(await born.fullLike(x, 2.7).tolist()).toEqual([[2, 2, 2], [2, 2, 2]]); // cast to int32, as PyTorch
    expectTypeOf(born.zerosLike(x)).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(born.onesLike(x, { dtype: 'float64' })).toEqualTypeOf<T<'float64'>>();
    expectTypeOf(born.randLike(born.zeros([2]))).toEqualTypeOf<T<'float32'>>();
  });
  test('randLike / randnLike draw as rand / randn with the same seed', async () => {
    const x = born.zeros([3, 4], { dtype: 'float64' });
    expect(await list(born.randLike(x, { seed: 5 }))).toEqual(await list(born.rand([3, 4], { seed: 5, dtype: 'float64' })));
    expect(await list(born.randnLike(x, { seed: 5 }))).toEqual(await list(born.randn([3, 4], { seed: 5, dtype: 'float64' })));
    expect(born.randnLike(x).dtype).toBe('float64');
    expect(await list(born.randLike(x))).not.toEqual(await list(born.randLike(x)));
  });
  test('errors name the function and what would be valid', () => {
    const i = born.zeros([2], { dtype: 'int32' });
    expect(() => born.randLike(i)).toThrow(/randLike: random values need a floating-point dtype.*int32.*\{ dtype: 'float32' \}/);
    // @ts-expect-error: dtype, not type
    expect(() => born.zerosLike(i, { type: 'float32' })).toThrow(/zerosLike: unknown option 'type' \(valid options: dtype\)/);
    // @ts-expect-error: not a dtype
    expect(() => born.onesLike(i, { dtype: 'float8' })).toThrow(/valid dtypes/);
    // @ts-expect-error: the model must be a tensor
    expect(() => born.zerosLike([1, 2])).toThrow(/zerosLike: expected a Tensor/);
    // @ts-expect-error: the fill value is a number
    expect(() => born.fullLike(i, '1')).toThrow(/fullLike: the fill value must be a number/);
  });
  test('empty is zeros (deterministic), in both call forms', async () => {
    expect(await born.empty(2, 3).tolist()).toEqual([[0, 0, 0], [0, 0, 0]]);
    const e = born.empty([2], { dtype: 'int32' });
    expect([e.shape, e.dtype, await e.tolist()]).toEqual([[2], 'int32', [0, 0]]);
    expect(born.empty(4, { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => born.empty(2, 1.5)).toThrow(/empty: .*integers/);
  });
});

/** Pearson's chi-square statistic of observed counts against expected ones. */
const chi2 = (obs: number[], exp: number[]): number => obs.reduce((s, o, i) => s + (o - exp[i]!) ** 2 / exp[i]!, 0);

describe('randperm', () => {
  test('a permutation of 0..n-1, int32 (or { dtype }); the same seed gives the same one', async () => {
    const p = await list(born.randperm(1000, { seed: 3 }));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(await list(born.randperm(1000, { seed: 3 }))).toEqual(p);
    expect(await list(born.randperm(1000, { seed: 4 }))).not.toEqual(p);
    expect(p.filter((v, i) => v === i).length).toBeLessThan(8); // ~1 fixed point expected
    expect(born.randperm(5).dtype).toBe('int32');
    expect(born.randperm(5, { dtype: 'int64' }).dtype).toBe('int64');
    expect(await born.randperm(0).tolist()).toEqual([]);
    born.manualSeed(11);
    const a = await list(born.randperm(20));
    born.manualSeed(11);
    expect(await list(born.randperm(20))).toEqual(a);
  });
  test('every value is equally likely at every position (chi-square over 400 draws of the global stream)', async () => {
    const n = 4, runs = 400;
    born.manualSeed(1000); // unseeded draws: the key is a runtime scalar, so one kernel serves all
    const perms = Array.from({ length: runs }, () => born.randperm(n));
    await born.realize(...perms);
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (const p of perms) (await list(p)).forEach((v, pos) => { counts[pos]![v]!++; });
    // 3 degrees of freedom: 16.27 is the 0.1% tail.
    for (const c of counts) expect(chi2(c, new Array<number>(n).fill(runs / n))).toBeLessThan(16.27);
  });
  test('bad n names the function', () => {
    expect(() => born.randperm(-1)).toThrow(/randperm: n must be >= 0/);
    expect(() => born.randperm(2.5)).toThrow(/randperm: n must be an integer/);
    // @ts-expect-error: not an option
    expect(() => born.randperm(3, { generator: 1 })).toThrow(/unknown option 'generator'/);
  });
});

describe('multinomial', () => {
  const w = born.tensor([0.1, 0, 0.6, 0.3]);
  test('with replacement: frequencies follow the weights; weight 0 is never drawn', async () => {
    const s = await list(born.multinomial(w, 20000, { replacement: true, seed: 1 }));
    const freq = [0, 1, 2, 3].map((k) => s.filter((v) => v === k).length / s.length);
    expect(freq[1]).toBe(0);
    [0.1, 0, 0.6, 0.3].forEach((p, k) => expect(Math.abs(freq[k]! - p)).toBeLessThan(0.015));
    const again = await list(born.multinomial(w, 20000, { replacement: true, seed: 1 }));
    expect(again).toEqual(s);
  });
  test('unnormalised weights, rows of a 2-D tensor, int32 [rows, numSamples]', async () => {
    const probs = born.tensor([[5, 0, 0], [0, 0, 2], [1, 1, 0]]);
    const s = born.multinomial(probs, 50, { replacement: true, seed: 2 });
    expect([s.shape, s.dtype]).toEqual([[3, 50], 'int32']);
    const rows = await s.tolist() as number[][];
    expect(new Set(rows[0])).toEqual(new Set([0]));
    expect(new Set(rows[1])).toEqual(new Set([2]));
    expect(new Set(rows[2])).toEqual(new Set([0, 1]));
  });
  test('without replacement: distinct indices, weight-0 categories last, the first two draws as sequential sampling', async () => {
    const s = await born.multinomial(born.tensor([[0, 1, 1, 0, 1]]), 5, { seed: 3 }).tolist() as number[][];
    expect(new Set(s[0]!.slice(0, 3))).toEqual(new Set([1, 2, 4]));
    expect(new Set(s[0]!.slice(3))).toEqual(new Set([0, 3]));
    const p = [0.2, 0.3, 0.5];
    const rows = 6000;
    const draws = await born.multinomial(born.tensor([p]).expand([rows, 3]), 2, { seed: 4 }).tolist() as number[][];
    const first = [0, 1, 2].map((k) => draws.filter((d) => d[0] === k).length / rows);
    const second = [0, 1, 2].map((k) => draws.filter((d) => d[1] === k).length / rows);
    expect(draws.every((d) => d[0] !== d[1])).toBe(true);
    // P(second = a) = Σ_{i≠a} p_i · p_a / (1 - p_i).
    const wantSecond = p.map((pa, a) => p.reduce((acc, pi, i) => (i === a ? acc : acc + (pi * pa) / (1 - pi)), 0));
    p.forEach((pk, k) => expect(Math.abs(first[k]! - pk)).toBeLessThan(0.025));
    wantSecond.forEach((q, k) => expect(Math.abs(second[k]! - q)).toBeLessThan(0.025));
  });
  test('bad arguments name the function and what would be valid', () => {
    expect(() => born.multinomial(w, 5)).toThrow(/multinomial: cannot draw 5 samples without replacement from 4 categories/);
    expect(() => born.multinomial(w.to('int32'), 1)).toThrow(/multinomial: the weights must be a floating-point tensor/);
    expect(() => born.multinomial(born.zeros([2, 2, 2]), 1)).toThrow(/1-D or 2-D/);
    expect(() => born.multinomial(w, 0)).toThrow(/numSamples must be >= 1/);
    // @ts-expect-error: replacement, not replace
    expect(() => born.multinomial(w, 1, { replace: true })).toThrow(/unknown option 'replace' \(valid options: seed, replacement\)/);
  });
});

describe('bernoulli', () => {
  test('1 with probability p, in p\'s shape and dtype; seeded draws repeat', async () => {
    const p = born.tensor([0, 0.25, 1]).reshape([3, 1]).expand([3, 4000]).to('float64');
    const b = born.bernoulli(p, { seed: 9 });
    expect([b.shape, b.dtype]).toEqual([[3, 4000], 'float64']);
    const means = await list(b.mean({ dim: 1 }));
    expect(means[0]).toBe(0);
    expect(Math.abs(means[1]! - 0.25)).toBeLessThan(0.02);
    expect(means[2]).toBe(1);
    expect(await list(born.bernoulli(p, { seed: 9 }))).toEqual(await list(b));
    expect(() => born.bernoulli(born.zeros([2], { dtype: 'int32' }))).toThrow(/bernoulli: the probabilities must be a floating-point tensor/);
  });
});

describe('grad modes', () => {
  const w = (): born.Tensor => born.ones([2]).requiresGrad_();
  test('setGradEnabled(false) stops recording until set back; isGradEnabled tells', () => {
    const p = w();
    expect(born.isGradEnabled()).toBe(true);
    born.setGradEnabled(false);
    try {
      expect(born.isGradEnabled()).toBe(false);
      expect(p.mul(2).requiresGrad).toBe(false);
    } finally { born.setGradEnabled(true); }
    expect(p.mul(2).requiresGrad).toBe(true);
  });
  test('enableGrad records inside noGrad, and noGrad inside enableGrad does not', () => {
    const p = w();
    born.noGrad(() => {
      expect(p.mul(2).requiresGrad).toBe(false);
      born.enableGrad(() => {
        expect(born.isGradEnabled()).toBe(true);
        expect(p.mul(2).requiresGrad).toBe(true);
        born.noGrad(() => expect(p.mul(2).requiresGrad).toBe(false));
      });
      expect(p.mul(2).requiresGrad).toBe(false);
    });
    const [g] = born.noGrad(() => born.enableGrad(() => born.grad(p.mul(3).sum(), [p])));
    expect(g).toBeDefined();
  });
  test('an async enableGrad keeps recording across awaits inside noGrad', async () => {
    const p = w();
    await born.noGrad(async () => {
      await Promise.resolve();
      expect(p.mul(2).requiresGrad).toBe(false);
      const r = await born.enableGrad(async () => {
        await new Promise((res) => setTimeout(res, 1));
        return p.mul(2).requiresGrad;
      });
      expect(r).toBe(true);
      expect(p.mul(2).requiresGrad).toBe(false);
    });
  });
  test('setGradEnabled inside a block lasts until the block ends (as in a PyTorch with-block); with fn, for fn only', () => {
    const p = w();
    born.noGrad(() => {
      born.setGradEnabled(true);
      expect(p.mul(2).requiresGrad).toBe(true);
    });
    expect(born.isGradEnabled()).toBe(true);
    expect(born.setGradEnabled(false, () => p.mul(2).requiresGrad)).toBe(false);
    expect(born.isGradEnabled()).toBe(true);
  });
  test('inferenceMode records nothing; bad arguments are TypeErrors', () => {
    const p = w();
    expect(born.inferenceMode(() => p.mul(2).requiresGrad)).toBe(false);
    // @ts-expect-error: a function is needed
    expect(() => born.enableGrad(1)).toThrow(/enableGrad: expected a function/);
    // @ts-expect-error: a boolean is needed
    expect(() => born.setGradEnabled(1)).toThrow(/setGradEnabled: expected true or false/);
  });
});

describe('setNumThreads / getNumThreads', () => {
  test('the pool is resized; kernels give the same values on any thread count', async () => {
    const start = born.getNumThreads();
    expect(start).toBe(availableParallelism());
    const x = born.randn([1 << 19], { seed: 2 });
    const want = await x.mul(3).sum().item(); // large enough to run on the worker pool
    try {
      born.setNumThreads(1);
      expect(born.getNumThreads()).toBe(1);
      expect(await x.mul(3).sum().item()).toBe(want);
      born.setNumThreads(3);
      expect(born.getNumThreads()).toBe(3);
      expect(await x.mul(3).sum().item()).toBe(want);
    } finally { born.setNumThreads(start); }
  });
  test('a resize while a kernel runs lets it finish on the old pool', async () => {
    const x = born.randn([1 << 20], { seed: 3 });
    const want = await x.exp().sum().item();
    const pending = x.exp().sum().item();
    born.setNumThreads(1);
    try { expect(await pending).toBe(want); } finally { born.setNumThreads(availableParallelism()); }
  });
  test('n must be a positive integer', () => {
    expect(() => born.setNumThreads(0)).toThrow(/setNumThreads: the number of threads must be a positive integer, got 0/);
    expect(() => born.setNumThreads(1.5)).toThrow(/positive integer/);
    // @ts-expect-error: a number is needed
    expect(() => born.setNumThreads('2')).toThrow(/positive integer, got string/);
  });
});

describe('functional forms of Tensor methods', () => {
  const x = born.tensor([[1, -2, 3], [-4, 5, 6]]);
  test('born.f(x, ...args) is x.f(...args)', async () => {
    expect(await born.exp(x).tolist()).toEqual(await x.exp().tolist());
    expect(await born.matmul(x, x.T).tolist()).toEqual(await x.matmul(x.T).tolist());
    expect(await born.softmax(x, { dim: 0 }).tolist()).toEqual(await x.softmax({ dim: 0 }).tolist());
    expect(await born.sum(x, { dim: 1 }).tolist()).toEqual([2, 7]);
    expect(await born.amax(x, 1).tolist()).toEqual([3, 6]);
    expect(await born.var(x).item()).toBeCloseTo(await x.var().item(), 6);
    expect(await born.add(x, 1).tolist()).toEqual([[2, -1, 4], [-3, 6, 7]]);
    expect(await born.transpose(x, 0, 1).tolist()).toEqual([[1, -4], [-2, 5], [3, 6]]);
    expect(born.chunk(x, 3, { dim: 1 })).toHaveLength(3);
    expect(await born.clamp(x, { min: 0 }).tolist()).toEqual([[1, 0, 3], [0, 5, 6]]);
    expect(await born.maximum(x, 0).tolist()).toEqual([[1, 0, 3], [0, 5, 6]]);
  });
  test('typed with the method\'s parameters and result', () => {
    const f = born.zeros([2, 3]);
    expectTypeOf(born.exp(f)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.exp(born.zeros([2], { dtype: 'float64' }))).toEqualTypeOf<T<'float64'>>();
    expectTypeOf(born.argmax(f)).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(born.chunk(f, 2)).toEqualTypeOf<T<'float32'>[]>();
    // @ts-expect-error: transpose needs two dims
    expect(() => born.transpose(f, 0)).toThrow();
    // @ts-expect-error: the tensor comes first
    expect(() => born.exp(2)).toThrow(/exp: expected a Tensor as the first argument \(born.exp\(x, …\) is x.exp\(…\)\), got number 2/);
  });
});
