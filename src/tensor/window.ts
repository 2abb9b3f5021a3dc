/**
 * Sliding-window primitives over NCHW tensors (the 'window' node kind, WindowSpec in
 * kernel/ir.ts): the im2col patches a convolution multiplies, their adjoint col2im (a
 * convolution's input gradient), and max pooling with its gradient. Each is one kernel; none
 * expands windows into masked taps. The five ops are closed under differentiation: im2col and
 * col2im are adjoint linear maps, and so are maxPoolGrad and maxPoolPick in their second source
 * (the maximum's position is piecewise constant in x, so x gets no gradient through them), and
 * avgPool and avgPoolGrad are adjoint.
 */
import type { DType } from '../graph/dtype.js';
import type { WindowGeom, WindowOp } from '../kernel/ir.js';
import { node } from './make.js';
import { Tensor } from './tensor.js';

export type { WindowGeom };

/** Dtypes the window kernels compute in; other dtypes take the composite (views and reductions). */
export const windowDType = (d: DType): boolean => d === 'float32' || d === 'float64';

const planes = (x: Tensor): [number, number] => [x.shape[0]!, x.shape[1]!];

/**
 * x [N, C, H, W] → patches [C, kh·kw, N, Ho, Wo], zero where a tap falls in the padding: rows
 * (channel, tap) of a matmul over the whole batch.
 */
export function im2col(x: Tensor, g: WindowGeom): Tensor {
  const [N, C] = planes(x);
  return node({ kind: 'window', op: 'im2col', geom: g }, [x], [C, g.kh * g.kw, N, g.Ho, g.Wo], x.dtype);
}

/** patches [C, kh·kw, N, Ho, Wo] → [N, C, H, W]: every tap added at the element it read. */
export function col2im(cols: Tensor, g: WindowGeom): Tensor {
  return node({ kind: 'window', op: 'col2im', geom: g }, [cols], [cols.shape[2]!, cols.shape[0]!, g.H, g.W], cols.dtype);
}

/** x [N, C, H, W] → [N, C, Ho, Wo]: the maximum of each window's in-grid taps. */
export function maxPoolWindows(x: Tensor, g: WindowGeom): Tensor {
  // max(relu(z)) is relu(max(z)), and so are their gradients (the first maximum of relu(z) is
  // z's when it is positive; otherwise relu's mask is zero). Pooling z first puts relu, and its
  // mask in the backward pass, on the pooled quarter: no full-size mask kernel.
  const a = x.node.arg;
  if (a.kind === 'elementwise' && a.op === 'relu') return maxPoolWindows(new Tensor(x.node.srcs[0]!), g).relu();
  return node({ kind: 'window', op: 'maxPool', geom: g }, [x], [...planes(x), g.Ho, g.Wo], x.dtype);
}

/**
 * The gradient of maxPoolWindows: g [N, C, Ho, Wo] added at each window's first maximum in x.
 * `max`, the pool's output when known, lets the kernel find that position without a scan.
 */
export function maxPoolGrad(x: Tensor, grad: Tensor, g: WindowGeom, max?: Tensor): Tensor {
  return node({ kind: 'window', op: 'maxPoolGrad', geom: g }, max ? [x, grad, max] : [x, grad], x.shape, grad.dtype);
}

/** gg [N, C, H, W] read at each window's first maximum in x: [N, C, Ho, Wo]. */
export function maxPoolPick(x: Tensor, gg: Tensor, g: WindowGeom): Tensor {
  return node({ kind: 'window', op: 'maxPoolPick', geom: g }, [x, gg], [...planes(x), g.Ho, g.Wo], gg.dtype);
}

/** x [N, C, H, W] → [N, C, Ho, Wo]: each window's in-grid sum over kh·kw (padding counted as zeros). */
export function avgPoolWindows(x: Tensor, g: WindowGeom): Tensor {
  return node({ kind: 'window', op: 'avgPool', geom: g }, [x], [...planes(x), g.Ho, g.Wo], x.dtype);
}

/** The gradient of avgPoolWindows: g [N, C, Ho, Wo] spread over each window's in-grid taps. */
export function avgPoolGrad(grad: Tensor, g: WindowGeom): Tensor {
  return node({ kind: 'window', op: 'avgPoolGrad', geom: g }, [grad], [...planes(grad), g.H, g.W], grad.dtype);
}

/** The VJP of a window node with sources `x`, output `out` and output gradient `g`, one entry per source. */
export function windowVjp(op: WindowOp, geom: WindowGeom, g: Tensor, x: readonly Tensor[], out?: Tensor): (Tensor | null)[] {
  switch (op) {
    case 'im2col': return [col2im(g, geom)];
    case 'col2im': return [im2col(g, geom)];
    case 'maxPool': return [maxPoolGrad(x[0]!, g, geom, out)];
    case 'maxPoolGrad': return [null, maxPoolPick(x[0]!, g, geom), ...(x.length > 2 ? [null] : [])];
    case 'maxPoolPick': return [null, maxPoolGrad(x[0]!, g, geom)];
    case 'avgPool': return [avgPoolGrad(g, geom)];
    case 'avgPoolGrad': return [avgPoolWindows(g, geom)];
  }
}
