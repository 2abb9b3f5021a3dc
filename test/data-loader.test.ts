// DataLoader: batch shapes, seeded per-epoch shuffling, prefetch that changes nothing but
// timing, and errors from dataset.get that end the iteration cleanly.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DataError, DataLoader, Subset, TensorDataset, type Example, type ExampleDataset } from '../src/data/index.js';

const W = 3; // features per example; example i holds [i, i + 0.25, i + 0.5] and label i % 7
function inMemory(n: number): TensorDataset {
  const x = new Float32Array(n * W);
  for (let i = 0; i < n; i++) for (let j = 0; j < W; j++) x[i * W + j] = i + j / 4;
  return new TensorDataset({ data: x, shape: [n, W] }, Int32Array.from({ length: n }, (_, i) => i % 7));
}
/** The same examples through get() only: sync, or async with a delay, so the generic path runs. */
function viaGet(n: number, opts: { async?: boolean; failAt?: number; calls?: number[] } = {}): ExampleDataset {
  const mem = inMemory(n);
  return {
    length: n,
    get(i: number): Example | Promise<Example> {
      opts.calls?.push(i);
      if (!opts.async) {
        if (i === opts.failAt) throw new Error(`disk on fire at ${i}`);
        return mem.get(i);
      }
      return new Promise((resolve, reject) => setTimeout(() => (i === opts.failAt ? reject(new Error(`disk on fire at ${i}`)) : resolve(mem.get(i))), i % 3));
    },
  };
}

interface Seen { x: number[][]; y: number[]; indices: number[]; shapes: string[] }
async function epoch(loader: DataLoader): Promise<Seen> {
  const seen: Seen = { x: [], y: [], indices: [], shapes: [] };
  for await (const { x, y, indices } of loader) {
    seen.shapes.push(`${x.dtype}[${x.shape}] ${y.dtype}[${y.shape}]`);
    const xd = await x.data(), yd = await y.data();
    for (let k = 0; k < indices.length; k++) seen.x.push(Array.from(xd.subarray(k * W, (k + 1) * W)));
    seen.y.push(...yd);
    seen.indices.push(...indices);
  }
  return seen;
}
const expectContentMatchesIndices = (s: Seen): void => {
  expect(s.x).toEqual(s.indices.map((i) => [i, i + 0.25, i + 0.5]));
  expect(s.y).toEqual(s.indices.map((i) => i % 7));
};

