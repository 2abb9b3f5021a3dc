// matmul (torch.matmul rules: 1-D, 2-D, batched, broadcast batch dims),
// gather, indexSelect and oneHot against the eager reference.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectTensor, permutedBorn, ref, slicedBorn, toBorn, type Tol } from './reference/check.js';

/** A float32 dot product of length k accumulates ~k roundings. */
const MM_TOL: Tol = { rtol: 1e-5, atol: 1e-5 };

describe('matmul shapes (torch.matmul rules)', () => {
  test.each([
    ['1-D · 1-D -> 0-d', [4], [4]],
    ['2-D · 2-D', [3, 4], [4, 5]],
    ['1-D · 2-D', [4], [4, 5]],
    ['2-D · 1-D', [3, 4], [4]],
    ['batched 3-D · 3-D', [2, 3, 4], [2, 4, 5]],
    ['3-D · 2-D broadcasts the matrix', [2, 3, 4], [4, 5]],
    ['2-D · 3-D broadcasts the matrix', [3, 4], [2, 4, 5]],
    ['batch dims broadcast: [2,1,3,4] · [5,4,2]', [2, 1, 3, 4], [5, 4, 2]],
    ['batch dims broadcast: [1,3,4] · [6,1,4,2]', [1, 3, 4], [6, 1, 4, 2]],
    ['3-D · 1-D', [2, 3, 4], [4]],
    ['1-D · 3-D', [4], [2, 4, 5]],
    ['size-1 everything', [1, 1], [1, 1]],
    ['outer product via k = 1', [5, 1], [1, 3]],
    ['vector of length 1', [1], [1, 3]],
    ['odd sizes', [7, 13], [13, 9]],
  ] as [string, number[], number[]][])('%s', async (_n, sa, sb) => {
    const a = ref.random(sa, 1 + sa.length);
    const b = ref.random(sb, 2 + sb.length);
    const want = ref.matmul(a, b);
    await expectTensor(toBorn(a).matmul(toBorn(b)), want, MM_TOL, 'contiguous');
    if (a.ndim >= 2) await expectTensor(permutedBorn(a).matmul(toBorn(b)), want, MM_TOL, 'permuted lhs');
    if (b.ndim >= 2) await expectTensor(toBorn(a).matmul(permutedBorn(b)), want, MM_TOL, 'permuted rhs');
    await expectTensor(slicedBorn(a).matmul(slicedBorn(b)), want, MM_TOL, 'sliced both');
  });
});

describe('matmul values', () => {
  test('a hand-computed 2x2 product', async () => {
    const got = born.tensor([[1, 2], [3, 4]]).matmul(born.tensor([[5, 6], [7, 8]]));
    expect(await got.tolist()).toEqual([[19, 22], [43, 50]]);
  });

  test('x @ x.T is symmetric and matches the reference', async () => {
    const a = ref.random([6, 5], 3);
    const t = toBorn(a);
    const want = ref.matmul(a, ref.T(a));
    await expectTensor(t.matmul(t.T), want, MM_TOL);
    await expectTensor(t.matmul(t.transpose(0, 1)), want, MM_TOL, 'transpose');
  });

  test('a.T @ b with both transposed views', async () => {
    const a = ref.random([4, 3], 4);
    const b = ref.random([5, 4], 5);
    await expectTensor(toBorn(a).T.matmul(toBorn(b).T), ref.matmul(ref.T(a), ref.T(b)), MM_TOL);
  });

  test('matmul of expanded (broadcast) operands', async () => {
    const a = ref.random([1, 3, 4], 6);
    const b = ref.random([4, 2], 7);
    const ea = ref.expand(a, [5, 3, 4]);
    await expectTensor(toBorn(a).expand([5, 3, 4]).matmul(toBorn(b)), ref.matmul(ea, b), MM_TOL);
  });

  test('matmul with elementwise producers and consumers (epilogue)', async () => {
    const x = ref.random([4, 8], 8);
    const w = ref.random([6, 8], 9);
    const bias = ref.random([6], 10);
    const want = ref.relu(ref.add(ref.matmul(ref.mul(x, 0.5), ref.T(w)), bias));
    const got = toBorn(x).mul(0.5).matmul(toBorn(w).T).add(toBorn(bias)).relu();
    await expectTensor(got, want, MM_TOL);
  });

  test('larger: [3, 64, 48] @ [48, 40]', async () => {
    const a = ref.random([3, 64, 48], 11, { lo: -1, hi: 1 });
    const b = ref.random([48, 40], 12, { lo: -1, hi: 1 });
    await expectTensor(toBorn(a).matmul(toBorn(b)), ref.matmul(a, b), { rtol: 1e-4, atol: 1e-5 });
  });

  test('float64 matmul to 1e-12', async () => {
    const a = ref.random([2, 5, 7], 13, { dtype: 'float64' });
    const b = ref.random([7, 3], 14, { dtype: 'float64' });
    await expectTensor(toBorn(a).matmul(toBorn(b)), ref.matmul(a, b));
    await expectTensor(permutedBorn(a).matmul(permutedBorn(b)), ref.matmul(a, b), {}, 'permuted');
  });

  test('int32 matmul is exact and stays int32', async () => {
    const a = ref.random([3, 4], 15, { dtype: 'int32', lo: -10, hi: 10 });
    const b = ref.random([4, 2], 16, { dtype: 'int32', lo: -10, hi: 10 });
    await expectTensor(toBorn(a).matmul(toBorn(b)), ref.matmul(a, b));
  });

  test('1-D · 1-D gives a 0-d tensor usable with item()', async () => {
    const got = born.tensor([1, 2, 3]).matmul(born.tensor([4, 5, 6]));
    expect(got.shape).toEqual([]);
    expect(await got.item()).toBe(32);
  });
});

