/**
 * One vector-Jacobian product per primitive, written with forward ops, so gradients are lazy
 * nodes that fuse and schedule like everything else — and can be differentiated again.
 * A rule returns one gradient per source (null where a source gets none).
 */
import { isFloat } from '../graph/dtype.js';
import type { ElementwiseOp } from '../graph/ops.js';
import type { Movement } from '../graph/view.js';
import { where } from '../tensor/elementwise.js';
import { Tensor } from '../tensor/tensor.js';
import { gather, scatterAdd } from '../tensor/linalg.js';
import { cast, full, rounded } from '../tensor/make.js';

type Grads = (Tensor | null)[];
type ElementwiseVjp = (g: Tensor, x: readonly Tensor[], out: Tensor) => Grads;

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const none: ElementwiseVjp = (_g, x) => x.map(() => null);
const zeroGrad: ElementwiseVjp = (g) => [full(g.shape, 0, g.dtype)];

/** Where a equals b the gradient is split evenly, as PyTorch does for maximum and minimum. */
function pick(g: Tensor, win: Tensor, tie: Tensor): Tensor {
  return g.mul(win.to(g.dtype).add(tie.to(g.dtype).mul(0.5)));
}

export const elementwiseVjp: { [K in ElementwiseOp]: ElementwiseVjp } = {
  neg: (g) => [g.neg()],
  abs: (g, [x]) => [g.mul(x!.sign())],
  sign: none,
  recip: (g, _x, out) => [g.neg().mul(out).mul(out)],
  exp: (g, _x, out) => [g.mul(out)],
  log: (g, [x]) => [g.div(x!)],
  log1p: (g, [x]) => [g.div(x!.add(1))],
  sqrt: (g, _x, out) => [g.div(out.mul(2))],
  sin: (g, [x]) => [g.mul(x!.cos())],
  cos: (g, [x]) => [g.mul(x!.sin()).neg()],
  tanh: (g, _x, out) => [g.mul(out.mul(out).neg().add(1))],
  erf: (g, [x]) => [g.mul(x!.mul(x!).neg().exp().mul(TWO_OVER_SQRT_PI))],
  relu: (g, _x, out) => [where(out.gt(0), g, 0)],
  floor: zeroGrad,
  not: none,
  add: (g) => [g, g],
  sub: (g) => [g, g.neg()],
  mul: (g, [a, b]) => [g.mul(b!), g.mul(a!)],
  div: (g, [a, b]) => [g.div(b!), g.mul(a!).div(b!.mul(b!)).neg()],
  pow: (g, [a, b], out) => [
    // b·a^(b-1) is 0·0^-1 = NaN at a = 0, b = 0; the derivative there is 0.
    where(b!.eq(0), 0, g.mul(b!).mul(a!.pow(b!.sub(1)))),
    // d/db a^b = a^b ln a; where a is 0 the limit is 0 (PyTorch's convention).
    g.mul(where(a!.eq(0), 0, out.mul(a!.log()))),
  ],
  maximum: (g, [a, b]) => [pick(g, a!.gt(b!), a!.eq(b!)), pick(g, b!.gt(a!), a!.eq(b!))],
  minimum: (g, [a, b]) => [pick(g, a!.lt(b!), a!.eq(b!)), pick(g, b!.lt(a!), a!.eq(b!))],
  eq: none,
  ne: none,
  lt: none,
  le: none,
  where: (g, [c]) => [null, where(c!, g, 0), where(c!, 0, g)],
  // ---- more math ----
  tan: (g, _x, out) => [g.mul(out.mul(out).add(1))],
  asin: (g, [x]) => [g.div(x!.mul(x!).neg().add(1).sqrt())],
  acos: (g, [x]) => [g.div(x!.mul(x!).neg().add(1).sqrt()).neg()],
  atan: (g, [x]) => [g.div(x!.mul(x!).add(1))],
  sinh: (g, [x]) => [g.mul(x!.cosh())],
  cosh: (g, [x]) => [g.mul(x!.sinh())],
  log2: (g, [x]) => [g.div(x!.mul(Math.LN2))],
  log10: (g, [x]) => [g.div(x!.mul(Math.LN10))],
  expm1: (g, _x, out) => [g.mul(out.add(1))],
  atan2: (g, [a, b]) => {
    const r = a!.mul(a!).add(b!.mul(b!));
    return [g.mul(b!).div(r), g.mul(a!).div(r).neg()];
  },
  // Piecewise constant: zero gradients, as PyTorch gives (zeros, not none: x stays in the graph).
  round: zeroGrad,
  ceil: zeroGrad,
  trunc: zeroGrad,
  // a - q·b with q = floor(a / b) (remainder) or trunc(a / b) (fmod), q held constant.
  remainder: (g, [a, b]) => [g, g.mul(a!.div(b!).floor()).neg()],
  fmod: (g, [a, b]) => [g, g.mul(a!.div(b!).trunc()).neg()],
  bitand: none,
  bitor: none,
  bitxor: none,
  bitnot: none,
};

