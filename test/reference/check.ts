/**
 * Bridges between Born tensors and the reference NDArray: building a Born
 * tensor from reference data (contiguous or as a non-contiguous view), and
 * comparing a Born result against the reference with dtype-aware tolerances.
 */
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import * as ref from './ndarray.js';
import { NDArray, type DType } from './ndarray.js';

export type Tensor = ReturnType<typeof born.tensor>;

export interface Tol {
  rtol?: number;
  atol?: number;
}

export function defaultTol(dtype: DType): Required<Tol> {
  switch (dtype) {
    case 'float32':
      return { rtol: 1e-5, atol: 1e-6 };
    case 'float64':
      return { rtol: 1e-12, atol: 1e-12 };
    case 'int32':
    case 'bool':
      return { rtol: 0, atol: 0 };
  }
}

const arrayTypeOf: Record<DType, string> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  int32: 'Int32Array',
  bool: 'Uint8Array',
};

/** A contiguous Born tensor holding `a`'s values. */
export function toBorn(a: NDArray): Tensor {
  return born.tensor(a.typed(), { shape: [...a.shape], dtype: a.dtype });
}

/** The same values as `a`, but reached through a permute of a transposed buffer (rank >= 2). */
export function permutedBorn(a: NDArray): Tensor {
  const rev = a.shape.map((_, i) => a.ndim - 1 - i);
  return toBorn(ref.permute(a, rev)).permute(rev);
}

/** The same values as `a`, but as a strided slice (every other row of a bigger buffer along dim 0). */
export function slicedBorn(a: NDArray, seed = 99): Tensor {
  if (a.ndim === 0) return toBorn(ref.unsqueeze(a, 0)).slice(0, 0, 1).squeeze(0);
  const noise = ref.random(a.shape, seed, { dtype: a.dtype });
  // Interleave rows: [a0, junk0, a1, junk1, ...] then take rows 0, 2, 4, ...
  const big = ref.reshape(
    ref.stack([a, noise], { dim: 1 }),
    [a.shape[0]! * 2, ...a.shape.slice(1)],
  );
  const padded = ref.cat([ref.narrow(noise, 0, 0, 1), big], { dim: 0 });
  return toBorn(padded).slice(0, 1, undefined, 2);
}

export interface Layout {
  name: string;
  make: (a: NDArray) => Tensor;
}

/** Ways of presenting the same values to an op: contiguous, permuted (non-contiguous), strided slice. */
export function layoutsFor(a: NDArray): Layout[] {
  const out: Layout[] = [{ name: 'contiguous', make: toBorn }];
  if (a.ndim >= 2) out.push({ name: 'permuted', make: permutedBorn });
  if (a.ndim >= 1) out.push({ name: 'sliced', make: (x) => slicedBorn(x) });
  return out;
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function close(got: number, want: number, tol: Required<Tol>): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= tol.atol + tol.rtol * Math.abs(want);
}

/**
 * Awaits `t.data()` and checks shape, dtype, array type and every value
 * against `want`. NaN matches NaN; infinities must match exactly.
 */
export async function expectTensor(t: Tensor, want: NDArray, tol: Tol = {}, label = ''): Promise<void> {
  const where = label ? `${label}: ` : '';
  expect([...t.shape], `${where}shape`).toEqual([...want.shape]);
  expect(t.dtype, `${where}dtype`).toBe(want.dtype);
  const data = (await t.data()) as ArrayLike<number> & { constructor: { name: string } };
  expect(data.constructor.name, `${where}data() array type`).toBe(arrayTypeOf[want.dtype]);
  expect(data.length, `${where}data() length`).toBe(want.size);
  const full = { ...defaultTol(want.dtype), ...tol };
  const bad: string[] = [];
  for (let i = 0; i < want.size; i++) {
    const g = data[i]!;
    const w = want.data[i]!;
    if (!close(g, w, full)) {
      if (bad.length < 8) bad.push(`at ${fmtShape(ref.unravel(i, want.shape))}: got ${g}, want ${w}`);
      else if (bad.length === 8) bad.push('…');
    }
  }
  expect(bad, `${where}values differ (rtol ${full.rtol}, atol ${full.atol})`).toEqual([]);
}

/** Checks plain numbers (e.g. from tolist()/item()) with the same closeness rule. */
export function expectClose(got: number, want: number, tol: Tol = {}, dtype: DType = 'float32'): void {
  const full = { ...defaultTol(dtype), ...tol };
  expect(close(got, want, full), `got ${got}, want ${want}`).toBe(true);
}

export { ref, NDArray };
