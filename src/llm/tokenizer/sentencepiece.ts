/**
 * SentencePiece-style BPE with byte fallback, as LLaMA-1/2, Mistral and TinyLlama use it: spaces
 * become `▁`, a dummy `▁` starts the text, characters merge pairwise by the score of the piece they
 * form (or by merge rank, for a Hugging Face tokenizer.json), and a character outside the
 * vocabulary falls back to its UTF-8 bytes as `<0xNN>` tokens.
 */
import { MAX_VOCAB, MergeTable, bpeMerge } from './bpe.js';
import type { AddedToken } from './specials.js';
import { Tokenizer, type TokenModel } from './tokenizer.js';
import { utf8Encoder } from './utf8.js';

/** GGUF's `tokenizer.ggml.token_type` values (SentencePiece's piece types). */
export const TokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface SentencePieceVocab {
  /** Pieces by id, with `▁` for spaces and `<0xNN>` byte pieces. */
  readonly tokens: readonly string[];
  /** A score per piece: pairs forming the highest-scoring piece merge first. */
  readonly scores?: ArrayLike<number>;
  /** Piece types by id (TokenType); inferred from the spelling when absent. */
  readonly types?: ArrayLike<number>;
  /** Merge rules ("a b" or [a, b], earliest first), used instead of scores when given. */
  readonly merges?: readonly (string | readonly [string, string])[];
  readonly bosId?: number | null;
  readonly eosId?: number | null;
  readonly unkId?: number | null;
  /** Encode adds BOS by default (default true) / EOS (default false). */
  readonly addBos?: boolean;
  readonly addEos?: boolean;
  /** Prepend `▁` to the text and after each added token (LLaMA's add_dummy_prefix; default true). */
  readonly addDummyPrefix?: boolean;
}

const SPACE = '\u2581';
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

function inferType(piece: string, id: number, v: SentencePieceVocab): number {
  if (id === v.unkId || (v.unkId === undefined && piece === '<unk>')) return TokenType.unknown;
  if (id === v.bosId || id === v.eosId) return TokenType.control;
  if (v.bosId === undefined && piece === '<s>') return TokenType.control;
  if (v.eosId === undefined && piece === '</s>') return TokenType.control;
  if (BYTE_PIECE.test(piece)) return TokenType.byte;
  return TokenType.normal;
}

class SentencePieceModel implements TokenModel {
  readonly kind = 'sentencepiece';
  readonly stripsLeadingSpace: boolean;
  private readonly pieces = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly table = new MergeTable();

  constructor(tokens: readonly string[], types: ArrayLike<number>, v: SentencePieceVocab, private readonly unkId: number) {
    this.stripsLeadingSpace = v.addDummyPrefix ?? true;
    for (let id = 0; id < tokens.length; id++) {
      const t = types[id], piece = tokens[id]!;
      if (t === TokenType.normal && !this.pieces.has(piece)) this.pieces.set(piece, id);
      if (t === TokenType.byte) {
        const m = BYTE_PIECE.exec(piece);
        if (m) this.byteIds[parseInt(m[1]!, 16)] = id;
      }
    }
    if (v.merges) this.mergesFromRules(v.merges);
    else this.mergesFromScores(tokens, types, v.scores);
  }

  /** Every way a piece splits into two pieces is a pair that merges into it, ranked by -score. */
  private mergesFromScores(tokens: readonly string[], types: ArrayLike<number>, scores: ArrayLike<number> | undefined): void {
    if (!scores) throw new Error('SentencePiece vocabulary: give scores (or merges) for the pieces');
    for (let id = 0; id < tokens.length; id++) {
      if (types[id] !== TokenType.normal) continue;
      const piece = tokens[id]!;
      for (let k = 1; k < piece.length; k++) {
        if (isLowSurrogate(piece.charCodeAt(k))) continue;
        const l = this.pieces.get(piece.slice(0, k)), r = this.pieces.get(piece.slice(k));
        if (l !== undefined && r !== undefined) this.table.add(l, r, id, -scores[id]!);
      }
    }
  }

