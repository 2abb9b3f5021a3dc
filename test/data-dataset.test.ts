// In-memory datasets, Subset, randomSplit and the seeded permutation behind shuffling.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as born from '../src/index.js';
import { DataError, Subset, TensorDataset, permutation, randomSplit } from '../src/data/index.js';

const rows = (n: number, w: number): Float32Array => Float32Array.from({ length: n * w }, (_, k) => Math.floor(k / w) * 100 + (k % w));

describe('TensorDataset', () => {
  test('get(i) returns row i of x (a view) and label i as a number', () => {
    const x = rows(5, 6), y = Int32Array.from([4, 3, 2, 1, 0]);
    const ds = new TensorDataset({ data: x, shape: [5, 2, 3] }, y);
    expect(ds.length).toBe(5);
    expect(ds.sampleShape).toEqual({ x: [2, 3], y: [] });
    const e = ds.get(3);
    expect(Array.from(e.x)).toEqual([300, 301, 302, 303, 304, 305]);
    expect(e.y).toBe(1);
    expect(e.x.buffer).toBe(x.buffer); // a view, not a copy
  });

  test('a bare x is split into as many rows as y has; row-valued targets come back as rows', () => {
    const ds = new TensorDataset(rows(4, 3), { data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), shape: [4, 2] });
    expect(ds.sampleShape).toEqual({ x: [3], y: [2] });
    const e = ds.get(2);
    expect(Array.from(e.x)).toEqual([200, 201, 202]);
    expect(Array.from(e.y as Float32Array)).toEqual([5, 6]);
  });

  test('mismatched or malformed columns are DataErrors that say what is wrong', () => {
    expect(() => new TensorDataset(new Float32Array(10), new Int32Array(3))).toThrow(/10 values, not a whole number of rows for 3 examples/);
    expect(() => new TensorDataset({ data: new Float32Array(12), shape: [4, 3] }, new Int32Array(3))).toThrow(/x has 4 examples but y has 3/);
    expect(() => new TensorDataset({ data: new Float32Array(12), shape: [2, 5] }, new Int32Array(2))).toThrow(/12 values, which do not fill shape \[2, 5\]/);
    expect(() => new TensorDataset(new Float64Array(4) as unknown as Float32Array, new Int32Array(4))).toThrow(DataError);
    const ds = new TensorDataset(new Float32Array(4), new Int32Array(4));
    expect(() => ds.get(4)).toThrow(/index 4 is out of range for 4 examples/);
    expect(() => ds.get(-1)).toThrow(DataError);
    expect(() => ds.get(1.5)).toThrow(DataError);
  });

  test('fromTensors reads born tensors into memory', async () => {
    const ds = await TensorDataset.fromTensors(born.tensor([[1, 2], [3, 4], [5, 6]]), born.tensor([0, 2, 1], { dtype: 'int32' }));
    expect(ds.sampleShape).toEqual({ x: [2], y: [] });
    expect(Array.from(ds.get(1).x)).toEqual([3, 4]);
    expect(ds.get(1).y).toBe(2);
    await expect(TensorDataset.fromTensors(born.tensor([1, 2]).to('float64'), born.tensor([0, 1]))).rejects.toThrow(/x is float64; cast it/);
  });
});

describe('Subset and randomSplit', () => {
  const ds = new TensorDataset(rows(10, 2), Int32Array.from({ length: 10 }, (_, i) => i));

  test('a Subset maps its indices onto the parent, and nests', () => {
    const s = new Subset(ds, [7, 2, 9]);
    expect(s.length).toBe(3);
    expect((s.get(0) as { y: number }).y).toBe(7);
    const ss = new Subset(s, [2, 0]);
    expect([0, 1].map((i) => (ss.get(i) as { y: number }).y)).toEqual([9, 7]);
    expect(ss.columns()!.rows).toEqual(Int32Array.from([9, 7])); // keeps the copy fast path
    expect(ss.sampleShape).toEqual({ x: [2], y: [] });
  });

  test('bad subset indices are rejected up front', () => {
    expect(() => new Subset(ds, [0, 10])).toThrow(/index 10 is out of range for 10 examples/);
    expect(() => new Subset(ds, [0.5])).toThrow(DataError);
    expect(() => new Subset(ds, [1]).get(1)).toThrow(/Subset.get: index 1/);
  });

  test('randomSplit covers the dataset with disjoint subsets, repeatably per seed', () => {
    const [a, b] = randomSplit(ds, [7, 3], { seed: 3 });
    expect([a!.length, b!.length]).toEqual([7, 3]);
    expect([...a!.indices, ...b!.indices].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(randomSplit(ds, [7, 3], { seed: 3 })[0]!.indices).toEqual(a!.indices);
    expect(() => randomSplit(ds, [5, 4])).toThrow(/adding up to the dataset's 10 examples/);
  });
});

describe('permutation', () => {
  test('is a permutation, the same for the same (seed, stream), different otherwise', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), fc.nat(1000), (n, seed, stream) => {
      const p = permutation(n, seed, stream);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(permutation(n, seed, stream)).toEqual(p);
    }), { numRuns: 50 });
    const base = permutation(100, 1, 0);
    expect(permutation(100, 1, 1)).not.toEqual(base);
    expect(permutation(100, 2, 0)).not.toEqual(base);
  });

  test('looks uniform: each element lands in each position about equally often', () => {
    const n = 5, trials = 5000, counts = new Array(n * n).fill(0);
    for (let t = 0; t < trials; t++) permutation(n, 42, t).forEach((v, pos) => counts[v * n + pos]++);
    for (const c of counts) expect(Math.abs(c - trials / n)).toBeLessThan(0.15 * trials / n);
  });
});
