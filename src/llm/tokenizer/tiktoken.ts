/**
 * tiktoken encodings (gpt2, cl100k_base, o200k_base): a `.tiktoken` ranks file (one
 * "base64-token rank" per line), the pre-tokenizer pattern and the special tokens.
 */
import { byteLevelTokenizer, spellingOfBytes } from './byte-level.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, regexPreTokenizer } from './pretokenize.js';
import type { Tokenizer } from './tokenizer.js';

/** The patterns of the published encodings, by name. */
export const TIKTOKEN_PATTERNS: Readonly<Record<string, string>> = {
  gpt2: GPT2_PATTERN, r50k_base: GPT2_PATTERN, p50k_base: GPT2_PATTERN, cl100k_base: CL100K_PATTERN, o200k_base: O200K_PATTERN,
};

export interface TiktokenOptions {
  /** The `.tiktoken` file's text, or the ranks already parsed (token bytes → rank). */
  readonly ranks: string | Iterable<readonly [Uint8Array, number]>;
  /** A pattern, or the name of a published encoding ('cl100k_base', 'gpt2', 'o200k_base', …). */
  readonly pattern: string;
  /** Special tokens and their ids: { '<|endoftext|>': 100257, … }. */
  readonly specialTokens?: Readonly<Record<string, number>>;
  /** Which special token is BOS / EOS (by text), if any. */
  readonly bos?: string;
  readonly eos?: string;
}

/** Parses a `.tiktoken` ranks file. */
export function parseTiktokenRanks(text: string): [Uint8Array, number][] {
  const out: [Uint8Array, number][] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const lineText = raw.trim();
    if (!lineText) continue;
    const sp = lineText.indexOf(' ');
    const b64 = sp > 0 ? lineText.slice(0, sp) : '';
    const r = sp > 0 ? Number(lineText.slice(sp + 1)) : NaN;
    if (!b64 || !Number.isInteger(r) || r < 0) throw new Error(`.tiktoken ranks, line ${line}: expected "<base64 token> <rank>", got "${raw.slice(0, 60)}"`);
    const buf = Buffer.from(b64, 'base64');
    out.push([new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), r]);
  }
  return out;
}

/** A tokenizer from tiktoken ranks: the rank of a token is its id and its merge priority. */
export function fromTiktoken(opts: TiktokenOptions): Tokenizer {
  const ranks = typeof opts.ranks === 'string' ? parseTiktokenRanks(opts.ranks) : [...opts.ranks];
  const specials = Object.entries(opts.specialTokens ?? {});
  let size = 0;
  for (const [, r] of ranks) size = Math.max(size, r + 1);
  for (const [, id] of specials) size = Math.max(size, id + 1);
  // Ids no rank or special token uses (cl100k has a few) decode to nothing.
  const bytes: (Uint8Array | null)[] = new Array(size).fill(new Uint8Array(0));
  const tokens: string[] = new Array(size).fill('');
  for (const [b, r] of ranks) { bytes[r] = b; tokens[r] = spellingOfBytes(b); }
  for (const [t, id] of specials) { bytes[id] = null; tokens[id] = t; }
  const pattern = TIKTOKEN_PATTERNS[opts.pattern] ?? opts.pattern;
  const idOf = (t: string | undefined): number | null => (t === undefined ? null : opts.specialTokens?.[t] ?? null);
  return byteLevelTokenizer({
    tokens, bytes, preTokenizer: regexPreTokenizer(pattern),
    added: specials.map(([content, id]) => ({ id, content, special: true })),
    bosId: idOf(opts.bos), eosId: idOf(opts.eos), addBos: false, addEos: false,
  });
}
