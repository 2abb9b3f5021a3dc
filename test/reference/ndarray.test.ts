// The reference checked on hand-computed cases, so the other suites can trust it.
import { describe, expect, test } from 'vitest';
import * as ref from './ndarray.js';
import { NDArray } from './ndarray.js';

const A = (x: ref.Nested, dtype: ref.DType = 'float64'): NDArray => NDArray.from(x, dtype);
const L = (a: NDArray): ref.Nested => a.tolist();

describe('reference: construction and indexing', () => {
  test('from nested arrays, tolist, shape', () => {
    const a = A([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.at([1, 2])).toBe(6);
    expect(L(a)).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(A(5).shape).toEqual([]);
    expect(L(A(5))).toBe(5);
    expect(() => A([[1, 2], [3]])).toThrow();
  });

  test('coercion per dtype', () => {
    expect(A([-2.7, 2.7, -0.5], 'int32').tolist()).toEqual([-2, 2, 0]);
    expect(A([0, 2, -1], 'bool').tolist()).toEqual([false, true, true]);
    expect(A([0.1], 'float32').data[0]).toBe(Math.fround(0.1));
    expect(A([0.1], 'float32').typed()).toBeInstanceOf(Float32Array);
    expect(A([1], 'bool').typed()).toBeInstanceOf(Uint8Array);
  });

  test('unravel / ravel / strides', () => {
    expect(ref.stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(ref.unravel(23, [2, 3, 4])).toEqual([1, 2, 3]);
    expect(ref.ravel([1, 0, 2], [2, 3, 4])).toBe(14);
    expect(ref.unravel(0, [])).toEqual([]);
  });
});

describe('reference: broadcasting and dtypes', () => {
  test('broadcastShapes', () => {
    expect(ref.broadcastShapes([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(ref.broadcastShapes([], [3])).toEqual([3]);
    expect(ref.broadcastShapes([5, 1], [1, 1], [1, 6])).toEqual([5, 6]);
    expect(() => ref.broadcastShapes([2, 3], [4, 5])).toThrow();
  });

  test('binary ops broadcast', () => {
    const a = A([[1], [2]]);
    const b = A([10, 20, 30]);
    expect(L(ref.add(a, b))).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(L(ref.sub(b, a))).toEqual([[9, 19, 29], [8, 18, 28]]);
    expect(L(ref.mul(a, 3))).toEqual([[3], [6]]);
    expect(L(ref.div(1, A([2, 4])))).toEqual([0.5, 0.25]);
    expect(L(ref.pow(A([2, 3]), 2))).toEqual([4, 9]);
    expect(L(ref.maximum(A([1, 5]), A([3, 2])))).toEqual([3, 5]);
    expect(L(ref.minimum(A([1, 5]), 2))).toEqual([1, 2]);
    expect(L(ref.eq(A([1, 2]), A([1, 3])))).toEqual([true, false]);
    expect(L(ref.lt(A([1, 2]), 2))).toEqual([true, false]);
    expect(L(ref.gt(A([1, 2]), 1))).toEqual([false, true]);
    expect(L(ref.where(A([1, 0], 'bool'), A([[1, 2]]), 9))).toEqual([[1, 9]]);
  });

  test('NaN propagates through maximum / minimum / max', () => {
    expect(Number.isNaN(ref.maximum(A([NaN]), A([1])).data[0])).toBe(true);
    expect(Number.isNaN(ref.minimum(A([1]), A([NaN])).data[0])).toBe(true);
    expect(Number.isNaN(ref.max(A([1, NaN, 3])).data[0])).toBe(true);
  });

  test('promotion follows the decided rules', () => {
    const i = A([1, 2], 'int32');
    const f = A([1, 2], 'float32');
    const b = A([1, 0], 'bool');
    expect(ref.add(i, f).dtype).toBe('float32');
    expect(ref.add(i, 2).dtype).toBe('int32');
    expect(ref.add(i, 2.5).dtype).toBe('float32');
    expect(ref.add(b, 1).dtype).toBe('int32');
    expect(ref.add(b, i).dtype).toBe('int32');
    expect(ref.div(i, 2).dtype).toBe('float32');
    expect(L(ref.div(A([7, -7], 'int32'), 2))).toEqual([3.5, -3.5]);
    expect(ref.eq(f, 1).dtype).toBe('bool');
    expect(ref.exp(i).dtype).toBe('float32');
    expect(ref.abs(i).dtype).toBe('int32');
    expect(ref.add(A([1], 'float64'), f).dtype).toBe('float64');
    expect(ref.sum(b).dtype).toBe('int32');
    expect(ref.clamp(i, { min: 0.5 }).dtype).toBe('float32');
    expect(ref.clamp(i, { min: 0, max: 1 }).dtype).toBe('int32');
  });

  test('int32 arithmetic wraps like a two\'s complement machine', () => {
    const big = A([2147483647, -2147483648], 'int32');
    expect(L(ref.add(big, 1))).toEqual([-2147483648, -2147483647]);
    expect(L(ref.sub(big, 1))).toEqual([2147483646, 2147483647]);
    expect(L(ref.mul(big, big))).toEqual([1, 0]);
    expect(L(ref.mul(A([50000], 'int32'), 50000))).toEqual([-1794967296]);
  });

  test('float32 arithmetic is rounded like a float32 kernel', () => {
    const x = A([0.1], 'float32');
    expect(ref.add(x, x).data[0]).toBe(Math.fround(Math.fround(0.1) * 2));
    expect(ref.mul(x, 3).data[0]).toBe(Math.fround(Math.fround(0.1) * 3));
  });
});

describe('reference: special functions', () => {
  const erfTable: [number, number][] = [
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.4999, 0.9995928300996666],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
    [-0.7, -0.6778011938374184],
    [1e-8, 1.1283791670955126e-8],
    [6, 1.0],
  ];
  test.each(erfTable)('erf(%d) to 1e-15', (x, want) => {
    expect(Math.abs(ref.erf(x) - want)).toBeLessThan(1e-15);
  });

  test('erfc on the continued-fraction branch', () => {
    expect(Math.abs(ref.erfc(3) - 2.2090496998585438e-5) / 2.2090496998585438e-5).toBeLessThan(1e-13);
    expect(Math.abs(ref.erfc(5) - 1.5374597944280351e-12) / 1.5374597944280351e-12).toBeLessThan(1e-13);
    expect(Math.abs(ref.erfc(6) - 2.1519736712498916e-17) / 2.1519736712498916e-17).toBeLessThan(1e-13);
  });

  test('gelu, sigmoid, silu, softplus on known values', () => {
    // gelu(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447460685429
    expect(ref.geluScalar(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(ref.geluScalar(-1)).toBeCloseTo(-0.15865525393145707, 15);
    // tanh form: torch.nn.functional.gelu(tensor(1.), approximate='tanh') = 0.8411919906082768
    expect(ref.geluScalar(1, 'tanh')).toBeCloseTo(0.8411919906082768, 14);
    expect(ref.sigmoidScalar(0)).toBe(0.5);
    expect(ref.sigmoidScalar(-800)).toBe(0);
    expect(ref.sigmoidScalar(800)).toBe(1);
    expect(ref.softplusScalar(0)).toBeCloseTo(Math.LN2, 15);
    expect(ref.softplusScalar(25)).toBe(25);
    expect(ref.softplusScalar(20)).toBeCloseTo(20.000000002061154, 12);
    expect(L(ref.silu(A([1])))).toEqual([1 / (1 + Math.exp(-1))]);
  });
});

describe('reference: reductions', () => {
  const x = A([[1, 2, 3], [4, 5, 6]]);
  test('sum / mean / max / min over dims', () => {
    expect(L(ref.sum(x))).toBe(21);
    expect(ref.sum(x).shape).toEqual([]);
    expect(L(ref.sum(x, { dim: 0 }))).toEqual([5, 7, 9]);
    expect(L(ref.sum(x, { dim: -1, keepdim: true }))).toEqual([[6], [15]]);
    expect(L(ref.sum(x, { dim: [0, 1], keepdim: true }))).toEqual([[21]]);
    expect(L(ref.mean(x, { dim: 1 }))).toEqual([2, 5]);
    expect(L(ref.max(x, { dim: 0 }))).toEqual([4, 5, 6]);
    expect(L(ref.min(x, { dim: 1 }))).toEqual([1, 4]);
    const y = A([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(L(ref.sum(y, { dim: [0, 2] }))).toEqual([14, 22]);
    expect(L(ref.sum(A(3)))).toBe(3);
  });

  test('argmax picks the first maximum', () => {
    const t = A([[1, 3, 3], [7, 7, 0]]);
    expect(L(ref.argmax(t, { dim: 1 }))).toEqual([1, 0]);
    expect(L(ref.argmax(t))).toBe(3);
    expect(ref.argmax(t).dtype).toBe('int32');
    expect(L(ref.argmax(t, { dim: 0, keepdim: true }))).toEqual([[1, 1, 0]]);
  });

  test('var / std with corrections', () => {
    const v = A([1, 2, 3, 4]);
    expect(L(ref.var(v))).toBeCloseTo(5 / 3, 14);
    expect(L(ref.var(v, { correction: 0 }))).toBeCloseTo(1.25, 14);
    expect(L(ref.std(v, { correction: 0 }))).toBeCloseTo(Math.sqrt(1.25), 14);
    expect(L(ref.var(x, { dim: 1 }))).toEqual([1, 1]);
    expect(Number.isNaN(ref.var(A([5])).data[0])).toBe(true);
  });

  test('logsumexp / softmax / logSoftmax, stable for large inputs', () => {
    const l = ref.logsumexp(A([1000, 1000]), { dim: 0 });
    expect(L(l)).toBeCloseTo(1000 + Math.LN2, 10);
    expect(L(ref.softmax(A([1000, 1000]), { dim: 0 }))).toEqual([0.5, 0.5]);
    const s = ref.softmax(A([[1, 2, 3]]), { dim: -1 });
    const e = [1, 2, 3].map(Math.exp);
    const z = e[0]! + e[1]! + e[2]!;
    (L(s) as number[][])[0]!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / z, 15));
    const ls = ref.logSoftmax(A([[1, 2], [3, 5]]), { dim: 0 });
    expect((L(ls) as number[][])[0]![0]).toBeCloseTo(1 - Math.log(Math.exp(1) + Math.exp(3)), 14);
    expect(L(ref.logsumexp(A([-Infinity, -Infinity]), { dim: 0 }))).toBe(-Infinity);
  });
});

describe('reference: movement', () => {
  const x = A([[1, 2, 3], [4, 5, 6]]);
  test('reshape / flatten / squeeze / unsqueeze', () => {
    expect(ref.reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(L(ref.reshape(x, [3, 2]))).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(() => ref.reshape(x, [4, -1])).toThrow();
    expect(ref.flatten(A([[[1], [2]]])).shape).toEqual([2]);
    expect(ref.flatten(A(1)).shape).toEqual([1]);
    expect(ref.flatten(ref.zeros([2, 3, 4, 5]), 1, 2).shape).toEqual([2, 12, 5]);
    expect(ref.squeeze(ref.zeros([1, 2, 1])).shape).toEqual([2]);
    expect(ref.squeeze(ref.zeros([1, 2, 1]), -1).shape).toEqual([1, 2]);
    expect(ref.squeeze(ref.zeros([1, 2, 1]), 1).shape).toEqual([1, 2, 1]);
    expect(ref.unsqueeze(x, -1).shape).toEqual([2, 3, 1]);
    expect(ref.unsqueeze(x, 0).shape).toEqual([1, 2, 3]);
  });

  test('permute / transpose / T / expand', () => {
    expect(L(ref.transpose(x, 0, 1))).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(L(ref.T(x))).toEqual([[1, 4], [2, 5], [3, 6]]);
    const y = A([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(L(ref.permute(y, [2, 0, 1]))).toEqual([[[1, 3], [5, 7]], [[2, 4], [6, 8]]]);
    expect(L(ref.T(y))).toEqual([[[1, 5], [3, 7]], [[2, 6], [4, 8]]]);
    const X = [[1, 1, 1], [2, 2, 2]];
    expect(L(ref.expand(A([[1], [2]]), [2, 2, -1, 3]))).toEqual([[X, X], [X, X]]);
    expect(L(ref.expand(A([1, 2]), [2, 2]))).toEqual([[1, 2], [1, 2]]);
  });

  test('slice with Python semantics / narrow', () => {
    const r = A([0, 1, 2, 3, 4, 5, 6]);
    expect(L(ref.slice(r, 0, 1, 6, 2))).toEqual([1, 3, 5]);
    expect(L(ref.slice(r, 0, -3))).toEqual([4, 5, 6]);
    expect(L(ref.slice(r, 0, -100, 100))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(L(ref.slice(r, 0, 2, -2, 3))).toEqual([2]);
    expect(ref.slice(r, 0, 5, 2).shape).toEqual([0]);
    expect(L(ref.slice(x, 1, 1))).toEqual([[2, 3], [5, 6]]);
    expect(L(ref.narrow(x, 1, 1, 1))).toEqual([[2], [5]]);
    expect(L(ref.narrow(x, 1, -2, 2))).toEqual([[2, 3], [5, 6]]);
  });

  test('pad (last dim first, negative crops) / flip', () => {
    expect(L(ref.pad(A([1, 2]), [1, 2]))).toEqual([0, 1, 2, 0, 0]);
    expect(L(ref.pad(A([[1]]), [0, 1, 1, 0], { value: 7 }))).toEqual([[7, 7], [1, 7]]);
    expect(L(ref.pad(A([1, 2, 3]), [-1, 1]))).toEqual([2, 3, 0]);
    expect(L(ref.flip(x, [1]))).toEqual([[3, 2, 1], [6, 5, 4]]);
    expect(L(ref.flip(x, [0, 1]))).toEqual([[6, 5, 4], [3, 2, 1]]);
  });

  test('cat / stack / split / chunk', () => {
    expect(L(ref.cat([x, A([[7, 8, 9]])], { dim: 0 }))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(L(ref.cat([x, A([[0], [0]])], { dim: -1 }))).toEqual([[1, 2, 3, 0], [4, 5, 6, 0]]);
    expect(L(ref.stack([A([1, 2]), A([3, 4])], { dim: 1 }))).toEqual([[1, 3], [2, 4]]);
    expect(L(ref.stack([A([1, 2]), A([3, 4])]))).toEqual([[1, 2], [3, 4]]);
    const r = A([0, 1, 2, 3, 4]);
    expect(ref.split(r, 2).map(L)).toEqual([[0, 1], [2, 3], [4]]);
    expect(ref.split(r, [1, 4]).map(L)).toEqual([[0], [1, 2, 3, 4]]);
    expect(() => ref.split(r, [1, 1])).toThrow();
    // torch.chunk(arange(5), 4) gives 3 pieces of sizes 2, 2, 1
    expect(ref.chunk(r, 4).map(L)).toEqual([[0, 1], [2, 3], [4]]);
    expect(ref.chunk(A([0, 1, 2, 3, 4, 5]), 3).map(L)).toEqual([[0, 1], [2, 3], [4, 5]]);
  });
});

describe('reference: matmul and gathers', () => {
  test('matmul 2-D, 1-D and batched broadcasting', () => {
    const a = A([[1, 2], [3, 4]]);
    const b = A([[5, 6], [7, 8]]);
    expect(L(ref.matmul(a, b))).toEqual([[19, 22], [43, 50]]);
    expect(L(ref.matmul(A([1, 2]), A([3, 4])))).toBe(11);
    expect(L(ref.matmul(a, A([1, 1])))).toEqual([3, 7]);
    expect(L(ref.matmul(A([1, 1]), a))).toEqual([4, 6]);
    const batch = ref.matmul(ref.zeros([3, 1, 2, 4]), ref.zeros([5, 4, 6]));
    expect(batch.shape).toEqual([3, 5, 2, 6]);
    expect(ref.matmul(ref.zeros([3, 2, 4]), ref.zeros([4])).shape).toEqual([3, 2]);
    expect(ref.matmul(ref.zeros([4]), ref.zeros([3, 4, 2])).shape).toEqual([3, 2]);
    const stacked = ref.stack([a, b]);
    expect(L(ref.matmul(stacked, a))).toEqual([L(ref.matmul(a, a)), L(ref.matmul(b, a))]);
  });

  test('gather / indexSelect / oneHot', () => {
    const x = A([[1, 2], [3, 4]]);
    // torch.gather(t, 1, tensor([[0, 0], [1, 0]])) = [[1, 1], [4, 3]]
    expect(L(ref.gather(x, 1, A([[0, 0], [1, 0]], 'int32')))).toEqual([[1, 1], [4, 3]]);
    expect(L(ref.gather(x, 0, A([[1, 0]], 'int32')))).toEqual([[3, 2]]);
    expect(L(ref.indexSelect(x, 0, A([1, 1, 0], 'int32')))).toEqual([[3, 4], [3, 4], [1, 2]]);
    expect(L(ref.indexSelect(x, 1, A([1], 'int32')))).toEqual([[2], [4]]);
    const oh = ref.oneHot(A([0, 2], 'int32'), 3);
    expect(oh.dtype).toBe('int32');
    expect(L(oh)).toEqual([[1, 0, 0], [0, 0, 1]]);
  });
});

describe('reference: creation', () => {
  test('arange / linspace / eye / full', () => {
    expect(L(ref.arange(4))).toEqual([0, 1, 2, 3]);
    expect(ref.arange(4).dtype).toBe('int32');
    expect(L(ref.arange(1, 2.5, 0.5))).toEqual([1, 1.5, 2]);
    expect(ref.arange(1, 2.5, 0.5).dtype).toBe('float32');
    expect(L(ref.arange(5, 0, -2))).toEqual([5, 3, 1]);
    expect(L(ref.linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(L(ref.linspace(2, 3, 1))).toEqual([2]);
    expect(L(ref.eye(2, 3))).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(L(ref.full([2], 7, 'int32'))).toEqual([7, 7]);
  });

  test('random test data is deterministic and in range', () => {
    const a = ref.random([100], 1);
    const b = ref.random([100], 1);
    expect(a.data).toEqual(b.data);
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...a.data)).toBeLessThan(2);
    const q = ref.random([50], 2, { quantum: 4 });
    expect(q.data.every((v) => Number.isInteger(v * 4))).toBe(true);
    const i = ref.random([50], 3, { dtype: 'int32', lo: -3, hi: 3 });
    expect(i.data.every((v) => Number.isInteger(v) && v >= -3 && v < 3)).toBe(true);
  });
});
