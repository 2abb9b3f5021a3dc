/**
 * `Tokenizer`: text ↔ token ids for language models, built by the loaders (fromHuggingFace,
 * fromGguf, fromLlama2c, fromTiktoken, fromSentencePiece). Two models sit behind one interface:
 * SentencePiece-style BPE with byte fallback (LLaMA-1/2) and byte-level BPE (GPT-2, tiktoken,
 * LLaMA-3, Qwen2). Nothing here touches tensors.
 */
import { SpecialMatcher, type AddedToken } from './specials.js';
import { StreamDecoder, checkId, type DecodeOptions, type TokenRendering } from './stream-decoder.js';
import { decodeUtf8, utf8Encoder, utf8Pieces } from './utf8.js';

/** The model behind a tokenizer: plain text (no added tokens in it) to ids. */
export interface TokenModel {
  readonly kind: 'sentencepiece' | 'byte-level';
  /** `first`: the text starts the input or follows an added token (where SentencePiece adds its dummy prefix). */
  encodeText(text: string, first: boolean, out: number[]): void;
  /** The id of a raw input byte that is not part of valid UTF-8. */
  byteToken(byte: number): number;
  /** Whether decode drops the dummy prefix's space again. */
  readonly stripsLeadingSpace: boolean;
}

/** Everything a tokenizer is made of; the loaders fill it in. */
export interface TokenizerSpec {
  readonly model: TokenModel;
  /** The vocabulary as its file spells it (`▁the`, `Ġthe`, `<0x0A>`), by id. */
  readonly tokens: readonly string[];
  /** What each id decodes to, or null for control tokens (BOS, EOS, `<unk>`, `<|endoftext|>`). */
  readonly bytes: readonly (Uint8Array | null)[];
  /** Tokens matched in the input before BPE. */
  readonly added: readonly AddedToken[];
  readonly bosId?: number | null;
  readonly eosId?: number | null;
  /** Whether encode adds BOS / EOS when not told (LLaMA: BOS yes). */
  readonly addBos?: boolean;
  readonly addEos?: boolean;
}

export interface EncodeOptions {
  /** Prepend BOS (default: what the tokenizer's files say; LLaMA yes, GPT-2 no). */
  readonly bos?: boolean;
  /** Append EOS (default: what the files say, usually no). */
  readonly eos?: boolean;
  /**
   * Match control tokens written in the text (`<|endoftext|>`, `<s>`) as single ids. Default false:
   * such text is tokenized like any other, so user input cannot forge a control token.
   */
  readonly specials?: boolean;
}

export type { DecodeOptions } from './stream-decoder.js';

export class Tokenizer {
  readonly kind: 'sentencepiece' | 'byte-level';
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  private readonly model: TokenModel;
  private readonly tokens: readonly string[];
  private readonly bytes: readonly (Uint8Array | null)[];
  private readonly matcher: SpecialMatcher;
  private readonly addedIds: Set<number>;
  private readonly ids = new Map<string, number>();
  private readonly addBos: boolean;
  private readonly addEos: boolean;
  private readonly rendering: TokenRendering;

  constructor(spec: TokenizerSpec) {
    this.model = spec.model;
    this.kind = spec.model.kind;
    this.tokens = spec.tokens;
    this.bytes = spec.bytes;
    this.vocabSize = spec.tokens.length;
    this.bosId = spec.bosId ?? null;
    this.eosId = spec.eosId ?? null;
    this.addBos = (spec.addBos ?? false) && this.bosId !== null;
    this.addEos = (spec.addEos ?? false) && this.eosId !== null;
    this.matcher = new SpecialMatcher(spec.added);
    this.addedIds = new Set(spec.added.filter((t) => !t.special).map((t) => t.id));
    spec.tokens.forEach((t, i) => { if (t && !this.ids.has(t)) this.ids.set(t, i); });
    this.rendering = {
      bytesOf: (id) => this.bytes[id] ?? null,
      controlText: (id) => this.tokens[id]!,
      stripsLeadingSpace: this.model.stripsLeadingSpace,
      isAdded: (id) => this.addedIds.has(id),
      vocabSize: this.vocabSize,
    };
  }

