/**
 * Padding and resampling: nn.functional.pad (constant, reflect, replicate, circular),
 * interpolate (nearest, linear, bilinear) and the Upsample module. Padding is slices, flips and
 * expands joined by cat (views and one fused kernel); resampling gathers rows along each
 * spatial dim in turn (bilinear is separable), so gradients come from the gather rule.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { describeArg, int, options } from '../tensor/args.js';
import { fromArray } from '../tensor/creation.js';
import { cat } from '../tensor/join.js';
import { indexSelect } from '../tensor/linalg.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { spatialArgs } from './spatial-args.js';

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
export interface PadOptions { mode?: PadMode; value?: number }

/** The padding of one dim by a non-constant rule: [before, x, after] along `d`. */
function padDim(op: string, x: Tensor, d: number, before: number, after: number, mode: Exclude<PadMode, 'constant'>): Tensor {
  const n = x.shape[d]!;
  const limit = mode === 'reflect' ? n - 1 : mode === 'circular' ? n : Infinity;
  if (before < 0 || after < 0 || before > limit || after > limit || n === 0) {
    throw new ShapeError(`${op}: ${mode} padding of (${before}, ${after}) does not fit dim ${d} of size ${n} in ${fmt(x.shape)} ` +
      `(pads must be >= 0${mode === 'reflect' ? ` and < the dim size` : mode === 'circular' ? ' and <= the dim size' : ''})`);
  }
  const parts: Tensor[] = [];
  const edge = (start: number, len: number): Tensor => {
    const grown = [...x.shape];
    grown[d] = len;
    return x.slice(d, start, start + 1).expand(grown);
  };
  if (before) {
    parts.push(mode === 'reflect' ? x.slice(d, 1, before + 1).flip([d]) : mode === 'circular' ? x.slice(d, n - before, n) : edge(0, before));
  }
  parts.push(x);
  if (after) {
    parts.push(mode === 'reflect' ? x.slice(d, n - 1 - after, n - 1).flip([d]) : mode === 'circular' ? x.slice(d, 0, after) : edge(n - 1, after));
  }
  return parts.length === 1 ? x : cat(parts, d);
}

/**
 * torch.nn.functional.pad. `pads` pairs (before, after) from the last dim backwards, as PyTorch
 * orders them: `pad(x, [1, 1, 2, 0])` pads the last dim by 1 on each side and the one before it
 * by 2 in front. 'constant' fills `value` (negative pads crop); 'reflect' mirrors without
 * repeating the edge, 'replicate' repeats the edge, 'circular' wraps around. The mode and value
 * may also follow positionally, as in PyTorch: `pad(x, [1, 1], 'reflect')`.
 */
export function pad(x: Tensor, pads: readonly number[], ...args: [opts?: PadOptions] | [mode?: PadMode, value?: number]): Tensor {
  const op = 'pad';
  const o = spatialArgs<PadOptions>(op, args, ['mode', 'value']);
  const mode = o.mode ?? 'constant';
  if (!Array.isArray(pads)) throw new TypeError(`${op}: pads must be a list of integers, got ${describeArg(pads)}`);
  pads.forEach((p) => int(op, 'each pad', p));
  if (mode === 'constant') return x.pad(pads, { value: o.value ?? 0 });
  if (mode !== 'reflect' && mode !== 'replicate' && mode !== 'circular') {
    throw new TypeError(`${op}: mode must be 'constant', 'reflect', 'replicate' or 'circular', got ${describeArg(mode)}`);
  }
  if (o.value !== undefined && o.value !== 0) throw new TypeError(`${op}: value only applies to mode 'constant', not '${mode}'`);
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim - 1) {
    throw new ShapeError(`${op}: ${mode} padding takes an even number of pads for at most the ${x.ndim - 1} trailing dims of ${fmt(x.shape)} (the first dim is never padded), got ${fmt(pads)}`);
  }
  let t = x;
  for (let i = 0; i < pads.length / 2; i++) t = padDim(op, t, x.ndim - 1 - i, pads[2 * i]!, pads[2 * i + 1]!, mode);
  return t;
}

export type InterpolateMode = 'nearest' | 'linear' | 'bilinear';
export interface InterpolateOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  mode?: InterpolateMode;
  alignCorners?: boolean;
}

/** Indices on x's device, as the op that reads them runs there. */
const int32 = (values: number[], x: Tensor): Tensor => fromArray(values, [values.length], 'int32', x.device);

/**
 * Resizes along dim d from n to m. The source coordinate of output i is PyTorch's: nearest takes
 * floor(i·scale); linear takes i·(n-1)/(m-1) with alignCorners, else (i + 0.5)·scale - 0.5
 * clamped at 0, and mixes the two neighbours by its fraction. scale is 1/scaleFactor when the
 * factor was given, else n/m (as PyTorch without recompute_scale_factor).
 */
