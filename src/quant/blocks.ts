/**
 * ggml block bytes on the host: checking that bytes fit a format and shape, and quantising float
 * rows into blocks with ggml's reference rounding (quantize_row_q8_0_ref, quantize_row_q4_0_ref),
 * for weights that come as floats (QuantizedLinear.fromLinear) and for benchmarks. q4_K is only
 * read (its quantiser searches scales per sub-block; GGUF files bring it quantised).
 */
import { toFloat16Bits } from '../graph/dtype.js';
import { ShapeError, fmt } from '../graph/errors.js';
import { isQuantFormat, QUANT_FORMATS, quantRowBytes, type QuantFormat } from '../kernel/quant.js';

export type { QuantFormat };
export { QUANT_FORMATS, quantRowBytes };

/** Checks format and [rows, cols]; returns the byte count the blocks must have. */
export function checkQuantShape(op: string, format: unknown, shape: readonly number[]): number {
  if (!isQuantFormat(format)) throw new TypeError(`${op}: unknown format ${JSON.stringify(format) ?? String(format)} (valid: ${Object.keys(QUANT_FORMATS).join(', ')})`);
  const { blockSize } = QUANT_FORMATS[format];
  if (shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new ShapeError(`${op}: expected a shape [out, in] of positive integers, got ${fmt(shape)}`);
  }
  const [rows, cols] = shape as [number, number];
  if (cols % blockSize !== 0) {
    throw new ShapeError(`${op}: ${format} packs rows in blocks of ${blockSize} weights, so in (${cols}) must be a multiple of ${blockSize}; got shape ${fmt(shape)}`);
  }
  return rows * quantRowBytes(format, cols);
}

/** Blocks of `values` (row-major [rows, cols], cols a multiple of 32) in `format`, as ggml's reference quantisers write them. */
export function quantize(values: ArrayLike<number>, format: QuantFormat, shape: readonly [number, number]): Uint8Array {
  const n = checkQuantShape('quantize', format, shape);
  if (format === 'q4_K') throw new TypeError('quantize: q4_K is read (from GGUF files), not written here; quantize to q8_0 or q4_0');
  if (values.length !== shape[0] * shape[1]) throw new ShapeError(`quantize: ${values.length} values do not fill shape ${fmt(shape)}`);
  const out = new Uint8Array(n);
  const { blockBytes } = QUANT_FORMATS[format];
  const x = Float32Array.from(values as ArrayLike<number>);
  for (let b = 0, p = 0; b < x.length; b += 32, p += blockBytes) {
    const d = format === 'q8_0' ? q8Block(x, b, out, p) : q4Block(x, b, out, p);
    const h = toFloat16Bits(d);
    out[p] = h & 255;
    out[p + 1] = h >> 8;
  }
  return out;
}

/** q8_0: d = max|x| / 127, q = round(x / d). Returns d. */
function q8Block(x: Float32Array, b: number, out: Uint8Array, p: number): number {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]!));
  const d = Math.fround(amax / 127), id = d ? Math.fround(1 / d) : 0;
  // C's roundf: halves away from zero.
  for (let j = 0; j < 32; j++) { const v = Math.fround(x[b + j]! * id); out[p + 2 + j] = (Math.sign(v) * Math.round(Math.abs(v))) & 255; }
  return d;
}

/** q4_0: the value of largest magnitude maps to -8, d = max / -8, q = min(15, trunc(x / d + 8.5)). Returns d. */
function q4Block(x: Float32Array, b: number, out: Uint8Array, p: number): number {
  let amax = 0, max = 0;
  for (let j = 0; j < 32; j++) { const v = x[b + j]!; if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; } }
  const d = Math.fround(max / -8), id = d ? Math.fround(1 / d) : 0;
  const q = (v: number): number => Math.min(15, Math.trunc(Math.fround(Math.fround(v * id) + 8.5)));
  for (let j = 0; j < 16; j++) out[p + 2 + j] = q(x[b + j]!) | (q(x[b + 16 + j]!) << 4);
  return d;
}

