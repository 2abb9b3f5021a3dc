/**
 * The standard-normal sampler of a `rand` source with dist 'normal' (ir.ts), in integer
 * arithmetic only, so every device computes the very same float32 bits: WGSL's log, sqrt and cos
 * are not correctly rounded and a GPU compiler may reassociate float arithmetic, but u32 products,
 * shifts and leading-zero counts are exact everywhere. The JS printer (cpu-workers/prelude.ts,
 * normal2) and the WGSL printer (webgpu/wgsl/prelude.ts, normal2_) are line-for-line twins of
 * the steps below and read their constants from here; the WebGPU parity suite checks the bits.
 *
 * Box–Muller over the two words (w0, w1) of one Philox evaluation:
 *   u = (w0 | 1) / 2^32, in (0, 1): never 0, so never an infinite radius (max |z| ≈ 6.66);
 *   r = sqrt(-2 ln u) = sqrt(2 ln 2 · D), D = -log2 u, held as M · 2^-p (M a u32):
 *     u < 1/2: D = clz + (1 - log2 of the normalised mantissa), the log2 by repeated squaring
 *       (31 bits, table-free);
 *     u ≥ 1/2 and 1 - u ≥ SERIES_BELOW / 2^32: D = 1 - that log2 (the same loop);
 *     nearer 1: D = t (1 + t/2) / ln 2 with t = 1 - u exact, so a tiny radius keeps its digits;
 *   sqrt(D) by the bitwise restoring square root (29 result bits) after an even normalisation;
 *   cos and sin of 2π w1 / 2^32: octant reduction, then Taylor polynomials on [0, π/4] in
 *     Q1.31 fixed point (every Horner partial sum stays positive there);
 *   z = r · cos (word 0) or r · sin (word 1) as an integer Z times 2^-k; Z is rounded to 24
 *     significant bits in integers, so its conversion to float is exact, and the power-of-two
 *     scale is exact too.
 * Accuracy against float64 Box–Muller on the same u: see test/random-normal.test.ts.
 */

const Q31 = 2 ** 31;
const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
const q31 = (x: number): number => Math.round(x * Q31);

/** cos(π/4 · y) = Σ (-1)^k COS_Q31[k] · (y²)^k, y in [0, 1]; coefficients (π/4)^2k / (2k)! in Q1.31. */
export const COS_Q31: readonly number[] = Array.from({ length: 6 }, (_, k) => q31((Math.PI / 4) ** (2 * k) / fact(2 * k)));
/** sin(π/4 · y) = y · Σ (-1)^k SIN_Q31[k] · (y²)^k; coefficients (π/4)^(2k+1) / (2k+1)! in Q1.31. */
export const SIN_Q31: readonly number[] = Array.from({ length: 6 }, (_, k) => q31((Math.PI / 4) ** (2 * k + 1) / fact(2 * k + 1)));
/** 1 / ln 2 in Q1.31 (the near-1 series). */
export const INV_LN2_Q31 = q31(1 / Math.LN2);
/** sqrt(2 ln 2) in Q1.31: r = sqrt(2 ln 2) · sqrt(-log2 u). */
export const SQRT_2LN2_Q31 = q31(Math.sqrt(2 * Math.LN2));
/** Below this 2^32 · (1 - u) (t < 2^-10), -ln u comes from the series t + t²/2 (relative error < t²/3). */
export const SERIES_BELOW = 2 ** 22;
