// Workload 3: fp32 square matmul, n = 256 / 512 / 1024, inputs materialised; reported as GFLOP/s.

import type { Born, BornTensor } from '../born-api.js';
import { free } from '../born-api.js';
import { compare, rng, runCase, summarize, timeMs, type CaseResult, type Plan } from '../common.js';

export const SIZES = [256, 512, 1024] as const;

export const flops = (n: number): number => 2 * n * n * n;

/** Checks 512 sampled entries of c = a·b against float64 dot products. */
export function checkMatmul(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, n: number): string {
  if (c.length !== n * n) return `WRONG: ${c.length} values, expected ${n * n}`;
  const r = rng(7);
  const got: number[] = [];
  const ref: number[] = [];
  const scale: number[] = [];
  for (let s = 0; s < 512; s++) {
    const i = Math.floor(r() * n);
    const j = Math.floor(r() * n);
    let acc = 0;
    let abs = 0;
    for (let k = 0; k < n; k++) {
      const p = a[i * n + k]! * b[k * n + j]!;
      acc += p;
      abs += Math.abs(p);
    }
    got.push(c[i * n + j]!);
    ref.push(acc);
    scale.push(abs);
  }
  return compare(got, ref, scale, 1e-5);
}

export async function born(b: Born, plan: Plan): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const n of SIZES) {
    const id = `matmul_${n}`;
    results.push(
      await runCase(id, 'ms', async () => {
        const a = b.randn([n, n], { seed: 2 });
        const c = b.randn([n, n], { seed: 3 });
        await b.realize(a, c);
        let out: ArrayLike<number> | undefined;
        const samples = await timeMs(async () => {
          const y = a.matmul(c);
          out = await y.data();
          free(y);
        }, plan);
        const check = checkMatmul(await a.data(), await c.data(), out!, n);
        free(a, c);
        return summarize(id, 'ms', samples, { flops: flops(n), check });
      }),
    );
  }
  return results;
}

// ---------------------------------------------------------------------------
// The device benchmark (bench/webgpu.ts): larger sizes, each capped by time, the result
// realised on the device rather than read back (a readback of 64 MB would dominate a GPU's
// matmul 4096). Shared with the tfjs peer, which settles its queue the same way.

/**
 * The plan for one size of a series under a cap of `capS` seconds per size and peer, from the
 * time per call predicted by the size before it (scaled by n³, which overestimates: bigger
 * matmuls run no slower per flop). Too slow for the plan: fewer calls, no warm-up (the first
 * call then includes compiling the kernel, small beside a call this long); too slow for a
 * single call: not run.
 */
export function capPlan(plan: Plan, capS: number, predictedMs: number | undefined): { plan: Plan; note?: string; skip?: string } {
  const capMs = capS * 1000;
  const fits = { plan: { ...plan, budgetMs: Math.min(plan.budgetMs, capMs) } };
  if (predictedMs === undefined || !(capS > 0)) return fits;
  const calls = Math.floor(capMs / predictedMs);
  const s = (predictedMs / 1000).toFixed(1);
  if (calls >= plan.warmup + plan.minReps) return fits;
  if (calls >= 1) {
    return {
      plan: { warmup: 0, reps: calls, minReps: calls, budgetMs: 0 },
      note: `capped by time (${capS} s per size, --cap-s): ${calls} timed call${calls > 1 ? 's' : ''}, no warm-up (one call predicted at ${s} s)`,
    };
  }
  return { plan, skip: `not run: one call predicted at ${s} s (the size before, scaled by n³), over the cap of ${capS} s per size (--cap-s)` };
}

/** Runs `one(n, plan)` for each size under capPlan, predicting each size from the one before. */
export async function cappedSizes(
  sizes: readonly number[],
  plan: Plan,
  capS: number,
  one: (n: number, plan: Plan) => Promise<CaseResult>,
): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  let prev: { n: number; ms: number } | undefined;
  for (const n of sizes) {
    const id = `matmul_${n}`;
    const c = capPlan(plan, capS, prev ? prev.ms * (n / prev.n) ** 3 : undefined);
    if (c.skip) {
      out.push({ id, unit: 'ms', error: c.skip });
      continue;
    }
    const r = await runCase(id, 'ms', () => one(n, c.plan));
    if (c.note && r.error === undefined) r.note = r.note ? `${r.note}; ${c.note}` : c.note;
    if (r.median !== undefined) prev = { n, ms: r.median };
    out.push(r);
  }
  return out;
}

/** Born's `a.matmul(b)` at each size, inputs resident on the default device, timed to `realize` (no readback). */
export async function bornRealised(b: Born, plan: Plan, sizes: readonly number[], capS: number): Promise<CaseResult[]> {
  return cappedSizes(sizes, plan, capS, async (n, p) => {
    const a = b.randn([n, n], { seed: 2 });
    const c = b.randn([n, n], { seed: 3 });
    await b.realize(a, c);
    let y: BornTensor | undefined;
    const samples = await timeMs(async () => {
      free(y);
      y = a.matmul(c);
      await b.realize(y);
    }, p);
    const check = checkMatmul(await a.data(), await c.data(), await y!.data(), n);
    free(a, c, y);
    return summarize(`matmul_${n}`, 'ms', samples, { flops: flops(n), check, note: 'timed to realize() on the device, no readback' });
  });
}
