/**
 * Gradient checks for Born's autodiff: float64 central finite differences of a
 * scalar function of tensors, compared with born.grad on the same graph.
 *
 * A check builds the inputs from Float64Array data (through a layout, so the
 * same values can be presented contiguous, permuted or as a strided slice),
 * runs f, and asks born.grad for the gradient of the one-element output with
 * respect to every checked input. Then, for every element of every checked
 * input, it evaluates f at x ± eps (rebuilding the tensors each time, so no
 * state is shared between evaluations) and compares (f(x+eps) - f(x-eps)) / 2eps
 * with the analytic value.
 *
 * Central differences have truncation error ~eps²·f'''/6 and rounding error
 * ~|f|·1e-16/eps; with eps = 1e-6 and |f| ≲ 100 both stay below 1e-8, well
 * inside the default tolerance (rtol 1e-6, atol 1e-7).
 */
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import { toBorn, type Tensor } from './check.js';
import * as ref from './ndarray.js';
import { NDArray } from './ndarray.js';

export type ScalarFn = (...xs: Tensor[]) => Tensor;
/** How an input's values become a Born tensor (contiguous, permuted view, strided slice, ...). */
export type Maker = (a: NDArray) => Tensor;

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Indices of the inputs to differentiate against (default: every float input). */
  wrt?: readonly number[];
  /** One maker per input (default toBorn for all); lets a check run on non-contiguous inputs. */
  makers?: readonly (Maker | undefined)[];
  label?: string;
}

export const GRADCHECK_DEFAULTS = { eps: 1e-6, rtol: 1e-6, atol: 1e-7 } as const;

/** A float64 input with uniform values in [lo, hi) (deterministic in seed). */
export function f64(shape: readonly number[], seed: number, lo = -2, hi = 2): NDArray {
  return ref.random(shape, seed, { dtype: 'float64', lo, hi });
}

/** Uniform values in [lo, hi) with random signs: |x| stays at least lo (away from 0 for abs, relu, 1/x, ...). */
export function awayFromZero(shape: readonly number[], seed: number, lo = 0.2, hi = 2): NDArray {
  const r = ref.rng(seed ^ 0x5bd1e995);
  const a = ref.random(shape, seed, { dtype: 'float64', lo, hi });
  return new NDArray(Array.from(a.data, (v) => (r() < 0.5 ? -v : v)), a.shape, 'float64');
}

/** Int32 index tensor data. */
export function i32(values: readonly number[], shape: readonly number[]): NDArray {
  return new NDArray(values, shape, 'int32');
}

/** A fixed random weight tensor of `shape` and `dtype` (the same for the same seed). */
export function weights(shape: readonly number[], seed: number, dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return toBorn(ref.random(shape, seed, { dtype, lo: -1.5, hi: 1.5 }));
}

/**
 * sum(y * R) for a fixed random R of y's shape: reduces a non-scalar result to a scalar so that
 * every output element gets a different weight (a plain sum would hide permutation errors).
 */
export function weightedSum(y: Tensor, seed = 7): Tensor {
  if (y.dtype !== 'float32' && y.dtype !== 'float64') throw new Error(`weightedSum: float tensor expected, got ${y.dtype}`);
  return y.mul(weights(y.shape, seed, y.dtype)).sum();
}

const isFloat = (a: NDArray): boolean => a.dtype === 'float32' || a.dtype === 'float64';

function build(inputs: readonly NDArray[], makers: readonly (Maker | undefined)[] | undefined): Tensor[] {
  return inputs.map((a, i) => (makers?.[i] ?? toBorn)(a));
}

function closeEnough(got: number, want: number, rtol: number, atol: number): boolean {
  if (!Number.isFinite(want) || !Number.isFinite(got)) return false;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}

function fmtIdx(flat: number, shape: readonly number[]): string {
  return `[${ref.unravel(flat, shape).join(', ')}]`;
}

/** Evaluates the scalar f on freshly built inputs. */
export async function evalScalar(f: ScalarFn, inputs: readonly NDArray[], makers?: readonly (Maker | undefined)[]): Promise<number> {
  const out = f(...build(inputs, makers));
  if (out.numel() !== 1) throw new Error(`gradcheck: f must return a one-element tensor, got shape [${out.shape.join(', ')}]`);
  return out.item();
}

