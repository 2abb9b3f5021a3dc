/**
 * A byte-level vocabulary without merges, as small character-level models use (born train --model
 * gpt): token i is the single byte vocab[i]. The vocabulary is the set of bytes a training text
 * holds, so it is small (a licence text: 86 bytes) and the classifier has a row per byte seen;
 * a byte outside it cannot be encoded and says so.
 */
import { spellingOfBytes } from './byte-level.js';
import { Tokenizer, type TokenModel } from './tokenizer.js';
import { utf8Encoder } from './utf8.js';

class BytesModel implements TokenModel {
  readonly kind = 'byte-level';
  readonly stripsLeadingSpace = false;
  private readonly ids = new Int32Array(256).fill(-1);

  constructor(vocab: readonly number[]) {
    vocab.forEach((b, id) => { this.ids[b] = id; });
  }

  encodeText(text: string, _first: boolean, out: number[]): void {
    for (const b of utf8Encoder.encode(text)) out.push(this.byteToken(b));
  }

  byteToken(byte: number): number {
    const id = this.ids[byte]!;
    if (id < 0) {
      throw new RangeError(`Tokenizer: byte 0x${byte.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(byte))}) is not in this model's byte vocabulary (the bytes of its training text)`);
    }
    return id;
  }
}

/**
 * A tokenizer whose token i is the byte vocab[i] (distinct values 0..255). Vocabulary strings use
 * GPT-2's byte spelling (a space is `Ġ`, a newline `Ċ`), as Born's byte-level BPE does.
 */
export function fromBytes(vocab: readonly number[]): Tokenizer {
  const seen = new Set<number>();
  for (const b of vocab) {
    if (!Number.isInteger(b) || b < 0 || b > 255 || seen.has(b)) {
      throw new RangeError(`fromBytes: the vocabulary must list distinct byte values 0..255, got ${JSON.stringify(b)} in [${vocab.join(', ')}]`);
    }
    seen.add(b);
  }
  const bytes = vocab.map((b) => Uint8Array.of(b));
  return new Tokenizer({ model: new BytesModel(vocab), tokens: bytes.map(spellingOfBytes), bytes, added: [] });
}
