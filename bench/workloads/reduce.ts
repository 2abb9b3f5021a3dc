// Workload 2: sum of a materialised randn [4096, 4096]: over everything, over dim 0, over dim 1.

import type { Born, BornTensor } from '../born-api.js';
import { free } from '../born-api.js';
import { compare, runCase, summarize, timeMs, type CaseResult, type Plan } from '../common.js';

export const N = 4096;

export const CASES = [
  { id: 'sum_all', dim: undefined },
  { id: 'sum_dim0', dim: 0 },
  { id: 'sum_dim1', dim: 1 },
] as const;

/** float64 sums and sums of |x| (the tolerance scale) for one case. */
export function reduceReference(x: ArrayLike<number>, n: number, dim: 0 | 1 | undefined): { ref: Float64Array; scale: Float64Array } {
  const len = dim === undefined ? 1 : n;
  const ref = new Float64Array(len);
  const scale = new Float64Array(len);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = x[i * n + j]!;
      const k = dim === undefined ? 0 : dim === 0 ? j : i;
      ref[k] += v;
      scale[k] += Math.abs(v);
    }
  }
  return { ref, scale };
}

export async function born(b: Born, plan: Plan): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let x: BornTensor | undefined;
  let xs: ArrayLike<number> | undefined;
  for (const c of CASES) {
    results.push(
      await runCase(c.id, 'ms', async () => {
        if (!x) {
          x = b.randn([N, N], { seed: 1 });
          await b.realize(x);
          xs = await x.data();
        }
        const src = x;
        let out: ArrayLike<number> | undefined;
        const samples = await timeMs(async () => {
          const y = c.dim === undefined ? src.sum() : src.sum({ dim: c.dim });
          out = await y.data();
          free(y);
        }, plan);
        const { ref, scale } = reduceReference(xs!, N, c.dim);
        return summarize(c.id, 'ms', samples, { check: compare(out!, ref, scale, 1e-5) });
      }),
    );
  }
  return results;
}
