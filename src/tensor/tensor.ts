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
import type { DeviceName } from '../devices/device.js';
import * as E from './elementwise.js';
import * as R from './reduce.js';
import * as M from './movement.js';
import * as L from './linalg.js';
import * as J from './join.js';
import * as MM from './movement-more.js';
import { broadcastTo, cast, node } from './make.js';
import { assignAll, checkAssign, ensureBuffer, sliceAssign } from './assign.js';
import * as AD from '../autodiff/grad.js';
import { isFloat } from '../graph/dtype.js';
import { reduceArgs } from './args.js';
import { DTypeError } from '../graph/errors.js';

export type Nested = number | Nested[];
type Operand = Tensor | number | boolean;

/**
 * R where D is a known dtype (or union), DType where it is not: ops on a plain `Tensor` give a
 * plain `Tensor`, so `let t = x.add(1); t = f(t)` keeps compiling for untyped code.
 */
export type Known<D extends DType, R extends DType> = DType extends D ? DType : R;
/** The dtype of an elementwise op of a Tensor<D> with operand O, as far as types can tell. */
export type Promoted<D extends DType, O> = Known<D,
  O extends Tensor<infer B> ? Known<B, PromoteTensors<D, B>> : O extends number | boolean ? PromoteScalar<D, O> : DType>;
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
  get device(): DeviceName { return 'cpu'; }
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

  to<T extends DType>(target: T): Tensor<T>;
  to(target: DeviceName): Tensor<D>;
  to(target: DType | DeviceName): Tensor;
  to(target: DType | DeviceName): Tensor {
    if ((DTYPES as readonly string[]).includes(target)) return cast(this, target as DType);
    if (target === 'cpu') return this;
    if (target === 'webgpu') { engine.device('webgpu'); return this; }
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
  floor(): Tensor<D> { return E.unary('floor', this) as Tensor<D>; }
  logicalNot(): Tensor<'bool'> { return E.unary('not', this) as Tensor<'bool'>; }
  sigmoid(): Tensor<FloatResult<D>> { return E.sigmoid(this) as never; }
  relu(): Tensor<D> { return E.relu(this) as Tensor<D>; }
  gelu(opts: { approximate?: 'none' | 'tanh' } = {}): Tensor<FloatResult<D>> { return E.gelu(this, opts.approximate) as never; }
  silu(): Tensor<FloatResult<D>> { return E.silu(this) as never; }
  softplus(opts: { beta?: number; threshold?: number } = {}): Tensor<FloatResult<D>> { return E.softplus(this, opts.beta, opts.threshold) as never; }
  clamp(opts: { min?: number | Tensor; max?: number | Tensor }): Tensor<D> { return E.clamp(this, opts.min, opts.max) as Tensor<D>; }

  // ---- elementwise: more math (trigonometric, rounding, predicates, logical and bitwise) ----

  // ---- reductions ----
  sum(opts?: R.ReduceOptions): Tensor<ArithResult<D>> { return R.reduce('sum', this, opts) as never; }
  mean(...args: FloatArgs<D, [opts?: R.ReduceOptions]>): Tensor<D> { return R.mean(this, args[0]) as Tensor<D>; }
  max(opts?: R.ReduceOptions): Tensor<D> { return R.reduce('max', this, opts) as Tensor<D>; }
  min(opts?: R.ReduceOptions): Tensor<D> { return R.reduce('min', this, opts) as Tensor<D>; }
  /** The largest values along dim (all dims when absent), values only (torch.amax). */
  amax(dim?: R.ReduceOptions | number | readonly number[], keepdim?: boolean): Tensor<D> { return R.reduce('max', this, reduceArgs('amax', dim, keepdim), 'amax') as Tensor<D>; }
  /** The smallest values along dim (all dims when absent), values only (torch.amin). */
  amin(dim?: R.ReduceOptions | number | readonly number[], keepdim?: boolean): Tensor<D> { return R.reduce('min', this, reduceArgs('amin', dim, keepdim), 'amin') as Tensor<D>; }
  argmax(opts?: { dim?: number; keepdim?: boolean }): Tensor<'int32'> { return R.argExtreme('max', this, opts) as Tensor<'int32'>; }
  argmin(opts?: { dim?: number; keepdim?: boolean }): Tensor<'int32'> { return R.argExtreme('min', this, opts) as Tensor<'int32'>; }
  var(...args: FloatArgs<D, [opts?: R.ReduceOptions & { correction?: number }]>): Tensor<D> { return R.variance(this, args[0]) as Tensor<D>; }
  std(...args: FloatArgs<D, [opts?: R.ReduceOptions & { correction?: number }]>): Tensor<D> { return R.variance(this, args[0]).sqrt() as Tensor<D>; }
  logsumexp(...args: FloatArgs<D, [opts?: R.ReduceOptions]>): Tensor<D> { return R.logsumexp(this, args[0]) as Tensor<D>; }
  softmax(...args: FloatArgs<D, [opts?: { dim: number }]>): Tensor<D> { return R.softmax(this, (args[0] ?? { dim: -1 }).dim) as Tensor<D>; }
  logSoftmax(...args: FloatArgs<D, [opts?: { dim: number }]>): Tensor<D> { return R.logSoftmax(this, (args[0] ?? { dim: -1 }).dim) as Tensor<D>; }

  // ---- reductions, scans and sorting (prod, all, any, norm, cumsum, sort, topk, …) ----

  // ---- views ----
  reshape(shape: readonly number[]): Tensor<D> { return M.reshape(this, shape) as Tensor<D>; }
  view(shape: readonly number[]): Tensor<D> { return M.reshape(this, shape) as Tensor<D>; }
  flatten(startDim?: number, endDim?: number): Tensor<D> { return M.flatten(this, startDim, endDim) as Tensor<D>; }
  squeeze(dim?: number | readonly number[]): Tensor<D> { return M.squeeze(this, dim) as Tensor<D>; }
  unsqueeze(dim: number): Tensor<D> { return M.unsqueeze(this, dim) as Tensor<D>; }
  permute(order: readonly number[]): Tensor<D> { return M.permute(this, order) as Tensor<D>; }
  transpose(d0: number, d1: number): Tensor<D> { return M.transpose(this, d0, d1) as Tensor<D>; }
  get T(): Tensor<D> { return M.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)) as Tensor<D>; }
  expand(shape: readonly number[]): Tensor<D> { return M.expand(this, shape) as Tensor<D>; }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor<D> { return M.slice(this, dim, start, end, step) as Tensor<D>; }
  narrow(dim: number, start: number, length: number): Tensor<D> { return M.narrow(this, dim, start, length) as Tensor<D>; }
  pad(pads: readonly number[], opts: { value?: number } = {}): Tensor<D> { return M.pad(this, pads, opts.value) as Tensor<D>; }
  flip(dims: readonly number[]): Tensor<D> { return M.flip(this, dims) as Tensor<D>; }
  chunk(chunks: number, opts: { dim?: number } = {}): Tensor<D>[] { return J.chunk(this, chunks, opts.dim) as Tensor<D>[]; }
  split(sizeOrSections: number | readonly number[], opts: { dim?: number } = {}): Tensor<D>[] { return J.split(this, sizeOrSections, opts.dim) as Tensor<D>[]; }

  // ---- movement composites (repeat, tile, roll, triu, tril, movedim, diag, …) ----
  /** torch.Tensor.repeat: tiled sizes[i] times along dim i (`x.repeat(2, 3)` or `x.repeat([2, 3])`); extra leading sizes add dims. */
  repeat(...sizes: number[] | [readonly number[]]): Tensor<D> { return MM.repeat(this, MM.sizesArg('repeat', sizes)) as Tensor<D>; }
  /** torch.tile: like repeat, but fewer counts than dims repeat the trailing dims. */
  tile(...dims: number[] | [readonly number[]]): Tensor<D> { return MM.tile(this, MM.sizesArg('tile', dims)) as Tensor<D>; }
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

  // ---- autodiff ----
  get requiresGrad(): boolean { return this.node.requiresGrad; }
  /** Marks a leaf whose gradient backward() accumulates into .grad; its history is kept once realised. */
  requiresGrad_(...args: FloatArgs<D, [flag?: boolean]>): this {
    const flag = args[0] ?? true;
    if (flag && !isFloat(this.dtype)) throw new DTypeError(`requiresGrad_: only floating-point tensors can require gradients, got ${this.dtype}`);
    this.node.requiresGrad = flag;
    this.node.gradLeaf = flag;
    return this;
  }
  get grad(): Tensor | null { return this.node.grad ? new Tensor(this.node.grad) : null; }
  set grad(g: Tensor | null) { this.node.grad = g ? g.node : null; }
  zeroGrad(): void { this.node.grad = null; }
  backward(opts?: { gradOutput?: Tensor }): void { AD.backward(this, opts); }
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

  toString(): string { return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${this.device})`; }

  // ---- printing ----
}

export type { DataFor };
