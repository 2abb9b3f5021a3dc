/**
 * Hugging Face `tokenizer.json` (the `tokenizers` library's format) for BPE models: byte-level ones
 * (GPT-2, LLaMA-3, Qwen2: a ByteLevel pre-tokenizer or decoder) and SentencePiece-style ones with
 * byte fallback (LLaMA-2, Mistral: `byte_fallback: true`, `▁` for spaces).
 */
import { byteLevelTokenizer, bytesOfSpelling } from './byte-level.js';
import { hfPreTokenizer, type HfPreTokenizerConfig, type PreTokenizer } from './pretokenize.js';
import { fromSentencePiece, splitMerge, TokenType } from './sentencepiece.js';
import type { AddedToken } from './specials.js';
import type { Tokenizer } from './tokenizer.js';
import { utf8Encoder } from './utf8.js';

interface HfComponent { readonly type: string; readonly [key: string]: unknown }

export interface HfTokenizerJson {
  readonly model: {
    readonly type?: string;
    readonly vocab: Readonly<Record<string, number>>;
    readonly merges: readonly (string | readonly [string, string])[];
    readonly byte_fallback?: boolean;
    readonly ignore_merges?: boolean;
    readonly unk_token?: string | null;
  };
  readonly added_tokens?: readonly {
    readonly id: number; readonly content: string; readonly special?: boolean;
    readonly lstrip?: boolean; readonly rstrip?: boolean;
  }[];
  readonly normalizer?: HfComponent | null;
  readonly pre_tokenizer?: HfComponent | null;
  readonly post_processor?: HfComponent | null;
  readonly decoder?: HfComponent | null;
}

/** What `tokenizer_config.json` adds, when given: which tokens are BOS/EOS and whether encode adds them. */
export interface HfTokenizerConfig {
  readonly bos_token?: string | { readonly content: string } | null;
  readonly eos_token?: string | { readonly content: string } | null;
  readonly add_bos_token?: boolean;
  readonly add_eos_token?: boolean;
}

/** Components of one kind inside a (possibly nested) Sequence. */
function flatten(c: HfComponent | null | undefined, key: string): HfComponent[] {
  if (!c) return [];
  const inner = c[key];
  return c.type === 'Sequence' && Array.isArray(inner) ? (inner as HfComponent[]).flatMap((x) => flatten(x, key)) : [c];
}

