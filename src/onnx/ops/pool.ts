/**
 * ONNX pooling: MaxPool (ceil_mode, dilations, the Indices output with storage_order),
 * AveragePool (count_include_pad, ceil_mode), LpPool, GlobalAveragePool, GlobalMaxPool,
 * GlobalLpPool, MaxUnpool, over any number of spatial dims. The plain 2-D float cases go to Born's
 * window kernels (maxPool2d, avgPool2d); the rest stacks strided slices of the padded input and
 * reduces them, one spatial dim at a time (max and sum are separable), as Born's composite pools do.
 * One builder serves every opset: the attributes a later opset adds (ceil_mode, dilations,
 * storage_order) default to the earlier behaviour, and LpPool's p is a float before opset 2.
 */
import { isFloat, type DType } from '../../graph/dtype.js';
import { avgPool2d, maxPool2d } from '../../nn/conv.js';
import { iota, ones, zeros } from '../../tensor/creation.js';
import { stack } from '../../tensor/join.js';
import { gather, indexAdd } from '../../tensor/linalg.js';
import type { Tensor } from '../../tensor/tensor.js';
import { geometry, padSpatial, span, type Geom } from './spatial.js';
import { register, type OpContext } from './registry.js';

const LOWEST: Partial<Record<DType, number>> = { int8: -128, int16: -32768, int32: -2147483648, int64: -(2 ** 53), uint8: 0 };
const lowest = (d: DType): number => (isFloat(d) ? -Infinity : LOWEST[d] ?? 0);

interface Pool { readonly g: Geom; readonly out: number[]; readonly ceil: boolean }

/** The node's geometry and output size: floor, or ceil_mode's ceil, whose last window must start inside the input or its begin pad. */
function poolGeom(ctx: OpContext, x: Tensor, kernelAttr = true): Pool {
  if (x.ndim < 3) ctx.fail(`X must be [N, C, D1, ...], got [${x.shape.join(', ')}]`);
  const inS = x.shape.slice(2);
  const g = geometry(ctx, inS, kernelAttr ? ctx.attr.ints('kernel_shape') : inS);
  const ceil = ctx.attr.int('ceil_mode', 0) === 1;
  const out = inS.map((n, i) => {
    const room = n + g.begin[i]! + g.end[i]! - span(g, i);
    let o = (ceil ? Math.ceil(room / g.strides[i]!) : Math.floor(room / g.strides[i]!)) + 1;
    if (ceil && (o - 1) * g.strides[i]! >= n + g.begin[i]!) o--;
    return o;
  });
  if (out.some((o) => o < 1)) ctx.fail(`input [${x.shape.join(', ')}] is smaller than the window (kernel [${g.kernel.join(', ')}])`);
  return { g, out, ceil };
}

/** x padded for the windows: `padValue` in the pads, `extraValue` past the end pad where ceil_mode's last window reads. */
function padded(x: Tensor, p: Pool, padValue: number, extraValue: number): Tensor {
  const { g, out } = p;
  const extra = x.shape.slice(2).map((n, i) => Math.max(0, (out[i]! - 1) * g.strides[i]! + span(g, i) - n - g.begin[i]! - g.end[i]!));
  return padSpatial(padSpatial(x, g.begin, g.end, padValue), Array<number>(out.length).fill(0), extra, extraValue);
}

/** The taps of spatial dim i (0-based) of a padded x, stacked on a new last axis. */
function taps(xp: Tensor, p: Pool, i: number): Tensor {
  const { g, out } = p;
  const list: Tensor[] = [];
  for (let t = 0; t < g.kernel[i]!; t++) {
    const start = t * g.dilations[i]!;
    list.push(xp.slice(i + 2, start, start + g.strides[i]! * (out[i]! - 1) + 1, g.strides[i]!));
  }
  return stack(list, xp.ndim);
}

/**
 * A max or a sum over each window. Both are separable (over a box is over each dim in turn), so
 * it reduces one spatial dim at a time: Σ kernel taps, not ∏, which large kernels need.
 */
function reduceWindows(x: Tensor, p: Pool, kind: 'max' | 'sum', padValue: number, extraValue = padValue): Tensor {
  let t = padded(x, p, padValue, extraValue);
  for (let i = 0; i < p.out.length; i++) {
    const w = taps(t, p, i);
    t = kind === 'max' ? w.amax(x.ndim) : w.sum({ dim: x.ndim });
  }
  return t;
}

/** Every window's elements on a last axis [N, C, ...out, ∏kernel] (for the argmax of Indices). */
function windows(x: Tensor, p: Pool, padValue: number): Tensor {
  let t = padded(x, p, padValue, padValue);
  for (let i = 0; i < p.out.length; i++) t = taps(t, p, i).flatten(x.ndim, -1);
  return t.ndim === x.ndim ? t.unsqueeze(x.ndim) : t;
}

/** Whether Born's 2-D window kernels apply: float NCHW, symmetric pads up to half the window, no dilation or ceil. */
function windowKernel(x: Tensor, p: Pool): boolean {
  const { g } = p;
  return x.ndim === 4 && (x.dtype === 'float32' || x.dtype === 'float64') && !p.ceil && g.dilations.every((d) => d === 1)
    && g.begin.every((b, i) => b === g.end[i] && 2 * b <= g.kernel[i]!);
}
const two = (v: number[]): [number, number] => [v[0]!, v[1]!];

