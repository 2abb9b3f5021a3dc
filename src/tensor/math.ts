/**
 * More elementwise math with PyTorch's names and dtype rules: trigonometric and hyperbolic
 * functions, rounding, remainders, float predicates, logical and bitwise ops, lerp, maskedFill,
 * and the closeness tests. Primitives come from the op table; the rest are composites, so their
 * gradients follow from the primitives' rules.
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import type { UnaryOp } from '../graph/ops.js';
import { broadcastShapes, sameShape } from '../graph/shape.js';
import { describeArg, isPlainObject, options, positionalOrOptions } from './args.js';
import * as E from './elementwise.js';
import { broadcastTo, cast, full, node, rounded } from './make.js';
import { Tensor } from './tensor.js';

/** What a binary op accepts as its other operand (see elementwise.ts). */
export type Operand = E.TensorLike;

/** `v` as an operand of `op` (a nested array becomes a tensor), or a TypeError naming what would be valid. */
export const operand = (op: string, v: unknown, beside?: Tensor): Operand => E.operand(op, v, beside?.device);

/** A number argument (a slope, a bound, a tolerance). */
export function numberArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describeArg(v)}`);
  return v;
}

/**
 * Scalar parameters given positionally (`leakyRelu(0.2)`, `hardtanh(-2, 2)`) or as one options
 * object (`{ negativeSlope: 0.2 }`), each defaulting as in PyTorch.
 */
export function scalarParams<K extends string>(op: string, args: readonly unknown[], defaults: Record<K, number>): Record<K, number> {
  const keys = Object.keys(defaults) as K[];
  const given = positionalOrOptions<Record<K, unknown>>(op, args, keys);
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = given[k] === undefined ? defaults[k] : numberArg(op, k, given[k]);
  return out;
}

/**
 * Rounding ops and predicates see the float32 value PyTorch's op-by-op kernels see: a fused
 * chain keeps intermediates in double, where x * 1e30 is finite and 0.1 * 3 is not 0.3f.
 */
const asStored = (x: Operand): Operand => (x instanceof Tensor ? rounded(x) : x);

function noBool(op: string, x: Tensor): void {
  if (x.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors (shape ${fmt(x.shape)}); convert first, e.g. .to('int32')`);
}

/** A float unary primitive (tan, asin, …, expm1): integer and bool inputs compute in float32. */
export const floatUnary = (op: UnaryOp, x: Tensor): Tensor => E.unary(op, x);

/** round (half to even), ceil, trunc, floor: float dtypes keep theirs, integers pass through, bool is refused. */
export function rounding(op: 'round' | 'ceil' | 'trunc' | 'floor', x: Tensor): Tensor {
  noBool(op, x);
  return E.unary(op, isFloat(x.dtype) ? rounded(x) : x);
}

/** torch.round(x, decimals=d): x rounded half to even at d decimal places (negative d: tens, hundreds, …). */
export function round(x: Tensor, opts?: unknown): Tensor {
  const { decimals = 0 } = options<{ decimals?: number }>('round', opts, ['decimals']);
  if (!Number.isInteger(decimals)) throw new TypeError(`round: decimals must be an integer, got ${describeArg(decimals)}`);
  if (decimals === 0) return rounding('round', x);
  if (!isFloat(x.dtype)) throw new DTypeError(`round: decimals needs a floating-point tensor, got ${x.dtype} (integers have no decimals to round)`);
  // PyTorch's order: scale, round, unscale, each rounded to the dtype.
  const p = 10 ** Math.abs(decimals);
  return decimals > 0 ? rounding('round', x.mul(p)).div(p) : rounding('round', x.div(p)).mul(p);
}

export const square = (x: Tensor): Tensor => x.mul(x);

export function atan2(a: Tensor, b: unknown): Tensor {
  return E.binary('atan2', a, operand('atan2', b, a));
}

/** remainder (Python's %, the divisor's sign) and fmod (C's, the dividend's sign). */
export function modulo(op: 'remainder' | 'fmod', a: Tensor, b: unknown): Tensor {
  const y = operand(op, b, a);
  noBool(op, a);
  if (y instanceof Tensor) noBool(op, y);
  return E.binary(op, asStored(a), asStored(y));
}

// ---- predicates ----

export function isnan(x: Tensor): Tensor {
  const v = rounded(x);
  return E.binary('ne', v, v, 'isnan');
}

