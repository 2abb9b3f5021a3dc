/**
 * ggml's tensor types as GGUF stores them, and a plain-JS dequantizer for each one Born reads.
 * Block layouts (little-endian, f16 = IEEE half):
 *   q8_0 (32 values, 34 bytes): d f16, qs int8[32];              x = d·q
 *   q4_0 (32, 18): d f16, qs u8[16]: value j is qs[j] & 15, value j+16 is qs[j] >> 4;  x = d·(q − 8)
 *   q4_1 (32, 20): d f16, m f16, qs u8[16] as q4_0;              x = d·q + m
 *   q4_K (256, 144): d f16, dmin f16, scales u8[12] (8 six-bit scales and 8 six-bit mins), qs u8[128]:
 *     each 64 values use 32 bytes of qs, low nibbles for the first 32, high for the next;
 *     x = d·sc·q − dmin·m per 32-value sub-block
 *   q5_K (256, 176): d, dmin, scales[12] as q4_K, qh u8[32] (bit 2i / 2i+1 is the fifth bit of
 *     value l of the 64-chunk i, low / high half), qs u8[128]
 *   q6_K (256, 210): ql u8[128] (low 4 bits), qh u8[64] (high 2 bits), scales int8[16] (one per
 *     16 values), d f16;  x = d·sc·(q − 32)
 * Each product is exact in float32 (a half times small integers), so these equal ggml's own
 * dequantize_row_* bit for bit.
 */
import { fromFloat16Bits } from '../../graph/dtype.js';

export class GgufError extends Error {
  override name = 'GgufError';
}

export interface GgmlType {
  readonly id: number;
  readonly name: string;
  /** Values per block (1 for the plain float types). */
  readonly blockSize: number;
  readonly bytesPerBlock: number;
  /** Writes the block values of `src` (a whole number of blocks) into `out`; absent: not read by Born. */
  readonly dequantize?: (src: Uint8Array, out: Float32Array) => void;
}

let halfTable: Float32Array | undefined;
/** All 65536 halves as floats, built on first use: a lookup is faster than decoding each one. */
const halves = (): Float32Array => {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = fromFloat16Bits(h);
  }
  return halfTable;
};
const u16 = (s: Uint8Array, i: number): number => s[i]! | (s[i + 1]! << 8);

function f32(src: Uint8Array, out: Float32Array): void {
  const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(4 * i, true);
}
function f16(src: Uint8Array, out: Float32Array): void {
  const t = halves();
  for (let i = 0; i < out.length; i++) out[i] = t[u16(src, 2 * i)]!;
}
function bf16(src: Uint8Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < out.length; i++) bits[i] = u16(src, 2 * i) << 16;
}
function q8_0(src: Uint8Array, out: Float32Array): void {
  const t = halves();
  for (let b = 0, o = 0; o < out.length; b += 34, o += 32) {
    const d = t[u16(src, b)]!;
    for (let j = 0; j < 32; j++) out[o + j] = d * ((src[b + 2 + j]! << 24) >> 24);
  }
}
function q4_0(src: Uint8Array, out: Float32Array): void {
  const t = halves();
  for (let b = 0, o = 0; o < out.length; b += 18, o += 32) {
    const d = t[u16(src, b)]!;
    for (let j = 0; j < 16; j++) {
      const q = src[b + 2 + j]!;
      out[o + j] = d * ((q & 15) - 8);
      out[o + j + 16] = d * ((q >> 4) - 8);
    }
  }
}
function q4_1(src: Uint8Array, out: Float32Array): void {
  const t = halves();
  for (let b = 0, o = 0; o < out.length; b += 20, o += 32) {
    const d = t[u16(src, b)]!, m = t[u16(src, b + 2)]!;
    for (let j = 0; j < 16; j++) {
      const q = src[b + 4 + j]!;
      out[o + j] = d * (q & 15) + m;
      out[o + j + 16] = d * (q >> 4) + m;
    }
  }
}

/** Scale and min j (0..7) of a q4_K / q5_K block's 12 packed scale bytes at s[at..]. */
function scaleMin(s: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [s[at + j]! & 63, s[at + j + 4]! & 63];
  return [(s[at + j + 4]! & 15) | ((s[at + j - 4]! >> 6) << 4), (s[at + j + 4]! >> 4) | ((s[at + j]! >> 6) << 4)];
}

