// Reductions, scans and sorting (prod, norm, all, any, cumsum, cumprod, sort, argsort, topk,
// scatter): PyTorch golden values and gradients (test/fixtures/reduce_sort.json), edge cases,
// dtypes, the per-row kernel (one kernel, O(n) scans over long rows) and errors.
import { describe, expect, expectTypeOf, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { kernelsRun } from './reference/golden.js';
import { describeGoldenCases, type CaseRun } from './reference/reduce-sort-cases.js';
import { gradcheck, gradgradcheck, f64, awayFromZero } from './reference/gradcheck.js';

const p = (a: Record<string, unknown>): number | string => {
  const v = a.p as number | string;
  return v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
};
const runs: Record<string, CaseRun> = {
  prod: ({ x }, a) => [x!.prod(a.dim as number | undefined, a.keepdim as boolean | undefined)],
  norm: ({ x }, a) => [x!.norm({ p: p(a) as number, dim: a.dim as number, keepdim: a.keepdim as boolean })],
  all: ({ x }, a) => [x!.all(a.dim as number | undefined, a.keepdim as boolean | undefined)],
  any: ({ x }, a) => [x!.any(a.dim as number | undefined, a.keepdim as boolean | undefined)],
  cumsum: ({ x }, a) => [x!.cumsum(a.dim as number)],
  cumprod: ({ x }, a) => [x!.cumprod(a.dim as number)],
  sort: ({ x }, a) => {
    const r = x!.sort({ dim: (a.dim as number | undefined) ?? -1, descending: a.descending as boolean | undefined, stable: true });
    return [r.values, r.indices];
  },
  argsort: ({ x }, a) => [x!.argsort(a.dim as number, { stable: true })],
  topk: ({ x }, a) => {
    const r = x!.topk(a.k as number, { dim: (a.dim as number | undefined) ?? -1, largest: a.largest as boolean | undefined });
    return [r.values, r.indices];
  },
  scatter: ({ x, index, src }, a) => [x!.scatter(a.dim as number, index!, src ?? (a.value as number))],
};

describeGoldenCases(runs);

describe('prod', () => {
  test('call forms, empty products and dtypes', async () => {
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(await x.prod().item()).toBe(720);
    expect(await x.prod(1).tolist()).toEqual([6, 120]);
    expect(await x.prod(0, true).tolist()).toEqual([[4, 10, 18]]);
    expect(await x.prod({ dim: -1, keepdim: true }).tolist()).toEqual([[6], [120]]);
    expect(await born.zeros([2, 0]).prod(1).tolist()).toEqual([1, 1]);
    expect(await born.zeros([0]).prod().item()).toBe(1);
    const i = born.tensor(new Int32Array([65536, 65536, 3]), { shape: [3] });
    expect(i.prod().dtype).toBe('int32');
    expect(await i.prod().item()).toBe(0); // wraps like PyTorch's int32 product
    const b = born.tensor([true, true, false]);
    expect(b.prod().dtype).toBe('int32');
    expect(await b.prod().item()).toBe(0);
  });

  test('gradient against finite differences, and second order', async () => {
    await gradcheck((x) => x.prod(1).sum(), [f64([3, 4], 1)]);
    await gradgradcheck((x) => x.prod({ dim: [0, 2] }).sum(), [awayFromZero([2, 3, 2], 2)]);
  });

  test('an unknown option names the op', () => {
    expect(() => born.ones([2]).prod({ axis: 0 } as never)).toThrow(/prod: unknown option 'axis'/);
  });
});

describe('norm', () => {
  test('call forms', async () => {
    const x = born.tensor([[3, -4], [0, 0]]);
    expect(await x.norm().item()).toBeCloseTo(5);
    expect(await x.norm(2, 1).tolist()).toEqual([5, 0]);
    expect(await x.norm(1, 1, true).tolist()).toEqual([[7], [0]]);
    expect(await x.norm(Infinity, { dim: 0 }).tolist()).toEqual([3, 4]);
    expect(await x.norm({ p: -Infinity, dim: 1 }).tolist()).toEqual([3, 0]);
    expect(await x.norm('fro', [0, 1]).item()).toBeCloseTo(5);
  });

  test('gradient at 0 is 0 for p = 2, 3 and 1 (PyTorch), finite differences elsewhere', async () => {
    const z = born.zeros([3], { dtype: 'float64' });
    for (const p of [2, 3, 1, Infinity]) {
      expect(await born.grad(z.norm(p), [z])[0]!.tolist()).toEqual([0, 0, 0]);
    }
    await gradcheck((x) => x.norm(3, 1).sum(), [awayFromZero([2, 3], 3)]);
    await gradgradcheck((x) => x.norm().mul(x.norm(2, 0).sum()), [awayFromZero([2, 3], 4)]);
  });

  test('errors: integer input, bad p', () => {
    expect(() => born.tensor(new Int32Array([1, 2]), { shape: [2] }).norm()).toThrow(/norm: expected a floating-point tensor, got int32/);
    expect(() => born.ones([2]).norm('nuc' as never)).toThrow(/norm: p must be .*nuclear norm is not supported/);
    expect(() => born.ones([2]).norm({ ord: 2 } as never)).toThrow(/norm: unknown option 'ord'/);
  });
});

describe('all / any', () => {
  test('bool results, empty tensors, float and int input', async () => {
    const x = born.tensor([[1, 0.5], [0, -2]]);
    expect(x.all().dtype).toBe('bool');
    expect(await x.all().item()).toBe(0);
    expect(await x.any().item()).toBe(1);
    expect(await x.all(1).tolist()).toEqual([1, 0]);
    expect(await x.any({ dim: 0, keepdim: true }).tolist()).toEqual([[1, 1]]);
    expect(await born.zeros([0]).all().item()).toBe(1);
    expect(await born.zeros([0]).any().item()).toBe(0);
    expect(await born.zeros([2, 0]).all(1).tolist()).toEqual([1, 1]);
    expect(await born.tensor(new Int32Array([3, 0]), { shape: [2] }).any().item()).toBe(1);
    expect(() => x.all(2)).toThrow(/all: dim 2 is out of range/);
  });
});

describe('cumsum / cumprod', () => {
  test('dtypes: int32 stays int32 and wraps, bool counts as int32, float16 rounds', async () => {
    const i = born.tensor(new Int32Array([2147483647, 1, 5]), { shape: [3] });
    expect(i.cumsum(0).dtype).toBe('int32');
    expect(await i.cumsum(0).tolist()).toEqual([2147483647, -2147483648, -2147483643]);
    expect(await born.tensor([true, false, true]).cumsum(0).tolist()).toEqual([1, 1, 2]);
    expect(born.tensor([true]).cumsum(0).dtype).toBe('int32');
    const wide = i.cumsum(0, { dtype: 'int64' });
    expect([wide.dtype, await wide.tolist()]).toEqual(['int64', [2147483647, 2147483648, 2147483653]]);
    expect(await born.tensor([0.5, 1.5]).cumsum({ dim: 0, dtype: 'int32' }).tolist()).toEqual([0, 1]);
    const h = born.tensor([1, 2, 3]).to('float16').cumprod(0);
    expect(h.dtype).toBe('float16');
    expect(await h.tolist()).toEqual([1, 2, 6]);
  });

  test('size-0 and size-1 dims, a permuted input, { dim } form', async () => {
    expect((await born.zeros([2, 0]).cumsum(1).data()).length).toBe(0);
    expect(await born.ones([3, 1]).cumsum(1).tolist()).toEqual([[1], [1], [1]]);
    const x = born.tensor([[1, 2], [3, 4], [5, 6]]).T;
    expect(await x.cumsum({ dim: 1 }).tolist()).toEqual([[1, 4, 9], [2, 6, 12]]);
    expect(await x.cumprod(-2).tolist()).toEqual([[1, 3, 5], [2, 12, 30]]);
  });

  test('a long row is one O(n) kernel, exact on integers', async () => {
    const n = 32768;
    const x = born.ones([2, n]);
    const ks = await kernelsRun(() => x.cumsum(-1).data());
    expect(ks.map((k) => k.ops)).toEqual([['cumsum']]);
    expect(ks[0]!.flops).toBeLessThan(4 * 2 * n);
    const d = await x.cumsum(-1).data();
    expect([d[0], d[n - 1], d[n], d[2 * n - 1]]).toEqual([1, n, 1, n]);
  });

  test('a fused float32 source is scanned as stored (rounded), as PyTorch scans a stored tensor', async () => {
    // 1 + 3·2^-25 rounds to 1 + 2^-23 in float32; unrounded, the second sum would be 3·2^-25.
    const x = born.tensor([3 * 2 ** -25, -1]).add(born.tensor([1, 0]));
    expect(await x.cumsum(0).tolist()).toEqual([1 + 2 ** -23, 2 ** -23]);
  });

  test('a producer fuses into the scan; the scan feeds a fused consumer', async () => {
    const x = born.rand([4, 100], { seed: 1 });
    await x.data();
    const ks = await kernelsRun(() => x.mul(2).exp().cumsum(1).log().data());
    expect(ks.map((k) => k.ops)).toEqual([['mul', 'exp', 'cumsum'], ['log']]);
  });

  test('gradients against finite differences (cumprod with zeros is not NaN), second order', async () => {
    await gradcheck((x) => x.cumsum(1).mul(x.cumsum(0)).sum(), [f64([3, 4], 5)]);
    await gradcheck((x) => x.cumprod(1).sum(), [f64([3, 4], 6)]);
    await gradgradcheck((x) => x.cumprod(0).pow(2).sum(), [awayFromZero([3, 2], 7)]);
    const z = born.tensor(new Float64Array([2, 0, 3, 0, 5]), { shape: [5] });
    const [g] = born.grad(z.cumprod(0).sum(), [z]);
    // d/dx_1 = x0 + x0·x2 + x0·x2·x3 + … = 2 + 6 + 0 + 0; after the first zero every term has it.
    expect(await g!.tolist()).toEqual([1, 8, 0, 0, 0]);
  });

  test('errors: missing or bad dim', () => {
    const x = born.ones([2, 3]);
    expect(() => (x.cumsum as unknown as () => Tensor)()).toThrow(/cumsum: missing the dim/);
    expect(() => x.cumprod(2)).toThrow(/cumprod: dim 2 is out of range .* \(valid: -2 to 1\)/);
    expect(() => x.cumsum({ axis: 1 } as never)).toThrow(/cumsum: unknown option 'axis'/);
    expect(() => x.cumsum(0, { dtype: 'int65' } as never)).toThrow(/cumsum: unknown dtype/);
  });
});

describe('sort / argsort / topk', () => {
  test('stable ties, NaN last ascending and first descending, -0 equal to 0', async () => {
    const x = born.tensor([2, NaN, 1, 2, -0, 0, NaN, 1]);
    const a = x.sort();
    expect(await a.indices.tolist()).toEqual([4, 5, 2, 7, 0, 3, 1, 6]);
    const d = x.sort(0, true);
    expect(await d.indices.tolist()).toEqual([1, 6, 0, 3, 2, 7, 4, 5]);
    expect(await x.argsort({ descending: true }).tolist()).toEqual([1, 6, 0, 3, 2, 7, 4, 5]);
    expect(a.indices.dtype).toBe('int32');
    // A fused float32 source is compared as stored: 1 + 2^-30 rounds to 1, a tie.
    expect(await born.tensor([2 ** -30, 0]).add(1).argsort().tolist()).toEqual([0, 1]);
  });

  test('every dtype sorts alike (packed keys for 32-bit dtypes, a comparator for 64-bit ones)', async () => {
    const r = born.randint(-4, 5, [3, 50], { seed: 9 });
    const vals = Array.from(await r.data() as Int32Array);
    const want = (desc: boolean): number[] => [0, 1, 2].flatMap((row) => {
      const v = vals.slice(row * 50, row * 50 + 50);
      return v.map((_, j) => j).sort((a, b) => (desc ? v[b]! - v[a]! : v[a]! - v[b]!) || a - b);
    });
    for (const dtype of ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'int16', 'int8'] as const) {
      for (const desc of [false, true]) {
        expect(Array.from(await r.to(dtype).argsort(-1, desc).data()), `${dtype} ${desc}`).toEqual(want(desc));
      }
    }
  });

  test('dims: negative, 0-d, size-0 and size-1, int and bool input', async () => {
    const x = born.tensor([[3, 1], [2, 4]]);
    expect(await x.sort(-2).values.tolist()).toEqual([[2, 1], [3, 4]]);
    expect(await x.sort({ dim: 0 }).indices.tolist()).toEqual([[1, 0], [0, 1]]);
    const s = born.scalar(5).sort();
    expect([s.values.shape, await s.indices.item()]).toEqual([[], 0]);
    expect(born.zeros([0, 3]).sort(0).values.shape).toEqual([0, 3]);
    expect(await born.ones([2, 1]).argsort().tolist()).toEqual([[0], [0]]);
    const i = born.tensor(new Int32Array([5, -7, 0]), { shape: [3] });
    expect(await i.sort().values.tolist()).toEqual([-7, 0, 5]);
    expect(await born.tensor([true, false, true]).argsort().tolist()).toEqual([1, 0, 2]);
  });

  test('topk: values, indices, call forms, k = 0 and k = size', async () => {
    const x = born.tensor([[1, 5, 3, 4], [9, 8, 7, 6]]);
    const t = x.topk(2);
    expect(await t.values.tolist()).toEqual([[5, 4], [9, 8]]);
    expect(await t.indices.tolist()).toEqual([[1, 3], [0, 1]]);
    expect(await x.topk(1, 0).indices.tolist()).toEqual([[1, 1, 1, 1]]);
    expect(await x.topk(2, -1, false).values.tolist()).toEqual([[1, 3], [6, 7]]);
    expect(await x.topk(2, { largest: false, sorted: true }).indices.tolist()).toEqual([[0, 2], [3, 2]]);
    expect(x.topk(0).values.shape).toEqual([2, 0]);
    expect(await x.topk(4).values.tolist()).toEqual([[5, 4, 3, 1], [9, 8, 7, 6]]);
  });

  test('the values are differentiable: the gradient scatters back through the indices', async () => {
    const x = born.tensor(new Float64Array([0.5, -1, 2, 3, 0.25, 1]), { shape: [2, 3] });
    const [g] = born.grad(x.topk(2).values.mul(born.tensor(new Float64Array([10, 1, 20, 2]), { shape: [2, 2] })).sum(), [x]);
    expect(await g!.tolist()).toEqual([[1, 0, 10], [20, 0, 2]]);
    await gradcheck((v) => v.sort(1, true).values.mul(v).sum(), [f64([3, 5], 8)]);
  });

  test('top-p over a 32k vocabulary: sort, cumsum and a mask, each row in one pass', async () => {
    const logits = born.randn([2, 32000], { seed: 2 });
    const { values, indices } = logits.softmax({ dim: -1 }).sort(-1, true);
    const keep = values.cumsum(-1).lt(0.9);
    const [v, i, k] = [await values.data(), await indices.data(), await keep.data()];
    expect(v[0]! >= v[1]! && v[1]! >= v[2]!).toBe(true);
    expect(new Set(i.slice(0, 32000)).size).toBe(32000);
    expect(k[0]).toBe(1);
    expect(k[31999]).toBe(0);
  });

  test('errors: k out of range, bad dim, bad option', () => {
    const x = born.ones([2, 3]);
    expect(() => x.topk(4)).toThrow(/topk: k = 4 is out of range for dim -1 of size 3 .*valid: 0 to 3/);
    expect(() => x.topk(-1)).toThrow(/topk: k = -1 is out of range/);
    expect(() => x.topk(1.5)).toThrow(/topk: k must be an integer/);
    expect(() => x.sort(2)).toThrow(/sort: dim 2 is out of range/);
    expect(() => x.sort({ descend: true } as never)).toThrow(/sort: unknown option 'descend'/);
    expect(() => x.argsort(0, 'yes' as never)).toThrow(/argsort: descending must be true or false/);
  });
});

