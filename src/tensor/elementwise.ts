/**
 * Elementwise ops: the primitives of the op table, with PyTorch's dtype promotion and
 * broadcasting, and the composites (gelu, softmax's pieces, …) written once on top of them.
 */
import { isFloat, resultType, type DType, type Participant } from '../graph/dtype.js';
import type { DeviceName } from '../graph/node.js';
import { DTypeError, fmt } from '../graph/errors.js';
import { ops, type BinaryOp, type UnaryOp } from '../graph/ops.js';
import { broadcastShapes } from '../graph/shape.js';
import { broadcastTo, cast, full, node } from './make.js';
import { Tensor } from './tensor.js';
import { describeArg, isPlainObject, options } from './args.js';
import { tensor, type NestedArray } from './creation.js';

export type TensorLike = Tensor | number | boolean;
/** What an elementwise op takes as an operand: a tensor, a number, a boolean or a nested array of them. */
export type OperandLike = TensorLike | NestedArray;

const isLeaf = (v: unknown): boolean => typeof v === 'number' || typeof v === 'boolean';
const allLeaves = (v: unknown): boolean => (Array.isArray(v) ? v.every(allLeaves) : isLeaf(v));

/**
 * An operand of `op` as a tensor or a JS scalar. A nested array becomes a tensor as born.tensor
 * makes it (float32, or bool for booleans), on `device` (the other operands' device: a literal
 * list beside a WebGPU tensor is a WebGPU constant, not a second device); anything else
 * (undefined, null, a string, an object) is a TypeError, so it never turns into NaN or 0 on the way.
 */
export function operand(op: string, v: unknown, device?: DeviceName): TensorLike {
  if (v instanceof Tensor || isLeaf(v)) return v as TensorLike;
  if (Array.isArray(v) && allLeaves(v)) return tensor(v as NestedArray, device ? { device } : {});
  throw new TypeError(`${op}: expected a tensor, a number, a boolean or a nested array of numbers as operand, got ${describeArg(v)}`);
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const def = ops[op];
  let t = x;
  if ('floatOnly' in def && def.floatOnly && !isFloat(t.dtype)) t = cast(t, 'float32');
  const dtype: DType = def.dtype === 'bool' ? 'bool' : t.dtype;
  return node({ kind: 'elementwise', op }, [t], t.shape, dtype);
}

const participant = (x: TensorLike): Participant =>
  (x instanceof Tensor ? { kind: 'tensor', dtype: x.dtype, ndim: x.ndim } : { kind: 'scalar', value: x });

/**
 * Bring operands to one dtype with torch.result_type's rules: tensors with dims decide, a 0-d
 * tensor or a JS number only raises the category (int32 + 2.5 is float32, float16 + 2.5 stays
 * float16, float16 + a 0-d float32 tensor stays float16).
 */
/** The device of the first tensor among `vs`, where nested-array operands are made. */
export const deviceOf = (...vs: readonly unknown[]): DeviceName | undefined =>
  (vs.find((v) => v instanceof Tensor) as Tensor | undefined)?.device;

export function operands(op: string, a0: OperandLike, b0: OperandLike, device = deviceOf(a0, b0)): [Tensor, Tensor] {
  const a = operand(op, a0, device), b = operand(op, b0, device);
  const d = resultType(participant(a), participant(b));
  const as = (x: TensorLike): Tensor => (x instanceof Tensor ? cast(x, d) : full([], Number(x), d));
  return [as(a), as(b)];
}

export function binary(op: BinaryOp, a: OperandLike, b: OperandLike, name: string = op): Tensor {
  let [x, y] = operands(name, a, b);
  const def = ops[op];
  if (def.dtype === 'float' && !isFloat(x.dtype)) { x = cast(x, 'float32'); y = cast(y, 'float32'); }
  // Arithmetic on bools counts in int32 (true + true = 2).
  if (def.dtype === 'same' && x.dtype === 'bool' && op !== 'maximum' && op !== 'minimum') { x = cast(x, 'int32'); y = cast(y, 'int32'); }
  const shape = broadcastShapes(name, x.shape, y.shape);
  const dtype: DType = def.dtype === 'bool' ? 'bool' : x.dtype;
  return node({ kind: 'elementwise', op }, [broadcastTo(x, shape), broadcastTo(y, shape)], shape, dtype);
}

