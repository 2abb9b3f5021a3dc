/**
 * Byte-level BPE (GPT-2, tiktoken, LLaMA-3, Qwen2): text is split by a pre-tokenizer, each piece
 * becomes UTF-8 bytes, and bytes merge pairwise by merge rank. Every byte is a token, so any input
 * (invalid UTF-8 included) encodes without an unknown token.
 */
import { MAX_VOCAB, MergeTable, bpeMerge } from './bpe.js';
import type { PreTokenizer } from './pretokenize.js';
import type { AddedToken } from './specials.js';
import { Tokenizer, type TokenModel } from './tokenizer.js';
import { byteKey, utf8Encoder } from './utf8.js';

/**
 * GPT-2's printable spelling of bytes in vocabulary files: printable Latin-1 stands for itself, the
 * other 68 bytes map to U+0100… in order (so a space is `Ġ`, a newline `Ċ`).
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : next++);
  }
  return out;
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** A vocabulary string in GPT-2's byte spelling to its bytes, or null if it is not in that spelling. */
export function bytesOfSpelling(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]!);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}
export function spellingOfBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/** Pre-tokens seen before, and their ids; bounded so a long-running service does not grow without end. */
const CACHE_LIMIT = 50_000;

class ByteLevelModel implements TokenModel {
  readonly kind = 'byte-level';
  readonly stripsLeadingSpace = false;
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly whole: Map<string, number> | null;
  private cache = new Map<string, number[]>();

  constructor(
    tokenBytes: readonly (Uint8Array | null)[],
    private readonly table: MergeTable,
    private readonly preTokenize: PreTokenizer,
    /** tiktoken (and Hugging Face's ignore_merges) take a piece that is itself a token as that token. */
    index: Map<string, number> | null,
  ) {
    tokenBytes.forEach((b, id) => { if (b && b.length === 1 && this.byteIds[b[0]!]! < 0) this.byteIds[b[0]!] = id; });
    const missing = this.byteIds.findIndex((id) => id < 0);
    if (missing >= 0) throw new Error(`byte-level vocabulary has no token for byte 0x${missing.toString(16).padStart(2, '0')}`);
    this.whole = index;
  }

  encodeText(text: string, _first: boolean, out: number[]): void {
    for (const piece of this.preTokenize(text)) {
      let ids = this.cache.get(piece);
      if (!ids) {
        ids = this.encodePiece(utf8Encoder.encode(piece));
        if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
        this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private encodePiece(bytes: Uint8Array): number[] {
    const id = this.whole?.get(byteKey(bytes));
    if (id !== undefined) return [id];
    return bpeMerge(Array.from(bytes, (b) => this.byteIds[b]!), this.table);
  }

  byteToken(byte: number): number { return this.byteIds[byte]!; }
}

/** Token bytes as latin1 strings (Map keys), by id, and the index from key to first id. */
function tokenIndex(tokenBytes: readonly (Uint8Array | null)[]): { keys: (string | null)[]; index: Map<string, number> } {
  const index = new Map<string, number>();
  const keys = tokenBytes.map((b, id) => {
    if (!b || !b.length) return null;
    const k = byteKey(b);
    if (!index.has(k)) index.set(k, id);
    return k;
  });
  return { keys, index };
}

export interface ByteLevelSpec {
  /** The vocabulary's spelling of each id (shown by idToToken; GPT-2 spelling for tiktoken ranks). */
  readonly tokens: readonly string[];
  /** The bytes of each id; null for control tokens. */
  readonly bytes: readonly (Uint8Array | null)[];
  /** Merge rules as pairs of ids, earliest first; omitted: derived from ranks (tiktoken). */
  readonly merges?: readonly (readonly [number, number])[];
  readonly preTokenizer: PreTokenizer;
  readonly added: readonly AddedToken[];
  readonly wholePieces?: boolean;
  readonly bosId?: number | null;
  readonly eosId?: number | null;
  readonly addBos?: boolean;
  readonly addEos?: boolean;
}

/** A byte-level BPE tokenizer from ids, bytes and merges (or ranks: the id order is the merge order). */
export function byteLevelTokenizer(spec: ByteLevelSpec): Tokenizer {
  if (spec.tokens.length > MAX_VOCAB) throw new RangeError(`byte-level vocabulary: ${spec.tokens.length} tokens (at most ${MAX_VOCAB})`);
  const { keys, index } = tokenIndex(spec.bytes);
  // tiktoken merges any two adjacent parts whose concatenation is a token, lowest rank (= id)
  // first; looking pairs up as they occur is cheaper than listing every split of every token.
  const table = new MergeTable(spec.merges ? undefined : (l, r) => {
    const kl = keys[l], kr = keys[r];
    const id = kl && kr ? index.get(kl + kr) : undefined;
    return id === undefined ? null : [id, id];
  });
  spec.merges?.forEach(([l, r], rank) => {
    const kl = keys[l], kr = keys[r];
    const id = kl && kr ? index.get(kl + kr) : undefined;
    if (id !== undefined) table.add(l, r, id, rank);
  });
  const model = new ByteLevelModel(spec.bytes, table, spec.preTokenizer, (spec.wholePieces ?? !spec.merges) ? index : null);
  return new Tokenizer({ model, tokens: spec.tokens, bytes: spec.bytes, added: spec.added, bosId: spec.bosId, eosId: spec.eosId, addBos: spec.addBos, addEos: spec.addEos });
}
