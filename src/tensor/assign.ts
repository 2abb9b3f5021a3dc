/**
 * In-place writes, PyTorch storage semantics: a tensor keeps its node and its buffer, the
 * buffer's contents change, and every node that shares the buffer sees the new contents in every
 * schedule started after the write was scheduled. The write is a store node (graph/node.ts)
 * that the scheduler orders after every reader of the old contents.
 */
import { isFloat } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { LazyNode, type StoreSlice } from '../graph/node.js';
import { normAxis } from '../graph/shape.js';
import { deferStore, dropInit, realize } from '../scheduler/realize.js';
import { broadcastTo, cast, noGradView, shareStorage } from './make.js';
import { Tensor } from './tensor.js';

/** A region start: a literal (baked into the kernel) or a 0-d int tensor (a runtime argument). */
export type SliceStart = number | Tensor;

/**
 * The store node writing `value` (already of the target's dtype and of the region's shape) into
 * `target`'s buffer, whole or along `slice`. The target must hold a buffer.
 */
export function storeNode(target: Tensor, value0: Tensor, slice: { dim: number; start: SliceStart } | null = null): LazyNode {
  if (!target.node.realized) throw new Error('internal: a store into a tensor without a buffer');
  const value = onDeviceOf(value0, target);
  // A value that is itself a buffer is read through a view, so that the scheduler can copy it
  // into a temporary when stores would otherwise overwrite what they read.
  const v = value.node.realized ? noGradView(value) : value;
  const srcs = [target.node, v.node];
  let region: StoreSlice | null = null;
  if (slice) {
    const start = slice.start;
    if (typeof start === 'number') region = { dim: slice.dim, start };
    else { region = { dim: slice.dim, start: null }; srcs.push(start.node); }
  }
  const n = new LazyNode({ kind: 'store', slice: region }, srcs, target.shape, target.dtype);
  n.stopGradient = true;
  return n;
}

/** `value` copied to `target`'s device if it lives on another (PyTorch's copy_ crosses devices). */
function onDeviceOf(value: Tensor, target: Tensor): Tensor {
  const d = target.node.device;
  return d !== null && value.node.device !== null && value.node.device !== d ? value.to(d) : value;
}

/** A tensor that is going to be written in place gets a buffer now (its computation is scheduled). */
export function ensureBuffer(t: Tensor, op: string): void {
  if (t.node.disposed) throw new Error(`${op}: the tensor was disposed`);
  if (!t.node.realized) realize([t.node]).catch(() => {}); // a failure surfaces when t is read
}

/**
 * Writes each value into its target in one schedule (with `alongside` computed in it too):
 * in place where the target holds a buffer; a target without one gets a buffer of its own
 * holding the value (computed fused with the value's graph, so no extra kernel unless the value
 * is already stored). Either way the target never shares storage with the value afterwards.
 */
export function assignAll(pairs: readonly (readonly [Tensor, Tensor])[], alongside: readonly Tensor[] = []): Promise<void> {
  const seen = new Set<unknown>();
  const stores: LazyNode[] = [];
  const moves: (readonly [Tensor, Tensor])[] = [];
  for (const [t, v] of pairs) {
    const buf = t.node.realized;
    if (!buf) { dropInit(t.node); moves.push([t, onDeviceOf(v, t).clone()]); continue; }
    if (seen.has(buf)) throw new Error(`assign: two values written into one buffer in one schedule (a tensor of shape ${fmt(t.shape)} listed twice, or two views of one storage)`);
    seen.add(buf);
    stores.push(storeNode(t, v));
  }
  const done = realize([...stores, ...moves.map(([, v]) => v.node), ...alongside.map((t) => t.node)]);
  // The schedule has started: the copies' buffers exist.
  for (const [t, v] of moves) moveTo(t, v);
  return done;
}

