// Workload: the backward of nn.Embedding(32000, 256) on 512 tokens — the dense gradient of the
// table for a given output gradient, a scatter-add of 512 x 256 values into a 32000 x 256 table.
// Timed: building the graph and computing the gradient into a buffer (`realize`, no read-back:
// PyTorch and tfjs leave theirs in memory too). Checked against a float64 scatter in JS.

import type { Born, BornTensor } from '../born-api.js';
import { free, need } from '../born-api.js';
import { compare, runCase, summarize, timeMs, type CaseResult, type Plan } from '../common.js';

export const VOCAB = 32000;
export const DIM = 256;
export const TOKENS = 512;

/** The dense table gradient in float64: row t gets the sum of the output gradients of its tokens. */
export function embeddingGradReference(tokens: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  const out = new Float64Array(VOCAB * DIM);
  for (let i = 0; i < TOKENS; i++) {
    const row = tokens[i]! * DIM;
    for (let j = 0; j < DIM; j++) out[row + j] += g[i * DIM + j]!;
  }
  return out;
}

export async function born(b: Born, plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('embedding_bwd', 'ms', async () => {
      const api = need(b, 'nn', 'grad', 'randint');
      if (!api.nn.Embedding) throw new Error("Born's nn does not export Embedding");
      const emb = api.nn.Embedding(VOCAB, DIM);
      const tokens = api.randint(0, VOCAB, [TOKENS], { seed: 1 });
      const g = b.randn([TOKENS, DIM], { seed: 2 });
      await b.realize(emb.weight, tokens, g);
      let last: BornTensor | undefined;
      const samples = await timeMs(async () => {
        free(last);
        const [gw] = api.grad(emb.forward(tokens), [emb.weight], { gradOutput: g });
        await b.realize(gw!);
        last = gw;
      }, plan);
      const got = await last!.data();
      const ref = embeddingGradReference(await tokens.data(), await g.data());
      free(last);
      return summarize('embedding_bwd', 'ms', samples, {
        check: compare(got, ref, 1, 1e-5),
        note: 'born.grad(emb.forward(tokens), [emb.weight], { gradOutput }) then realize',
      });
    }),
  ];
}
