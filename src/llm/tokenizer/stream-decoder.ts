/**
 * Streaming detokenisation: one id in, the text it completes out. A UTF-8 sequence split across
 * tokens (byte-fallback `<0xE4><0xBD><0xA0>`, or GPT-2's byte tokens for an emoji) is held back
 * until it is complete, and bytes that can never complete come out as U+FFFD exactly where a
 * one-shot decode puts them, so the pieces concatenate to `decode(ids)`.
 */
import { newUtf8Decoder } from './utf8.js';

/** What a decoder needs to know about each id. */
export interface TokenRendering {
  /** The bytes an ordinary token stands for, or null for a control token. */
  bytesOf(id: number): Uint8Array | null;
  /** A control token's text, when specials are rendered. */
  controlText(id: number): string;
  /** SentencePiece's dummy prefix: drop one leading space at the start and after each control or added token. */
  readonly stripsLeadingSpace: boolean;
  /** Added tokens that are not control tokens also begin a new segment (the encoder restarts after them). */
  isAdded(id: number): boolean;
  readonly vocabSize: number;
}

export interface DecodeOptions {
  /** Render control tokens (BOS, EOS, `<|endoftext|>`) as their text; default false: skip them. */
  readonly specials?: boolean;
}

export function checkId(id: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(`decode: token id ${id} is out of range (the vocabulary has ${vocabSize} tokens, ids 0…${vocabSize - 1})`);
  }
}

/** `tokenizer.decoder()`: push ids as they are generated, get text pieces back. */
export class StreamDecoder {
  private utf8 = newUtf8Decoder();
  private atSegmentStart = true;
  private readonly specials: boolean;

  constructor(private readonly vocab: TokenRendering, opts: DecodeOptions = {}) {
    this.specials = opts.specials ?? false;
  }

  /** The text that `id` completes: often '' while a multi-byte character is still arriving. */
  push(id: number): string {
    checkId(id, this.vocab.vocabSize);
    const bytes = this.vocab.bytesOf(id);
    if (bytes === null || this.vocab.isAdded(id)) {
      // A control or added token ends the running byte sequence, as decode() cuts its segments there.
      // The encoder adds no dummy prefix to an added token itself, so its text is never stripped.
      const text = this.flushBytes() + (bytes === null ? (this.specials ? this.vocab.controlText(id) : '') : newUtf8Decoder().decode(bytes));
      this.atSegmentStart = true;
      return text;
    }
    return this.strip(this.utf8.decode(bytes, { stream: true }));
  }

  /** Ends the stream: bytes of an unfinished character come out as U+FFFD. */
  flush(): string {
    const text = this.flushBytes();
    this.atSegmentStart = true;
    return text;
  }

  private flushBytes(): string {
    const text = this.strip(this.utf8.decode());
    this.utf8 = newUtf8Decoder();
    return text;
  }

  private strip(text: string): string {
    if (!text || !this.atSegmentStart) return text;
    this.atSegmentStart = false;
    return this.vocab.stripsLeadingSpace && text.startsWith(' ') ? text.slice(1) : text;
  }
}
