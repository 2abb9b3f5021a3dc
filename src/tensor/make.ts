/** Building blocks every tensor op uses: wrapping nodes, constants, broadcasting, dtype checks. */
import { castNumber, dtypeList, isDType, isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, fmt } from '../graph/errors.js';
import { gradMode, LazyNode, type DeviceName, type NodeArg } from '../graph/node.js';
import { sameShape, type Shape } from '../graph/shape.js';
import { applyMovement, contiguousView, trackerShape, type Movement } from '../graph/view.js';
import { Tensor } from './tensor.js';
import { attach } from '../scheduler/buffers.js';

export function node(arg: NodeArg, srcs: readonly Tensor[], shape: Shape, dtype: DType): Tensor {
  const n = new LazyNode(arg, srcs.map((s) => s.node), [...shape], dtype);
  if (gradMode.disabled > 0) n.stopGradient = true;
  else n.requiresGrad = isFloat(dtype) && srcs.some((s) => s.node.requiresGrad);
  return new Tensor(n);
}

/**
 * `t` computed on `device` where its node holds no storage of its own (a constant, iota, a random
 * draw: LazyNode.device is null), so that, realised alone, it lands there. Otherwise `t` as it is.
 */
export function onDevice(t: Tensor, device: DeviceName | null): Tensor {
  if (t.node.device === null) t.node.device = device;
  return t;
}

/** A view node over `t`; its tracker maps the new shape onto t's row-major elements. */
export function view(t: Tensor, m: Movement): Tensor {
  const tr = applyMovement([contiguousView(t.shape)], m);
  return node({ kind: 'view', tracker: tr, movement: m }, [t], trackerShape(tr), t.dtype);
}

/** A scalar filled to `shape` without storing it: a 0-d constant viewed with stride 0. */
export function full(shape: Shape, value: number, dtype: DType): Tensor {
  const c = node({ kind: 'const', value: castNumber(value, dtype) }, [], [], dtype);
  return broadcastTo(c, shape);
}

export function broadcastTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const padded = [...new Array<number>(shape.length - t.ndim).fill(1), ...t.shape];
  return view(padded.length === t.ndim ? t : view(t, { op: 'reshape', shape: padded }), { op: 'expand', shape });
}

/** `t` as `dtype`, with PyTorch's conversion rules (see castJs in the CPU printer). */
export function cast<D extends DType>(t: Tensor, dtype: D): Tensor<D> {
  if (!isDType(dtype)) throw new DTypeError(`to: unknown dtype ${JSON.stringify(dtype) ?? String(dtype)} (valid dtypes: ${dtypeList()})`);
  return (t.dtype === dtype ? t : node({ kind: 'cast' }, [t], t.shape, dtype)) as Tensor<D>;
}

/**
 * x rounded to its own dtype. Fused kernels keep intermediates in float64; where a value must
 * equal what a materialised copy of it holds (comparing against a stored max), round it.
 */
export function rounded(t: Tensor): Tensor {
  return t.dtype === 'float32' ? node({ kind: 'cast' }, [t], t.shape, t.dtype) : t;
}

export function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(`${op}: expected a floating-point tensor, got ${t.dtype} of shape ${fmt(t.shape)} (convert with .to('float32'))`);
  }
}


/**
 * A fresh leaf for `t`'s values: a buffer node sharing t's storage once t is realised (or being
 * realised), else a detached view. Leaf flags set on it never leak to `t`.
 */
export function shareStorage(t: Tensor): LazyNode {
  const buf = t.node.realized;
  if (!buf) return noGradView(t).node;
  const n = new LazyNode({ kind: 'buffer' }, [], t.shape, t.dtype);
  attach(n, buf);
  return n;
}

/** A node that reads `t` but records no history: detach(). */
export function noGradView(t: Tensor): Tensor {
  const n = new LazyNode({ kind: 'view', tracker: [contiguousView(t.shape)], movement: { op: 'reshape', shape: t.shape } }, [t.node], t.shape, t.dtype);
  n.stopGradient = true;
  return new Tensor(n);
}