/**
 * Makes `t` stand for `value`'s buffer from now on, without a copy (its leaf flags and gradient
 * kept): for a loader that hands a parameter a buffer it has just filled and will not use
 * otherwise. `value` must hold a buffer of t's shape and dtype; the two share it afterwards.
 */
export function adoptStorage(t: Tensor, value: Tensor): void {
  checkAssign('adoptStorage', t, value);
  if (!value.node.realized) throw new Error('adoptStorage: the value holds no buffer (realise it first)');
  dropInit(t.node);
  moveTo(t, value);
}

/** Makes `t` stand for `value` (a copy made for it, or a buffer handed over) from now on, keeping its leaf flags and gradient. */
function moveTo(t: Tensor, value: Tensor): void {
  const old = t.node;
  const next = shareStorage(value);
  next.requiresGrad = old.requiresGrad;
  next.gradLeaf = old.gradLeaf;
  next.grad = old.grad;
  t.node = next;
}

export function checkAssign(op: string, t: Tensor, value: Tensor): void {
  if (value.shape.length !== t.shape.length || value.shape.some((d, i) => d !== t.shape[i]) || value.dtype !== t.dtype) {
    throw new ShapeError(`${op}: a ${value.dtype} tensor of shape ${fmt(value.shape)} cannot replace a ${t.dtype} tensor of shape ${fmt(t.shape)}`);
  }
}

/** t[..., start:start+len, ...] = values along `dim`; the write is scheduled now. */
export function sliceAssign(t: Tensor, dim: number, start: SliceStart, values: Tensor): Tensor {
  const d = normAxis('sliceAssign_', dim, t.ndim, t.shape);
  const size = t.shape[d]!;
  if (values.ndim !== t.ndim) {
    throw new ShapeError(`sliceAssign_: values of shape ${fmt(values.shape)} need as many dims as the target ${fmt(t.shape)} (unsqueeze them)`);
  }
  const len = values.shape[d]!;
  const region = t.shape.map((s, i) => (i === d ? len : s));
  if (len > size) throw new ShapeError(`sliceAssign_: ${len} values along dim ${d} do not fit in size ${size} (target ${fmt(t.shape)})`);
  const hi = size - len;
  if (typeof start === 'number') {
    if (!Number.isInteger(start) || start < 0 || start > hi) {
      throw new ShapeError(`sliceAssign_: start ${start} is out of range for ${len} values along dim ${d} of size ${size} (valid: 0 to ${hi})`);
    }
  } else {
    if (start.ndim !== 0 || start.dtype !== 'int32') {
      throw new DTypeError(`sliceAssign_: a tensor start must be a 0-d int32 tensor (born.scalar(i, { dtype: 'int32' })), got ${start.dtype} of shape ${fmt(start.shape)}`);
    }
    const a = start.node.arg;
    if (a.kind === 'param' && (a.value < 0 || a.value > hi)) {
      throw new ShapeError(`sliceAssign_: start ${a.value} is out of range for ${len} values along dim ${d} of size ${size} (valid: 0 to ${hi}); a start read from a buffer is clamped into that range`);
    }
  }
  if (!isFloat(t.dtype) && isFloat(values.dtype)) {
    throw new DTypeError(`sliceAssign_: cannot write ${values.dtype} values into a ${t.dtype} tensor (cast them first)`);
  }
  // The other dims broadcast against the region, as in PyTorch.
  const v = broadcastTo(cast(values, t.dtype), region);
  ensureBuffer(t, 'sliceAssign_');
  realize([storeNode(t, v, { dim: d, start })]).catch(() => {}); // surfaces when t is read
  return t;
}

/**
 * Records an in-place write without starting a schedule: the next schedule includes it
 * (realize.ts deferStore). For updates made as a side effect of building graph, like
 * BatchNorm's running statistics.
 */
export function assignLater(t: Tensor, value: Tensor): void {
  checkAssign('assign', t, value);
  if (!t.node.realized) { assignAll([[t, value]]).catch(() => {}); return; }
  deferStore(storeNode(t, value));
}
