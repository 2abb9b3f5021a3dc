/**
 * Creation from another tensor's shape (zerosLike, onesLike, fullLike, randLike, randnLike) and
 * `empty`. The dtype is the model tensor's unless `{ dtype }` says otherwise, as in PyTorch.
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, fmt } from '../graph/errors.js';
import { checkShape } from '../graph/shape.js';
import { options, shapeThenOptions, describeArg } from './args.js';
import { checkDType, rand, randn } from './creation.js';
import { full, onDevice } from './make.js';
import { Tensor } from './tensor.js';

export interface LikeOptions<D extends DType = DType> { dtype?: D }
export interface RandomLikeOptions<D extends DType = DType> { dtype?: D; seed?: number }

function model(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor to take the shape from, got ${describeArg(x)}`);
  return x;
}
function dtypeOf(op: string, x: Tensor, o: { dtype?: DType }): DType {
  return o.dtype === undefined ? x.dtype : checkDType(op, o.dtype);
}
/** `made`, on x's device (PyTorch's *_like functions keep the device). */
const onDeviceOf = (made: Tensor, x: Tensor): Tensor => onDevice(made, x.node.device);
function filled(op: string, x: unknown, value: number, opts: unknown): Tensor {
  const t = model(op, x);
  return onDeviceOf(full(t.shape, value, dtypeOf(op, t, options<LikeOptions>(op, opts, ['dtype']))), t);
}

/** Zeros of x's shape and dtype (or `{ dtype }`): `born.zerosLike(x)`. */
export function zerosLike<D extends DType>(x: Tensor<D>): Tensor<D>;
export function zerosLike<E extends DType>(x: Tensor, opts: LikeOptions<E> & { dtype: E }): Tensor<E>;
export function zerosLike(x: Tensor, opts?: LikeOptions): Tensor;
export function zerosLike(x: Tensor, opts?: LikeOptions): Tensor { return filled('zerosLike', x, 0, opts); }

/** Ones of x's shape and dtype (or `{ dtype }`): `born.onesLike(x)`. */
export function onesLike<D extends DType>(x: Tensor<D>): Tensor<D>;
export function onesLike<E extends DType>(x: Tensor, opts: LikeOptions<E> & { dtype: E }): Tensor<E>;
export function onesLike(x: Tensor, opts?: LikeOptions): Tensor;
export function onesLike(x: Tensor, opts?: LikeOptions): Tensor { return filled('onesLike', x, 1, opts); }

/** `value` everywhere, in x's shape and dtype (or `{ dtype }`): `born.fullLike(x, 7)`. */
export function fullLike<D extends DType>(x: Tensor<D>, value: number | boolean): Tensor<D>;
export function fullLike<E extends DType>(x: Tensor, value: number | boolean, opts: LikeOptions<E> & { dtype: E }): Tensor<E>;
export function fullLike(x: Tensor, value: number | boolean, opts?: LikeOptions): Tensor;
export function fullLike(x: Tensor, value: number | boolean, opts?: LikeOptions): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`fullLike: the fill value must be a number or boolean, got ${describeArg(value)}`);
  return filled('fullLike', x, Number(value), opts);
}

function randomLike(op: 'randLike' | 'randnLike', x: unknown, opts: unknown): Tensor {
  const t = model(op, x);
  const o = options<RandomLikeOptions>(op, opts, ['dtype', 'seed']);
  const dtype = dtypeOf(op, t, o);
  if (!isFloat(dtype)) {
    throw new DTypeError(`${op}: random values need a floating-point dtype, and the tensor of shape ${fmt(t.shape)} is ${dtype} (pass { dtype: 'float32' })`);
  }
  const ro = o.seed === undefined ? { dtype } : { dtype, seed: o.seed };
  return onDeviceOf(op === 'randLike' ? rand([...t.shape], ro) : randn([...t.shape], ro), t);
}

/** Uniform [0, 1) values of x's shape and dtype (a float dtype), Philox as rand: `born.randLike(x, { seed: 1 })`. */
export function randLike<D extends DType>(x: Tensor<D>, opts?: { seed?: number }): Tensor<D>;
export function randLike<E extends DType>(x: Tensor, opts: RandomLikeOptions<E> & { dtype: E }): Tensor<E>;
export function randLike(x: Tensor, opts?: RandomLikeOptions): Tensor;
export function randLike(x: Tensor, opts?: RandomLikeOptions): Tensor { return randomLike('randLike', x, opts); }

/** Standard normal values of x's shape and dtype (a float dtype), as randn: `born.randnLike(x)`. */
export function randnLike<D extends DType>(x: Tensor<D>, opts?: { seed?: number }): Tensor<D>;
export function randnLike<E extends DType>(x: Tensor, opts: RandomLikeOptions<E> & { dtype: E }): Tensor<E>;
export function randnLike(x: Tensor, opts?: RandomLikeOptions): Tensor;
export function randnLike(x: Tensor, opts?: RandomLikeOptions): Tensor { return randomLike('randnLike', x, opts); }

/**
 * A tensor of the given shape whose values are not to be relied on (torch.empty). In Born it is
 * zeros (a constant that costs no memory until written), so reading it is deterministic:
 * `born.empty(2, 3)` or `born.empty([2, 3], { dtype: 'int32' })`.
 */
export function empty<D extends DType = 'float32'>(...args: [...shape: number[], opts: LikeOptions<D>] | number[] | [shape: readonly number[], opts?: LikeOptions<D>]): Tensor<D> {
  const [shape, opts] = shapeThenOptions<LikeOptions>('empty', args);
  const o = options<LikeOptions>('empty', opts, ['dtype']);
  const dtype = o.dtype === undefined ? 'float32' : checkDType('empty', o.dtype);
  return full(checkShape('empty', shape), 0, dtype) as Tensor<D>;
}
