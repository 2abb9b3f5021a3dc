// Reads test/fixtures/math.json (written by test/fixtures/gen_math.py from torch 1.13) and checks
// Born's results against its cases: values (NaN, infinities and, where flagged, signed zeros
// exactly), result dtypes and gradients of sum(out * gy).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from './check.js';

export type Enc = number | string;
export interface Arr { dtype: born.DType; shape: number[]; data: Enc[] }
export interface MathCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, Arr>;
  out?: Arr;
  value?: boolean;
  gy?: Arr;
  grads?: Record<string, Arr>;
  signed_zero?: boolean;
}

export const mathCases = (JSON.parse(readFileSync(new URL('../fixtures/math.json', import.meta.url), 'utf8')) as { cases: MathCase[] }).cases;

export function decode(v: Enc): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'nan': return NaN;
    case 'inf': return Infinity;
    case '-inf': return -Infinity;
    case '-0': return -0;
    default: return Number(v);
  }
}

/** A fixture array as a Born tensor of its dtype (int64 exactly, through BigInt). */
export function toTensor(a: Arr): Tensor {
  if (a.dtype === 'int64') return born.tensor(BigInt64Array.from(a.data, (v) => BigInt(v)), { shape: a.shape, dtype: 'int64' });
  return born.tensor(a.data.map(decode), { shape: a.shape, dtype: a.dtype });
}

export const inputsOf = (c: MathCase): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, toTensor(a)]));

/** Tolerances per dtype: one rounding of a double result against PyTorch's float32 (SLEEF) kernels. */
export const VALUE_TOL: Record<string, { rtol: number; atol: number }> = {
  float32: { rtol: 2e-6, atol: 1e-37 },
  float64: { rtol: 1e-13, atol: 1e-300 },
};
export const GRAD_TOL: Record<string, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-12 },
};

/** t against a fixture array: shape, dtype, then values (exact for integer and bool dtypes). */
export async function expectMatches(t: Tensor, want: Arr, label: string, signedZero = false, tol = VALUE_TOL): Promise<void> {
  expect([...t.shape], `${label}: shape`).toEqual(want.shape);
  expect(t.dtype, `${label}: dtype`).toBe(want.dtype);
  const got = await t.data();
  const bad: string[] = [];
  const exact = want.dtype !== 'float32' && want.dtype !== 'float64';
  const { rtol, atol } = tol[want.dtype] ?? { rtol: 0, atol: 0 };
  want.data.forEach((enc, i) => {
    if (bad.length >= 6) return;
    const w = decode(enc);
    const g = Number(got[i]);
    const ok = exact ? (want.dtype === 'int64' ? BigInt(got[i]!) === BigInt(enc) : g === w)
      : Number.isNaN(w) ? Number.isNaN(g)
        : !Number.isFinite(w) ? g === w
          : w === 0 && signedZero ? Object.is(g, w)
          : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) bad.push(`[${i}] got ${Object.is(g, -0) ? '-0' : String(got[i])}, want ${String(enc)}`);
  });
  expect(bad, `${label}: values`).toEqual([]);
}

/**
 * The case's gradients, born.grad(out, inputs, { gradOutput: gy }), built before anything is
 * read (reading a tensor that does not require gradients releases its history).
 */
export function gradsOf(c: MathCase, out: Tensor, inputs: Record<string, Tensor>): Record<string, Tensor> {
  if (!c.grads) return {};
  const names = Object.keys(c.grads);
  const gs = born.grad(out, names.map((k) => inputs[k]!), { gradOutput: toTensor(c.gy!) });
  return Object.fromEntries(names.map((k, i) => [k, gs[i]!]));
}

/** Gradients from gradsOf against PyTorch's. */
export async function expectGrads(c: MathCase, grads: Record<string, Tensor>, tol = GRAD_TOL): Promise<void> {
  for (const [k, g] of Object.entries(grads)) await expectMatches(g, c.grads![k]!, `${c.name}: d/d${k}`, false, tol);
}
