// Bounded caches: compiled kernels and plans are LRU caches bounded by count and by bytes, so
// a long-running process that meets ever new shapes stays bounded; an evicted entry that comes
// back is compiled again and still computes the right thing.
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { KernelCache } from '../src/devices/cpu-workers/compile.js';
import { LruCache } from '../src/kernel/lru.js';

const defaults = born.engine.setCacheLimits({});
afterAll(() => { born.engine.setCacheLimits(defaults); });

describe('LruCache', () => {
  test('evicts the least recently used entry past the count bound', () => {
    const c = new LruCache<string, number>({ count: 2, bytes: 100 });
    c.set('a', 1, 1);
    c.set('b', 2, 1);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3, 1);
    expect(c.has('b')).toBe(false);
    expect([c.get('a'), c.get('c'), c.size]).toEqual([1, 3, 2]);
  });

  test('evicts in the order of a reference LRU (a recency list) over many random uses', () => {
    const c = new LruCache<number, number>({ count: 7, bytes: 1000 });
    let recency: number[] = []; // least recent first
    let seed = 12345;
    for (let step = 0; step < 5000; step++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const key = seed % 13;
      if (seed & 0x10000) {
        const want = recency.includes(key) ? key * 10 : undefined;
        expect(c.get(key)).toBe(want);
        if (want !== undefined) recency = [...recency.filter((k) => k !== key), key];
      } else {
        c.set(key, key * 10, 1);
        recency = [...recency.filter((k) => k !== key), key];
        if (recency.length > 7) recency.shift();
      }
      expect(c.size).toBe(recency.length);
    }
    for (const k of recency) expect(c.has(k)).toBe(true);
  });

  test('evicts past the byte bound, keeps the byte count exact, and drops an entry larger than the bound', () => {
    const c = new LruCache<string, number>({ count: 10, bytes: 10 });
    c.set('a', 1, 4);
    c.set('b', 2, 4);
    c.set('c', 3, 4); // 12 bytes: a goes
    expect([c.has('a'), c.size, c.bytes]).toEqual([false, 2, 8]);
    c.set('b', 20, 2); // replacing an entry replaces its size
    expect(c.bytes).toBe(6);
    c.set('huge', 4, 11);
    expect([c.has('huge'), c.size, c.bytes]).toEqual([false, 0, 0]);
    expect(() => c.setLimits({ count: 0, bytes: 1 })).toThrow(/at least 1 entry/);
  });

  test('KernelCache is bounded by the bytes of its sources too', () => {
    const cache = new KernelCache(100, 120);
    const src = (i: number): string => `(b) => { b[0][0] = ${i}; /* ${'x'.repeat(20)} */ }`;
    for (let i = 0; i < 10; i++) cache.get(`k${i}`, src(i));
    expect(cache.bytes).toBeLessThanOrEqual(120);
    expect(cache.size).toBe(Math.floor(120 / src(0).length));
    expect(cache.compiles).toBe(10);
    const out = new Int32Array(1);
    cache.get('k0', src(0))([out], 0, 1); // evicted: compiled again, and right
    expect(out[0]).toBe(0);
    expect(cache.compiles).toBe(11);
  });
});

describe('engine caches', () => {
  test('many distinct shapes keep kernels and plans at their bounds; evicted ones still work', async () => {
    born.engine.setCacheLimits({ kernels: { count: 6, bytes: 1 << 26 }, plans: { count: 4, bytes: 1 << 26 } });
    const run = async (n: number): Promise<number[]> => [...await born.arange(0, n).to('float32').mul(2).add(1).exp().log().data()];
    for (let n = 1; n <= 30; n++) {
      const v = await run(n);
      expect(v[n - 1]).toBeCloseTo(2 * (n - 1) + 1, 4);
      const s = born.engine.stats();
      expect(s.cachedKernels).toBeLessThanOrEqual(6);
      expect(s.cachedPlans).toBeLessThanOrEqual(4);
    }
    const before = born.engine.stats().kernelCompiles;
    expect(await run(1)).toEqual([1]); // long evicted: compiled again
    expect(born.engine.stats().kernelCompiles).toBeGreaterThan(before);
    const again = born.engine.stats().kernelCompiles;
    expect(await run(1)).toEqual([1]); // and cached again
    expect(born.engine.stats().kernelCompiles).toBe(again);
  });

  test('the byte bounds hold for kernel sources and plans', async () => {
    born.engine.setCacheLimits({ kernels: { count: 1000, bytes: 40_000 }, plans: { count: 1000, bytes: 4_000 } });
    for (let n = 1; n <= 20; n++) {
      await born.ones([n, 3]).mul(born.ones([3])).sum({ dim: 1 }).data();
      const s = born.engine.stats();
      expect(s.cachedKernelBytes).toBeLessThanOrEqual(40_000);
      expect(s.cachedPlanBytes).toBeLessThanOrEqual(4_000);
    }
    expect(born.engine.stats().cachedPlans).toBeGreaterThan(0);
  });

  test('stats() counts since start and memory() still reports live buffers', async () => {
    const s0 = born.engine.stats();
    const t = born.tensor(new Float32Array(1000).fill(1));
    const s1 = born.engine.stats();
    expect(s1.liveBuffers).toBe(s0.liveBuffers + 1);
    expect(s1.liveBytes).toBe(s0.liveBytes + 4000);
    expect(s1.allocations).toBeGreaterThanOrEqual(s0.allocations);
    expect(born.engine.memory()).toEqual({ liveBuffers: s1.liveBuffers, liveBytes: s1.liveBytes });
    t.dispose();
    // A buffer of a size freed just now comes from the device's free list: no new allocation.
    const s2 = born.engine.stats();
    const u = born.tensor(new Float32Array(1000).fill(2));
    expect(born.engine.stats().allocations).toBe(s2.allocations);
    u.dispose();
  });
});
