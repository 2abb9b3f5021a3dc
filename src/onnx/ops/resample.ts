/**
 * ONNX layout and inference-time ops: Pad (constant/reflect/edge; pads as an attribute before
 * opset 11 and an input after, with opset 18's axes), DepthToSpace (DCR/CRD), SpaceToDepth,
 * Dropout (identity and an all-true mask in inference; Born's random mask in training_mode) and
 * Shrink. Resize and Upsample are in resize.ts.
 */
import { pad as nnPad } from '../../nn/resample.js';
import { full, rand } from '../../tensor/creation.js';
import { where } from '../../tensor/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { numbers } from '../host.js';
import { register, type OpContext } from './registry.js';

/** ONNX pads [b_0, …, b_{r-1}, e_0, …, e_{r-1}] over `axes` as PyTorch's (before, after) pairs from the last dim back. */
function torchPads(rank: number, pads: readonly number[], axes: readonly number[]): number[] {
  const begin = Array<number>(rank).fill(0), end = Array<number>(rank).fill(0);
  axes.forEach((a, i) => { begin[a] = pads[i]!; end[a] = pads[axes.length + i]!; });
  const out: number[] = [];
  for (let d = rank - 1; d >= 0; d--) out.push(begin[d]!, end[d]!);
  return out;
}

function padTensor(ctx: OpContext, x: Tensor, pads: readonly number[], mode: string, value: number, axes?: readonly number[]): Tensor {
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + x.ndim : a));
  if (pads.length !== 2 * ax.length) ctx.fail(`pads has ${pads.length} values for ${ax.length} axes (needs ${2 * ax.length})`);
  const tp = torchPads(x.ndim, pads, ax);
  if (mode === 'constant') return x.pad(tp, { value });
  if (mode !== 'reflect' && mode !== 'edge') return ctx.fail(`mode ${mode} is not supported (constant, reflect, edge are)`);
  // Negative pads crop first; Born's reflect/replicate never pads the first dim, so a leading 1 is added.
  const crop = tp.map((p) => Math.min(p, 0)), grow = tp.map((p) => Math.max(p, 0));
  const cropped = crop.some((p) => p < 0) ? x.pad(crop) : x;
  try {
    return nnPad(cropped.unsqueeze(0), grow, { mode: mode === 'edge' ? 'replicate' : 'reflect' }).squeeze(0);
  } catch (e) {
    return ctx.fail((e as Error).message);
  }
}

register('Pad', [
  [1, (ctx) => [padTensor(ctx, ctx.tensor(0), ctx.attr.ints('paddings'), ctx.attr.string('mode', 'constant'), ctx.attr.float('value', 0))]],
  [2, (ctx) => [padTensor(ctx, ctx.tensor(0), ctx.attr.ints('pads'), ctx.attr.string('mode', 'constant'), ctx.attr.float('value', 0))]],
  [11, async (ctx) => {
    const value = ctx.has(2) ? numbers(await ctx.host(2))[0] ?? 0 : 0;
    const axes = ctx.has(3) ? await ctx.ints(3) : undefined;
    return [padTensor(ctx, ctx.tensor(0), await ctx.ints(1), ctx.attr.string('mode', 'constant'), value, axes)];
  }],
]);

function depthToSpace(ctx: OpContext): Tensor[] {
  const x = ctx.tensor(0), b = ctx.attr.int('blocksize');
  if (x.ndim !== 4) ctx.fail(`input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (C % (b * b)) ctx.fail(`C = ${C} is not divisible by blocksize² = ${b * b}`);
  const c = C / (b * b);
  const mode = ctx.opset >= 11 ? ctx.attr.string('mode', 'DCR') : 'DCR';
  const y = mode === 'DCR' ? x.reshape([N, b, b, c, H, W]).permute([0, 3, 4, 1, 5, 2])
    : mode === 'CRD' ? x.reshape([N, c, b, b, H, W]).permute([0, 1, 4, 2, 5, 3]) : ctx.fail(`mode ${mode} is not DCR or CRD`);
  return [y.reshape([N, c, H * b, W * b])];
}
register('DepthToSpace', [[1, depthToSpace], [11, depthToSpace]]);

register('SpaceToDepth', 1, (ctx) => {
  const x = ctx.tensor(0), b = ctx.attr.int('blocksize');
  if (x.ndim !== 4) ctx.fail(`input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (H % b || W % b) ctx.fail(`H = ${H} and W = ${W} must be divisible by blocksize ${b}`);
  return [x.reshape([N, C, H / b, b, W / b, b]).permute([0, 3, 5, 1, 2, 4]).reshape([N, C * b * b, H / b, W / b])];
});

/** Dropout: y = x·mask/(1 - ratio) when training, else x with an all-true mask. */
async function dropout(ctx: OpContext): Promise<Tensor[]> {
  const x = ctx.tensor(0);
  let ratio: number, training: boolean;
  if (ctx.opset >= 12) {
    ratio = ctx.has(1) ? numbers(await ctx.host(1))[0] ?? 0.5 : 0.5;
    training = ctx.has(2) ? (numbers(await ctx.host(2))[0] ?? 0) !== 0 : false;
  } else {
    // Before opset 12 a model runs Dropout as in inference (ONNX runtimes ignore is_test=0 too).
    ratio = ctx.attr.float('ratio', 0.5);
    training = false;
  }
  const maskType = ctx.opset >= 10 ? 'bool' : x.dtype;
  if (!training || ratio === 0) return [x, full(x.shape, true, { dtype: 'bool', device: x.device }).to(maskType)];
  if (!(ratio > 0 && ratio < 1)) ctx.fail(`ratio ${ratio} must be in [0, 1)`);
  const keep = rand(x.shape, { device: x.device }).ge(ratio);
  return [x.mul(keep.to(x.dtype)).div(1 - ratio), keep.to(maskType)];
}
register('Dropout', [[1, dropout], [6, dropout], [7, dropout], [10, dropout], [12, dropout], [13, dropout]]);

register('Shrink', 9, (ctx) => {
  const x = ctx.tensor(0), l = ctx.attr.float('lambd', 0.5), bias = ctx.attr.float('bias', 0);
  const y = where(x.lt(-l), x.add(bias), where(x.gt(l), x.sub(bias), 0));
  return [y.dtype === x.dtype ? y : y.to(x.dtype)];
});