  private mergesFromRules(merges: readonly (string | readonly [string, string])[]): void {
    merges.forEach((m, rank) => {
      const [a, b] = typeof m === 'string' ? splitMerge(m) : m;
      const l = this.pieces.get(a), r = this.pieces.get(b), id = this.pieces.get(a + b);
      if (l !== undefined && r !== undefined && id !== undefined) this.table.add(l, r, id, rank);
    });
  }

  encodeText(text: string, first: boolean, out: number[]): void {
    const s = ((first && this.stripsLeadingSpace ? ' ' : '') + text).replaceAll(' ', SPACE);
    const symbols: number[] = [];
    // Characters outside the vocabulary ride through the merge as -(code point + 1): they never merge.
    for (const ch of s) symbols.push(this.pieces.get(ch) ?? -(ch.codePointAt(0)! + 1));
    for (const id of bpeMerge(symbols, this.table)) {
      if (id >= 0) { out.push(id); continue; }
      for (const b of utf8Encoder.encode(String.fromCodePoint(-id - 1))) out.push(this.byteToken(b));
    }
  }

  byteToken(byte: number): number {
    const id = this.byteIds[byte]!;
    if (id >= 0) return id;
    if (this.unkId < 0) throw new Error(`SentencePiece vocabulary has neither a <0x${byte.toString(16).toUpperCase().padStart(2, '0')}> byte piece nor an <unk> piece`);
    return this.unkId;
  }
}

const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

export function splitMerge(rule: string): [string, string] {
  const at = rule.indexOf(' ', 1);
  if (at < 0) throw new Error(`merge rule "${rule}" is not two tokens separated by a space`);
  return [rule.slice(0, at), rule.slice(at + 1)];
}

/** A SentencePiece-style tokenizer from a vocabulary with scores (GGUF `llama`, llama2.c) or merges. */
export function fromSentencePiece(v: SentencePieceVocab): Tokenizer {
  const { tokens } = v;
  if (tokens.length === 0 || tokens.length > MAX_VOCAB) throw new RangeError(`SentencePiece vocabulary: ${tokens.length} tokens (1…${MAX_VOCAB} supported)`);
  const types = v.types ? Array.from(v.types) : tokens.map((t, i) => inferType(t, i, v));
  if (types.length !== tokens.length) throw new Error(`SentencePiece vocabulary: ${tokens.length} tokens but ${types.length} token types`);
  const unkId = v.unkId ?? types.indexOf(TokenType.unknown);
  const bytes: (Uint8Array | null)[] = [];
  const added: AddedToken[] = [];
  for (let id = 0; id < tokens.length; id++) {
    const piece = tokens[id]!, t = types[id]!;
    if (t === TokenType.byte && BYTE_PIECE.test(piece)) bytes.push(Uint8Array.of(parseInt(BYTE_PIECE.exec(piece)![1]!, 16)));
    else if (t === TokenType.normal || t === TokenType.userDefined) bytes.push(utf8Encoder.encode(piece.replaceAll(SPACE, ' ')));
    else bytes.push(null);
    if (t === TokenType.userDefined) added.push({ id, content: piece, special: false });
    if (t === TokenType.control || t === TokenType.unknown) added.push({ id, content: piece, special: true });
  }
  const find = (p: string, ty: number): number | null => { const i = tokens.indexOf(p); return i >= 0 && types[i] === ty ? i : null; };
  const bosId = v.bosId !== undefined ? v.bosId : find('<s>', TokenType.control);
  const eosId = v.eosId !== undefined ? v.eosId : find('</s>', TokenType.control);
  return new Tokenizer({
    model: new SentencePieceModel(tokens, types, v, unkId),
    tokens, bytes, added, bosId, eosId, addBos: v.addBos ?? true, addEos: v.addEos ?? false,
  });
}
