/** UTF-8 helpers for the tokenizers: splitting raw input into valid text and stray bytes. */
import { TextDecoder, TextEncoder } from 'node:util';

export const utf8Encoder = new TextEncoder();

/** A decoder that keeps a leading U+FEFF (the default one strips it, which breaks round trips). */
export const newUtf8Decoder = (): TextDecoder => new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const oneShot = newUtf8Decoder();
export const decodeUtf8 = (bytes: Uint8Array): string => oneShot.decode(bytes);

/** A byte string as a Map key: one char per byte. */
export function byteKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The length of the well-formed UTF-8 sequence starting at `i`, or 0 if the byte there starts none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let need: number, lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c >= 0xe0 && c <= 0xef) { need = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
  else if (c >= 0xf0 && c <= 0xf4) { need = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
  else return 0;
  for (let k = 1; k <= need; k++) {
    const x = b[i + k];
    if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return 0;
  }
  return need + 1;
}

/** One piece of raw input: valid text, or a byte that is not part of any valid UTF-8 sequence. */
export type Utf8Piece = { readonly text: string } | { readonly byte: number };

/** Splits bytes into maximal valid UTF-8 runs (as strings) and the stray bytes between them. */
export function utf8Pieces(bytes: Uint8Array): Utf8Piece[] {
  const out: Utf8Piece[] = [];
  let start = 0, i = 0;
  while (i < bytes.length) {
    const len = sequenceLength(bytes, i);
    if (len > 0) { i += len; continue; }
    if (i > start) out.push({ text: decodeUtf8(bytes.subarray(start, i)) });
    out.push({ byte: bytes[i]! });
    start = ++i;
  }
  if (i > start) out.push({ text: decodeUtf8(bytes.subarray(start, i)) });
  return out;
}
