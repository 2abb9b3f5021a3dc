// Independent kernels of one schedule run at the same time; a kernel waits for every kernel
// whose buffers it reads or overwrites (step-deps.ts); a failing kernel rejects the schedule
// only once no other kernel is still writing, and the engine stays usable.
import { afterEach, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { CpuDevice } from '../src/devices/cpu-workers/device.js';
import type { Kernel } from '../src/kernel/ir.js';
import { assignAll } from '../src/tensor/assign.js';
import { planFor } from '../src/scheduler/realize.js';
import { walk } from '../src/scheduler/plan-key.js';
import { stepGraph } from '../src/scheduler/step-deps.js';

const device = born.engine.device('cpu') as CpuDevice;
const originalCompile = device.compile.bind(device);
const originalRun = device.run.bind(device);
afterEach(() => { device.compile = originalCompile; device.run = originalRun; });

/** Runs `f`, returning the most device runs that were in flight at once. */
async function peakInFlight(f: () => Promise<unknown>): Promise<number> {
  let now = 0, peak = 0;
  device.run = (k, bufs, args) => {
    now++;
    peak = Math.max(peak, now);
    return originalRun(k, bufs, args).finally(() => { now--; });
  };
  try { await f(); } finally { device.run = originalRun; }
  return peak;
}

/** Naive float64 matmul of row-major [m, k] x [k, n]. */
function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
    const av = a[i * k + p]!;
    for (let j = 0; j < n; j++) out[i * n + j] += av * b[p * n + j]!;
  }
  return out;
}

/** Kernel source that spins for `ms` and writes nothing. */
const spin = (ms: number): string => `(b, s, e) => { const t = Date.now(); while (Date.now() - t < ${ms}); }`;

/** Matmul kernels compiled from now on spin for `ms` instead (96 columns: throw, when `fail96`). */
function slowMatmuls(ms: number, fail96 = false): void {
  let n = 0;
  device.compile = (k: Kernel) => {
    const ck = originalCompile(k);
    if (!k.ops.includes('matmul')) return ck;
    const source = fail96 && k.out.shape.at(-1) === 96 ? '(b, s, e) => { throw new Error("sibling failed"); }' : spin(ms);
    return { ...ck, key: `sabotaged${n++}`, source };
  };
}