export function isinf(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) return full(x.shape, 0, 'bool');
  return E.binary('eq', rounded(x).abs(), Infinity, 'isinf');
}

export function isfinite(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) return full(x.shape, 1, 'bool');
  return E.binary('lt', rounded(x).abs(), Infinity, 'isfinite'); // NaN < inf is false
}

// ---- logical and bitwise ----

/** Truth as PyTorch's logical ops read it: nonzero is true, NaN included. */
function truth(op: string, v: unknown, beside?: Tensor): Tensor {
  const x = operand(op, v, beside);
  return x instanceof Tensor ? cast(x, 'bool') : full([], x !== 0 && x !== false ? 1 : 0, 'bool');
}

export function logical(op: 'logicalAnd' | 'logicalOr' | 'logicalXor', a: Tensor, b: unknown): Tensor {
  const x = truth(op, a), y = truth(op, b, a);
  broadcastShapes(op, x.shape, y.shape);
  switch (op) {
    case 'logicalAnd': return E.where(x, y, false);
    case 'logicalOr': return E.where(x, true, y);
    case 'logicalXor': return E.binary('ne', x, y, op);
  }
}

const bitwiseName = { bitand: 'bitwiseAnd', bitor: 'bitwiseOr', bitxor: 'bitwiseXor' } as const;

function refuseFloat(op: string, d: DType, what: string): void {
  if (isFloat(d)) {
    throw new DTypeError(`${op}: bitwise ops take integer or bool tensors, got ${what} (a floating-point dtype has no bits to combine; convert with .to('int32') or compare first)`);
  }
}

/** bitwiseAnd / Or / Xor: integers and bool (bool stays bool, unlike arithmetic on bools). */
export function bitwise(op: 'bitand' | 'bitor' | 'bitxor', a: Tensor, b: unknown): Tensor {
  const name = bitwiseName[op];
  const y = operand(name, b, a);
  const [x, z] = E.operands(name, a, y);
  const d = x.dtype;
  const desc = (v: Operand): string => (v instanceof Tensor ? `${v.dtype} of shape ${fmt(v.shape)}` : `the number ${String(v)}`);
  refuseFloat(name, d, `${desc(a)} and ${desc(y)} (which promote to ${d})`);
  const shape = broadcastShapes(name, x.shape, z.shape);
  return node({ kind: 'elementwise', op }, [broadcastTo(x, shape), broadcastTo(z, shape)], shape, d);
}

export function bitwiseNot(x: Tensor): Tensor {
  refuseFloat('bitwiseNot', x.dtype, `${x.dtype} of shape ${fmt(x.shape)}`);
  return node({ kind: 'elementwise', op: 'bitnot' }, [x], x.shape, x.dtype);
}

// ---- selection and interpolation ----

/**
 * start + weight·(end − start), computed as PyTorch does (from the nearer end when |weight| ≥ 0.5,
 * so weight 1 gives end exactly).
 */
export function lerp(start: Tensor, end: unknown, weight: unknown): Tensor {
  if (!isFloat(start.dtype)) throw new DTypeError(`lerp: expected a floating-point tensor, got ${start.dtype} of shape ${fmt(start.shape)} (convert with .to('float32'))`);
  const e = operand('lerp', end, start);
  const w = operand('lerp', weight, start);
  if (typeof w === 'boolean') throw new TypeError('lerp: weight must be a number or a Tensor, got a boolean');
  const diff = start.sub(e).neg();
  const fromStart = (): Tensor => start.add(diff.mul(w));
  const fromEnd = (): Tensor => diff.mul(typeof w === 'number' ? 1 - w : E.binary('sub', 1, w)).neg().add(e);
  if (typeof w === 'number') return Math.abs(w) < 0.5 ? fromStart() : fromEnd();
  return E.where(w.abs().lt(0.5), fromStart(), fromEnd());
}

function boolMask(op: string, mask: unknown): Tensor {
  if (!(mask instanceof Tensor)) throw new TypeError(`${op}: mask must be a bool Tensor, got ${describeArg(mask)}`);
  if (mask.dtype !== 'bool') throw new DTypeError(`${op}: mask must be a bool tensor, got ${mask.dtype} of shape ${fmt(mask.shape)} (compare first, e.g. x.gt(0))`);
  return mask;
}

