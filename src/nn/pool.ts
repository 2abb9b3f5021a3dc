/**
 * 1-D pooling and adaptive pooling. Windows are strided slices of the (padded) input stacked
 * and reduced, as in conv.ts's 2-D pooling. Adaptive pools are separable (a mean or max over a
 * rectangle is one over its rows, then its columns), so each spatial dim is pooled on its own:
 * equal bins are a reshape and a reduction; unequal bins (PyTorch's [floor(i·n/m), ceil((i+1)·n/m))
 * rule when m does not divide n) are an averaging matrix for the mean and a gather of the
 * widest bin, shorter bins repeating their last element, for the max.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { flag, int } from '../tensor/args.js';
import { fromArray } from '../tensor/creation.js';
import { stack } from '../tensor/join.js';
import { indexSelect } from '../tensor/linalg.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { spatialArgs } from './spatial-args.js';

export interface MaxPool1dOptions { stride?: number; padding?: number; dilation?: number; ceilMode?: boolean }
export interface AvgPool1dOptions { stride?: number; padding?: number; ceilMode?: boolean; countIncludePad?: boolean }

const single = (op: string, name: string, v: number | readonly number[] | undefined, fallback: number): number => {
  const e = Array.isArray(v) ? (v.length === 1 ? v[0] : NaN) : v ?? fallback;
  return int(op, name, e);
};

interface Window { kernel: number; stride: number; padding: number; dilation: number; ceilMode: boolean }

/** PyTorch's output length: floor (or ceil) of the window count; a ceil window must start inside the input or left padding. */
function outLength(L: number, w: Window): number {
  const span = L + 2 * w.padding - w.dilation * (w.kernel - 1) - 1 + (w.ceilMode ? w.stride - 1 : 0);
  let n = Math.floor(span / w.stride) + 1;
  if (w.ceilMode && (n - 1) * w.stride >= L + w.padding) n--;
  return n;
}

/** [N, C, L] or [C, L] windows along the last dim, reduced by `reduce` over the window axis. */
function pool1d(op: string, x: Tensor, w: Window, padValue: number, reduce: (windows: Tensor, axis: number) => Tensor): Tensor {
  const { kernel, stride, padding, dilation } = w;
  if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(`${op}: expected input [N, C, L] or [C, L], got ${fmt(x.shape)}`);
  if (kernel < 1 || stride < 1 || dilation < 1 || padding < 0 || padding > kernel / 2) {
    throw new ShapeError(`${op}: kernel ${kernel}, stride ${stride}, padding ${padding}, dilation ${dilation}: ` +
      'kernel, stride and dilation must be >= 1 and padding between 0 and half the kernel');
  }
  const L = x.shape[x.ndim - 1]!;
  const Lo = outLength(L, w);
  if (Lo < 1) throw new ShapeError(`${op}: input ${fmt(x.shape)} is shorter than the window (kernel ${kernel}, dilation ${dilation}, padding ${padding})`);
  // ceilMode's last window may reach past the right padding: pad as far as it reads.
  const right = Math.max(padding, (Lo - 1) * stride + dilation * (kernel - 1) + 1 - L - padding);
  const xp = padding || right ? x.pad([padding, right], { value: padValue }) : x;
  const last = x.ndim - 1;
  const taps: Tensor[] = [];
  for (let i = 0; i < kernel; i++) taps.push(xp.slice(last, i * dilation, i * dilation + stride * (Lo - 1) + 1, stride));
  return reduce(taps.length === 1 ? taps[0]!.unsqueeze(last) : stack(taps, last), last);
}

/**
 * torch.nn.functional.max_pool1d: `maxPool1d(x, k, { stride, padding, dilation, ceilMode })` or
 * `maxPool1d(x, k, stride, padding, dilation, ceilMode)`. Shapes: [N, C, L] → [N, C, Lo]; padding reads as -∞.
 */
export function maxPool1d(x: Tensor, kernelSize: number | readonly number[],
  ...args: [opts?: MaxPool1dOptions] | [stride?: number, padding?: number, dilation?: number, ceilMode?: boolean]): Tensor {
  const op = 'maxPool1d';
  const o = spatialArgs<MaxPool1dOptions>(op, args, ['stride', 'padding', 'dilation', 'ceilMode']);
  const k = single(op, 'kernelSize', kernelSize, 1);
  const w = { kernel: k, stride: single(op, 'stride', o.stride, k), padding: single(op, 'padding', o.padding, 0),
    dilation: single(op, 'dilation', o.dilation, 1), ceilMode: flag(op, 'ceilMode', o.ceilMode) ?? false };
  return pool1d(op, x, w, -Infinity, (t, axis) => t.amax(axis));
}

/**
 * torch.nn.functional.avg_pool1d (options, or positional stride, padding, ceilMode, countIncludePad). Shapes: [N, C, L] → [N, C, Lo]. Padding counts as zeros in
 * the average unless countIncludePad is false (then each window divides by its real elements);
 * a ceilMode window past the right padding divides by the part inside it, as PyTorch.
 */