/** Finite-difference gradient of f with respect to input `k` (central differences, float64 perturbations). */
export async function numericGrad(
  f: ScalarFn, inputs: readonly NDArray[], k: number, eps: number, makers?: readonly (Maker | undefined)[],
): Promise<Float64Array> {
  const a = inputs[k]!;
  const g = new Float64Array(a.size);
  const at = (j: number, delta: number): NDArray[] => {
    const d = Float64Array.from(a.data);
    d[j] = d[j]! + delta;
    const copy = inputs.slice();
    copy[k] = new NDArray(d, a.shape, a.dtype);
    return copy;
  };
  for (let j = 0; j < a.size; j++) {
    const plus = await evalScalar(f, at(j, eps), makers);
    const minus = await evalScalar(f, at(j, -eps), makers);
    g[j] = (plus - minus) / (2 * eps);
  }
  return g;
}

/** born.grad of f at `inputs` with respect to the inputs in `wrt`, as float64 arrays (checks shape and dtype). */
export async function analyticGrad(
  f: ScalarFn, inputs: readonly NDArray[], wrt: readonly number[], makers?: readonly (Maker | undefined)[], label = '',
): Promise<Float64Array[]> {
  const xs = build(inputs, makers);
  const out = f(...xs);
  const targets = wrt.map((k) => xs[k]!);
  const grads = born.grad(out, targets);
  expect(grads, `${label}born.grad returns one gradient per input`).toHaveLength(wrt.length);
  await born.realize(...grads);
  const res: Float64Array[] = [];
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i]!, x = targets[i]!;
    expect([...g.shape], `${label}gradient ${wrt[i]} shape`).toEqual([...x.shape]);
    expect(g.dtype, `${label}gradient ${wrt[i]} dtype`).toBe(x.dtype);
    res.push(Float64Array.from(await g.data()));
  }
  return res;
}

/** Compares two flat arrays element by element; fails with the first few mismatches (index, analytic, numeric). */
export function expectClose(
  got: ArrayLike<number>, want: ArrayLike<number>, shape: readonly number[], tol: { rtol: number; atol: number }, what: string,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let j = 0; j < want.length; j++) {
    if (!closeEnough(got[j]!, want[j]!, tol.rtol, tol.atol)) {
      if (bad.length < 8) bad.push(`at ${fmtIdx(j, shape)}: got ${got[j]}, want ${want[j]}`);
      else if (bad.length === 8) bad.push('…');
    }
  }
  expect(bad, `${what} (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
}

/**
 * The gradient check: born.grad of f against central finite differences, for every float input
 * (or those in opts.wrt). Inputs should be float64; f must return a one-element float64 tensor.
 */
export async function gradcheck(f: ScalarFn, inputs: readonly NDArray[], opts: GradCheckOptions = {}): Promise<void> {
  const { eps, rtol, atol } = { ...GRADCHECK_DEFAULTS, ...opts };
  const wrt = opts.wrt ?? inputs.flatMap((a, i) => (isFloat(a) ? [i] : []));
  const label = opts.label ? `${opts.label}: ` : '';
  const analytic = await analyticGrad(f, inputs, wrt, opts.makers, label);
  for (let i = 0; i < wrt.length; i++) {
    const k = wrt[i]!;
    const numeric = await numericGrad(f, inputs, k, eps, opts.makers);
    expectClose(analytic[i]!, numeric, inputs[k]!.shape, { rtol, atol }, `${label}d f / d input ${k} vs finite differences`);
  }
}

/**
 * Second order: checks born.grad of g(xs) = Σ_k sum(∂f/∂x_k · V_k) (V_k fixed random) against finite
 * differences of g, where each evaluation of g itself calls born.grad. Every checked input must
 * stay in the graph of the first gradient (f must have a nonzero second derivative in it).
 */
export async function gradgradcheck(f: ScalarFn, inputs: readonly NDArray[], opts: GradCheckOptions = {}): Promise<void> {
  const wrt = opts.wrt ?? inputs.flatMap((a, i) => (isFloat(a) ? [i] : []));
  const g: ScalarFn = (...xs) => {
    const grads = born.grad(f(...xs), wrt.map((k) => xs[k]!));
    return grads.map((gk, i) => weightedSum(gk, 1000 + i)).reduce((a, b) => a.add(b));
  };
  await gradcheck(g, inputs, { ...opts, wrt, label: `${opts.label ?? ''} (second order)` });
}

/** Expects born.grad(out, [x])[0] to equal `want` (by hand-derived rules, e.g. ties). */
export async function expectGrad(out: Tensor, x: Tensor, want: NDArray, tol = { rtol: 1e-12, atol: 1e-12 }, what = 'gradient'): Promise<void> {
  const [g] = born.grad(out, [x]);
  expect([...g!.shape], `${what}: shape`).toEqual([...want.shape]);
  expect(g!.dtype, `${what}: dtype`).toBe(x.dtype);
  expectClose(await g!.data(), want.data, want.shape, tol, what);
}

export { toBorn, NDArray, ref };