/** x with `value` where mask is true; the result keeps x's dtype (the value is cast to it). */
export function maskedFill(x: Tensor, mask: unknown, value: unknown): Tensor {
  const m = boolMask('maskedFill', mask);
  const v = operand('maskedFill', value, x);
  if (v instanceof Tensor && v.ndim !== 0) {
    throw new ShapeError(`maskedFill: value must be a number or a 0-d tensor, got a tensor of shape ${fmt(v.shape)}`);
  }
  return E.where(m, v instanceof Tensor ? cast(v, x.dtype) : full([], Number(v), x.dtype), x);
}

/** x where cond is true, other elsewhere (PyTorch's x.where(cond, y)). */
export function whereMethod(x: Tensor, cond: unknown, other: unknown): Tensor {
  return E.where(boolMask('where', cond), x, operand('where', other, x));
}

// ---- closeness ----

export interface IscloseOptions { rtol?: number; atol?: number; equalNan?: boolean }

/** isclose's tolerances: `(other, rtol, atol, equalNan)` or `(other, { rtol, atol, equalNan })`. */
export function closeArgs(op: string, args: readonly unknown[]): Required<IscloseOptions> {
  let o: IscloseOptions;
  if (args.length === 1 && isPlainObject(args[0])) o = options<IscloseOptions>(op, args[0], ['rtol', 'atol', 'equalNan']);
  else if (args.length > 3) throw new TypeError(`${op}: expected (other, rtol?, atol?, equalNan?) or (other, { rtol, atol, equalNan }), got ${args.length + 1} arguments`);
  else o = { rtol: args[0] as number, atol: args[1] as number, equalNan: args[2] as boolean };
  const rtol = o.rtol === undefined ? 1e-5 : numberArg(op, 'rtol', o.rtol);
  const atol = o.atol === undefined ? 1e-8 : numberArg(op, 'atol', o.atol);
  if (o.equalNan !== undefined && typeof o.equalNan !== 'boolean') throw new TypeError(`${op}: equalNan must be true or false, got ${describeArg(o.equalNan)}`);
  if (!(rtol >= 0) || !(atol >= 0)) throw new RangeError(`${op}: rtol and atol must be non-negative, got rtol ${rtol}, atol ${atol}`);
  return { rtol, atol, equalNan: o.equalNan ?? false };
}

/**
 * |a − b| ≤ atol + rtol·|b| elementwise (bool), with PyTorch's rules: equal values (infinities
 * included) are close, NaN is close to NaN only with equalNan, a and b must share a dtype.
 */
export function isclose(a: Tensor, other: unknown, tol: Required<IscloseOptions>, op = 'isclose'): Tensor {
  const o = operand(op, other, a);
  const b = o instanceof Tensor ? o : full([], Number(o), a.dtype);
  if (b.dtype !== a.dtype) {
    throw new DTypeError(`${op}: both tensors must have the same dtype, got ${a.dtype} and ${b.dtype} (convert one with .to('${a.dtype}'))`);
  }
  let close = E.binary('eq', a, b, op);
  if (tol.equalNan && isFloat(a.dtype)) close = logical('logicalOr', close, logical('logicalAnd', isnan(a), isnan(b)));
  if (tol.rtol === 0 && tol.atol === 0) return close;
  const [x, y] = a.dtype === 'bool' ? [cast(a, 'float32'), cast(b, 'float32')] : [a, b];
  const allowed = rounded(rounded(y.mul(tol.rtol)).abs().add(tol.atol));
  const actual = rounded(rounded(x.sub(y)).abs());
  return logical('logicalOr', close, logical('logicalAnd', isfinite(actual), E.binary('le', actual, allowed, op)));
}

/** Whether no element of the bool tensor t is false, read from the device. */
async function allTrue(t: Tensor): Promise<boolean> {
  return (await E.unary('not', t).to('int32').sum().item()) === 0;
}

/**
 * Whether every element is close (see isclose). The graph is built, and bad arguments throw,
 * at the call; the answer is a value computed on the device, so it comes back as a promise.
 */
export function allclose(a: Tensor, other: unknown, tol: Required<IscloseOptions>): Promise<boolean> {
  return allTrue(isclose(a, other, tol, 'allclose'));
}

/** Same shape and equal elements (after dtype promotion, as torch.equal): NaN is never equal. */
export function equal(a: Tensor, other: unknown): Promise<boolean> {
  if (!(other instanceof Tensor)) throw new TypeError(`equal: other must be a Tensor, got ${describeArg(other)}`);
  if (!sameShape(a.shape, other.shape)) return Promise.resolve(false);
  return allTrue(E.binary('eq', a, other, 'equal'));
}

