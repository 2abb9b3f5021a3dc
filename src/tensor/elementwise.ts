/**
 * Elementwise ops: the primitives of the op table, with PyTorch's dtype promotion and
 * broadcasting, and the composites (gelu, softmax's pieces, …) written once on top of them.
 */
import { isFloat, resultType, type DType, type Participant } from '../graph/dtype.js';
import { DTypeError, fmt } from '../graph/errors.js';
import { ops, type BinaryOp, type UnaryOp } from '../graph/ops.js';
import { broadcastShapes } from '../graph/shape.js';
import { broadcastTo, cast, full, node } from './make.js';
import { Tensor } from './tensor.js';

export type TensorLike = Tensor | number | boolean;

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
function operands(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const d = resultType(participant(a), participant(b));
  const as = (x: TensorLike): Tensor => (x instanceof Tensor ? cast(x, d) : full([], Number(x), d));
  return [as(a), as(b)];
}

export function binary(op: BinaryOp, a: TensorLike, b: TensorLike, name: string = op): Tensor {
  let [x, y] = operands(a, b);
  const def = ops[op];
  if (def.dtype === 'float' && !isFloat(x.dtype)) { x = cast(x, 'float32'); y = cast(y, 'float32'); }
  // Arithmetic on bools counts in int32 (true + true = 2).
  if (def.dtype === 'same' && x.dtype === 'bool' && op !== 'maximum' && op !== 'minimum') { x = cast(x, 'int32'); y = cast(y, 'int32'); }
  const shape = broadcastShapes(name, x.shape, y.shape);
  const dtype: DType = def.dtype === 'bool' ? 'bool' : x.dtype;
  return node({ kind: 'elementwise', op }, [broadcastTo(x, shape), broadcastTo(y, shape)], shape, dtype);
}

export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  if (cond instanceof Tensor && cond.dtype !== 'bool') {
    throw new DTypeError(`where: the condition must be a bool tensor, got ${cond.dtype} of shape ${fmt(cond.shape)} (compare first, e.g. x.gt(0))`);
  }
  const c = cond instanceof Tensor ? cond : full([], Number(cond), 'bool');
  const [x, y] = operands(a, b);
  const shape = broadcastShapes('where', c.shape, x.shape, y.shape);
  return node({ kind: 'elementwise', op: 'where' }, [broadcastTo(c, shape), broadcastTo(x, shape), broadcastTo(y, shape)], shape, x.dtype);
}

const floatOf = (x: Tensor): Tensor => (isFloat(x.dtype) ? x : cast(x, 'float32'));

export function pow(x: Tensor, e: TensorLike): Tensor {
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

export function clamp(x: Tensor, min?: number | Tensor, max?: number | Tensor): Tensor {
  if (min === undefined && max === undefined) throw new DTypeError(`clamp: give at least one of min and max (tensor of shape ${fmt(x.shape)})`);
  // Selects rather than maximum/minimum: the gradient passes in full at the bounds, as in PyTorch.
  let t = x;
  if (min !== undefined) t = where(binary('lt', t, min, 'clamp'), min, t);
  if (max !== undefined) t = where(binary('lt', max, t, 'clamp'), max, t);
  return t;
}
