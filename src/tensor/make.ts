/** Building blocks every tensor op uses: wrapping nodes, constants, broadcasting, dtype checks. */
import { coerce, isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { LazyNode, type NodeArg } from '../graph/node.js';
import { sameShape, type Shape } from '../graph/shape.js';
import { contiguousView, expand as expandView, reshape as reshapeView, type ShapeTracker } from '../graph/view.js';
import { Tensor } from './tensor.js';

export function node(arg: NodeArg, srcs: readonly Tensor[], shape: Shape, dtype: DType): Tensor {
  return new Tensor(new LazyNode(arg, srcs.map((s) => s.node), [...shape], dtype));
}

/** A view node over `t`; its tracker maps the new shape onto t's row-major elements. */
export function view(t: Tensor, f: (tr: ShapeTracker) => ShapeTracker): Tensor {
  const tr = f([contiguousView(t.shape)]);
  const shape = tr[tr.length - 1]!.shape;
  return node({ kind: 'view', tracker: tr }, [t], shape, t.dtype);
}

/** A scalar filled to `shape` without storing it: a 0-d constant viewed with stride 0. */
export function full(shape: Shape, value: number, dtype: DType): Tensor {
  const c = node({ kind: 'const', value: coerce(value, dtype) }, [], [], dtype);
  return broadcastTo(c, shape);
}

export function broadcastTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const padded = [...new Array<number>(shape.length - t.ndim).fill(1), ...t.shape];
  return view(t, (tr) => expandView(padded.length === t.ndim ? tr : reshapeView(tr, padded), shape));
}

export function cast(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : node({ kind: 'cast' }, [t], t.shape, dtype);
}

export function requireFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(`${op}: expected a floating-point tensor, got ${t.dtype} of shape ${fmt(t.shape)} (convert with .to('float32'))`);
  }
}

export function requireShape(cond: boolean, msg: () => string): void {
  if (!cond) throw new ShapeError(msg());
}
