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

/** A case computed in float64 (a functional op): its output and the gradients of sum(out * r)
 * with respect to the inputs named in expected.grads. */
export interface FnGolden { r: Arr; expected: { out: Arr; grads: Record<string, Arr> } }

/** Checks output y, computed from the float64 inputs `ins`, and its input gradients against case c. */
export async function expectFnCase(y: Tensor, ins: Record<string, Tensor>, c: FnGolden, tol: { rtol: number; atol: number }): Promise<void> {
  expect(y.dtype).toBe('float64');
  const names = Object.keys(c.expected.grads);
  const gs = born.grad(y.mul(f64(c.r)).sum(), names.map((n) => ins[n]!));
  await born.realize(y, ...gs);
  await expectArr(y, c.expected.out, tol, 'forward');
  for (const [i, n] of names.entries()) await expectArr(gs[i]!, c.expected.grads[n]!, tol, `d/d${n}`);
}

/** The kernels the engine ran while `f` was pending. */
export async function kernelsRun(f: () => Promise<unknown>): Promise<KernelEvent[]> {
  const seen: KernelEvent[] = [];
  const on = (e: KernelEvent): void => { seen.push(e); };
  born.engine.on('kernel', on);
  try { await f(); } finally { born.engine.off('kernel', on); }
  return seen;
}