describe('scatter', () => {
  test('a number, a tensor, repeated indices, bool and int tensors', async () => {
    const index = born.tensor(new Int32Array([0, 2, 2, 1]), { shape: [2, 2] });
    const z = born.zeros([2, 3]);
    expect(await z.scatter(1, index, 7).tolist()).toEqual([[7, 0, 7], [0, 7, 7]]);
    const src = born.tensor([[1, 2], [3, 5]]);
    expect(await z.scatter(1, index, src).tolist()).toEqual([[1, 0, 2], [0, 5, 3]]);
    const rep = born.tensor(new Int32Array([1, 1]), { shape: [1, 2] });
    expect(await z.scatter(1, rep, 4).tolist()).toEqual([[0, 4, 0], [0, 0, 0]]);
    expect(await z.scatter(1, rep, born.tensor([[4, 4]])).tolist()).toEqual([[0, 4, 0], [0, 0, 0]]);
    const b = born.zeros([2, 3], { dtype: 'bool' }).scatter(1, index, 1);
    expect([b.dtype, await b.tolist()]).toEqual(['bool', [[1, 0, 1], [0, 1, 1]]]);
    const i0 = born.tensor(new Int32Array([0, 1, 1, 0]), { shape: [2, 2] });
    const i = born.zeros([2, 3], { dtype: 'int32' }).scatter(0, i0, born.tensor(new Int32Array([5, 6, 7, 8]), { shape: [2, 2] }));
    expect(await i.tolist()).toEqual([[5, 8, 0], [7, 6, 0]]);
  });

  test('errors name scatter', async () => {
    const index = born.tensor(new Int32Array([0, 3]), { shape: [1, 2] });
    await expect(born.zeros([2, 3]).scatter(1, index, 1).data()).rejects.toThrow(/scatter/);
    expect(() => born.zeros([2, 3]).scatter(1, index, born.ones([1, 2], { dtype: 'float64' }))).toThrow(/scatter: src must have the dtype/);
    expect(() => born.zeros([2, 3]).scatter(2, index, 1)).toThrow(/scatter: dim 2 is out of range/);
  });
});