describe('gather (torch.gather)', () => {
  test.each([
    ['dim 0 of 2-D', [3, 4], 0, [2, 4]],
    ['dim 1 of 2-D', [3, 4], 1, [3, 6]],
    ['dim -1 of 2-D', [3, 4], -1, [3, 2]],
    ['index smaller than input on other dims', [4, 5], 1, [2, 3]],
    ['dim 1 of 3-D', [2, 3, 4], 1, [2, 5, 4]],
    ['dim 2 of 3-D', [2, 3, 4], 2, [2, 3, 1]],
    ['1-D', [6], 0, [9]],
  ] as [string, number[], number, number[]][])('%s', async (_n, shape, dim, ishape) => {
    const a = ref.random(shape, 20 + shape.length, { quantum: 16 });
    const n = shape[dim < 0 ? dim + shape.length : dim]!;
    const index = ref.random(ishape, 21 + dim, { dtype: 'int32', lo: 0, hi: n });
    const want = ref.gather(a, dim, index);
    await expectTensor(toBorn(a).gather(dim, toBorn(index)), want);
    if (a.ndim >= 2) await expectTensor(permutedBorn(a).gather(dim, toBorn(index)), want, {}, 'permuted input');
    await expectTensor(toBorn(a).gather(dim, slicedBorn(index)), want, {}, 'sliced index');
  });

  test('the hand-computed torch example', async () => {
    const t = born.tensor([[1, 2], [3, 4]]);
    const idx = born.tensor(new Int32Array([0, 0, 1, 0]), { shape: [2, 2], dtype: 'int32' });
    expect(await t.gather(1, idx).tolist()).toEqual([[1, 1], [4, 3]]);
  });

  test('gather from int32 and float64 keeps the dtype', async () => {
    const a = ref.random([3, 4], 22, { dtype: 'int32', lo: -50, hi: 50 });
    const d = ref.random([3, 4], 23, { dtype: 'float64' });
    const idx = ref.random([3, 2], 24, { dtype: 'int32', lo: 0, hi: 4 });
    await expectTensor(toBorn(a).gather(1, toBorn(idx)), ref.gather(a, 1, idx));
    await expectTensor(toBorn(d).gather(1, toBorn(idx)), ref.gather(d, 1, idx));
  });

  test('gather with a computed index (argmax) picks the maxima', async () => {
    const a = ref.random([5, 7], 25);
    const am = ref.argmax(a, { dim: 1, keepdim: true });
    const t = toBorn(a);
    const got = t.gather(1, t.argmax({ dim: 1, keepdim: true }));
    await expectTensor(got, ref.gather(a, 1, am));
    await expectTensor(got, ref.max(a, { dim: 1, keepdim: true }), {}, 'equals max');
  });

  test('gather of a computed input (log-softmax pick, as in cross-entropy)', async () => {
    const logits = ref.random([4, 5], 26);
    const labels = ref.NDArray.from([[1], [0], [4], [2]], 'int32');
    const want = ref.gather(ref.logSoftmax(logits, { dim: 1 }), 1, labels);
    const got = toBorn(logits).logSoftmax({ dim: 1 }).gather(1, toBorn(labels));
    await expectTensor(got, want, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('indexSelect', () => {
  test.each([
    ['rows', [4, 3], 0, [2, 0, 2, 3]],
    ['columns', [4, 3], 1, [1]],
    ['negative dim', [2, 3, 4], -1, [3, 3, 0]],
    ['middle dim', [2, 3, 4], 1, [2, 1]],
    ['1-D', [5], 0, [4, 0, 1]],
  ] as [string, number[], number, number[]][])('%s', async (_n, shape, dim, idx) => {
    const a = ref.random(shape, 30 + shape.length, { quantum: 16 });
    const index = ref.NDArray.from(idx, 'int32');
    const want = ref.indexSelect(a, dim, index);
    await expectTensor(toBorn(a).indexSelect(dim, toBorn(index)), want);
    if (a.ndim >= 2) await expectTensor(permutedBorn(a).indexSelect(dim, toBorn(index)), want, {}, 'permuted');
    await expectTensor(slicedBorn(a).indexSelect(dim, toBorn(index)), want, {}, 'sliced');
  });

  test('embedding lookup: a [vocab, dim] table indexed by token ids', async () => {
    const table = ref.random([10, 4], 33);
    const ids = ref.NDArray.from([3, 3, 9, 0, 1], 'int32');
    await expectTensor(toBorn(table).indexSelect(0, toBorn(ids)), ref.indexSelect(table, 0, ids));
  });

  test('int32 source', async () => {
    const a = ref.random([3, 3], 34, { dtype: 'int32', lo: -9, hi: 9 });
    const index = ref.NDArray.from([2, 0], 'int32');
    await expectTensor(toBorn(a).indexSelect(1, toBorn(index)), ref.indexSelect(a, 1, index));
  });
});

describe('oneHot', () => {
  test('1-D labels give [n, classes] int32', async () => {
    const labels = ref.NDArray.from([0, 3, 1, 3], 'int32');
    const got = born.oneHot(toBorn(labels), 5);
    expect(got.dtype).toBe('int32');
    await expectTensor(got, ref.oneHot(labels, 5));
    expect(await got.tolist()).toEqual([
      [1, 0, 0, 0, 0],
      [0, 0, 0, 1, 0],
      [0, 1, 0, 0, 0],
      [0, 0, 0, 1, 0],
    ]);
  });

  test('2-D labels add a trailing class dim', async () => {
    const labels = ref.random([2, 3], 40, { dtype: 'int32', lo: 0, hi: 4 });
    await expectTensor(born.oneHot(toBorn(labels), 4), ref.oneHot(labels, 4));
  });

  test('labels from a non-contiguous or computed tensor', async () => {
    const labels = ref.random([3, 2], 41, { dtype: 'int32', lo: 0, hi: 3 });
    await expectTensor(born.oneHot(permutedBorn(labels), 3), ref.oneHot(ref.permute(labels, [0, 1]), 3));
    const x = ref.random([4, 3], 42);
    const am = ref.argmax(x, { dim: 1 });
    await expectTensor(born.oneHot(toBorn(x).argmax({ dim: 1 }), 3), ref.oneHot(am, 3), {}, 'from argmax');
  });

  test('oneHot feeds float arithmetic (a label-smoothing mix)', async () => {
    const labels = ref.NDArray.from([2, 0], 'int32');
    const want = ref.add(ref.mul(ref.oneHot(labels, 3), 0.9), 0.1 / 3);
    await expectTensor(born.oneHot(toBorn(labels), 3).mul(0.9).add(0.1 / 3), want);
  });
});

// Above the CPU device's inline threshold: the tuned / parallel matmul and gathers.
describe('large shapes (the worker-pool path)', () => {
  test('[131, 257] @ [257, 97], contiguous and transposed', async () => {
    const a = ref.random([131, 257], 801, { lo: -1, hi: 1 });
    const b = ref.random([257, 97], 802, { lo: -1, hi: 1 });
    const want = ref.matmul(a, b);
    const tol = { rtol: 1e-4, atol: 1e-4 };
    await expectTensor(toBorn(a).matmul(toBorn(b)), want, tol);
    await expectTensor(permutedBorn(a).matmul(permutedBorn(b)), want, tol, 'permuted');
  });

  test('batched broadcast [3, 1, 70, 64] @ [5, 64, 33] and float64', async () => {
    const a = ref.random([3, 1, 70, 64], 803, { lo: -1, hi: 1 });
    const b = ref.random([5, 64, 33], 804, { lo: -1, hi: 1 });
    await expectTensor(toBorn(a).matmul(toBorn(b)), ref.matmul(a, b), { rtol: 1e-4, atol: 1e-4 });
    const c = ref.random([2, 90, 120], 805, { dtype: 'float64' });
    const d = ref.random([120, 70], 806, { dtype: 'float64' });
    await expectTensor(toBorn(c).matmul(toBorn(d)), ref.matmul(c, d));
  });

  test('gather [1000, 300] from [1000, 500] and a big indexSelect', async () => {
    const x = ref.random([1000, 500], 807, { quantum: 16 });
    const idx = ref.random([1000, 300], 808, { dtype: 'int32', lo: 0, hi: 500 });
    await expectTensor(toBorn(x).gather(1, toBorn(idx)), ref.gather(x, 1, idx));
    const rows = ref.random([700], 809, { dtype: 'int32', lo: 0, hi: 1000 });
    await expectTensor(toBorn(x).indexSelect(0, toBorn(rows)), ref.indexSelect(x, 0, rows));
  });
});