describe('concurrent kernels', () => {
  // Large enough that each matmul goes to the pool (over MATMUL_INLINE_COST), not inline.
  const M = 512, K = 1024;
  const x = born.randn([M, K], { seed: 3 });
  const w1 = born.randn([K, 128], { seed: 4 });
  const w2 = born.randn([K, 96], { seed: 5 });

  test('a diamond: two independent matmuls run at once, their consumer after both', async () => {
    await born.realize(x, w1, w2);
    const [xd, w1d, w2d] = await Promise.all([x.data(), w1.data(), w2.data()]);
    const b = x.matmul(w1);
    const c = x.matmul(w2);
    const d = b.relu().sum({ dim: 1 }).add(c.abs().sum({ dim: 1 }));
    const ks = born.explain(d).kernels;
    expect(ks.filter((k) => k.ops.includes('matmul'))).toHaveLength(2);
    // The two matmuls go to the pool and may run beside each other; what reads both may not.
    const mm = ks.flatMap((k, i) => (k.ops.includes('matmul') ? [i] : []));
    expect(ks[mm[0]!]!.placement).toMatch(new RegExp(`^pool ×\\d .*concurrent with .*\\b${mm[1]}\\b`));
    const got = await d.data();
    const rb = matmulRef(xd, w1d, M, K, 128);
    const rc = matmulRef(xd, w2d, M, K, 96);
    for (let i = 0; i < M; i++) {
      let want = 0;
      for (let j = 0; j < 128; j++) want += Math.max(0, rb[i * 128 + j]!);
      for (let j = 0; j < 96; j++) want += Math.abs(rc[i * 96 + j]!);
      expect(Math.abs(got[i]! - want), `row ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
    }
  });

  test('independent pool kernels are in flight at once', async () => {
    // Large enough that each matmul runs on the pool alone (not inline, not shared with the
    // calling thread, which runs its share before the next kernel starts).
    const xl = born.randn([256, 512], { seed: 7 });
    const wa = born.randn([512, 512], { seed: 8 });
    const wb = born.randn([512, 384], { seed: 9 });
    await born.realize(xl, wa, wb);
    // On threads that are up: while they start, the calling thread runs pool kernels itself.
    await device.whenPoolReady();
    slowMatmuls(30);
    const d = xl.matmul(wa).sum({ dim: 1 }).add(xl.matmul(wb).sum({ dim: 1 }));
    expect(born.explain(d).kernels.filter((k) => k.ops.includes('matmul')).map((k) => k.placement))
      .toEqual([expect.stringMatching(/^pool ×2 /), expect.stringMatching(/^pool ×2 /)]);
    // Kernel by kernel (a device without chains), both are in flight at once.
    const chainless = device as { runChain?: unknown };
    chainless.runChain = undefined;
    try {
      expect(await peakInFlight(() => d.data())).toBeGreaterThanOrEqual(2);
    } finally {
      delete chainless.runChain;
    }
    // While the calling thread is busy, both go to the workers in one chain, neither waiting for the other's answer.
    const chained: string[][] = [];
    const original = device.runChain.bind(device);
    device.runChain = (items) => { chained.push(items.map(({ k }) => (k as unknown as { key: string }).key)); return original(items); };
    device.callerBusy++;
    try {
      const e = xl.matmul(wa).sum({ dim: 1 }).add(xl.matmul(wb).sum({ dim: 1 }));
      await e.data();
    } finally {
      device.callerBusy--;
      delete (device as { runChain?: unknown }).runChain;
    }
    expect(chained.some((keys) => keys.filter((key) => key.startsWith('sabotaged')).length === 2), JSON.stringify(chained)).toBe(true);
  });

  test('a chain of dependent kernels runs one at a time', async () => {
    const w3 = born.randn([128, 64], { seed: 6 });
    await born.realize(x, w1, w3);
    const y = x.matmul(w1).relu().matmul(w3);
    await born.realize(y); // plan and compile first: the check is about running
    const z = x.matmul(w1).relu().matmul(w3);
    expect(await peakInFlight(() => z.data())).toBe(1);
    expect([...(await z.data())]).toEqual([...(await y.data())]);
  });

  test('a store waits for every kernel that reads the old contents; stores keep their order', async () => {
    const p = born.randn([256, 512], { seed: 7 });
    const q = born.randn([256, 512], { seed: 8 });
    await born.realize(p, q);
    const [p0, q0] = await Promise.all([p.data(), q.data()]);
    const y = p.mul(2).add(q);       // reads p and q before they change
    const s = p.sum({ dim: 1 });     // reads p
    // p <- p + 1, q <- p * 3 (the new q reads the old p: it must run before p is written).
    await assignAll([[p, p.add(1)], [q, p.mul(3)]], [y, s]);
    const [yd, sd, pd, qd] = await Promise.all([y.data(), s.data(), p.data(), q.data()]);
    for (let i = 0; i < p0.length; i += 997) {
      expect(yd[i]).toBeCloseTo(2 * p0[i]! + q0[i]!, 4);
      expect(pd[i]).toBeCloseTo(p0[i]! + 1, 5);
      expect(qd[i]).toBeCloseTo(3 * p0[i]!, 4);
    }
    for (let r = 0; r < 256; r += 37) {
      let want = 0;
      for (let c = 0; c < 512; c++) want += p0[r * 512 + c]!;
      expect(sd[r]).toBeCloseTo(want, 2);
    }
  });

  test('step dependencies: reads after writes, writes after reads, through aliases and shared leaves', () => {
    const a = born.randn([64, 64], { seed: 9 });
    const b = born.randn([64, 64], { seed: 10 });
    return born.realize(a, b).then(() => {
      const t = a.exp().mul(b).sum({ dim: 1 });   // kernels reading a and b
      const u = a.matmul(b).reshape([4096]);       // a matmul, aliased by the reshape
      const v = u.add(1).reshape([64, 64]).sum();  // reads the matmul through the alias
      const nodes = [t.node, v.node];
      const w = walk(nodes);
      const p = planFor(nodes);
      const g = stepGraph(p, w.order);
      const mm = p.steps.findIndex((s) => s.kernel.ops.includes('matmul'));
      const reader = p.steps.findIndex((s) => s.output === w.order.indexOf(v.node));
      expect(mm).toBeGreaterThanOrEqual(0);
      expect(g.after[reader]).toContain(mm);
      const red = p.steps.findIndex((s) => s.output === w.order.indexOf(t.node));
      expect(g.after[red]).toEqual([]);
    });
  });

  test('a failing kernel beside a running one rejects the schedule after both; the engine stays usable', async () => {
    await born.realize(x, w1, w2);
    const live = born.engine.memory().liveBuffers;
    // The matmul with 96 columns throws while its sibling is still running.
    slowMatmuls(60, true);
    const b = x.matmul(w1).relu().amax(1);
    const c = x.matmul(w2).abs().amax(1);
    const d = b.add(c);
    const t0 = performance.now();
    await expect(d.data()).rejects.toThrow(/sibling failed/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50); // not before the spinning sibling is done
    device.compile = originalCompile;
    // Nothing the failed schedule allocated stays live. At most `live`, not exactly: the
    // finalizer may free earlier tests' unreachable tensors while this one waits.
    expect(born.engine.memory().liveBuffers).toBeLessThanOrEqual(live);
    const [bd, cd, dd] = await Promise.all([b.data(), c.data(), x.matmul(w1).relu().amax(1).add(x.matmul(w2).abs().amax(1)).data()]);
    for (let i = 0; i < M; i += 17) expect(dd[i]).toBeCloseTo(bd[i]! + cd[i]!, 2);
  });
});
