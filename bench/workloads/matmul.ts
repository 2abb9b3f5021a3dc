// Workload 3: fp32 square matmul, n = 256 / 512 / 1024, inputs materialised; reported as GFLOP/s.

import type { Born } from '../born-api.js';
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
