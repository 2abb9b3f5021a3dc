// The CPU device's cost model: where a kernel runs (inline, the pool with the calling thread
// taking a share when that is turned on, the pool alone), and that a shared run computes the same values.
import { describe, expect, test, vi } from 'vitest';
import * as born from '../src/index.js';
import { WorkerPool } from '../src/devices/cpu-workers/pool.js';
import { type CpuDevice, INLINE_COST, MATMUL_FLOPS_PER_OP, MATMUL_INLINE_COST, placement, QUANT_SHARED_FROM, SERIAL_INLINE_COST, SHARED_COST } from '../src/devices/cpu-workers/device.js';

describe('CPU kernel placement', () => {
  test('small kernels run inline, mid-sized splittable ones shared, large ones on the pool', () => {
    expect(placement(INLINE_COST - 1, 8, 2)).toBe('inline');
    expect(placement(SERIAL_INLINE_COST - 1, 1, 2)).toBe('inline');
    expect(placement(SERIAL_INLINE_COST, 1, 2)).toBe('pool');
    // Shares on the calling thread are off unless asked for.
    expect(placement(INLINE_COST, 8, 2)).toBe('pool');
    expect(placement(INLINE_COST, 8, 2, { sharedBelow: SHARED_COST })).toBe('shared');
    expect(placement(SHARED_COST - 1, 2, 2, { sharedBelow: SHARED_COST })).toBe('shared');
    expect(placement(SHARED_COST, 8, 2, { sharedBelow: SHARED_COST })).toBe('pool');
    expect(placement(INLINE_COST, 8, 1, { sharedBelow: SHARED_COST })).toBe('pool');
    // Contended (other schedules, or a server's calling thread), nothing runs shared.
    expect(placement(INLINE_COST, 8, 2, { sharedBelow: SHARED_COST }, true)).toBe('pool');
  });

  test('a packed matmul from QUANT_SHARED_FROM runs shared while uncontended, under the inline bound too', () => {
    const bounds = { inline: MATMUL_INLINE_COST, sharedFrom: QUANT_SHARED_FROM };
    expect(placement(QUANT_SHARED_FROM - 1, 48, 2, bounds)).toBe('inline');
    expect(placement(QUANT_SHARED_FROM, 48, 2, bounds)).toBe('shared');
    expect(placement(MATMUL_INLINE_COST * 4, 48, 2, bounds)).toBe('shared');
    expect(placement(QUANT_SHARED_FROM, 1, 2, bounds)).toBe('inline');
    expect(placement(QUANT_SHARED_FROM, 48, 1, bounds)).toBe('inline');
    // Contended, the plain inline bound: the pool.
    expect(placement(QUANT_SHARED_FROM, 48, 2, bounds, true)).toBe('pool');
    expect(placement(MATMUL_INLINE_COST * 4, 48, 2, bounds, true)).toBe('pool');
  });

  test('a matmul costs its flops over the wasm kernel speed: 64^3 inline, 256^3 shared or inline, 1024^3 on the pool', () => {
    const cost = (n: number): number => (2 * n ** 3) / MATMUL_FLOPS_PER_OP;
    expect(placement(cost(64), 2, 2)).toBe('inline');
    expect(placement(cost(256), 8, 2)).toBe('pool');
    expect(placement(cost(256), 8, 2, { sharedBelow: SHARED_COST })).toBe('shared');
    expect(placement(cost(1024), 32, 2)).toBe('pool');
    // With the matmul bound (at these sizes a pool run costs more than the second thread gains).
    expect(placement(cost(256), 8, 2, { inline: MATMUL_INLINE_COST })).toBe('inline');
    expect(placement(cost(512), 16, 2, { inline: MATMUL_INLINE_COST })).toBe('pool');
    expect(placement(cost(1024), 32, 2, { inline: MATMUL_INLINE_COST })).toBe('pool');
  });

  test('explain() shows a 256^3 matmul inline under the matmul bound, a 512^3 one on the pool, an elementwise kernel of the same cost on the pool', () => {
    const a = born.randn([256, 256], { seed: 1 }), b = born.randn([256, 256], { seed: 2 });
    expect(born.explain(a.matmul(b)).kernels.find((k) => k.ops.includes('matmul'))!.placement).toMatch(/^inline \(cost 2\.1M < 5M matmul, pool while the pool is busy\)/);
    const c = born.randn([512, 512], { seed: 3 });
    expect(born.explain(c.matmul(c)).kernels.find((k) => k.ops.includes('matmul'))!.placement).toMatch(/^pool ×\d/);
    const x = born.randn([1_000_000], { seed: 4 });
    expect(born.explain(x.mul(2).add(1)).kernels.at(-1)!.placement).toMatch(/^pool ×\d/);
  });

  test('a matmul inline only by the matmul bound runs on the pool while the pool is busy', async () => {
    const a = born.randn([256, 256], { seed: 5 }), b = born.randn([256, 256], { seed: 6 });
    const big = born.randn([1024, 1024], { seed: 7 });
    await born.realize(a, b, big);
    const want = await a.matmul(b).data();
    await big.matmul(big).data(); // both plans cached: the kernels start in call order
    const runs = vi.spyOn(WorkerPool.prototype, 'run');
    try {
      // Idle pool: the 256^3 matmul stays on the calling thread.
      await a.matmul(b).data();
      expect(runs).not.toHaveBeenCalled();
      // A 1024^3 matmul on the pool, not awaited: the 256^3 one joins it there, with the same values.
      const pending = big.matmul(big).data();
      const got = await a.matmul(b).data();
      expect(runs).toHaveBeenCalledTimes(2);
      expect(Array.from(got)).toEqual(Array.from(want));
      await pending;
    } finally {
      runs.mockRestore();
    }
  });

  test('with callerBusy (born serve) a matmul inline only by the matmul bound runs on the pool, with the same values', async () => {
    const device = born.engine.cpu();
    const a = born.randn([256, 256], { seed: 8 }), b = born.randn([256, 256], { seed: 9 });
    await born.realize(a, b);
    const want = await a.matmul(b).data();
    const runs = vi.spyOn(WorkerPool.prototype, 'run');
    device.callerBusy++;
    try {
      expect(born.explain(a.matmul(b)).kernels.find((k) => k.ops.includes('matmul'))!.placement).toMatch(/^pool ×\d/);
      const got = await a.matmul(b).data();
      expect(runs).toHaveBeenCalledTimes(1);
      expect(Array.from(got)).toEqual(Array.from(want));
      // Small kernels still run inline: a pool round trip would cost more than they do.
      await born.tensor([1, 2, 3]).add(1).data();
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      device.callerBusy--;
      runs.mockRestore();
    }
  });

  test('shared runs give the values of a naive float64 matmul and of an elementwise loop', async () => {
    const device = born.engine.device('cpu') as CpuDevice;
    device.sharedCost = SHARED_COST;
    try {
      await sharedValues();
    } finally {
      device.sharedCost = 0;
    }
  });
});

/** A matmul and an elementwise kernel of the sizes that run shared, against naive loops. */
async function sharedValues(): Promise<void> {
  const n = 256;
  const a = born.randn([n, n], { seed: 11 }), b = born.randn([n, n], { seed: 12 });
  await born.realize(a, b);
  const [av, bv, cv] = [await a.data(), await b.data(), await a.matmul(b).data()];
  for (const [i, j] of [[0, 0], [255, 255], [31, 32], [128, 7], [200, 199]] as const) {
    let s = 0;
    for (let k = 0; k < n; k++) s += av[i * n + k]! * bv[k * n + j]!;
    expect(Math.abs(cv[i * n + j]! - s)).toBeLessThan(1e-4 * (1 + Math.abs(s)));
  }
  // 150k elements x a few ops: over INLINE_COST, under SHARED_COST.
  const x = born.randn([150_000], { seed: 13 });
  await born.realize(x);
  const xv = await x.data();
  const y = await x.mul(2).add(1).exp().data();
  for (const i of [0, 74_999, 75_000, 149_999]) expect(y[i]!).toBeCloseTo(Math.exp(xv[i]! * 2 + 1), 3);
}
