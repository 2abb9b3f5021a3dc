/**
 * The Tensor: a handle on a lazy graph node. Every op records a node and returns at once;
 * data(), item(), tolist() and realize() are the only places computation happens.
 */
import type { ArithResult as ArithOf, DataFor, DType, FloatDType, FloatResult as FloatOf, PromoteScalar, PromoteTensors } from '../graph/dtype.js';

type ArithResult<D extends DType> = Known<D, ArithOf<D>>;
type FloatResult<D extends DType> = Known<D, FloatOf<D>>;
import { DTYPES, publicData } from '../graph/dtype.js';
import { DeviceError, ShapeError, fmt } from '../graph/errors.js';
import { noGradView } from './make.js';
import type { LazyNode } from '../graph/node.js';
import { normAxis, numel } from '../graph/shape.js';
import { detach } from '../scheduler/buffers.js';
import { engine } from '../scheduler/engine.js';
import { readNode } from '../scheduler/realize.js';
import { transfer } from './transfer.js';
import type { DeviceName } from '../devices/device.js';
import * as E from './elementwise.js';
import * as R from './reduce.js';
import * as M from './movement.js';
import * as L from './linalg.js';
import * as J from './join.js';
import * as S from './scan.js';
import * as O from './sort.js';
import * as C from './contract.js';
import * as MM from './movement-more.js';
import { broadcastTo, cast, node } from './make.js';
import { assignAll, checkAssign, ensureBuffer, sliceAssign } from './assign.js';
import * as AD from '../autodiff/grad.js';
import { isFloat } from '../graph/dtype.js';
import {
  choice, dimArg, dims, flag as checkFlag, int, intList, num, oneDimArgs, optInt, options, positionalOrOptions, reduceArgs, shapeArgs, varArgs,
  type Dims, type VarOptions,
} from './args.js';
import { DTypeError } from '../graph/errors.js';
import type { NestedArray, NestedBool } from './creation.js';
import * as MT from './math.js';
import * as AC from './activations.js';
import type { InspectOptions } from 'node:util';
import * as F from './format.js';
import * as IP from './inplace.js';

export type Nested = number | Nested[];
/** An elementwise operand: a tensor, a number, a boolean, or a nested array (made a tensor as born.tensor does). */
type Operand = Tensor | number | boolean | NestedArray;
/** keepdim given positionally (`sum(1, true)`) or as PyTorch's keyword (`sum(1, { keepdim: true })`). */
type KeepArg = boolean | { keepdim?: boolean };
/** A shape or list of dims as one list or as integer arguments (`reshape([3, 2])`, `reshape(3, 2)`). */
type ShapeCall = [readonly number[]] | number[];
type VarCall = [dim?: Dims | VarOptions, unbiasedOrOptions?: boolean | Omit<VarOptions, 'dim'>, keepdim?: boolean];

/**
 * R where D is a known dtype (or union), DType where it is not: ops on a plain `Tensor` give a
 * plain `Tensor`, so `let t = x.add(1); t = f(t)` keeps compiling for untyped code.
 */
export type Known<D extends DType, R extends DType> = DType extends D ? DType : R;
/** The dtype of an elementwise op of a Tensor<D> with operand O, as far as types can tell. */
export type Promoted<D extends DType, O> = Known<D,
  O extends Tensor<infer B> ? Known<B, PromoteTensors<D, B>> : O extends number | boolean ? PromoteScalar<D, O>
    : O extends NestedBool ? PromoteTensors<D, 'bool'> : O extends NestedArray ? PromoteTensors<D, 'float32'> : DType>;
/**
 * What `data()` resolves to. For a tensor whose dtype TypeScript does not know (plain `Tensor`),
 * the number arrays: an int64 tensor still returns its BigInt64Array at run time, so type it
 * (`Tensor<'int64'>`, `.to('int64')`) to see that in the type.
 */
export type DataOf<D extends DType> = DType extends D ? Exclude<DataFor[DType], BigInt64Array> : DataFor[D];
/**
 * The arguments of an op that needs a floating-point tensor: on a tensor whose dtype TypeScript
 * knows to be an integer or bool one, the call does not compile (PyTorch refuses it at run time).
 * (Arguments rather than `this`, because method arguments keep Tensor<'float32'> assignable to
 * Tensor.)
 */
export type FloatArgs<D extends DType, A extends unknown[]> = [Extract<D, FloatDType>] extends [never]
  ? [expected_a_floating_point_tensor__convert_with_to_float32: never] : A;

/**
 * A tensor of dtype D. `Tensor` alone is a tensor of any dtype; creation functions, `to(dtype)`
 * and ops carry D where TypeScript can see it, so `data()` resolves to the matching array
 * (Float32Array for float32, BigInt64Array for int64, …; see DataFor).
 */
// `out`: a Tensor<'float32'> is a Tensor. TypeScript cannot prove it through the conditional
// result types (DataOf, Known), which hold for every concrete dtype, so it is declared (and
// checked by test/types.test.ts; consumers of the .d.ts see no error, skipLibCheck or not).
// @ts-expect-error TS2636 (the variance annotation is checked by the type tests instead)
export class Tensor<out D extends DType = DType> {
  constructor(node: LazyNode) {
    this.node = node;
  }
  /** The graph node this tensor stands for; assign() moves a tensor (a parameter) to a new one. */
  node: LazyNode;

