/**
 * A few lines of text from a trained model, printed at the end of `born train --model gpt` as a
 * check that it learnt the text (llm.generate is the full sampler). Every step runs the model on
 * one window of exactly maxSeqLen tokens, the context padded on the right: attention is causal,
 * so the logits at the context's last token do not see the padding, and one compiled plan serves
 * every step instead of one per length.
 */
import type { Llm } from '../../llm/load.js';
import { manualSeed, rand } from '../../tensor/creation.js';

export interface SampleOptions {
  /** 0: greedy. */
  readonly temperature: number;
  readonly seed: number;
}

/** `count` tokens after `prompt` (which must not be empty: the model has no BOS token), decoded. */
export async function sampleText(llm: Llm, prompt: string, count: number, o: SampleOptions): Promise<string> {
  const tok = llm.tokenizer;
  if (!tok) throw new Error('sampleText: the model has no tokenizer');
  const ids = tok.encode(prompt);
  if (!ids.length) throw new RangeError('sampleText: the prompt is empty');
  const t = llm.config.maxSeqLen, v = llm.vocabSize;
  manualSeed(o.seed);
  const uniforms = await rand([count]).data();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const ctx = ids.slice(-t);
    const window = new Int32Array(t);
    window.set(ctx);
    const all = await llm.logits(window).data();
    const row = all.subarray((ctx.length - 1) * v, ctx.length * v) as Float32Array;
    const id = pick(row, o.temperature, uniforms[i]!);
    ids.push(id);
    out.push(id);
  }
  return tok.decode(out);
}

/** argmax at temperature 0; otherwise the token where u falls in the softmax(logits / T) CDF. */
function pick(logits: Float32Array, temperature: number, u: number): number {
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
  if (temperature === 0) return best;
  const p = Array.from(logits, (l) => Math.exp((l - logits[best]!) / temperature));
  let r = u * p.reduce((a, b) => a + b, 0);
  for (let j = 0; j < p.length; j++) if ((r -= p[j]!) < 0) return j;
  return p.length - 1;
}
