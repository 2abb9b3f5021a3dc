/**
 * The Tensor: a handle on a lazy graph node. Every op records a node and returns at once;
 * data(), item(), tolist() and realize() are the only places computation happens.
 */
import type { DataFor, DType, TypedArray } from '../graph/dtype.js';
import { DTYPES } from '../graph/dtype.js';
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
import { broadcastTo, cast, node } from './make.js';
import { assignAll, checkAssign, ensureBuffer, sliceAssign } from './assign.js';
import * as AD from '../autodiff/grad.js';
import { isFloat } from '../graph/dtype.js';
import { DTypeError } from '../graph/errors.js';

export type Nested = number | Nested[];
type Operand = Tensor | number | boolean;

export class Tensor {
  constructor(node: LazyNode) {
    this.node = node;
  }
  /** The graph node this tensor stands for; assign() moves a tensor (a parameter) to a new one. */
  node: LazyNode;

  get shape(): readonly number[] { return this.node.shape; }
  get dtype(): DType { return this.node.dtype; }
  get device(): DeviceName { return 'cpu'; }
  get ndim(): number { return this.node.shape.length; }
  numel(): number { return numel(this.node.shape); }
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): readonly number[] | number {
    return dim === undefined ? this.shape : this.shape[normAxis('size', dim, this.ndim, this.shape)]!;
  }

  // ---- computation ----
  async data(): Promise<TypedArray> {
    return readNode(this.node);
  }
  async item(): Promise<number> {
    if (this.numel() !== 1) throw new ShapeError(`item: only one-element tensors convert to a number, got shape ${fmt(this.shape)}`);
    return (await this.data())[0]!;
  }
  async tolist(): Promise<Nested> {
    const d = await this.data();
    const build = (dim: number, off: number): Nested => {
      if (dim === this.ndim) return d[off]!;
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

  to(target: DType | DeviceName): Tensor {
    if ((DTYPES as readonly string[]).includes(target)) return cast(this, target as DType);
    if (target === 'cpu') return this;
    if (target === 'webgpu') { engine.device('webgpu'); return this; }
    throw new DeviceError(`to: unknown dtype or device '${String(target)}' (dtypes: ${DTYPES.join(', ')}; devices: cpu, webgpu)`);
  }

  // ---- elementwise ----
  add(y: Operand): Tensor { return E.binary('add', this, y); }
  sub(y: Operand): Tensor { return E.binary('sub', this, y); }
  mul(y: Operand): Tensor { return E.binary('mul', this, y); }
  div(y: Operand): Tensor { return E.binary('div', this, y); }
  pow(y: Operand): Tensor { return E.pow(this, y); }
  maximum(y: Operand): Tensor { return E.binary('maximum', this, y); }
  minimum(y: Operand): Tensor { return E.binary('minimum', this, y); }
  eq(y: Operand): Tensor { return E.binary('eq', this, y); }
  ne(y: Operand): Tensor { return E.binary('ne', this, y); }
  lt(y: Operand): Tensor { return E.binary('lt', this, y); }
  le(y: Operand): Tensor { return E.binary('le', this, y); }
  gt(y: Operand): Tensor { return E.binary('lt', y, this, 'gt'); }
  ge(y: Operand): Tensor { return E.binary('le', y, this, 'ge'); }
  neg(): Tensor { return E.unary('neg', this); }
  abs(): Tensor { return E.unary('abs', this); }
  sign(): Tensor { return E.unary('sign', this); }
  exp(): Tensor { return E.unary('exp', this); }
  log(): Tensor { return E.unary('log', this); }
  log1p(): Tensor { return E.unary('log1p', this); }
  sqrt(): Tensor { return E.unary('sqrt', this); }
  rsqrt(): Tensor { return E.rsqrt(this); }
  reciprocal(): Tensor { return E.unary('recip', this); }
  sin(): Tensor { return E.unary('sin', this); }
  cos(): Tensor { return E.unary('cos', this); }
  tanh(): Tensor { return E.unary('tanh', this); }
  erf(): Tensor { return E.unary('erf', this); }
  floor(): Tensor { return E.unary('floor', this); }
  logicalNot(): Tensor { return E.unary('not', this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  relu(): Tensor { return E.relu(this); }
  gelu(opts: { approximate?: 'none' | 'tanh' } = {}): Tensor { return E.gelu(this, opts.approximate); }
  silu(): Tensor { return E.silu(this); }
  softplus(opts: { beta?: number; threshold?: number } = {}): Tensor { return E.softplus(this, opts.beta, opts.threshold); }
  clamp(opts: { min?: number | Tensor; max?: number | Tensor }): Tensor { return E.clamp(this, opts.min, opts.max); }

  // ---- reductions ----
  sum(opts?: R.ReduceOptions): Tensor { return R.reduce('sum', this, opts); }
  mean(opts?: R.ReduceOptions): Tensor { return R.mean(this, opts); }
  max(opts?: R.ReduceOptions): Tensor { return R.reduce('max', this, opts); }
  min(opts?: R.ReduceOptions): Tensor { return R.reduce('min', this, opts); }
  argmax(opts?: { dim?: number; keepdim?: boolean }): Tensor { return R.argExtreme('max', this, opts); }
  argmin(opts?: { dim?: number; keepdim?: boolean }): Tensor { return R.argExtreme('min', this, opts); }
  var(opts?: R.ReduceOptions & { correction?: number }): Tensor { return R.variance(this, opts); }
  std(opts?: R.ReduceOptions & { correction?: number }): Tensor { return R.variance(this, opts).sqrt(); }
  logsumexp(opts?: R.ReduceOptions): Tensor { return R.logsumexp(this, opts); }
  softmax(opts: { dim: number } = { dim: -1 }): Tensor { return R.softmax(this, opts.dim); }
  logSoftmax(opts: { dim: number } = { dim: -1 }): Tensor { return R.logSoftmax(this, opts.dim); }

  // ---- views ----
  reshape(shape: readonly number[]): Tensor { return M.reshape(this, shape); }
  view(shape: readonly number[]): Tensor { return M.reshape(this, shape); }
  flatten(startDim?: number, endDim?: number): Tensor { return M.flatten(this, startDim, endDim); }
  squeeze(dim?: number | readonly number[]): Tensor { return M.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  permute(order: readonly number[]): Tensor { return M.permute(this, order); }
  transpose(d0: number, d1: number): Tensor { return M.transpose(this, d0, d1); }
  get T(): Tensor { return M.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)); }
  expand(shape: readonly number[]): Tensor { return M.expand(this, shape); }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return M.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return M.narrow(this, dim, start, length); }
  pad(pads: readonly number[], opts: { value?: number } = {}): Tensor { return M.pad(this, pads, opts.value); }
  flip(dims: readonly number[]): Tensor { return M.flip(this, dims); }
  chunk(chunks: number, opts: { dim?: number } = {}): Tensor[] { return J.chunk(this, chunks, opts.dim); }
  split(sizeOrSections: number | readonly number[], opts: { dim?: number } = {}): Tensor[] { return J.split(this, sizeOrSections, opts.dim); }

  // ---- contraction and indexing ----
  matmul(y: Tensor): Tensor { return L.matmul(this, y); }
  gather(dim: number, index: Tensor): Tensor { return L.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return L.indexSelect(this, dim, index); }
  /** torch.scatter_add: a new tensor, this with src added at index along dim (repeated indices add up). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return L.scatterAdd(this, dim, index, src); }
  /** torch.index_add: a new tensor, this with alpha * source[i] added at slice index[i] along dim. */
  indexAdd(dim: number, index: Tensor, source: Tensor, opts: { alpha?: number } = {}): Tensor {
    return L.indexAdd(this, dim, index, source, opts.alpha);
  }

  // ---- autodiff ----
  get requiresGrad(): boolean { return this.node.requiresGrad; }
  /** Marks a leaf whose gradient backward() accumulates into .grad; its history is kept once realised. */
  requiresGrad_(flag = true): this {
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
  detach(): Tensor { return noGradView(this); }

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

  toString(): string { return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, device=${this.device})`; }
}

export type { DataFor };