export function where(cond0: Tensor | boolean | NestedArray, a: OperandLike, b: OperandLike): Tensor {
  const device = deviceOf(cond0, a, b);
  const cond = operand('where', cond0, device);
  if (cond instanceof Tensor && cond.dtype !== 'bool') {
    throw new DTypeError(`where: the condition must be a bool tensor, got ${cond.dtype} of shape ${fmt(cond.shape)} (compare first, e.g. x.gt(0))`);
  }
  if (typeof cond === 'number') throw new DTypeError(`where: the condition must be a bool tensor or a boolean, got the number ${cond}`);
  const c = cond instanceof Tensor ? cond : full([], Number(cond), 'bool');
  const [x, y] = operands('where', a, b, device);
  const shape = broadcastShapes('where', c.shape, x.shape, y.shape);
  return node({ kind: 'elementwise', op: 'where' }, [broadcastTo(c, shape), broadcastTo(x, shape), broadcastTo(y, shape)], shape, x.dtype);
}

/** x, or x as float32 when it is not a float dtype (what float ops compute in). */
export const floatOf = (x: Tensor): Tensor => (isFloat(x.dtype) ? x : cast(x, 'float32'));

export function pow(x: Tensor, e0: OperandLike): Tensor {
  const e = operand('pow', e0);
  // Squares are common (variance, norms) and exact as products.
  if (e === 2) return binary('mul', x, x, 'pow');
  if (e === 1) return x;
  if (e === 0.5) return unary('sqrt', x);
  return binary('pow', x, e);
}

export const relu = (x: Tensor): Tensor => (x.dtype === 'bool' ? x : unary('relu', x));
export const sigmoid = (x: Tensor): Tensor => unary('recip', binary('add', unary('exp', unary('neg', floatOf(x))), 1));
export const silu = (x: Tensor): Tensor => binary('mul', floatOf(x), sigmoid(x));
export const rsqrt = (x: Tensor): Tensor => unary('recip', unary('sqrt', x));

/** GELU; 'none' is PyTorch's default, exact with erf, 'tanh' its approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const v = floatOf(x);
  if (approximate === 'tanh') {
    const inner = v.add(v.mul(v).mul(v).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return v.mul(0.5).mul(inner.tanh().add(1));
  }
  return v.mul(0.5).mul(unary('erf', v.mul(Math.SQRT1_2)).add(1));
}

/** log(1 + exp(βx)) / β, linear above the threshold as in PyTorch. */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const v = floatOf(x);
  const bx = v.mul(beta);
  return where(bx.gt(threshold), v, unary('log1p', bx.exp()).div(beta));
}

export function clamp(x: Tensor, min0?: OperandLike, max0?: OperandLike, name = 'clamp'): Tensor {
  if (min0 === undefined && max0 === undefined) throw new DTypeError(`${name}: give at least one of min and max (tensor of shape ${fmt(x.shape)})`);
  const min = min0 === undefined ? undefined : operand(name, min0), max = max0 === undefined ? undefined : operand(name, max0);
  // Selects rather than maximum/minimum: the gradient passes in full at the bounds, as in PyTorch.
  let t = x;
  if (min !== undefined) t = where(binary('lt', t, min, name), min, t);
  if (max !== undefined) t = where(binary('lt', max, t, name), max, t);
  return t;
}

/** clamp's call forms: `clamp(min, max)` (either may be undefined) or `clamp({ min, max })`. */
export function clampCall(x: Tensor, a: unknown, b: unknown, name = 'clamp'): Tensor {
  if (isPlainObject(a)) {
    if (b !== undefined) throw new TypeError(`${name}: pass min and max positionally or in one options object, not both`);
    const o = options<{ min?: OperandLike; max?: OperandLike }>(name, a, ['min', 'max']);
    return clamp(x, o.min, o.max, name);
  }
  return clamp(x, a as OperandLike | undefined, b as OperandLike | undefined, name);
}