/** The gradient of a movement op, taken back to its source's shape. */
export function movementVjp(g: Tensor, m: Movement, src: Tensor): Tensor {
  switch (m.op) {
    case 'reshape': return g.reshape(src.shape);
    case 'permute': {
      const inverse = new Array<number>(m.order.length);
      m.order.forEach((d, i) => { inverse[d] = i; });
      return g.permute(inverse);
    }
    case 'expand': {
      const grown = src.shape.flatMap((d, i) => (d === 1 && m.shape[i] !== 1 ? [i] : []));
      return grown.length ? g.sum({ dim: grown, keepdim: true }) : g;
    }
    case 'slice': {
      const n = src.shape[m.dim]!;
      const taken = g.shape[m.dim]!;
      let spread = g;
      if (m.step > 1) {
        // Interleave step-1 zeros after every taken element: [.., m, 1] -> pad -> [.., m*step].
        const d = m.dim;
        spread = g.unsqueeze(d + 1);
        const pads = new Array<number>(2 * (spread.ndim - d - 1)).fill(0);
        pads[pads.length - 1] = m.step - 1;
        spread = spread.pad(pads).flatten(d, d + 1);
        spread = spread.slice(d, 0, Math.min(taken * m.step, n - m.start));
      }
      const after = n - m.start - spread.shape[m.dim]!;
      const pads = new Array<number>(2 * (g.ndim - m.dim)).fill(0);
      pads[pads.length - 2] = m.start;
      pads[pads.length - 1] = after;
      return spread.pad(pads);
    }
    case 'flip': return g.flip(m.dims);
    case 'pad': return m.pads.reduce((acc, [d, before]) => acc.narrow(d, before, src.shape[d]!), g);
  }
}

/** Sum: the gradient spreads to every reduced element. Max/min: to the extremes, split evenly on ties. */
export function reduceVjp(op: 'sum' | 'max' | 'min', g: Tensor, x: Tensor, out: Tensor): Tensor {
  const spread = g.expand(x.shape);
  if (op === 'sum') return spread;
  const axes = x.shape.flatMap((d, i) => (d !== out.shape[i] ? [i] : []));
  const hit = rounded(x).eq(out.expand(x.shape)).to(g.dtype);
  return spread.mul(hit).div(hit.sum({ dim: axes, keepdim: true }).maximum(1).expand(x.shape));
}

export function matmulVjp(g: Tensor, a: Tensor, b: Tensor): [Tensor, Tensor] {
  return [g.matmul(b.transpose(-1, -2)), a.transpose(-1, -2).matmul(g)];
}

/**
 * Gather's gradient scatters back, adding where indices repeat: O(index) work with scatterAdd,
 * not a one-hot reduction over x.shape[axis]. Positions of x that no index reaches get zero.
 */
export function gatherVjp(g: Tensor, x: Tensor, axis: number, index: Tensor, op: string): Tensor {
  return scatterAdd(full(x.shape, 0, g.dtype), axis, index, g, op);
}

/**
 * out = base + scatter(src): the base's gradient is g itself; src's is g read back at the
 * indices (a gather), zero where src is larger than the index.
 */
export function scatterAddVjp(g: Tensor, src: Tensor, axis: number, index: Tensor, op: string): [Tensor, Tensor] {
  const picked = gather(g, axis, index, op);
  const pads = pairsLastFirst(src.shape, picked.shape);
  return [g, pads.some((p) => p !== 0) ? picked.pad(pads) : picked];
}

function pairsLastFirst(full: readonly number[], have: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = full.length - 1; i >= 0; i--) out.push(0, full[i]! - have[i]!);
  return out;
}

export function castVjp(g: Tensor, src: Tensor): Tensor | null {
  return isFloat(src.dtype) ? cast(g, src.dtype) : null;
}
