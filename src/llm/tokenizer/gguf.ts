/**
 * The tokenizer stored in a GGUF file's metadata (`tokenizer.ggml.*`), taken as a plain object of
 * key → value (whatever reads the GGUF file hands it over; arrays may be typed arrays, integers
 * may be bigints). `llama` is SentencePiece-style BPE, `gpt2` is byte-level BPE.
 */
import { byteLevelTokenizer, bytesOfSpelling } from './byte-level.js';
import { CL100K_PATTERN, GPT2_PATTERN, QWEN2_PATTERN, regexPreTokenizer } from './pretokenize.js';
import { fromSentencePiece, splitMerge, TokenType } from './sentencepiece.js';
import type { AddedToken } from './specials.js';
import type { Tokenizer } from './tokenizer.js';
import { utf8Encoder } from './utf8.js';

export type GgufMetadata = Readonly<Record<string, unknown>>;

/** llama.cpp's pre-tokenizer names (`tokenizer.ggml.pre`) and the pattern each stands for. */
const PRE_PATTERNS: Readonly<Record<string, string>> = {
  default: GPT2_PATTERN, 'gpt-2': GPT2_PATTERN, gpt2: GPT2_PATTERN,
  'llama-bpe': CL100K_PATTERN, llama3: CL100K_PATTERN, 'smaug-bpe': CL100K_PATTERN, dbrx: CL100K_PATTERN,
  qwen2: QWEN2_PATTERN, 'deepseek-r1-qwen': QWEN2_PATTERN,
};

const key = (k: string): string => `tokenizer.ggml.${k}`;

function array(meta: GgufMetadata, k: string, required: boolean): unknown[] | undefined {
  const v = meta[key(k)];
  if (v === undefined) {
    if (required) throw new Error(`GGUF metadata: ${key(k)} is missing`);
    return undefined;
  }
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>);
  throw new Error(`GGUF metadata: ${key(k)} should be an array`);
}
function int(meta: GgufMetadata, k: string): number | undefined {
  const v = meta[key(k)];
  return v === undefined || v === null ? undefined : Number(v);
}
function bool(meta: GgufMetadata, k: string): boolean | undefined {
  const v = meta[key(k)];
  return v === undefined ? undefined : Boolean(v);
}

/** A tokenizer from GGUF metadata. */
export function fromGguf(meta: GgufMetadata): Tokenizer {
  const model = meta[key('model')];
  const tokens = array(meta, 'tokens', true)!.map(String);
  const types = array(meta, 'token_type', false)?.map(Number);
  const bosId = int(meta, 'bos_token_id') ?? null, eosId = int(meta, 'eos_token_id') ?? null;
  if (model === 'llama') {
    const scores = array(meta, 'scores', true)!.map(Number);
    return fromSentencePiece({
      tokens, scores, types, bosId, eosId, unkId: int(meta, 'unknown_token_id'),
      addBos: bool(meta, 'add_bos_token') ?? true, addEos: bool(meta, 'add_eos_token') ?? false,
      addDummyPrefix: bool(meta, 'add_space_prefix') ?? true,
    });
  }
  if (model === 'gpt2') {
    const pre = String(meta[key('pre')] ?? 'default');
    const pattern = PRE_PATTERNS[pre];
    if (!pattern) throw new Error(`GGUF metadata: pre-tokenizer "${pre}" is not supported (${Object.keys(PRE_PATTERNS).join(', ')} are)`);
    const added: AddedToken[] = [];
    const bytes = tokens.map((t, id) => {
      const ty = types?.[id] ?? TokenType.normal;
      if (ty === TokenType.control || ty === TokenType.unknown) { added.push({ id, content: t, special: true }); return null; }
      if (ty === TokenType.unused) return null;
      if (ty === TokenType.userDefined) { added.push({ id, content: t, special: false }); return utf8Encoder.encode(t); }
      return bytesOfSpelling(t) ?? utf8Encoder.encode(t);
    });
    const ids = new Map(tokens.map((t, i) => [t, i]));
    const merges = array(meta, 'merges', true)!.map((m) => {
      const [a, b] = splitMerge(String(m));
      const l = ids.get(a), r = ids.get(b);
      if (l === undefined || r === undefined) throw new Error(`GGUF metadata: merge "${a} ${b}" names a token not in tokenizer.ggml.tokens`);
      return [l, r] as const;
    });
    return byteLevelTokenizer({
      tokens, bytes, merges, added, preTokenizer: regexPreTokenizer(pattern), bosId, eosId,
      addBos: bool(meta, 'add_bos_token') ?? false, addEos: bool(meta, 'add_eos_token') ?? false,
    });
  }
  throw new Error(`GGUF metadata: tokenizer model "${String(model)}" is not supported ('llama' and 'gpt2' are)`);
}
