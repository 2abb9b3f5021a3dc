// The engine under failure: a kernel that throws or a worker that dies rejects the pending
// promises with a clear error, and the engine keeps working afterwards.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { CpuDevice } from '../src/devices/cpu-workers/device.js';
import type { Kernel } from '../src/kernel/ir.js';

const device = born.engine.device('cpu') as CpuDevice;
const original = device.compile.bind(device);
// Until the threads are up, pool-placed kernels run on this thread: the failures below need a worker.
beforeAll(() => device.whenPoolReady());
afterEach(() => { device.compile = original; });

/** The next compiled kernel runs `source` instead of its own code. */
function sabotage(source: string): void {
  let n = 0;
  device.compile = (k: Kernel) => ({ ...original(k), key: `sabotaged${n++}`, source });
}

describe('failures', () => {
  // Large enough that the kernel goes to the worker pool rather than the inline path.
  const big = born.randn([512, 512], { seed: 1 });

  test('a worker that dies rejects data() with an error, and the engine keeps working', async () => {
    await born.realize(big);
    sabotage('(b, s, e) => { process.exit(3); }');
    const y = big.mul(3).add(1);
    await expect(y.data()).rejects.toThrow(/worker/i);
    device.compile = original;
    const want = [...(await big.data())].slice(0, 8).map((v) => Math.fround(Math.fround(v * 3) + 1));
    const got = [...(await big.mul(3).add(1).data())].slice(0, 8);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(await big.sum().item()).toBeTypeOf('number');
  });

  test('a kernel that throws rejects data() with the error, on the pool and inline', async () => {
    await born.realize(big);
    sabotage('(b, s, e) => { throw new Error("boom"); }');
    await expect(big.mul(5).data()).rejects.toThrow(/boom/);
    await expect(born.tensor([1, 2]).mul(7).data()).rejects.toThrow(/boom/);
    device.compile = original;
    expect([...(await born.tensor([1, 2]).mul(7).data())]).toEqual([7, 14]);
  });

  test('a failed tensor can be computed again once the fault is gone', async () => {
    const x = born.tensor([1, 2, 3]);
    sabotage('(b, s, e) => { throw new Error("transient"); }');
    const y = x.mul(2).sub(1);
    await expect(y.data()).rejects.toThrow(/transient/);
    device.compile = original;
    expect([...(await y.data())]).toEqual([1, 3, 5]);
  });

  test('consumers of a failed tensor fail too, and say why', async () => {
    sabotage('(b, s, e) => { throw new Error("upstream"); }');
    const x = born.tensor([1, 2, 3]).mul(2);
    const p = born.realize(x);
    device.compile = original;
    const y = x.add(1);
    await expect(p).rejects.toThrow(/upstream/);
    await expect(y.data()).resolves.toBeDefined(); // x is recomputed from its sources
  });
});

describe('asynchrony', () => {
  test('building the next graph does not wait for the running one', async () => {
    const x = born.randn([1024, 1024], { seed: 2 });
    const p = born.realize(x);
    const y = x.mul(2); // x is pending: y records at once
    expect(y.shape).toEqual([1024, 1024]);
    await p;
    const [xd, yd] = [await x.data(), await y.data()];
    expect(yd[5]).toBe(Math.fround(xd[5]! * 2));
  });

  test('the same tensor realised twice concurrently computes once', async () => {
    const x = born.randn([256], { seed: 3 }).exp();
    const seen: string[] = [];
    const on = (e: born.KernelEvent): void => { seen.push(e.name); };
    born.engine.on('kernel', on);
    await Promise.all([x.data(), x.data(), born.realize(x)]);
    born.engine.off('kernel', on);
    expect(seen).toHaveLength(1);
  });
});

describe('determinism', () => {
  test('a seed gives the same numbers however the work is split (pool ranges vs inline)', async () => {
    const n = 300_000; // large enough to be split over the worker pool
    const big = await born.randn([n], { seed: 42 }).data();
    // Slices are computed by small kernels, inline, from the same counters.
    for (const start of [0, 1234, n - 7]) {
      const part = await born.randn([n], { seed: 42 }).slice(0, start, start + 7).data();
      expect([...part]).toEqual([...big.slice(start, start + 7)]);
    }
    const again = await born.randn([n], { seed: 42 }).data();
    expect(again).toEqual(big);
    expect(await born.randn([n], { seed: 43 }).data()).not.toEqual(big);
  });

  test('manualSeed makes unseeded draws repeatable', async () => {
    born.manualSeed(7);
    const a = [await born.rand([5]).data(), await born.randn([5]).data()];
    born.manualSeed(7);
    const b = [await born.rand([5]).data(), await born.randn([5]).data()];
    expect(b).toEqual(a);
    expect(a[0]).not.toEqual(await born.rand([5]).data());
  });
});