export function avgPool1d(x: Tensor, kernelSize: number | readonly number[],
  ...args: [opts?: AvgPool1dOptions] | [stride?: number, padding?: number, ceilMode?: boolean, countIncludePad?: boolean]): Tensor {
  const op = 'avgPool1d';
  const o = spatialArgs<AvgPool1dOptions>(op, args, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  const k = single(op, 'kernelSize', kernelSize, 1);
  const w = { kernel: k, stride: single(op, 'stride', o.stride, k), padding: single(op, 'padding', o.padding, 0),
    dilation: 1, ceilMode: flag(op, 'ceilMode', o.ceilMode) ?? false };
  const sum = pool1d(op, x, w, 0, (t, axis) => t.sum({ dim: axis }));
  const L = x.shape[x.ndim - 1]!, p = w.padding, include = flag(op, 'countIncludePad', o.countIncludePad) ?? true;
  const counts = Array.from({ length: sum.shape[sum.ndim - 1]! }, (_, i) => {
    const start = i * w.stride - p;
    return include ? Math.min(start + k, L + p) - start : Math.min(start + k, L) - Math.max(start, 0);
  });
  if (counts.every((c) => c === k)) return sum.div(k);
  return sum.div(fromArray(counts, [counts.length], x.dtype === 'float64' ? 'float64' : 'float32', x.device));
}

/** PyTorch's adaptive bins of n into m: [floor(i·n/m), ceil((i+1)·n/m)). */
const bins = (n: number, m: number): [number, number][] =>
  Array.from({ length: m }, (_, i) => [Math.floor((i * n) / m), Math.ceil(((i + 1) * n) / m)]);

/** Adaptive pooling of dim d from its size to m. */
function adaptiveDim(x: Tensor, d: number, m: number, kind: 'avg' | 'max'): Tensor {
  const n = x.shape[d]!;
  if (n === m) return x;
  if (n % m === 0) {
    const shape = [...x.shape];
    shape.splice(d, 1, m, n / m);
    const w = x.reshape(shape);
    return kind === 'avg' ? w.mean({ dim: d + 1 }) : w.amax(d + 1);
  }
  const b = bins(n, m);
  if (kind === 'avg') {
    const a = new Array<number>(n * m).fill(0);
    b.forEach(([s, e], j) => { for (let i = s; i < e; i++) a[i * m + j] = 1 / (e - s); });
    const mat = fromArray(a, [n, m], x.dtype === 'float64' ? 'float64' : 'float32', x.device);
    return x.movedim(d, -1).matmul(mat).movedim(-1, d);
  }
  const widest = Math.max(...b.map(([s, e]) => e - s));
  const idx = b.flatMap(([s, e]) => Array.from({ length: widest }, (_, j) => Math.min(s + j, e - 1)));
  const picked = indexSelect(x, d, fromArray(idx, [idx.length], 'int32', x.device), 'adaptiveMaxPool');
  const shape = [...x.shape];
  shape.splice(d, 1, m, widest);
  return picked.reshape(shape).amax(d + 1);
}

type Size1 = number | readonly [number | null] | null;
type Size2 = number | null | readonly [number | null, number | null];

function adaptive(op: string, x: Tensor, size: Size1 | Size2, spatial: 1 | 2, kind: 'avg' | 'max'): Tensor {
  if (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) {
    throw new ShapeError(`${op}: expected input ${spatial === 1 ? '[N, C, L] or [C, L]' : '[N, C, H, W] or [C, H, W]'}, got ${fmt(x.shape)}`);
  }
  const list = (Array.isArray(size) ? [...size] : new Array<number | null>(spatial).fill(size as number | null)) as (number | null)[];
  if (list.length !== spatial) throw new ShapeError(`${op}: outputSize must be one size or ${spatial}, got ${JSON.stringify(size)}`);
  const lead = x.ndim - spatial;
  // null keeps the input's size, as None does in PyTorch.
  const out = list.map((s, i) => (s === null ? x.shape[lead + i]! : int(op, 'outputSize', s)));
  if (out.some((m) => m < 1)) throw new ShapeError(`${op}: output sizes must be positive, got ${JSON.stringify(size)}`);
  const inner = out.map((m, i) => x.shape[lead + i]! / m);
  if (inner.every(Number.isInteger)) {
    // Equal bins in every dim (global pooling among them): one reshape and one reduction.
    const w = x.reshape([...x.shape.slice(0, lead), ...out.flatMap((m, i) => [m, inner[i]!])]);
    const axes = out.map((_, i) => lead + 2 * i + 1);
    return kind === 'avg' ? w.mean({ dim: axes }) : w.amax(axes);
  }
  return out.reduce((y, m, i) => adaptiveDim(y, lead + i, m, kind), x);
}

/** torch.nn.functional.adaptive_avg_pool1d: [N, C, L] → [N, C, outputSize]. */
export const adaptiveAvgPool1d = (x: Tensor, outputSize: Size1): Tensor => adaptive('adaptiveAvgPool1d', x, outputSize, 1, 'avg');
/** torch.nn.functional.adaptive_avg_pool2d: [N, C, H, W] → [N, C, oh, ow] (null keeps a size). */
export const adaptiveAvgPool2d = (x: Tensor, outputSize: Size2): Tensor => adaptive('adaptiveAvgPool2d', x, outputSize, 2, 'avg');
/** torch.nn.functional.adaptive_max_pool2d (values only): [N, C, H, W] → [N, C, oh, ow]. */
export const adaptiveMaxPool2d = (x: Tensor, outputSize: Size2): Tensor => adaptive('adaptiveMaxPool2d', x, outputSize, 2, 'max');

export class MaxPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: MaxPool1dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool1d(x, this.kernelSize, this.opts); }
}
export class AvgPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: AvgPool1dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool1d(x, this.kernelSize, this.opts); }
}
export class AdaptiveAvgPool1d extends Module {
  constructor(readonly outputSize: Size1) { super(); }
  forward(x: Tensor): Tensor { return adaptiveAvgPool1d(x, this.outputSize); }
}
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: Size2) { super(); }
  forward(x: Tensor): Tensor { return adaptiveMaxPool2d(x, this.outputSize); }
}
export type { Size1 as AdaptiveSize1, Size2 as AdaptiveSize2 };
