/**
 * ONNX Resize (opsets 10, 11, 13) and Upsample: separable resampling, one axis at a time, each
 * output element a weighted sum of a few gathered input elements along that axis (1 for nearest,
 * 2 for linear, 4 for cubic), with ONNX's source coordinates (coordinate_transformation_mode), its
 * nearest rounding (nearest_mode), cubic_coeff_a and exclude_outside, and tf_crop_and_resize's roi
 * and extrapolation_value. Out-of-range taps read the edge, as ONNX's reference pads.
 */
import { fromArray } from '../../tensor/creation.js';
import { where } from '../../tensor/elementwise.js';
import { indexSelect } from '../../tensor/linalg.js';
import type { Tensor } from '../../tensor/tensor.js';
import { numbers } from '../host.js';
import { register, type OpContext } from './registry.js';

interface Spec {
  mode: 'nearest' | 'linear' | 'cubic';
  coord: string;
  nearest: string;
  a: number;
  excludeOutside: boolean;
  extrapolation: number;
}

/**
 * The source coordinate of output i along an axis of size n resized by `scale`; m is the resized
 * length n·scale unrounded, as ONNX's reference uses it (sizes given: the size itself).
 */
function source(ctx: OpContext, coord: string, i: number, n: number, m: number, scale: number, roi: [number, number]): number {
  switch (coord) {
    case 'half_pixel': return (i + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return m > 1 ? (i + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return m === 1 ? 0 : (i * (n - 1)) / (m - 1);
    case 'asymmetric': return i / scale;
    case 'tf_half_pixel_for_nn': return (i + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const [s, e] = roi;
      return m > 1 ? s * (n - 1) + (i * (e - s) * (n - 1)) / (m - 1) : 0.5 * (s + e) * (n - 1);
    }
    default: return ctx.fail(`coordinate_transformation_mode ${coord} is not supported (half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize are)`);
  }
}

function nearestIndex(ctx: OpContext, how: string, x: number): number {
  switch (how) {
    case 'round_prefer_floor': return Number.isInteger(x - 0.5) ? Math.floor(x) : Math.round(x);
    case 'round_prefer_ceil': return Number.isInteger(x - 0.5) ? Math.ceil(x) : Math.round(x);
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    default: return ctx.fail(`nearest_mode ${how} is not one of round_prefer_floor, round_prefer_ceil, floor, ceil`);
  }
}

/** Cubic convolution weights of the 4 taps at floor(x) - 1 … floor(x) + 2 for fraction s (Keys, coefficient a). */
function cubicWeights(s: number, a: number): number[] {
  const w = (t: number): number => {
    const u = Math.abs(t);
    if (u <= 1) return ((a + 2) * u - (a + 3)) * u * u + 1;
    if (u < 2) return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
    return 0;
  };
  return [w(s + 1), w(s), w(1 - s), w(2 - s)];
}

/** x resized along axis d from n to m. */
function resizeAxis(ctx: OpContext, x: Tensor, d: number, m: number, scale: number, roi: [number, number], sp: Spec): Tensor {
  const n = x.shape[d]!;
  const taps = sp.mode === 'nearest' ? 1 : sp.mode === 'linear' ? 2 : 4;
  const idx: number[][] = Array.from({ length: taps }, () => []), wts: number[][] = Array.from({ length: taps }, () => []);
  const outside: boolean[] = [];
  const clamp = (j: number): number => Math.min(Math.max(j, 0), n - 1);
  for (let i = 0; i < m; i++) {
    const s = source(ctx, sp.coord, i, n, n * scale, scale, roi);
    outside.push(sp.coord === 'tf_crop_and_resize' && (s < 0 || s > n - 1));
    if (sp.mode === 'nearest') {
      idx[0]!.push(clamp(nearestIndex(ctx, sp.nearest, s)));
      wts[0]!.push(1);
      continue;
    }
    const base = Math.floor(s), f = s - base;
    const w = sp.mode === 'linear' ? [1 - f, f] : cubicWeights(f, sp.a);
    const first = sp.mode === 'linear' ? base : base - 1;
    if (sp.excludeOutside) {
      for (let k = 0; k < taps; k++) if (first + k < 0 || first + k >= n) w[k] = 0;
      const sum = w.reduce((p, q) => p + q, 0);
      for (let k = 0; k < taps; k++) w[k] = sum ? w[k]! / sum : 0;
    }
    for (let k = 0; k < taps; k++) { idx[k]!.push(clamp(first + k)); wts[k]!.push(w[k]!); }
  }
  const wshape = x.shape.map((s, i) => (i === d ? m : 1));
  const wdtype = x.dtype === 'float64' ? 'float64' : 'float32';
  let y: Tensor | undefined;
  for (let k = 0; k < taps; k++) {
    const g = indexSelect(x, d, fromArray(idx[k]!, [m], 'int32', x.device), 'Resize');
    const term = sp.mode === 'nearest' ? g : g.mul(fromArray(wts[k]!, wshape, wdtype, x.device));
    y = y ? y.add(term) : term;
  }
  if (outside.some(Boolean)) y = where(fromArray(outside.map(Number), wshape, 'uint8', x.device).ne(0), sp.extrapolation, y!);
  return y!.dtype === x.dtype ? y! : y!.to(x.dtype);
}

/** Resizes every axis whose size or coordinates change; `scales` per axis (sizes given: m/n). */
function resize(ctx: OpContext, x: Tensor, sizes: number[], scales: number[], roi: number[] | undefined, sp: Spec): Tensor {
  if (sp.mode !== 'nearest' && !(x.dtype === 'float32' || x.dtype === 'float64' || x.dtype === 'float16')) ctx.fail(`mode ${sp.mode} takes float input, got ${x.dtype}`);
  let y = x;
  const r = x.ndim;
  for (let d = 0; d < r; d++) {
    const box: [number, number] = roi && roi.length === 2 * r ? [roi[d]!, roi[r + d]!] : [0, 1];
    const identity = sizes[d] === x.shape[d] && scales[d] === 1 && sp.coord !== 'tf_crop_and_resize';
    if (!identity) y = resizeAxis(ctx, y, d, sizes[d]!, scales[d]!, box, sp);
  }
  return y;
}

const floats = async (ctx: OpContext, i: number): Promise<number[] | undefined> => {
  if (!ctx.has(i)) return undefined;
  const v = numbers(await ctx.host(i));
  return v.length ? v : undefined;
};

function spec(ctx: OpContext, legacy: boolean): Spec {
  let mode = ctx.attr.string('mode', 'nearest');
  if (mode === 'bilinear') mode = 'linear';
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') ctx.fail(`mode ${mode} is not supported (nearest, linear, cubic are)`);
  if (legacy && mode === 'cubic') ctx.fail('mode cubic needs opset 11');
  if (ctx.attr.int('antialias', 0) !== 0) ctx.fail('antialias=1 is not supported (antialias=0 is)');
  // Before opset 11 (and in Upsample) coordinates are asymmetric and nearest takes the floor.
  return {
    mode, coord: legacy ? 'asymmetric' : ctx.attr.string('coordinate_transformation_mode', 'half_pixel'),
    nearest: legacy ? 'floor' : ctx.attr.string('nearest_mode', 'round_prefer_floor'),
    a: ctx.attr.float('cubic_coeff_a', -0.75), excludeOutside: ctx.attr.int('exclude_outside', 0) === 1,
    extrapolation: ctx.attr.float('extrapolation_value', 0),
  };
}

/** Output sizes from scales (floor(n·scale), as ONNX's reference) or scales from sizes. */
function plan(ctx: OpContext, x: Tensor, scales: number[] | undefined, sizes: number[] | undefined): { sizes: number[]; scales: number[] } {
  if (scales) {
    if (scales.length !== x.ndim) ctx.fail(`scales has ${scales.length} values for rank ${x.ndim}`);
    return { scales, sizes: x.shape.map((n, i) => Math.floor(n * scales[i]!)) };
  }
  if (!sizes) return ctx.fail('one of scales and sizes is required');
  if (sizes.length !== x.ndim) ctx.fail(`sizes has ${sizes.length} values for rank ${x.ndim}`);
  return { sizes, scales: sizes.map((m, i) => m / x.shape[i]!) };
}

async function resize11(ctx: OpContext): Promise<Tensor[]> {
  const x = ctx.tensor(0);
  if (ctx.attr.has('axes') || ctx.attr.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') ctx.fail('axes and keep_aspect_ratio_policy are not supported');
  const sp = spec(ctx, false);
  const roi = sp.coord === 'tf_crop_and_resize' ? await floats(ctx, 1) : undefined;
  const scales = await floats(ctx, 2);
  const p = plan(ctx, x, scales, scales ? undefined : (await floats(ctx, 3))?.map(Math.round));
  return [resize(ctx, x, p.sizes, p.scales, roi, sp)];
}

register('Resize', [
  [10, async (ctx) => { const x = ctx.tensor(0); const p = plan(ctx, x, await floats(ctx, 1), undefined); return [resize(ctx, x, p.sizes, p.scales, undefined, spec(ctx, true))]; }],
  [11, resize11],
  [13, resize11],
]);

register('Upsample', [
  [1, (ctx) => {
    const x = ctx.tensor(0);
    if (x.ndim !== 4) ctx.fail(`opset 1 Upsample takes [N, C, H, W], got [${x.shape.join(', ')}]`);
    const p = plan(ctx, x, [1, 1, ctx.attr.float('height_scale'), ctx.attr.float('width_scale')], undefined);
    return [resize(ctx, x, p.sizes, p.scales, undefined, spec(ctx, true))];
  }],
  [7, (ctx) => { const x = ctx.tensor(0); const p = plan(ctx, x, ctx.attr.floats('scales'), undefined); return [resize(ctx, x, p.sizes, p.scales, undefined, spec(ctx, true))]; }],
  [9, async (ctx) => { const x = ctx.tensor(0); const p = plan(ctx, x, await floats(ctx, 1), undefined); return [resize(ctx, x, p.sizes, p.scales, undefined, spec(ctx, true))]; }],
]);
