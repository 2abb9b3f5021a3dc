/**
 * Independent references for the packed-weight tests: random ggml blocks, and a naive
 * dequantise-then-matmul written from ggml's documented layout (ggml-common.h: block_q8_0 is
 * { ggml_half d; int8_t qs[32] }, block_q4_0 is { ggml_half d; uint8_t qs[16] } with weight j in
 * the low nibble of qs[j] and weight j + 16 in its high nibble, both minus 8; block_q4_K and
 * dequantize_row_q4_K / get_scale_min_k4 of ggml-quants.c, transcribed below).
 */
export type Format = 'q8_0' | 'q4_0' | 'q4_K';
export const BLOCK_BYTES: Record<Format, number> = { q8_0: 34, q4_0: 18, q4_K: 144 };
const BLOCK_SIZE: Record<Format, number> = { q8_0: 32, q4_0: 32, q4_K: 256 };

/** IEEE half → number. */
export function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A deterministic generator in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random blocks for [rows, cols]: random quants, scales of either sign between 2^-7 and 2^-6. */
export function randomBlocks(format: Format, rows: number, cols: number, seed: number): Uint8Array {
  const r = lcg(seed), bb = BLOCK_BYTES[format];
  const out = new Uint8Array(rows * (cols / BLOCK_SIZE[format]) * bb);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * 256);
  // q4_K has two f16s (d, dmin) at the start of a block; scaled down so that 63 · 15 · d stays small.
  for (let p = 0; p < out.length; p += bb) {
    for (let f = 0; f < (format === 'q4_K' ? 2 : 1); f++) {
      const h = ((format === 'q4_K' ? 0x1400 : 0x2000) + Math.floor(r() * 0x400)) | (r() < 0.5 ? 0x8000 : 0);
      out[p + 2 * f] = h & 255;
      out[p + 2 * f + 1] = h >> 8;
    }
  }
  return out;
}

/** The float [rows, cols] matrix the blocks hold. */
export function dequantize(bytes: Uint8Array, format: Format, rows: number, cols: number): Float64Array {
  if (format === 'q4_K') return dequantizeQ4K(bytes, rows * cols);
  const out = new Float64Array(rows * cols), bb = BLOCK_BYTES[format];
  for (let r = 0, p = 0; r < rows; r++) {
    for (let b = 0; b < cols / 32; b++, p += bb) {
      const d = half(bytes[p]! | (bytes[p + 1]! << 8));
      for (let j = 0; j < 32; j++) {
        const q = format === 'q8_0' ? ((bytes[p + 2 + j]! << 24) >> 24)
          : j < 16 ? (bytes[p + 2 + j]! & 15) - 8 : (bytes[p + 2 + j - 16]! >> 4) - 8;
        out[r * cols + b * 32 + j] = d * q;
      }
    }
  }
  return out;
}

/** ggml's get_scale_min_k4: sub-block j's 6-bit scale and min from the 12 bytes at q[s..]. */
function scaleMinK4(j: number, q: Uint8Array, s: number): [number, number] {
  if (j < 4) return [q[s + j]! & 63, q[s + j + 4]! & 63];
  return [(q[s + j + 4]! & 0xf) | ((q[s + j - 4]! >> 6) << 4), (q[s + j + 4]! >> 4) | ((q[s + j]! >> 6) << 4)];
}

/** ggml's dequantize_row_q4_K over n weights (rows back to back). */
function dequantizeQ4K(x: Uint8Array, n: number): Float64Array {
  const y = new Float64Array(n);
  let o = 0;
  for (let p = 0; o < n; p += 144) {
    const d = half(x[p]! | (x[p + 1]! << 8)), min = half(x[p + 2]! | (x[p + 3]! << 8));
    let q = p + 16, is = 0;
    for (let j = 0; j < 256; j += 64) {
      const [sc1, m1] = scaleMinK4(is, x, p + 4), [sc2, m2] = scaleMinK4(is + 1, x, p + 4);
      for (let l = 0; l < 32; ++l) y[o++] = d * sc1 * (x[q + l]! & 0xf) - min * m1;
      for (let l = 0; l < 32; ++l) y[o++] = d * sc2 * (x[q + l]! >> 4) - min * m2;
      q += 32; is += 2;
    }
  }
  return y;
}

/** x [m, k] times Wᵀ for W [n, k], in float64. */
export function matmulT(x: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += x[i * k + t]! * w[j * k + t]!;
    out[i * n + j] = s;
  }
  return out;
}

/** Largest |a - b| over the largest |b| (1 when b is all zeros). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) { err = Math.max(err, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(b[i]!)); }
  return err / (scale || 1);
}

export const randomInput = (n: number, seed: number): Float32Array => { const r = lcg(seed); return Float32Array.from({ length: n }, () => r() * 2 - 1); };

/** float32 → the nearest IEEE half (ties to even) as its bits, from the float's bits. */
export function halfBits(f: number): number {
  const u = new Uint32Array(Float32Array.of(f).buffer)[0]!;
  const sign = (u >>> 16) & 0x8000, e = (u >>> 23) & 255, m = u & 0x7fffff;
  if (e === 255) return sign | 0x7c00 | (m ? 0x200 : 0);
  const he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  // Normal or subnormal: keep 10 (or fewer) mantissa bits of 1.m, round to nearest even on the rest.
  const full = m | (e ? 0x800000 : 0), shift = he > 0 ? 13 : 13 + 1 - he;
  if (shift > 24) return sign;
  let q = Math.floor(full / 2 ** shift);
  const rest = full - q * 2 ** shift, halfway = 2 ** (shift - 1);
  if (rest > halfway || (rest === halfway && q & 1)) q++;
  // q carries the implicit bit for normals; adding the exponent field handles a carry into it.
  return sign | (he > 0 ? ((he - 1) << 10) + q : q);
}

/**
 * ggml's quantize_row_q8_0_ref on each 32 values of x (float32): d = amax / 127, stored as f16;
 * q = roundf(x · (1 / d)), half away from zero. Returns the quants and the f16 scales' values.
 */
export function quantizeActivations(x: Float32Array): { q: Int8Array; d: Float64Array } {
  const f = Math.fround, q = new Int8Array(x.length), d = new Float64Array(x.length / 32);
  for (let b = 0; b < d.length; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
    const s = f(amax / 127), id = s ? f(1 / s) : 0;
    d[b] = half(halfBits(s));
    for (let j = 0; j < 32; j++) {
      const v = f(x[b * 32 + j]! * id);
      q[b * 32 + j] = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
    }
  }
  return { q, d };
}

/** The activations as the integer dot sees them: each value is its block's d · q. */
export function quantizedActivations(x: Float32Array): Float64Array {
  const { q, d } = quantizeActivations(x);
  return Float64Array.from(q, (v, i) => v * d[i >> 5]!);
}