describe('types and the graph around the new kernels', () => {
  test('result dtypes as TypeScript sees them', () => {
    const x = born.zeros([2, 3]);
    expectTypeOf(x.sort().values).toEqualTypeOf<born.Tensor<'float32'>>();
    expectTypeOf(x.topk(1).indices).toEqualTypeOf<born.Tensor<'int32'>>();
    expectTypeOf(x.argsort()).toEqualTypeOf<born.Tensor<'int32'>>();
    expectTypeOf(x.all()).toEqualTypeOf<born.Tensor<'bool'>>();
    expectTypeOf(x.cumsum(0)).toEqualTypeOf<born.Tensor<'float32'>>();
    expectTypeOf(x.norm()).toEqualTypeOf<born.Tensor<'float32'>>();
  });

  test('a scan stored into its own input (assign) reads the old values', async () => {
    const p = born.tensor([1, 2, 3, 4]);
    await p.data();
    p.assign(p.cumsum(0));
    expect(await p.tolist()).toEqual([1, 3, 6, 10]);
    p.assign(p.sort(0, true).values);
    expect(await p.tolist()).toEqual([10, 6, 3, 1]);
  });

  test('an index read fused into a scan is still checked', async () => {
    const x = born.tensor([[1, 2, 3]]);
    const good = born.tensor(new Int32Array([2, 0, 1]), { shape: [1, 3] });
    expect(await x.gather(1, good).cumsum(1).tolist()).toEqual([[3, 4, 6]]);
    const bad = born.tensor(new Int32Array([2, 5, 1]), { shape: [1, 3] });
    await expect(x.gather(1, bad).cumsum(1).data()).rejects.toThrow(/gather: index 5 is out of range for dim 1 of size 3/);
  });

  test('backward() through sort, cumprod and prod fills .grad', async () => {
    const w = born.tensor([[2, -1, 3], [0.5, 4, -2]]).requiresGrad_();
    w.sort(1).values.mul(born.tensor([1, 2, 3])).sum().add(w.cumprod(1).sum()).add(w.prod()).backward();
    const want = [[11, -15, 9], [47, 8.5, -9]]; // PyTorch 1.13
    const got = await w.grad!.tolist() as number[][];
    got.flat().forEach((g, i) => expect(g).toBeCloseTo(want.flat()[i]!, 4));
  });

  test('scatter with repeated indices: the gradient of src is divided among the duplicates', async () => {
    const src = born.tensor(new Float64Array([2, 4, 6]), { shape: [3] }).requiresGrad_();
    const out = born.zeros([2], { dtype: 'float64' }).scatter(0, born.tensor(new Int32Array([1, 1, 0]), { shape: [3] }), src);
    expect(await out.tolist()).toEqual([6, 3]);
    const [g] = born.grad(out.mul(born.tensor(new Float64Array([10, 1]), { shape: [2] })).sum(), [src]);
    expect(await g!.tolist()).toEqual([0.5, 0.5, 10]);
  });
});