describe('batching', () => {
  test('batches are float32 [B, 3] / int32 [B] in order, with a short last batch', async () => {
    const loader = new DataLoader(inMemory(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const s = await epoch(loader);
    expect(s.shapes).toEqual(['float32[4,3] int32[4]', 'float32[4,3] int32[4]', 'float32[2,3] int32[2]']);
    expect(s.indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectContentMatchesIndices(s);
  });

  test('dropLast drops the short batch; loader.length counts batches', async () => {
    const loader = new DataLoader(inMemory(10), { batchSize: 4, dropLast: true, shuffle: true, seed: 5 });
    expect(loader.length).toBe(2);
    const s = await epoch(loader);
    expect(s.shapes).toEqual(['float32[4,3] int32[4]', 'float32[4,3] int32[4]']);
    expect(new Set(s.indices).size).toBe(8);
    expect(new DataLoader(inMemory(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(inMemory(3), { batchSize: 4, dropLast: true }).length).toBe(0);
    expect(await epoch(new DataLoader(inMemory(0), { batchSize: 4 }))).toEqual({ x: [], y: [], indices: [], shapes: [] });
  });

  test('row-valued targets and int32 features stack with their sample shapes', async () => {
    const ds = new TensorDataset({ data: Int32Array.from({ length: 12 }, (_, k) => k), shape: [3, 2, 2] }, { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] });
    const batches = [];
    for await (const b of new DataLoader(ds, { batchSize: 2 })) batches.push({ x: b.x.shape, xd: b.x.dtype, y: await b.y.tolist() });
    expect(batches).toEqual([{ x: [2, 2, 2], xd: 'int32', y: [[1, 2], [3, 4]] }, { x: [1, 2, 2], xd: 'int32', y: [[5, 6]] }]);
  });

  test('a Subset of a TensorDataset batches the parent rows it names', async () => {
    const s = await epoch(new DataLoader(new Subset(inMemory(20), [19, 3, 4, 5, 0]), { batchSize: 2 }));
    expect(s.x.map((r) => r[0])).toEqual([19, 3, 4, 5, 0]);
    expect(s.y).toEqual([19 % 7, 3, 4, 5, 0]);
  });

  test('examples that do not stack are DataErrors naming the example', async () => {
    const ds: ExampleDataset = { length: 2, get: (i) => ({ x: new Float32Array(i ? 4 : 3), y: 0 }) };
    await expect(epoch(new DataLoader(ds, { batchSize: 2 }))).rejects.toThrow(/example 1: x has 4 values, expected 3/);
    const bad: ExampleDataset = { length: 1, get: () => ({ x: new Float32Array(1), y: 0.5 }) };
    await expect(epoch(new DataLoader(bad))).rejects.toThrow(/y = 0.5; a numeric y must be an int32 class id/);
  });

  test('bad options are rejected when the loader is made', () => {
    expect(() => new DataLoader(inMemory(4), { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1, got 0/);
    expect(() => new DataLoader(inMemory(4), { prefetch: -1 })).toThrow(/prefetch/);
    expect(() => new DataLoader(inMemory(4), { seed: NaN })).toThrow(/seed/);
    expect(() => new DataLoader({} as ExampleDataset)).toThrow(/needs an integer `length`/);
  });
});

describe('shuffling', () => {
  test('every epoch visits each index exactly once, in an order fixed by (seed, epoch)', async () => {
    const a = new DataLoader(inMemory(50), { batchSize: 8, shuffle: true, seed: 11 });
    const e0 = await epoch(a), e1 = await epoch(a);
    for (const s of [e0, e1]) {
      expect([...s.indices].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expectContentMatchesIndices(s);
    }
    expect(e1.indices).not.toEqual(e0.indices); // the epoch counter reshuffles
    expect(a.epoch).toBe(2);
    const b = new DataLoader(inMemory(50), { batchSize: 8, shuffle: true, seed: 11 });
    expect((await epoch(b)).indices).toEqual(e0.indices); // same seed, same epoch: same order
    b.setEpoch(0);
    expect((await epoch(b)).indices).toEqual(e0.indices); // setEpoch replays an epoch
    expect((await epoch(b)).indices).toEqual(e1.indices); // and counting continues from it
    expect(Array.from(b.order(1))).toEqual(e1.indices);
    const c = new DataLoader(inMemory(50), { batchSize: 8, shuffle: true, seed: 12 });
    expect((await epoch(c)).indices).not.toEqual(e0.indices);
  });

  test('without shuffle every epoch is 0..n-1', async () => {
    const l = new DataLoader(inMemory(7), { batchSize: 3 });
    await epoch(l);
    expect((await epoch(l)).indices).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('prefetch', () => {
  test('in-memory, sync get() and async get() with any prefetch give identical batches', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.boolean(), fc.nat(), fc.nat(4),
      async (n, batchSize, shuffle, dropLast, seed, prefetch) => {
        const opts = { batchSize, shuffle, dropLast, seed };
        const want = await epoch(new DataLoader(inMemory(n), { ...opts, prefetch: 0 }));
        expect(want.shapes.length).toBe(new DataLoader(inMemory(n), opts).length);
        expectContentMatchesIndices(want);
        for (const ds of [inMemory(n), viaGet(n), viaGet(n, { async: true })]) {
          expect(await epoch(new DataLoader(ds, { ...opts, prefetch }))).toEqual(want);
        }
      }), { numRuns: 25 });
  });

  test('the next batches are fetched while the consumer still holds the current one', async () => {
    const calls: number[] = [];
    const loader = new DataLoader(viaGet(20, { async: true, calls }), { batchSize: 2, prefetch: 3 });
    for await (const _ of loader) {
      await new Promise((r) => setTimeout(r, 20)); // the "training step"
      expect(calls.length).toBe(8); // batch 0 and the 3 prefetched ones, nothing further
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.length).toBe(8); // breaking out stops the fetching
  });
});

describe('errors in dataset.get', () => {
  for (const mode of ['sync', 'async'] as const) {
    test(`a ${mode} failure rejects the iteration at its batch, after the batches before it`, async () => {
      const loader = new DataLoader(viaGet(12, { async: mode === 'async', failAt: 7 }), { batchSize: 3, prefetch: 2 });
      const got: number[] = [];
      let caught: unknown;
      try {
        for await (const { indices } of loader) got.push(...indices);
      } catch (e) {
        caught = e;
      }
      expect(got).toEqual([0, 1, 2, 3, 4, 5]);
      expect(caught).toBeInstanceOf(DataError);
      expect((caught as Error).message).toMatch(/dataset\.get\(7\) failed \(batch 2, epoch 0\): disk on fire at 7/);
      expect(((caught as Error).cause as Error).message).toBe('disk on fire at 7');
      // The loader stays usable: the next epoch fails at the same place, not earlier or hanging.
      await expect(epoch(loader)).rejects.toThrow(/get\(7\)/);
    });
  }

  test('a failure in a prefetched batch the consumer never reaches is not an unhandled rejection', async () => {
    const loader = new DataLoader(viaGet(12, { async: true, failAt: 5 }), { batchSize: 2, prefetch: 4 });
    for await (const { indices } of loader) {
      expect(Array.from(indices)).toEqual([0, 1]);
      await new Promise((r) => setTimeout(r, 20)); // let batch 2 fail in the background
      break;
    }
    // vitest fails the run on any unhandled rejection; give one a chance to surface.
    await new Promise((r) => setTimeout(r, 10));
  });
});