function resizeDim(x: Tensor, d: number, m: number, factor: number | undefined, mode: 'nearest' | 'linear', alignCorners: boolean): Tensor {
  const n = x.shape[d]!;
  const scale = factor !== undefined ? 1 / factor : n / m;
  if (mode === 'nearest') {
    if (m === n) return x;
    if (factor === undefined ? m % n === 0 : Number.isInteger(factor) && m === n * factor) {
      // An integer upscale is each element repeated: a zero-copy expand.
      const shape = [...x.shape];
      const spread = x.unsqueeze(d + 1);
      shape.splice(d + 1, 0, m / n);
      return spread.expand(shape).flatten(d, d + 1);
    }
    // PyTorch computes the nearest index in float32 whatever the dtype; so does this.
    const fscale = Math.fround(scale);
    const src = Array.from({ length: m }, (_, i) => Math.min(Math.floor(Math.fround(i * fscale)), n - 1));
    return indexSelect(x, d, int32(src, x), 'interpolate');
  }
  const lo: number[] = [], hi: number[] = [], frac: number[] = [];
  for (let i = 0; i < m; i++) {
    const s = alignCorners ? (m > 1 ? (i * (n - 1)) / (m - 1) : 0) : Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(s), n - 1);
    lo.push(i0);
    hi.push(Math.min(i0 + 1, n - 1));
    frac.push(s - i0);
  }
  const wshape = x.shape.map((s, i) => (i === d ? m : 1));
  const w = fromArray(frac, wshape, x.dtype === 'float64' ? 'float64' : 'float32', x.device);
  const a = indexSelect(x, d, int32(lo, x), 'interpolate'), b = indexSelect(x, d, int32(hi, x), 'interpolate');
  return a.add(b.sub(a).mul(w));
}

/**
 * torch.nn.functional.interpolate for [N, C, L] ('nearest', 'linear') and [N, C, H, W]
 * ('nearest', 'bilinear') inputs: give the output `size` or a `scaleFactor` (one number or one
 * per spatial dim). alignCorners (linear modes only, default false) maps the corner pixels'
 * centres onto each other. PyTorch's positional order works too: `interpolate(x, [8, 8])`,
 * `interpolate(x, null, 2, 'bilinear')`.
 */
export function interpolate(x: Tensor,
  ...args: [opts: InterpolateOptions] | [size: InterpolateOptions['size'] | null, scaleFactor?: InterpolateOptions['scaleFactor'] | null, mode?: InterpolateMode, alignCorners?: boolean]): Tensor {
  const op = 'interpolate';
  const o = spatialArgs<InterpolateOptions>(op, args.map((a) => (a === null ? undefined : a)), ['size', 'scaleFactor', 'mode', 'alignCorners']);
  const mode = o.mode ?? 'nearest';
  const spatial = x.ndim - 2;
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') {
    throw new TypeError(`${op}: mode must be 'nearest', 'linear' or 'bilinear', got ${describeArg(mode)}`);
  }
  if (spatial < 1 || spatial > 2 || (mode === 'linear' && spatial !== 1) || (mode === 'bilinear' && spatial !== 2)) {
    throw new ShapeError(`${op}: mode '${mode}' takes ${mode === 'linear' ? '[N, C, L]' : mode === 'bilinear' ? '[N, C, H, W]' : '[N, C, L] or [N, C, H, W]'} input, got ${fmt(x.shape)}`);
  }
  if (o.alignCorners !== undefined && mode === 'nearest') throw new TypeError(`${op}: alignCorners only applies to the linear modes ('linear', 'bilinear'), not 'nearest'`);
  if ((o.size === undefined) === (o.scaleFactor === undefined)) throw new TypeError(`${op}: give exactly one of size and scaleFactor`);
  const perDim = (name: string, v: number | readonly number[]): number[] => {
    const list = typeof v === 'number' ? new Array<number>(spatial).fill(v) : [...v];
    if (list.length !== spatial || list.some((e) => typeof e !== 'number' || !(e > 0) || !Number.isFinite(e))) {
      throw new TypeError(`${op}: ${name} must be a positive number or ${spatial} of them for input ${fmt(x.shape)}, got ${describeArg(v)}`);
    }
    return list;
  };
  const factors = o.scaleFactor === undefined ? undefined : perDim('scaleFactor', o.scaleFactor);
  const sizes = o.size === undefined
    ? factors!.map((f, i) => Math.floor(x.shape[i + 2]! * f))
    : perDim('size', o.size).map((s) => int(op, 'size', s));
  let y = x;
  for (let i = 0; i < spatial; i++) {
    y = resizeDim(y, i + 2, sizes[i]!, factors?.[i], mode === 'nearest' ? 'nearest' : 'linear', o.alignCorners ?? false);
  }
  return y;
}

/** nn.Upsample: interpolate as a module. Shapes: [N, C, L] or [N, C, H, W] → resized spatial dims. */
export class Upsample extends Module {
  readonly opts: InterpolateOptions;
  constructor(opts: InterpolateOptions) {
    super();
    this.opts = options<InterpolateOptions>('Upsample', opts, ['size', 'scaleFactor', 'mode', 'alignCorners']);
  }
  forward(x: Tensor): Tensor { return interpolate(x, this.opts); }
}
