// Workload 1: the fused chain `x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 })`
// on x = randn [4096, 4096], already materialised; timed: building the chain + data().
// gelu is the exact erf form (as PyTorch's default).

import type { Born } from '../born-api.js';
import { free } from '../born-api.js';
import { chainReference, compare, runCase, summarize, timeMs, type CaseResult, type Plan } from '../common.js';

export const N = 4096;

export async function born(b: Born, plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('chain', 'ms', async () => {
      const x = b.randn([N, N], { seed: 1 });
      await b.realize(x);
      let out: ArrayLike<number> | undefined;
      const samples = await timeMs(async () => {
        const y = x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 });
        out = await y.data();
        free(y);
      }, plan);
      const { ref, scale } = chainReference(await x.data(), N, N);
      return summarize('chain', 'ms', samples, { check: compare(out!, ref, scale, 2e-5) });
    }),
  ];
}