function maxPool(ctx: OpContext, x: Tensor): (Tensor | undefined)[] {
  const p = poolGeom(ctx, x);
  const wantIndices = ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
  if (!wantIndices && windowKernel(x, p)) return [maxPool2d(x, two(p.g.kernel), { stride: two(p.g.strides), padding: two(p.g.begin) })];
  if (!wantIndices) return [reduceWindows(x, p, 'max', lowest(x.dtype))];
  const win = windows(x, p, lowest(x.dtype));
  const y = win.amax(x.ndim);
  // Flat indices into X: (n·C + c)·∏spatial + the spatial offset, row-major, or column-major over
  // the spatial dims for storage_order=1; padding reads -1 and is never the maximum.
  const [N, C] = x.shape as [number, number];
  const inS = x.shape.slice(2), size = inS.reduce((a, b) => a * b, 1);
  const colMajor = ctx.attr.int('storage_order', 0) === 1;
  let spatialIdx = iota(size);
  if (colMajor) spatialIdx = spatialIdx.reshape([...inS].reverse()).permute(inS.map((_, i) => inS.length - 1 - i)).reshape([size]);
  const flat = iota(N * C).mul(size).reshape([N * C, 1]).add(spatialIdx.reshape([1, size])).reshape(x.shape);
  const idxWin = windows(flat, p, -1);
  const arg = win.argmax({ dim: x.ndim, keepdim: true });
  return [y, gather(idxWin, x.ndim, arg).squeeze(x.ndim).to('int64')];
}
register('MaxPool', 1, (c) => maxPool(c, c.tensor(0)));

/** The sum over each window divided by its count: the pads count with count_include_pad, what ceil_mode adds never does. */
function averagePool(ctx: OpContext): Tensor[] {
  const x = ctx.tensor(0);
  const p = poolGeom(ctx, x);
  const include = ctx.attr.int('count_include_pad', 0) === 1;
  const anyPad = p.g.begin.some((b) => b > 0) || p.g.end.some((e) => e > 0);
  if (windowKernel(x, p) && (include || !anyPad)) return [avgPool2d(x, two(p.g.kernel), { stride: two(p.g.strides), padding: two(p.g.begin) })];
  const sum = reduceWindows(x, p, 'sum', 0);
  const mask = ones([1, 1, ...x.shape.slice(2)], { dtype: isFloat(x.dtype) ? x.dtype : 'float32', device: x.device });
  const counts = reduceWindows(mask, p, 'sum', include ? 1 : 0, 0);
  return [sum.div(counts)];
}
register('AveragePool', 1, averagePool);

function lpPool(ctx: OpContext): Tensor[] {
  const x = ctx.tensor(0), pw = ctx.opset < 2 ? ctx.attr.float('p', 2) : ctx.attr.int('p', 2);
  const p = poolGeom(ctx, x);
  return [reduceWindows(x.abs().pow(pw), p, 'sum', 0).pow(1 / pw)];
}
register('LpPool', 1, lpPool);

const spatialDims = (x: Tensor): number[] => Array.from({ length: x.ndim - 2 }, (_, i) => i + 2);
register('GlobalAveragePool', 1, (ctx) => { const x = ctx.tensor(0); return [x.mean({ dim: spatialDims(x), keepdim: true })]; });
register('GlobalMaxPool', 1, (ctx) => { const x = ctx.tensor(0); return [x.amax({ dim: spatialDims(x), keepdim: true })]; });
const globalLp = (ctx: OpContext): Tensor[] => {
  const x = ctx.tensor(0), pw = ctx.opset < 2 ? ctx.attr.float('p', 2) : ctx.attr.int('p', 2);
  return [x.abs().pow(pw).sum({ dim: spatialDims(x), keepdim: true }).pow(1 / pw)];
};
register('GlobalLpPool', 1, globalLp);

/**
 * MaxUnpool: X's values placed at their flat Indices in zeros of the pool's inverse shape; a
 * larger output_shape extends that with zeros at the end of each spatial dim (the indices address
 * the inverse shape, as in ONNX's test data).
 */
async function maxUnpool(ctx: OpContext): Promise<Tensor[]> {
  const x = ctx.tensor(0), idx = ctx.tensor(1);
  const k = x.ndim - 2;
  const kernel = ctx.attr.ints('kernel_shape'), strides = ctx.attr.ints('strides', Array<number>(k).fill(1));
  const pads = ctx.attr.ints('pads', Array<number>(2 * k).fill(0));
  const shape = [...x.shape.slice(0, 2), ...x.shape.slice(2).map((n, i) => (n - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[k + i]!)];
  const total = shape.reduce((a, b) => a * b, 1);
  const base = zeros([total], { dtype: x.dtype, device: x.device });
  const y = indexAdd(base, 0, idx.reshape([idx.numel()]).to('int32'), x.reshape([x.numel()])).reshape(shape);
  if (!ctx.has(2)) return [y];
  const want = await ctx.ints(2);
  if (want.length !== shape.length || want.some((n, i) => n < shape[i]! || (i < 2 && n !== shape[i]))) {
    ctx.fail(`output_shape [${want.join(', ')}] must keep N, C and be at least the inferred [${shape.join(', ')}]`);
  }
  return [padSpatial(y, Array<number>(k).fill(0), want.slice(2).map((n, i) => n - shape[i + 2]!))];
}
register('MaxUnpool', 9, maxUnpool);