  get shape(): readonly number[] { return this.node.shape; }
  get dtype(): D { return this.node.dtype as D; }
  /** Where the tensor lives and is computed (see LazyNode.device: a constant goes to the default device). */
  get device(): DeviceName { return this.node.device ?? engine.defaultDevice; }
  get ndim(): number { return this.node.shape.length; }
  numel(): number { return numel(this.node.shape); }
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): readonly number[] | number {
    return dim === undefined ? this.shape : this.shape[normAxis('size', dim, this.ndim, this.shape)]!;
  }

  // ---- computation ----
  /** The values in row-major order (half types widened to float32, int64 as a BigInt64Array). */
  async data(): Promise<DataOf<D>> {
    return publicData(this.dtype, await readNode(this.node) as never) as DataOf<D>;
  }
  /** The one value as a number (an int64 beyond 2^53 rounds to the nearest double). */
  async item(): Promise<number> {
    if (this.numel() !== 1) throw new ShapeError(`item: only one-element tensors convert to a number, got shape ${fmt(this.shape)}`);
    return Number((await this.data())[0]!);
  }
  async tolist(): Promise<Nested> {
    const d = await this.data();
    const build = (dim: number, off: number): Nested => {
      if (dim === this.ndim) return Number(d[off]!);
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** Releases the device buffer now instead of when the tensor is collected. */
  dispose(): void {
    detach(this.node);
    this.node.disposed = true;
  }
  [Symbol.dispose](): void { this.dispose(); }

  /** A copy on the CPU (this tensor itself if it is there): PyTorch's x.cpu(). */
  cpu(): Tensor<D> { return this.to('cpu'); }

  to<T extends DType>(target: T): Tensor<T>;
  to(target: DeviceName): Tensor<D>;
  to(target: DType | DeviceName): Tensor;
  to(target: DType | DeviceName): Tensor {
    if ((DTYPES as readonly string[]).includes(target)) return cast(this, target as DType);
    if (target === 'cpu' || target === 'webgpu') return transfer(this, target);
    throw new DeviceError(`to: unknown dtype or device '${String(target)}' (dtypes: ${DTYPES.join(', ')}; devices: cpu, webgpu)`);
  }

  // ---- elementwise ----
  add<O extends Operand>(y: O): Tensor<ArithResult<Promoted<D, O>>> { return E.binary('add', this, y) as never; }
  sub<O extends Operand>(y: O): Tensor<ArithResult<Promoted<D, O>>> { return E.binary('sub', this, y) as never; }
  mul<O extends Operand>(y: O): Tensor<ArithResult<Promoted<D, O>>> { return E.binary('mul', this, y) as never; }
  div<O extends Operand>(y: O): Tensor<FloatResult<Promoted<D, O>>> { return E.binary('div', this, y) as never; }
  pow<O extends Operand>(y: O): Tensor<FloatResult<Promoted<D, O>>> { return E.pow(this, y) as never; }
  maximum<O extends Operand>(y: O): Tensor<Promoted<D, O>> { return E.binary('maximum', this, y) as never; }
  minimum<O extends Operand>(y: O): Tensor<Promoted<D, O>> { return E.binary('minimum', this, y) as never; }
  eq(y: Operand): Tensor<'bool'> { return E.binary('eq', this, y) as Tensor<'bool'>; }
  ne(y: Operand): Tensor<'bool'> { return E.binary('ne', this, y) as Tensor<'bool'>; }
  lt(y: Operand): Tensor<'bool'> { return E.binary('lt', this, y) as Tensor<'bool'>; }
  le(y: Operand): Tensor<'bool'> { return E.binary('le', this, y) as Tensor<'bool'>; }
  gt(y: Operand): Tensor<'bool'> { return E.binary('lt', y, this, 'gt') as Tensor<'bool'>; }
  ge(y: Operand): Tensor<'bool'> { return E.binary('le', y, this, 'ge') as Tensor<'bool'>; }
  neg(): Tensor<D> { return E.unary('neg', this) as Tensor<D>; }
  abs(): Tensor<D> { return E.unary('abs', this) as Tensor<D>; }
  sign(): Tensor<D> { return E.unary('sign', this) as Tensor<D>; }
  exp(): Tensor<FloatResult<D>> { return E.unary('exp', this) as never; }
  log(): Tensor<FloatResult<D>> { return E.unary('log', this) as never; }
  log1p(): Tensor<FloatResult<D>> { return E.unary('log1p', this) as never; }
  sqrt(): Tensor<FloatResult<D>> { return E.unary('sqrt', this) as never; }
  rsqrt(): Tensor<FloatResult<D>> { return E.rsqrt(this) as never; }
  reciprocal(): Tensor<FloatResult<D>> { return E.unary('recip', this) as never; }
  sin(): Tensor<FloatResult<D>> { return E.unary('sin', this) as never; }
  cos(): Tensor<FloatResult<D>> { return E.unary('cos', this) as never; }
  tanh(): Tensor<FloatResult<D>> { return E.unary('tanh', this) as never; }
  erf(): Tensor<FloatResult<D>> { return E.unary('erf', this) as never; }
  /** The largest integer ≤ x (torch.floor); integer dtypes are unchanged. */
  floor(): Tensor<D> { return MT.rounding('floor', this) as Tensor<D>; }
  logicalNot(): Tensor<'bool'> { return E.unary('not', this) as Tensor<'bool'>; }
  sigmoid(): Tensor<FloatResult<D>> { return E.sigmoid(this) as never; }
  relu(): Tensor<D> { return E.relu(this) as Tensor<D>; }
  /** GELU, exact (erf) by default: `gelu()`, `gelu('tanh')` or `gelu({ approximate: 'tanh' })`. */
  gelu(approximate?: 'none' | 'tanh' | { approximate?: 'none' | 'tanh' }): Tensor<FloatResult<D>> {
    const a = typeof approximate === 'object' ? options<{ approximate?: unknown }>('gelu', approximate, ['approximate']).approximate : approximate;
    return E.gelu(this, choice('gelu', 'approximate', a, ['none', 'tanh'])) as never;
  }
  silu(): Tensor<FloatResult<D>> { return E.silu(this) as never; }
  /** log(1 + exp(βx)) / β, linear above threshold: `softplus()`, `softplus(2, 10)` or `softplus({ beta: 2, threshold: 10 })`. */
  softplus(...args: [opts?: { beta?: number; threshold?: number }] | [beta?: number, threshold?: number]): Tensor<FloatResult<D>> {
    const o = positionalOrOptions<{ beta: number; threshold: number }>('softplus', args, ['beta', 'threshold']);
    return E.softplus(this, num('softplus', 'beta', o.beta), num('softplus', 'threshold', o.threshold)) as never;
  }
  /** Values limited to [min, max], either bound optional, numbers or tensors: `clamp(0, 1)`, `clamp({ min: 0 })`. */
  clamp(min?: Operand | { min?: Operand; max?: Operand }, max?: Operand): Tensor<D> { return E.clampCall(this, min, max) as Tensor<D>; }

  // ---- elementwise: more math (trigonometric, rounding, predicates, logical and bitwise) ----
  /** Tangent (torch.tan). */
  tan(): Tensor<FloatResult<D>> { return MT.floatUnary('tan', this) as never; }
  /** Arcsine, NaN outside [-1, 1] (torch.asin). */
  asin(): Tensor<FloatResult<D>> { return MT.floatUnary('asin', this) as never; }
  /** Arccosine, NaN outside [-1, 1] (torch.acos). */
  acos(): Tensor<FloatResult<D>> { return MT.floatUnary('acos', this) as never; }
  /** Arctangent (torch.atan). */
  atan(): Tensor<FloatResult<D>> { return MT.floatUnary('atan', this) as never; }
  /** atan(this / other) in the quadrant of (other, this), in (-π, π] (torch.atan2); integers promote to float32. */
  atan2<O extends Operand>(other: O): Tensor<FloatResult<Promoted<D, O>>> { return MT.atan2(this, other) as never; }
  /** Hyperbolic sine (torch.sinh). */
  sinh(): Tensor<FloatResult<D>> { return MT.floatUnary('sinh', this) as never; }
  /** Hyperbolic cosine (torch.cosh). */
  cosh(): Tensor<FloatResult<D>> { return MT.floatUnary('cosh', this) as never; }
  /** Base-2 logarithm (torch.log2). */
  log2(): Tensor<FloatResult<D>> { return MT.floatUnary('log2', this) as never; }
  /** Base-10 logarithm (torch.log10). */
  log10(): Tensor<FloatResult<D>> { return MT.floatUnary('log10', this) as never; }
  /** exp(x) − 1, accurate near 0 (torch.expm1). */
  expm1(): Tensor<FloatResult<D>> { return MT.floatUnary('expm1', this) as never; }
  /** x·x (torch.square); bool counts in int32. */
  square(): Tensor<ArithResult<D>> { return MT.square(this) as never; }
  /** Rounds half to even (torch.round); `{ decimals }` rounds at that many decimal places. Integers are unchanged. */
  round(opts?: { decimals?: number }): Tensor<D> { return MT.round(this, opts) as Tensor<D>; }
  /** The smallest integer ≥ x (torch.ceil); integer dtypes are unchanged. */
  ceil(): Tensor<D> { return MT.rounding('ceil', this) as Tensor<D>; }
  /** x rounded toward zero (torch.trunc); integer dtypes are unchanged. */
  trunc(): Tensor<D> { return MT.rounding('trunc', this) as Tensor<D>; }
  /** Python's modulo: the result has the divisor's sign (torch.remainder; `x.remainder(-3)`). */
  remainder<O extends Operand>(other: O): Tensor<ArithResult<Promoted<D, O>>> { return MT.modulo('remainder', this, other) as never; }
  /** C's fmod: the result has the dividend's sign (torch.fmod). */
  fmod<O extends Operand>(other: O): Tensor<ArithResult<Promoted<D, O>>> { return MT.modulo('fmod', this, other) as never; }
  /** True where x is NaN (torch.isnan). */
  isnan(): Tensor<'bool'> { return MT.isnan(this) as Tensor<'bool'>; }
  /** True where x is ±infinity (torch.isinf). */
  isinf(): Tensor<'bool'> { return MT.isinf(this) as Tensor<'bool'>; }
  /** True where x is neither NaN nor ±infinity (torch.isfinite). */
  isfinite(): Tensor<'bool'> { return MT.isfinite(this) as Tensor<'bool'>; }
  /** Elementwise AND of truth values; nonzero (NaN included) is true (torch.logical_and). */
  logicalAnd(other: Operand): Tensor<'bool'> { return MT.logical('logicalAnd', this, other) as Tensor<'bool'>; }
  /** Elementwise OR of truth values (torch.logical_or). */
  logicalOr(other: Operand): Tensor<'bool'> { return MT.logical('logicalOr', this, other) as Tensor<'bool'>; }
  /** Elementwise XOR of truth values (torch.logical_xor). */
  logicalXor(other: Operand): Tensor<'bool'> { return MT.logical('logicalXor', this, other) as Tensor<'bool'>; }
  /** Bitwise AND of integer or bool tensors (torch.bitwise_and); floats are refused. */
  bitwiseAnd<O extends Operand>(other: O): Tensor<Promoted<D, O>> { return MT.bitwise('bitand', this, other) as never; }
  /** Bitwise OR of integer or bool tensors (torch.bitwise_or). */
  bitwiseOr<O extends Operand>(other: O): Tensor<Promoted<D, O>> { return MT.bitwise('bitor', this, other) as never; }
  /** Bitwise XOR of integer or bool tensors (torch.bitwise_xor). */
  bitwiseXor<O extends Operand>(other: O): Tensor<Promoted<D, O>> { return MT.bitwise('bitxor', this, other) as never; }
  /** Bitwise NOT: ~x for integers, logical not for bool (torch.bitwise_not). */
  bitwiseNot(): Tensor<D> { return MT.bitwiseNot(this) as Tensor<D>; }
  /** x for x > 0, negativeSlope·x otherwise: `leakyRelu(0.2)` or `leakyRelu({ negativeSlope: 0.2 })` (default 0.01). */
  leakyRelu(...args: [negativeSlope?: number] | [opts: { negativeSlope?: number }]): Tensor<FloatResult<D>> { return AC.leakyRelu(this, MT.scalarParams('leakyRelu', args, { negativeSlope: 0.01 }).negativeSlope) as never; }
  /** x for x > 0, alpha·(exp(x) − 1) otherwise: `elu()`, `elu(0.5)` or `elu({ alpha })`. */
  elu(...args: [alpha?: number] | [opts: { alpha?: number }]): Tensor<FloatResult<D>> { return AC.elu(this, MT.scalarParams('elu', args, { alpha: 1 }).alpha) as never; }
  /** Scaled ELU with the self-normalising constants (torch.selu). */
  selu(): Tensor<FloatResult<D>> { return AC.selu(this) as never; }
  /** max(0, x) + min(0, alpha·(exp(x/alpha) − 1)) (torch.celu): `celu()`, `celu(0.5)` or `celu({ alpha })`. */
  celu(...args: [alpha?: number] | [opts: { alpha?: number }]): Tensor<FloatResult<D>> { return AC.celu(this, MT.scalarParams('celu', args, { alpha: 1 }).alpha) as never; }
  /** log(sigmoid(x)), stable for large |x| (torch.nn.functional.logsigmoid). */
  logSigmoid(): Tensor<FloatResult<D>> { return AC.logSigmoid(this) as never; }
  /** x clamped to [minVal, maxVal] (default [-1, 1]): `hardtanh(-2, 2)` or `hardtanh({ minVal, maxVal })`. */
  hardtanh(...args: [minVal?: number, maxVal?: number] | [opts: { minVal?: number; maxVal?: number }]): Tensor<D> { const p = MT.scalarParams('hardtanh', args, { minVal: -1, maxVal: 1 }); return AC.hardtanh(this, p.minVal, p.maxVal) as Tensor<D>; }
  /** x·relu6(x + 3)/6 (torch.nn.functional.hardswish). */
  hardswish(): Tensor<FloatResult<D>> { return AC.hardswish(this) as never; }
  /** relu6(x + 3)/6 (torch.nn.functional.hardsigmoid). */
  hardsigmoid(): Tensor<FloatResult<D>> { return AC.hardsigmoid(this) as never; }
  /** x·tanh(softplus(x)) (torch.nn.functional.mish). */
  mish(): Tensor<FloatResult<D>> { return AC.mish(this) as never; }
  /** this + weight·(end − this), weight a number or a tensor (torch.lerp). */
  lerp(end: Tensor | number, weight: Tensor | number): Tensor<D> { return MT.lerp(this, end, weight) as Tensor<D>; }
  /** This tensor with `value` where mask (bool, broadcastable) is true; keeps this dtype (torch.masked_fill). */
  maskedFill(mask: Tensor<'bool'>, value: number | boolean | Tensor): Tensor<D> { return MT.maskedFill(this, mask, value) as Tensor<D>; }
  /** This tensor where cond is true, other elsewhere: `x.where(x.gt(0), 0)` (torch.Tensor.where). */
  where<O extends Operand>(cond: Tensor<'bool'>, other: O): Tensor<Promoted<D, O>> { return MT.whereMethod(this, cond, other) as never; }
  /** |this − other| ≤ atol + rtol·|other| elementwise: `isclose(y)`, `isclose(y, { rtol, atol, equalNan })` (defaults 1e-5, 1e-8, false). */
  isclose(other: Tensor | number, ...tol: [opts?: MT.IscloseOptions] | [rtol?: number, atol?: number, equalNan?: boolean]): Tensor<'bool'> { return MT.isclose(this, other, MT.closeArgs('isclose', tol)) as Tensor<'bool'>; }
  /**
   * Whether every element is close to other (see isclose). Async because the answer is computed
   * on the device, and reading a value back is always asynchronous in Born; argument errors throw at the call.
   */
  allclose(other: Tensor | number, ...tol: [opts?: MT.IscloseOptions] | [rtol?: number, atol?: number, equalNan?: boolean]): Promise<boolean> { return MT.allclose(this, other, MT.closeArgs('allclose', tol)); }
  /** Whether other has this shape and equal elements (torch.equal; NaN is never equal). Async, like allclose. */
  equal(other: Tensor): Promise<boolean> { return MT.equal(this, other); }

  // ---- reductions ----
  /** The sum over dim (all dims when absent): `sum()`, `sum(1)`, `sum([0, 1], true)`, `sum(1, { keepdim: true })`, `sum({ dim: 1 })`. */
  sum(dim?: Dims | R.ReduceOptions, keepdim?: KeepArg): Tensor<ArithResult<D>> { return R.reduce('sum', this, reduceArgs('sum', dim, keepdim)) as never; }
  /** The mean over dim (all dims when absent); the call forms of sum. */
  mean(...args: FloatArgs<D, [dim?: Dims | R.ReduceOptions, keepdim?: KeepArg]>): Tensor<D> { return R.mean(this, reduceArgs('mean', args[0], args[1])) as Tensor<D>; }
  /**
   * Without a dim, the largest value (`max()`, 0-d); with one, PyTorch's `{ values, indices }`
   * along it (`const { values, indices } = x.max(1)`; indices int32, the first on ties; the
   * gradient goes to that element). `max(other)` is the elementwise maximum. Values only: amax.
   */
  max(): Tensor<D>;
  max(dim: number, keepdim?: KeepArg): R.ValuesIndices<Tensor<D>>;
  max(opts: { dim: number; keepdim?: boolean }): R.ValuesIndices<Tensor<D>>;
  max(opts: { dim?: undefined; keepdim?: boolean }): Tensor<D>;
  max<B extends DType>(other: Tensor<B>): Tensor<Promoted<D, Tensor<B>>>;
  max(dim?: unknown, keepdim?: unknown): Tensor | R.ValuesIndices { return R.maxMin('max', this, dim, keepdim); }
  /** Like max: the smallest value, `{ values, indices }` along a dim, or the elementwise minimum. Values only: amin. */
  min(): Tensor<D>;
  min(dim: number, keepdim?: KeepArg): R.ValuesIndices<Tensor<D>>;
  min(opts: { dim: number; keepdim?: boolean }): R.ValuesIndices<Tensor<D>>;
  min(opts: { dim?: undefined; keepdim?: boolean }): Tensor<D>;
  min<B extends DType>(other: Tensor<B>): Tensor<Promoted<D, Tensor<B>>>;
  min(dim?: unknown, keepdim?: unknown): Tensor | R.ValuesIndices { return R.maxMin('min', this, dim, keepdim); }
  /** The largest values along dim (all dims when absent), values only (torch.amax). */
  amax(dim?: R.ReduceOptions | Dims, keepdim?: KeepArg): Tensor<D> { return R.reduce('max', this, reduceArgs('amax', dim, keepdim), 'amax') as Tensor<D>; }
  /** The smallest values along dim (all dims when absent), values only (torch.amin). */
  amin(dim?: R.ReduceOptions | Dims, keepdim?: KeepArg): Tensor<D> { return R.reduce('min', this, reduceArgs('amin', dim, keepdim), 'amin') as Tensor<D>; }
  /** The index of the first largest value along dim (of the flattened tensor when absent), int32: `argmax(1)`, `argmax(1, true)`, `argmax({ dim: 1 })`. */
  argmax(dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: KeepArg): Tensor<'int32'> { return R.argExtreme('max', this, oneDimArgs('argmax', dim, keepdim)) as Tensor<'int32'>; }
  /** The index of the first smallest value along dim; the call forms of argmax. */
  argmin(dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: KeepArg): Tensor<'int32'> { return R.argExtreme('min', this, oneDimArgs('argmin', dim, keepdim)) as Tensor<'int32'>; }
  /**
   * The variance over dim (all dims when absent), Bessel-corrected by default: `var()`, `var(1)`,
   * `var(1, { correction: 0, keepdim: true })`, PyTorch's `var(1, false)` (unbiased = false) and
   * `var(1, true, true)` (unbiased, keepdim), `var({ dim: 1, correction: 0 })`.
   */
  var(...args: FloatArgs<D, VarCall>): Tensor<D> { return R.variance(this, varArgs('var', args[0], args[1], args[2]), 'var') as Tensor<D>; }
  /** The standard deviation over dim; the call forms of var. */
  std(...args: FloatArgs<D, VarCall>): Tensor<D> { return R.variance(this, varArgs('std', args[0], args[1], args[2]), 'std').sqrt() as Tensor<D>; }
  /** log Σ exp over dim, computed stably; the call forms of sum. */
  logsumexp(...args: FloatArgs<D, [dim?: Dims | R.ReduceOptions, keepdim?: KeepArg]>): Tensor<D> { return R.logsumexp(this, reduceArgs('logsumexp', args[0], args[1])) as Tensor<D>; }
  /** Softmax along dim (default -1): `softmax(1)` or `softmax({ dim: 1 })`. */
  softmax(...args: FloatArgs<D, [dim?: number | { dim?: number }]>): Tensor<D> { return R.softmax(this, dimArg('softmax', args[0], -1)) as Tensor<D>; }
  /** log(softmax) along dim (default -1), computed stably: `logSoftmax(1)` or `logSoftmax({ dim: 1 })`. */
  logSoftmax(...args: FloatArgs<D, [dim?: number | { dim?: number }]>): Tensor<D> { return R.logSoftmax(this, dimArg('logSoftmax', args[0], -1)) as Tensor<D>; }

  // ---- reductions, scans and sorting (prod, all, any, norm, cumsum, sort, topk, …) ----
  /** The product over dim (all dims when absent): `x.prod()`, `x.prod(1, true)`, `x.prod({ dim: 1 })`. Bool counts as int32. */
  prod(dim?: R.ReduceOptions | number | readonly number[], keepdim?: boolean): Tensor<ArithResult<D>> { return S.prod(this, dim, keepdim) as never; }
  /** Whether every element is non-zero, over dim (all dims when absent): a bool tensor. */
  all(dim?: R.ReduceOptions | number | readonly number[], keepdim?: boolean): Tensor<'bool'> { return S.truth('all', this, dim, keepdim); }
  /** Whether some element is non-zero, over dim (all dims when absent): a bool tensor. */
  any(dim?: R.ReduceOptions | number | readonly number[], keepdim?: boolean): Tensor<'bool'> { return S.truth('any', this, dim, keepdim); }
  /**
   * The vector p-norm over dim (all elements when absent), torch.norm: `x.norm()` (2-norm),
   * `x.norm(1)`, `x.norm(Infinity, -1, true)`, `x.norm({ p: 3, dim: [0, 1] })`. Gradient 0 at 0.
   */
  norm(p?: S.NormOrder | S.NormOptions, dim?: number | readonly number[] | Omit<S.NormOptions, 'p'>, keepdim?: boolean): Tensor<D> { return S.norm(this, p, dim, keepdim) as Tensor<D>; }
  /**
   * Inclusive running sum along dim: `x.cumsum(-1)`, `x.cumsum({ dim: -1 })`, `x.cumsum(0, { dtype: 'int64' })`.
   * Integers stay in their dtype (PyTorch: int64); bool gives int32; `dtype` converts the input first.
   */
  cumsum(dim: number | S.ScanOptions, opts?: Omit<S.ScanOptions, 'dim'>): Tensor<ArithResult<D>> { return S.scan('cumsum', this, dim, opts) as never; }
  /** Inclusive running product along dim (options as cumsum); its gradient is exact with zeros in the input. */
  cumprod(dim: number | S.ScanOptions, opts?: Omit<S.ScanOptions, 'dim'>): Tensor<ArithResult<D>> { return S.scan('cumprod', this, dim, opts) as never; }
  /**
   * Sorted values along dim (default -1) and their int32 indices: `x.sort()`, `x.sort(0, true)`,
   * `x.sort({ dim: 0, descending: true })`. Stable always; NaN sorts as the largest value.
   */
  sort(dim?: number | O.SortOptions, descending?: boolean | Omit<O.SortOptions, 'dim'>): O.SortResult<Tensor<D>> { return O.sort(this, dim, descending) as O.SortResult<Tensor<D>>; }
  /** The int32 indices that sort along dim (default -1), as sort's indices. */
  argsort(dim?: number | O.SortOptions, descending?: boolean | Omit<O.SortOptions, 'dim'>): Tensor<'int32'> { return O.argsort(this, dim, descending); }
  /**
   * The k largest (largest: false: smallest) values along dim (default -1) and their int32
   * indices, sorted: `x.topk(5)`, `x.topk(5, 0)`, `x.topk(5, { dim: 0, largest: false })`.
   */
  topk(k: number, dim?: number | O.TopkOptions, largest?: boolean | Omit<O.TopkOptions, 'dim'>, sorted?: boolean): O.SortResult<Tensor<D>> { return O.topk(this, k, dim, largest, sorted) as O.SortResult<Tensor<D>>; }

  // ---- views ----
  /** The same elements in a new shape (one size may be -1): `reshape([3, 2])` or `reshape(3, 2)`. */
  reshape(...shape: ShapeCall): Tensor<D> { return M.reshape(this, shapeArgs('reshape', shape)) as Tensor<D>; }
  /** reshape under PyTorch's other name: `view(-1)`, `view([2, 3])`. */
  view(...shape: ShapeCall): Tensor<D> { return M.reshape(this, shapeArgs('view', shape)) as Tensor<D>; }
  /** Dims startDim..endDim (default all) merged into one. */
  flatten(startDim?: number, endDim?: number): Tensor<D> { return M.flatten(this, optInt('flatten', 'startDim', startDim), optInt('flatten', 'endDim', endDim)) as Tensor<D>; }
  /** Drops size-1 dims: all of them, or those of dim (an integer or a list). */
  squeeze(dim?: number | readonly number[]): Tensor<D> { return M.squeeze(this, dims('squeeze', dim)) as Tensor<D>; }
  /** Inserts a size-1 dim at dim. */
  unsqueeze(dim: number): Tensor<D> { return M.unsqueeze(this, int('unsqueeze', 'dim', dim)) as Tensor<D>; }
  /** The dims reordered: `permute([1, 0])` or `permute(1, 0)`. */
  permute(...dims: ShapeCall): Tensor<D> { return M.permute(this, intList('permute', 'dims', dims)) as Tensor<D>; }
  /** Swaps two dims. */
  transpose(d0: number, d1: number): Tensor<D> { return M.transpose(this, int('transpose', 'dim0', d0), int('transpose', 'dim1', d1)) as Tensor<D>; }
  get T(): Tensor<D> { return M.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)) as Tensor<D>; }
  /** A broadcast view to a larger shape (-1 keeps a dim, new dims go in front): `expand([4, 2, 3])` or `expand(4, 2, 3)`. */
  expand(...shape: ShapeCall): Tensor<D> { return M.expand(this, shapeArgs('expand', shape)) as Tensor<D>; }
  /** Python's `x[..., start:end:step]` along dim (negative indices count from the end). */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor<D> {
    return M.slice(this, int('slice', 'dim', dim), optInt('slice', 'start', start), optInt('slice', 'end', end), optInt('slice', 'step', step)) as Tensor<D>;
  }
  /** `length` elements from `start` along dim (torch.narrow). */
  narrow(dim: number, start: number, length: number): Tensor<D> { return M.narrow(this, int('narrow', 'dim', dim), int('narrow', 'start', start), int('narrow', 'length', length)) as Tensor<D>; }
  /** torch.nn.functional.pad, constant mode: pairs from the last dim back; `pad([1, 1], 0.5)` or `pad([1, 1], { value: 0.5 })`. */
  pad(pads: readonly number[], value?: number | { value?: number }): Tensor<D> {
    return M.pad(this, intList('pad', 'pads', [pads]), num('pad', 'value', positionalOrOptions<{ value: number }>('pad', value === undefined ? [] : [value], ['value']).value)) as Tensor<D>;
  }
  /** Reverses the order along dims: `flip([0, 1])`, `flip(0)` or `flip(0, 1)`. */
  flip(...dims: ShapeCall): Tensor<D> { return M.flip(this, intList('flip', 'dims', dims)) as Tensor<D>; }
  /** `chunks` pieces (the last may be smaller) along dim (default 0): `chunk(3, 1)` or `chunk(3, { dim: 1 })`. */
  chunk(chunks: number, dim?: number | { dim?: number }): Tensor<D>[] { return J.chunk(this, int('chunk', 'chunks', chunks), dimArg('chunk', dim, 0)) as Tensor<D>[]; }
  /** Pieces of `size` along dim (default 0), or of the listed sizes: `split(2, 1)`, `split([1, 2], { dim: 1 })`. */
  split(sizeOrSections: number | readonly number[], dim?: number | { dim?: number }): Tensor<D>[] { return J.split(this, J.sections(sizeOrSections), dimArg('split', dim, 0)) as Tensor<D>[]; }

  // ---- movement composites (repeat, tile, roll, triu, tril, movedim, diag, …) ----
  /** torch.Tensor.repeat: tiled sizes[i] times along dim i (`x.repeat(2, 3)` or `x.repeat([2, 3])`); extra leading sizes add dims. */
  repeat(...sizes: number[] | [readonly number[]]): Tensor<D> { return MM.repeat(this, shapeArgs('repeat', sizes)) as Tensor<D>; }
  /** torch.tile: like repeat, but fewer counts than dims repeat the trailing dims. */
  tile(...dims: number[] | [readonly number[]]): Tensor<D> { return MM.tile(this, shapeArgs('tile', dims)) as Tensor<D>; }
  /** This tensor expanded (zero-copy) to other's shape. */
  expandAs(other: Tensor): Tensor<D> { return MM.expandAs(this, other) as Tensor<D>; }
  /** torch.roll: shifted along dims with wrap-around (`x.roll(1, 0)`, `x.roll([1, -2], [0, 1])`); no dims rolls the flattened tensor. */
  roll(shifts: number | readonly number[] | { shifts: number | readonly number[]; dims?: number | readonly number[] }, dims?: number | readonly number[]): Tensor<D> { return MM.roll(this, shifts, dims) as Tensor<D>; }
  /** torch.movedim: dims moved from source to destination positions (`x.movedim(0, -1)`). */
  movedim(source: number | readonly number[], destination: number | readonly number[]): Tensor<D> { return MM.movedim(this, source, destination) as Tensor<D>; }
  /** torch.triu: zero below diagonal k of the last two dims (`x.triu()`, `x.triu(1)`). */
  triu(diagonal?: number | { diagonal?: number }): Tensor<D> { return MM.triu(this, diagonal) as Tensor<D>; }
  /** torch.tril: zero above diagonal k of the last two dims (`x.tril()`, `x.tril(-1)`). */
  tril(diagonal?: number | { diagonal?: number }): Tensor<D> { return MM.tril(this, diagonal) as Tensor<D>; }
  /** torch.diag: a 1-D tensor → the matrix with it on diagonal k; a matrix → its k-th diagonal. */
  diag(diagonal?: number | { diagonal?: number }): Tensor<D> { return MM.diag(this, diagonal) as Tensor<D>; }
  /** torch.trace: the sum of a matrix's main diagonal (0-d). */
  trace(): Tensor<ArithResult<D>> { return MM.trace(this) as never; }

  // ---- contraction and indexing ----
  matmul<B extends DType>(y: Tensor<B>): Tensor<Known<D, Known<B, PromoteTensors<D, B>>>> { return L.matmul(this, y) as never; }
  gather(dim: number, index: Tensor): Tensor<D> { return L.gather(this, dim, index) as Tensor<D>; }
  indexSelect(dim: number, index: Tensor): Tensor<D> { return L.indexSelect(this, dim, index) as Tensor<D>; }
  /** torch.scatter_add: a new tensor, this with src added at index along dim (repeated indices add up). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor<D> { return L.scatterAdd(this, dim, index, src) as Tensor<D>; }
  /** torch.index_add: a new tensor, this with alpha * source[i] added at slice index[i] along dim. */
  indexAdd(dim: number, index: Tensor, source: Tensor, opts: { alpha?: number } = {}): Tensor<D> {
    return L.indexAdd(this, dim, index, source, opts.alpha) as Tensor<D>;
  }

  // ---- contraction composites (mm, bmm, dot, outer, einsum, scatter, …) ----
  /** torch.mm: [n, m] @ [m, p] for 2-d tensors only (no broadcasting; see matmul). */
  mm(mat2: Tensor): Tensor { return C.mm(this, mat2); }
  /** torch.bmm: [b, n, m] @ [b, m, p] for 3-d tensors with equal batch sizes. */
  bmm(mat2: Tensor): Tensor { return C.bmm(this, mat2); }
  /** torch.dot: the inner product of two 1-d tensors of one length, a 0-d tensor. */
  dot(other: Tensor): Tensor { return C.dot(this, other); }
  /** torch.outer: the [n, m] outer product of 1-d tensors of lengths n and m. */
  outer(vec2: Tensor): Tensor { return C.outer(this, vec2); }
  /**
   * torch.scatter (a new tensor, not in place): this with src written at index along dim; src
   * is a tensor of this dtype or a number. Repeated indices: a number is written once, tensor
   * values are averaged (PyTorch leaves it undefined).
   */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor<D> { return C.scatter(this, dim, index, src) as Tensor<D>; }
  /** This tensor when its elements are in row-major order already, else a (lazy, fused) copy that is. */
  contiguous(): Tensor<D> { return C.contiguous(this) as Tensor<D>; }

  // ---- autodiff ----
  get requiresGrad(): boolean { return this.node.requiresGrad; }
  /** Marks a leaf whose gradient backward() accumulates into .grad; its history is kept once realised. */
  requiresGrad_(...args: FloatArgs<D, [flag?: boolean]>): this {
    const flag = checkFlag('requiresGrad_', 'flag', args[0]) ?? true;
    if (flag && !isFloat(this.dtype)) throw new DTypeError(`requiresGrad_: only floating-point tensors can require gradients, got ${this.dtype}`);
    this.node.requiresGrad = flag;
    this.node.gradLeaf = flag;
    return this;
  }
  get grad(): Tensor | null { return this.node.grad ? new Tensor(this.node.grad) : null; }
  set grad(g: Tensor | null) { this.node.grad = g ? g.node : null; }
  zeroGrad(): void { this.node.grad = null; }
  /** Accumulates gradients into the leaves' .grad: `backward()`, PyTorch's `backward(gradient)` or `backward({ gradOutput })`. */
  backward(gradOutput?: Tensor | { gradOutput?: Tensor }): void {
    AD.backward(this, gradOutput instanceof Tensor ? { gradOutput } : options<{ gradOutput?: Tensor }>('backward', gradOutput, ['gradOutput']));
  }
  /**
   * A copy with storage of its own (PyTorch's clone): realised, it never shares a buffer with
   * this tensor, so in-place writes to one do not show in the other. Differentiable.
   */
  clone(): Tensor { return node({ kind: 'cast' }, [this], this.shape, this.dtype); }
  /** The same values, cut from the graph: no gradient flows through it. */
  detach(): Tensor<D> { return noGradView(this) as Tensor<D>; }

  /**
   * Makes this tensor hold `value` from now on (PyTorch's `p.data = value` / `p.copy_(value)`):
   * optimizers update parameters this way. A tensor that holds a buffer is written in place —
   * every tensor sharing the buffer sees the new value in schedules started after this call,
   * and reads started before it see the old one; a tensor without a buffer yet just moves to
   * the value's node. The value is cut from its history; requiresGrad and .grad stay.
   */
  assign(value: Tensor): this {
    checkAssign('assign', this, value);
    assignAll([[this, value]]).catch(() => {}); // a failure surfaces when this tensor is read
    return this;
  }

  /**
   * PyTorch's `copy_`: writes `src` (broadcast to this shape, cast to this dtype) into this
   * tensor's buffer, computing this tensor first if it has none.
   */
  copy_(src: Tensor): this {
    if (src.ndim > this.ndim) throw new ShapeError(`copy_: a tensor of shape ${fmt(src.shape)} cannot be copied into one of shape ${fmt(this.shape)}`);
    const v = broadcastTo(cast(src, this.dtype), this.shape);
    ensureBuffer(this, 'copy_');
    return this.assign(v);
  }

  /**
   * In place, `this[..., start:start + n, ...] = values` along `dim` (n = values.shape[dim];
   * the other dims broadcast). `start` is a number (part of the kernel) or a 0-d int32 tensor —
   * `born.scalar(pos, { dtype: 'int32' })` — whose value is a runtime argument, so filling a
   * preallocated cache position by position compiles one kernel. Returns this tensor.
   */
  sliceAssign_(dim: number, start: number | Tensor, values: Tensor): this {
    sliceAssign(this, dim, start, values);
    return this;
  }

  // ---- in-place ops (fill_, zero_, add_, mul_, clamp_, …) ----
  /** In place: every element = value (cast to this dtype), like PyTorch's fill_. Returns this tensor. */
  fill_(value: number | boolean | Tensor): this { IP.fill(this, value); return this; }
  /** In place: every element = 0. Returns this tensor. */
  zero_(): this { IP.fill(this, 0, 'zero_'); return this; }
  /** In place: this += alpha · y (y broadcasts to this shape; the dtype stays). `x.add_(y, { alpha: 2 })`. */
  add_(y: Operand, opts?: { alpha?: number }): this { IP.addSub('add_', this, y, opts); return this; }
  /** In place: this -= alpha · y (y broadcasts to this shape; the dtype stays). */
  sub_(y: Operand, opts?: { alpha?: number }): this { IP.addSub('sub_', this, y, opts); return this; }
  /** In place: this *= y (y broadcasts to this shape; the dtype stays). */
  mul_(y: Operand): this { IP.mulDiv('mul_', this, y); return this; }
  /** In place: this /= y (true division, so this must be a float tensor). */
  div_(y: Operand): this { IP.mulDiv('div_', this, y); return this; }
  /** In place: this limited to [min, max]: `x.clamp_(0, 1)`, `x.clamp_({ min: 0 })`. */
  clamp_(min?: number | Tensor | IP.ClampOptions | null, max?: number | Tensor | null): this { IP.clampInPlace(this, min, max); return this; }

  toString(): string { return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${this.device})`; }

  // ---- printing ----
  /** console.log(t): values (if computed), shape, dtype, device; never computes (see format.ts). */
  [Symbol.for('nodejs.util.inspect.custom')](depth: number, options: InspectOptions): string { return F.inspect(this, depth, options); }
  /** Computes the tensor and prints it as PyTorch's print(t) would; resolves to the text. */
  async print(): Promise<string> { const s = await F.format(this); console.log(s); return s; }
}

export type { DataFor };
