// Workload 4: per-call overhead of `await t.data()` on a one-element graph, in µs
// (median over ~10k calls after warm-up, each call timed on its own).
//   overhead_add:        a = tensor([1]) realised once; per call: a.add(1), await data()
//                        (the graph is rebuilt each call, so the cached schedule is replayed)
//   overhead_tensor_add: per call: tensor([1]).add(1), await data() (includes the upload)

import type { Born, BornTensor } from '../born-api.js';
import { free } from '../born-api.js';
import { runCase, summarize, timeUs, type CaseResult, type Plan } from '../common.js';

export const CASES = ['overhead_add', 'overhead_tensor_add'] as const;

export async function born(b: Born, plan: Plan): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  results.push(
    await runCase('overhead_add', 'us', async () => {
      const a = b.tensor([1]);
      await b.realize(a);
      let y: BornTensor | undefined;
      let v = NaN;
      const samples = await timeUs(
        async () => {
          y = a.add(1);
          v = (await y.data())[0]!;
        },
        plan,
        () => free(y),
      );
      return summarize('overhead_add', 'us', samples, { check: v === 2 ? 'ok' : `WRONG: got ${v}, expected 2` });
    }),
  );
  results.push(
    await runCase('overhead_tensor_add', 'us', async () => {
      let t: BornTensor | undefined;
      let y: BornTensor | undefined;
      let v = NaN;
      const samples = await timeUs(
        async () => {
          t = b.tensor([1]);
          y = t.add(1);
          v = (await y.data())[0]!;
        },
        plan,
        () => free(y, t),
      );
      return summarize('overhead_tensor_add', 'us', samples, { check: v === 2 ? 'ok' : `WRONG: got ${v}, expected 2` });
    }),
  );
  return results;
}
