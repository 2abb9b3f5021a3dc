/**
 * llama2.c's `tokenizer.bin`: an int32 max token length, then for each token a float32 score, an
 * int32 byte length and that many UTF-8 bytes (all little-endian; the vocabulary size is not
 * stored, so it runs to the end of the file). Its exporter writes spaces instead of `▁` and BOS /
 * EOS as "\n<s>\n" / "\n</s>\n"; this reader undoes both.
 */
import { fromSentencePiece } from './sentencepiece.js';
import type { Tokenizer } from './tokenizer.js';
import { decodeUtf8 } from './utf8.js';

export interface Llama2cOptions {
  /** Read only this many tokens (the checkpoint's vocab size); default: to the end of the file. */
  readonly vocabSize?: number;
}

/** Parses tokenizer.bin into pieces (with `▁`) and scores. */
export function readLlama2cTokenizer(bytes: Uint8Array, opts: Llama2cOptions = {}): { tokens: string[]; scores: number[]; maxTokenLength: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string): never => { throw new Error(`llama2.c tokenizer.bin: ${what}`); };
  if (bytes.length < 4) fail(`${bytes.length} bytes is too short for a header`);
  const maxTokenLength = view.getInt32(0, true);
  const tokens: string[] = [], scores: number[] = [];
  let at = 4;
  while (at < bytes.length && (opts.vocabSize === undefined || tokens.length < opts.vocabSize)) {
    if (at + 8 > bytes.length) fail(`token ${tokens.length} is cut off at byte ${at}`);
    const score = view.getFloat32(at, true), len = view.getInt32(at + 4, true);
    at += 8;
    if (len < 0 || at + len > bytes.length) fail(`token ${tokens.length} claims ${len} bytes at offset ${at}, past the end (${bytes.length})`);
    tokens.push(decodeUtf8(bytes.subarray(at, at + len)));
    scores.push(score);
    at += len;
  }
  if (opts.vocabSize !== undefined && tokens.length < opts.vocabSize) fail(`holds ${tokens.length} tokens, fewer than the ${opts.vocabSize} asked for`);
  return { tokens, scores, maxTokenLength };
}

/** A LLaMA-style tokenizer from llama2.c's tokenizer.bin (BOS id 1, EOS id 2, `<unk>` id 0, as its exporter assumes). */
export function fromLlama2c(bytes: Uint8Array, opts: Llama2cOptions = {}): Tokenizer {
  const { tokens: raw, scores } = readLlama2cTokenizer(bytes, opts);
  const tokens = raw.map((t) => t === '\n<s>\n' ? '<s>' : t === '\n</s>\n' ? '</s>' : t.replaceAll(' ', '\u2581'));
  const at = (p: string): number | null => { const i = tokens.indexOf(p); return i >= 0 ? i : null; };
  return fromSentencePiece({ tokens, scores, bosId: at('<s>'), eosId: at('</s>'), unkId: at('<unk>') });
}
