/**
 * Copies between devices: x.to('webgpu'), x.to('cpu'). A transfer is a node of its own (its
 * source on one device, itself on the other) so that gradients flow back across it; it is made
 * realised: its buffer on the target device is filled as soon as the source is computed, and
 * every schedule that reads it waits for the copy like for any pending write.
 */
import { DTypeError } from '../graph/errors.js';
import { gradMode, LazyNode, type DeviceName } from '../graph/node.js';
import { isFloat } from '../graph/dtype.js';
import { numel } from '../graph/shape.js';
import { attach, Buffer, detach } from '../scheduler/buffers.js';
import { engine } from '../scheduler/engine.js';
import { deviceOf, readNode } from '../scheduler/realize.js';
import { Tensor } from './tensor.js';

/** `t` on `target`, differentiable: the gradient goes back to t's device. */
export function transfer(t: Tensor, target: DeviceName): Tensor {
  if (deviceOf(t.node) === target) return t;
  const n = new LazyNode({ kind: 'transfer' }, [t.node], t.shape, t.dtype, target);
  if (gradMode.disabled > 0) n.stopGradient = true;
  else n.requiresGrad = isFloat(t.dtype) && t.node.requiresGrad;
  fill(n, t, target);
  return new Tensor(n);
}

/**
 * Moves a tensor that is a leaf (a parameter, a module buffer) to `target` in place, as
 * PyTorch's module.to() moves parameter data: it becomes a new leaf there, with the same flags.
 */
export function moveLeaf(t: Tensor, target: DeviceName): void {
  if (deviceOf(t.node) === target) return;
  const old = t.node;
  const n = new LazyNode({ kind: 'buffer' }, [], old.shape, old.dtype, target);
  n.requiresGrad = old.requiresGrad;
  n.gradLeaf = old.gradLeaf;
  n.stopGradient = old.stopGradient;
  fill(n, t, target);
  if (old.grad) old.grad = null;
  t.node = n;
}

/** Gives `n` a buffer on `target` that the copy of t's values fills. */
function fill(n: LazyNode, t: Tensor, target: DeviceName): void {
  const dst = engine.device(target);
  if (!dst.dtypes.has(t.dtype)) {
    throw new DTypeError(`to: a ${t.dtype} tensor cannot move to device '${target}' (it holds ${[...dst.dtypes].join(', ')}); convert it first, e.g. .to('float32')`);
  }
  const source = t.node;
  const buf = new Buffer(dst, dst.alloc(t.dtype, numel(t.shape)));
  attach(n, buf);
  const copy = (async () => {
    try {
      dst.write(buf.buf, await readNode(source));
      n.forgetSources();
    } catch (e) {
      if (n.realized === buf) detach(n);
      throw e;
    } finally {
      buf.release(); // the copy's own reference; the node holds its own
    }
  })();
  buf.pendingWrite(copy);
  copy.catch(() => {});
}