function qK(src: Uint8Array, out: Float32Array, bytes: number, fifthBit: boolean): void {
  const t = halves();
  for (let b = 0, o = 0; o < out.length; b += bytes, o += 256) {
    const d = t[u16(src, b)]!, dmin = t[u16(src, b + 2)]!;
    const qh = b + 16, qs = fifthBit ? b + 48 : b + 16;
    for (let c = 0; c < 4; c++) { // 64 values: sub-blocks 2c (low nibbles) and 2c+1 (high nibbles)
      const [sc1, m1] = scaleMin(src, b + 4, 2 * c), [sc2, m2] = scaleMin(src, b + 4, 2 * c + 1);
      const d1 = d * sc1, dm1 = dmin * m1, d2 = d * sc2, dm2 = dmin * m2;
      for (let l = 0; l < 32; l++) {
        const q = src[qs + 32 * c + l]!;
        const h = fifthBit ? src[qh + l]! >> (2 * c) : 0;
        out[o + 64 * c + l] = d1 * ((q & 15) + ((h & 1) << 4)) - dm1;
        out[o + 64 * c + 32 + l] = d2 * ((q >> 4) + ((h & 2) << 3)) - dm2;
      }
    }
  }
}
const q4_K = (src: Uint8Array, out: Float32Array): void => qK(src, out, 144, false);
const q5_K = (src: Uint8Array, out: Float32Array): void => qK(src, out, 176, true);

function q6_K(src: Uint8Array, out: Float32Array): void {
  const t = halves();
  for (let b = 0, o = 0; o < out.length; b += 210, o += 256) {
    const d = t[u16(src, b + 208)]!;
    for (let n = 0; n < 2; n++) { // 128 values: 64 bytes of ql, 32 of qh, 8 scales
      const ql = b + 64 * n, qh = b + 128 + 32 * n, sc = b + 192 + 8 * n, y = o + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4, h = src[qh + l]!, lo = src[ql + l]!, hi = src[ql + l + 32]!;
        const s = (k: number): number => d * ((src[sc + is + k]! << 24) >> 24);
        out[y + l] = s(0) * (((lo & 15) | ((h & 3) << 4)) - 32);
        out[y + l + 32] = s(2) * (((hi & 15) | (((h >> 2) & 3) << 4)) - 32);
        out[y + l + 64] = s(4) * (((lo >> 4) | (((h >> 4) & 3) << 4)) - 32);
        out[y + l + 96] = s(6) * (((hi >> 4) | (((h >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

const T = (id: number, name: string, blockSize: number, bytesPerBlock: number, dequantize?: GgmlType['dequantize']): GgmlType =>
  ({ id, name, blockSize, bytesPerBlock, dequantize });

/** ggml's type ids (ggml.h's enum ggml_type); the ones without a dequantizer are named for error messages. */
export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map([
  T(0, 'f32', 1, 4, f32), T(1, 'f16', 1, 2, f16), T(2, 'q4_0', 32, 18, q4_0), T(3, 'q4_1', 32, 20, q4_1),
  T(6, 'q5_0', 32, 22), T(7, 'q5_1', 32, 24), T(8, 'q8_0', 32, 34, q8_0), T(9, 'q8_1', 32, 36),
  T(10, 'q2_K', 256, 84), T(11, 'q3_K', 256, 110), T(12, 'q4_K', 256, 144, q4_K), T(13, 'q5_K', 256, 176, q5_K),
  T(14, 'q6_K', 256, 210, q6_K), T(15, 'q8_K', 256, 292), T(24, 'i8', 1, 1), T(25, 'i16', 1, 2), T(26, 'i32', 1, 4),
  T(27, 'i64', 1, 8), T(28, 'f64', 1, 8), T(30, 'bf16', 1, 2, bf16),
].map((t) => [t.id, t]));

/** The names of the types Born dequantizes, for error messages. */
export const READABLE_TYPES = [...GGML_TYPES.values()].filter((t) => t.dequantize).map((t) => t.name).join(', ');

/** Dequantizes `count` values of type `type` from `src` (exactly their blocks' bytes) into a new Float32Array. */
export function dequantize(type: GgmlType, src: Uint8Array, count: number, what = 'tensor'): Float32Array {
  if (!type.dequantize) throw new GgufError(`GGUF dequantize: ${what} has type ${type.name} (${type.id}), which Born does not read; readable types: ${READABLE_TYPES}`);
  if (count % type.blockSize !== 0) throw new GgufError(`GGUF dequantize: ${what} has ${count} values, not a whole number of ${type.name} blocks of ${type.blockSize}`);
  const need = (count / type.blockSize) * type.bytesPerBlock;
  if (src.length !== need) throw new GgufError(`GGUF dequantize: ${what} (${type.name}, ${count} values) needs ${need} bytes, got ${src.length}`);
  const out = new Float32Array(count);
  type.dequantize(src, out);
  return out;
}
