/**
 * llm.generate: autoregressive decoding through a KvCache. The prompts (one, or several of
 * different lengths, left-padded into one batch) go through the model in one forward; then each
 * step feeds every row's last token at once, reads the [B, vocab] logits of the last position back
 * and picks the next tokens on the host (sampling.ts). Each step after the first decoded token
 * runs the same graph, so it compiles nothing and allocates nothing new.
 */
import { noGrad } from '../../autodiff/grad.js';
import { fromStorage } from '../../tensor/creation.js';
import type { Llm } from '../load.js';
import { KvCache } from '../kv-cache.js';
import { resolveOptions, type GenerateOptions, type ResolvedOptions } from './options.js';
import { sampleToken, seededRandom } from './sampling.js';
import { TextStream } from './text.js';

/** A prompt: text (needs the model's tokenizer) or token ids. */
export type Prompt = string | readonly number[] | Int32Array;

/** One piece of a batched generation: row `index` of the prompts produced `text`. */
export interface BatchText { readonly index: number; readonly text: string }
/** One token of a batched generation (`tokens: true`). */
export interface BatchToken { readonly index: number; readonly token: number }

/** Cache lengths are rounded up to this many positions, so that nearby requests share kernels. */
const CACHE_ROUND = 64;

export const abortError = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The generation was aborted', 'AbortError');

/** Is `p` a list of prompts (rather than one prompt of ids)? */
export function isBatch(p: unknown): p is readonly Prompt[] {
  return Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string' || Array.isArray(x) || x instanceof Int32Array);
}

/** The ids of a prompt, checked against the vocabulary (`index` >= 0 names it in errors). */
export function promptIds(llm: Llm, p: Prompt, index: number): number[] {
  const at = index >= 0 ? ` (prompt ${index})` : '';
  let ids: number[];
  if (typeof p === 'string') {
    const tok = llm.tokenizer;
    if (!tok) throw new TypeError(`generate: this model has no tokenizer, so a text prompt cannot be encoded${at}; pass token ids`);
    ids = tok.encode(p);
  } else if (Array.isArray(p) || p instanceof Int32Array) {
    ids = Array.from(p as ArrayLike<number>);
  } else {
    throw new TypeError(`generate: a prompt must be a string or a list of token ids, got ${typeof p}${at}`);
  }
  if (ids.length === 0 && llm.meta.bosId !== undefined) ids = [llm.meta.bosId];
  if (ids.length === 0) throw new RangeError(`generate: the prompt has no tokens${at}`);
  const v = llm.vocabSize;
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= v) throw new RangeError(`generate: token id ${id} at ${i}${at} is outside 0..${v - 1} (the vocabulary)`);
  });
  return ids;
}

interface Row {
  readonly seen: Set<number>;
  readonly random: () => number;
  readonly text?: TextStream;
  done: boolean;
}

/**
 * The generation of every row, step by step: yields { index, token, text } for each generated
 * token that is not an EOS (text: what it made printable, '' without a tokenizer), and a last
 * { index, token: -1, text } per row with the text still held back when that row ends.
 */
export async function* generateRows(llm: Llm, prompts: readonly Prompt[], o: ResolvedOptions): AsyncGenerator<{ index: number; token: number; text: string }> {
  const ids = prompts.map((p, i) => promptIds(llm, p, prompts.length > 1 ? i : -1));
  const tok = llm.tokenizer;
  if (o.stop.length && !tok) throw new TypeError('generate: stop strings need a tokenizer, and this model has none (use eosIds)');
  if (!o.tokens && !tok) throw new TypeError('generate: this model has no tokenizer to turn tokens into text; pass { tokens: true } for ids');
  const maxLen = llm.config.maxSeqLen, b = ids.length;
  const t0 = Math.max(...ids.map((p) => p.length));
  if (t0 >= maxLen) throw new RangeError(`generate: a prompt of ${t0} tokens leaves no room in the model's context of ${maxLen}`);
  // The last token generated is never fed back: n tokens need t0 + n - 1 positions.
  const steps = Math.min(o.maxTokens, maxLen - t0 + 1);
  const length = Math.min(maxLen, Math.ceil((t0 + steps - 1) / CACHE_ROUND) * CACHE_ROUND);
  const rows: Row[] = ids.map((p, i) => {
    let text: TextStream | undefined;
    if (tok) {
      const decoder = tok.decoder();
      for (const id of p) decoder.push(id); // the prompt sets where the text continues (a leading space)
      text = new TextStream(decoder, o.stop);
    }
    return { seen: new Set(p), random: seededRandom(o.seed ^ Math.imul(i, 0x9e3779b9)), text, done: false };
  });
  const signal = o.signal;
  if (signal?.aborted) throw abortError(signal);
  const device = llm.model.tokEmbeddings.weight.device, vocab = llm.vocabSize;
  const cache = await KvCache.create(llm.model, ids.map((p) => t0 - p.length), length);
  const forward = async (flat: Int32Array, t: number): Promise<Float32Array> => {
    const x = fromStorage(flat, [b, t], 'int32', device);
    const step = cache.begin(t);
    const logits = noGrad(() => llm.model.forward(x, { ...step.options, lastOnly: true }));
    try {
      await cache.commit(step, t, [logits]);
      return (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
      x.dispose();
    }
  };
  try {
    const first = new Int32Array(b * t0);
    ids.forEach((p, i) => first.set(p, i * t0 + t0 - p.length));
    let logits = await forward(first, t0);
    const next = new Int32Array(b);
    for (let n = 0; n < steps; n++) {
      if (signal?.aborted) throw abortError(signal);
      for (const [i, row] of rows.entries()) {
        if (row.done) continue;
        const id = sampleToken(logits.subarray(i * vocab, (i + 1) * vocab), o, row.random, row.seen);
        next[i] = id;
        if (o.eosIds.has(id)) {
          row.done = true;
          yield { index: i, token: -1, text: row.text?.end() ?? '' };
          continue;
        }
        row.seen.add(id);
        const piece = row.text?.push(id) ?? { text: '', stopped: false };
        yield { index: i, token: id, text: piece.text };
        if (piece.stopped) { row.done = true; yield { index: i, token: -1, text: '' }; }
      }
      if (rows.every((r) => r.done) || n === steps - 1) break;
      logits = await forward(next, 1);
    }
    for (const [i, row] of rows.entries()) if (!row.done) { row.done = true; yield { index: i, token: -1, text: row.text?.end() ?? '' }; }
  } finally {
    cache.dispose();
  }
}

/** llm.generate for one prompt: text pieces, or ids with `tokens: true`. */
export async function* generateOne(llm: Llm, prompt: Prompt, opts?: GenerateOptions): AsyncGenerator<string | number> {
  const o = resolveOptions(opts, llm.vocabSize, llm.meta.eosIds);
  for await (const s of generateRows(llm, [prompt], o)) {
    if (o.tokens) { if (s.token >= 0) yield s.token; } else if (s.text) yield s.text;
  }
}

/** llm.generate for several prompts in one batch: { index, text } pieces, or { index, token }. */
export async function* generateBatch(llm: Llm, prompts: readonly Prompt[], opts?: GenerateOptions): AsyncGenerator<BatchText | BatchToken> {
  const o = resolveOptions(opts, llm.vocabSize, llm.meta.eosIds);
  for await (const s of generateRows(llm, prompts, o)) {
    if (o.tokens) { if (s.token >= 0) yield { index: s.index, token: s.token }; } else if (s.text) yield { index: s.index, text: s.text };
  }
}
