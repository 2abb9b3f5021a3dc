// Shared by the tests that compare against PyTorch golden values in test/fixtures.
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import type { KernelEvent } from '../../src/index.js';
import type { Tensor } from './check.js';

/** A tensor as the generator scripts write it: shape and row-major values. */
export interface Arr { shape: number[]; data: number[] }

/** A fixture array as a float32 tensor (its values rounded to float32). */
export const f32 = (a: Arr): Tensor => born.tensor(Float32Array.from(a.data), { shape: a.shape });
/** A fixture array as a float64 tensor. */
export const f64 = (a: Arr): Tensor => born.tensor(Float64Array.from(a.data), { shape: a.shape, dtype: 'float64' });
/** A fixture array of integers as an int32 tensor. */
export const i32 = (a: Arr): Tensor => born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' });

/** Shape and values of `t` against `want`, within atol + rtol·|want|. */
export async function expectArr(t: Tensor, want: Arr, tol: { rtol: number; atol: number }, label: string): Promise<void> {
  expect([...t.shape], `${label}: shape`).toEqual(want.shape);
  const got = await t.data();
  const bad: string[] = [];
  want.data.forEach((w, i) => {
    const g = Number(got[i]);
    if (!(Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w)) && bad.length < 6) bad.push(`[${i}] got ${g}, want ${w}`);
  });
  expect(bad, `${label}: values (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
}

/** The kernels the engine ran while `f` was pending. */
export async function kernelsRun(f: () => Promise<unknown>): Promise<KernelEvent[]> {
  const seen: KernelEvent[] = [];
  const on = (e: KernelEvent): void => { seen.push(e); };
  born.engine.on('kernel', on);
  try { await f(); } finally { born.engine.off('kernel', on); }
  return seen;
}
