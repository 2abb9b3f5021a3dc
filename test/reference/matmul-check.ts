// Shared by the matmul SIMD tests: deterministic operands, a naive float64 product and a check
// within float32 accumulation error.
import { expect } from 'vitest';
import type { Tensor } from '../../src/index.js';

/** Deterministic float32 values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** C[bt] = f(A[bt]) g(B[bt]) in float64, row-major [batch, M, N]. */
export function naive(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, M: number, K: number, N: number,
  f = (x: number): number => x, g = (x: number): number => x): Float64Array {
  const c = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
    const av = f(a[(t * M + i) * K + k]!);
    for (let j = 0; j < N; j++) c[(t * M + i) * N + j] += av * g(b[(t * K + k) * N + j]!);
  }
  return c;
}

/** Within 1e-5 of the reference relative to K (float32 accumulation); NaN where the reference is NaN. */
export async function expectClose(t: Tensor, want: ArrayLike<number>, K: number): Promise<void> {
  const got = (await t.data()) as Float32Array;
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(got[i], `element ${i}`).toBeNaN();
    else if (!(Math.abs(got[i]! - w) <= 1e-5 * (K + Math.abs(w)))) expect(got[i], `element ${i}`).toBeCloseTo(w, 5);
  }
}