  /**
   * Text (or raw bytes, which may hold invalid UTF-8) to token ids. Bytes that are not valid UTF-8
   * become byte tokens of their own, so `decodeBytes(encode(bytes))` gives them back exactly.
   */
  encode(input: string | Uint8Array, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if ((opts.bos ?? this.addBos) && this.bosId !== null) out.push(this.bosId);
    const specials = opts.specials ?? false;
    if (typeof input === 'string') this.encodeString(input, specials, true, out);
    else {
      let first = true;
      for (const piece of utf8Pieces(input)) {
        if ('text' in piece) first = this.encodeString(piece.text, specials, first, out);
        else { out.push(this.model.byteToken(piece.byte)); first = false; }
      }
    }
    if ((opts.eos ?? this.addEos) && this.eosId !== null) out.push(this.eosId);
    return out;
  }

  /** Returns whether the next text starts a segment (it follows an added token). */
  private encodeString(text: string, specials: boolean, first: boolean, out: number[]): boolean {
    for (const f of this.matcher.split(text, specials)) {
      if ('text' in f) { this.model.encodeText(f.text, first, out); first = false; }
      else { out.push(f.token.id); first = true; }
    }
    return first;
  }

  /**
   * Ids to text. Bytes that do not form valid UTF-8 become U+FFFD, one per maximal invalid
   * subsequence (the WHATWG rule TextDecoder and the reference tokenizers follow).
   */
  decode(ids: Iterable<number>, opts: DecodeOptions = {}): string {
    let text = '';
    for (const seg of this.segments(ids, opts)) text += typeof seg === 'string' ? seg : this.segmentText(seg.bytes);
    return text;
  }

  /** Ids to the exact bytes they stand for (control tokens as their text when `specials`). */
  decodeBytes(ids: Iterable<number>, opts: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const seg of this.segments(ids, opts)) {
      if (typeof seg === 'string') { parts.push(utf8Encoder.encode(seg)); continue; }
      const b = this.model.stripsLeadingSpace && seg.bytes[0] === 0x20 ? seg.bytes.subarray(1) : seg.bytes;
      parts.push(b);
    }
    return concat(parts);
  }

  /** A streaming decoder: `push(id)` returns the text that id completes. */
  decoder(opts: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder(this.rendering, opts);
  }

  /** The vocabulary string of an id (`▁the`, `Ġthe`, `<0x0A>`, `<s>`). */
  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    return this.tokens[id]!;
  }
  /** The id of a vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }
  /** Whether an id is a control token (decoded to nothing unless `{ specials: true }`). */
  isControl(id: number): boolean {
    checkId(id, this.vocabSize);
    return this.bytes[id] === null;
  }

  /**
   * Cuts ids into runs of bytes, split at control and added tokens (a UTF-8 sequence never spans
   * one), and the rendered text of those tokens.
   */
  private *segments(ids: Iterable<number>, opts: DecodeOptions): Generator<string | { bytes: Uint8Array }> {
    const specials = opts.specials ?? false;
    let run: Uint8Array[] = [];
    const cut = function* (): Generator<{ bytes: Uint8Array }> {
      if (run.length) yield { bytes: concat(run) };
      run = [];
    };
    for (const id of ids) {
      checkId(id, this.vocabSize);
      const b = this.bytes[id] ?? null;
      if (b !== null && !this.addedIds.has(id)) {
        if (b.length) run.push(b);
        continue;
      }
      yield* cut();
      if (b === null) { if (specials) yield this.tokens[id]!; }
      else yield decodeUtf8(b);
    }
    yield* cut();
  }

  /** Every run starts the input or follows a control/added token: where the encoder put a dummy prefix. */
  private segmentText(bytes: Uint8Array): string {
    const text = decodeUtf8(bytes);
    return this.model.stripsLeadingSpace && text.startsWith(' ') ? text.slice(1) : text;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