/** A tokenizer from a parsed (or raw JSON text) `tokenizer.json`, optionally with its `tokenizer_config.json`. */
export function fromHuggingFace(json: HfTokenizerJson | string, config: HfTokenizerConfig = {}): Tokenizer {
  const j: HfTokenizerJson = typeof json === 'string' ? JSON.parse(json) as HfTokenizerJson : json;
  if (!j.model || (j.model.type !== undefined && j.model.type !== 'BPE')) {
    throw new Error(`tokenizer.json: model type "${j.model?.type}" is not supported (BPE is)`);
  }
  let size = 0;
  for (const id of Object.values(j.model.vocab)) size = Math.max(size, id + 1);
  for (const t of j.added_tokens ?? []) size = Math.max(size, t.id + 1);
  const tokens: string[] = new Array(size).fill('');
  for (const [t, id] of Object.entries(j.model.vocab)) tokens[id] = t;
  for (const t of j.added_tokens ?? []) tokens[t.id] = t.content;
  const specials = new Set((j.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
  const addedIds = new Set((j.added_tokens ?? []).map((t) => t.id));
  const { bosId, eosId, addBos, addEos } = bosEos(j, config, tokens);
  const decoders = flatten(j.decoder, 'decoders').map((d) => d.type);
  const spmStyle = j.model.byte_fallback === true || decoders.includes('ByteFallback') || decoders.includes('Metaspace');
  if (spmStyle) {
    const unk = j.model.unk_token ?? null;
    const types = tokens.map((t, id) => specials.has(id) ? TokenType.control
      : t === unk ? TokenType.unknown
      : /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? TokenType.byte
      : addedIds.has(id) ? TokenType.userDefined : TokenType.normal);
    const normalizers = flatten(j.normalizer, 'normalizers');
    const pre = flatten(j.pre_tokenizer, 'pretokenizers');
    const dummy = normalizers.some((n) => n.type === 'Prepend')
      || pre.some((p) => p.type === 'Metaspace' && p.prepend_scheme !== 'never' && p.add_prefix_space !== false);
    // Without a template or config naming them, SentencePiece's own `<s>` / `</s>` are BOS / EOS.
    return fromSentencePiece({ tokens, types, merges: j.model.merges, bosId: bosId ?? undefined, eosId: eosId ?? undefined, addBos, addEos, unkId: unk === null ? null : j.model.vocab[unk] ?? null, addDummyPrefix: dummy });
  }
  const byteLevel = flatten(j.pre_tokenizer, 'pretokenizers').some((p) => p.type === 'ByteLevel') || decoders.includes('ByteLevel');
  if (!byteLevel) throw new Error('tokenizer.json: only byte-level BPE and SentencePiece-style BPE with byte_fallback are supported');
  const added: AddedToken[] = (j.added_tokens ?? []).map((t) => ({ id: t.id, content: t.content, special: t.special === true, lstrip: t.lstrip, rstrip: t.rstrip }));
  const bytes = tokens.map((t, id) => specials.has(id) ? null
    : addedIds.has(id) ? utf8Encoder.encode(t)
    : bytesOfSpelling(t) ?? utf8Encoder.encode(t));
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const merges = j.model.merges.map((m) => {
    const [a, b] = typeof m === 'string' ? splitMerge(m) : m;
    const l = ids.get(a), r = ids.get(b);
    if (l === undefined || r === undefined) throw new Error(`tokenizer.json: merge "${a} ${b}" names a token not in the vocabulary`);
    return [l, r] as const;
  });
  return byteLevelTokenizer({
    tokens, bytes, merges, added, preTokenizer: withNormalizer(j.normalizer, hfPreTokenizer(j.pre_tokenizer as HfPreTokenizerConfig | null)),
    wholePieces: j.model.ignore_merges === true, bosId, eosId, addBos, addEos,
  });
}

/** Unicode normal forms are the only normalizers byte-level tokenizers use in practice. */
function withNormalizer(n: HfComponent | null | undefined, pre: PreTokenizer): PreTokenizer {
  const forms = flatten(n, 'normalizers').map((c) => {
    if (c.type === 'NFC' || c.type === 'NFD' || c.type === 'NFKC' || c.type === 'NFKD') return c.type;
    throw new Error(`tokenizer.json: normalizer "${c.type}" is not supported for byte-level BPE (NFC/NFD/NFKC/NFKD are)`);
  });
  return forms.length ? (text) => pre(forms.reduce((t, f) => t.normalize(f), text)) : pre;
}

function bosEos(j: HfTokenizerJson, config: HfTokenizerConfig, tokens: readonly string[]): { bosId: number | null; eosId: number | null; addBos: boolean; addEos: boolean } {
  const idOf = (t: HfTokenizerConfig['bos_token']): number | null => {
    const s = typeof t === 'string' ? t : t?.content;
    const i = s === undefined ? -1 : tokens.indexOf(s);
    return i >= 0 ? i : null;
  };
  // TemplateProcessing's `single` template lists what encode adds around the text: [BOS, $A, EOS].
  const single = flatten(j.post_processor, 'processors').find((p) => p.type === 'TemplateProcessing')?.single as
    readonly { SpecialToken?: { id: string }; Sequence?: unknown }[] | undefined;
  const seq = single?.findIndex((x) => x.Sequence !== undefined) ?? -1;
  const before = seq > 0 ? single![seq - 1]?.SpecialToken?.id : undefined;
  const after = seq >= 0 && single![seq + 1] ? single![seq + 1]?.SpecialToken?.id : undefined;
  const bosId = idOf(config.bos_token) ?? (before !== undefined ? idOf(before) : null);
  const eosId = idOf(config.eos_token) ?? (after !== undefined ? idOf(after) : null);
  return { bosId, eosId, addBos: config.add_bos_token ?? before !== undefined, addEos: config.add_eos_token ?? after !== undefined };
}
