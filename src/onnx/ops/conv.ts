/**
 * ONNX Conv, ConvTranspose, ConvInteger and QLinearConv over 1, 2 or 3 spatial dims, on Born's conv2d and
 * convTranspose2d: a 1-D op is the 2-D one over a height of 1; a 3-D op is a sum of 2-D ones, one
 * per depth tap of the kernel, over the strided depth slices of the input (Conv) or spread into
 * the output's depth (ConvTranspose). Asymmetric pads are a constant pad of the input (Conv) or a
 * crop of the output (ConvTranspose); symmetric ones go to the kernel as its padding.
 */
import { conv2d } from '../../nn/conv.js';
import { convTranspose2d } from '../../nn/conv1d.js';
import type { Tensor } from '../../tensor/tensor.js';
import { centred, requantize } from './quantize.js';
import { geometry, padSpatial, span, type Geom } from './spatial.js';
import { register, type OpContext } from './registry.js';

const dims = (ctx: OpContext, x: Tensor, w: Tensor): number => {
  const k = x.ndim - 2;
  if (k < 1 || k > 3 || w.ndim !== x.ndim) ctx.fail(`X [${x.shape.join(', ')}] and W [${w.shape.join(', ')}]: 1, 2 or 3 spatial dims are supported`);
  return k;
};

/**
 * Conv with zero padding already applied: the 2-D kernel, or the 3-D sum over depth taps. A 1- or
 * 2-D conv hands the bias to conv2d, which adds it before its output permute, as nn.Conv2d's graph
 * does (an add after it costs a reshape and a broadcast more per call).
 */
function convCore(x: Tensor, w: Tensor, g: Geom, groups: number, pad: number[], bias: Tensor | null): Tensor {
  const k = x.ndim - 2;
  if (k === 1) {
    return conv2d(x.unsqueeze(2), w.unsqueeze(2), bias, { stride: [1, g.strides[0]!], dilation: [1, g.dilations[0]!], padding: [0, pad[0]!], groups }).squeeze(2);
  }
  if (k === 2) return conv2d(x, w, bias, { stride: [g.strides[0]!, g.strides[1]!], dilation: [g.dilations[0]!, g.dilations[1]!], padding: [pad[0]!, pad[1]!], groups });
  const [N, C, D] = x.shape as [number, number, number];
  const xs = pad[0] ? x.pad([0, 0, 0, 0, pad[0], pad[0]]) : x;
  const Do = Math.floor((D + 2 * pad[0]! - span(g, 0)) / g.strides[0]!) + 1;
  let y: Tensor | undefined;
  for (let t = 0; t < g.kernel[0]!; t++) {
    const start = t * g.dilations[0]!;
    const slab = xs.slice(2, start, start + g.strides[0]! * (Do - 1) + 1, g.strides[0]!) // [N, C, Do, H, W]
      .permute([0, 2, 1, 3, 4]).reshape([N * Do, C, x.shape[3]!, x.shape[4]!]);
    const part = conv2d(slab, w.slice(2, t, t + 1).squeeze(2), null,
      { stride: [g.strides[1]!, g.strides[2]!], dilation: [g.dilations[1]!, g.dilations[2]!], padding: [pad[1]!, pad[2]!], groups });
    y = y ? y.add(part) : part;
  }
  const [, O, Ho, Wo] = y!.shape as [number, number, number, number];
  const out = y!.reshape([N, Do, O, Ho, Wo]).permute([0, 2, 1, 3, 4]);
  return bias ? out.add(bias.reshape([O, 1, 1, 1])) : out;
}

/** Conv of x by w (+ bias [M]) with the node's geometry; the symmetric part of the pads goes to the kernel. */
function conv(ctx: OpContext, x: Tensor, w: Tensor, bias: Tensor | null = null): Tensor {
  dims(ctx, x, w);
  const g = geometry(ctx, x.shape.slice(2), ctx.attr.ints('kernel_shape', w.shape.slice(2)));
  const sym = g.begin.map((b, i) => Math.min(b, g.end[i]!));
  const xp = padSpatial(x, g.begin.map((b, i) => b - sym[i]!), g.end.map((e, i) => e - sym[i]!));
  const groups = ctx.attr.int('group', 1);
  if (x.shape[1] !== w.shape[1]! * groups) ctx.fail(`X has ${x.shape[1]} channels, W [${w.shape.join(', ')}] with group=${groups} expects ${w.shape[1]! * groups}`);
  if (bias && bias.numel() !== w.shape[0]) ctx.fail(`B [${bias.shape.join(', ')}] must hold ${w.shape[0]} values, one per output channel`);
  return convCore(xp, w, g, groups, sym, bias && bias.ndim !== 1 ? bias.reshape([bias.numel()]) : bias);
}

register('Conv', 1, (ctx) => [conv(ctx, ctx.tensor(0), ctx.tensor(1), ctx.has(2) ? ctx.tensor(2) : null)]);

/** ConvInteger: (x - x_zero_point) conv (w - w_zero_point, one per output channel), accumulated in int32. */
register('ConvInteger', 10, (ctx) => [conv(ctx, centred(ctx, 0, 2), centred(ctx, 1, 3, 0))]);

/** QLinearConv: ConvInteger's int32 sum (+ the int32 bias) requantized to y's scale and zero point. */
register('QLinearConv', 10, (ctx) => {
  let acc = conv(ctx, centred(ctx, 0, 2), centred(ctx, 3, 5, 0));
  if (ctx.has(8)) acc = acc.add(ctx.tensor(8).to('int32').reshape([acc.shape[1]!, ...Array<number>(acc.ndim - 2).fill(1)]));
  return [requantize(ctx, acc, 1, 4, 6, 7, 1)];
});

/** x with s - 1 zeros after each element of dim d: [.., n, ..] -> [.., n·s, ..]. */
function spread(x: Tensor, d: number, s: number): Tensor {
  if (s === 1) return x;
  const pads = Array<number>(2 * (x.ndim - d)).fill(0);
  pads[2 * (x.ndim - d) - 1] = s - 1;
  const shape = [...x.shape];
  shape[d] = x.shape[d]! * s;
  return x.unsqueeze(d + 1).pad(pads).reshape(shape);
}

/** The transposed conv without padding: out = (n - 1)·s + (k - 1)·d + 1 per spatial dim. */
function transposeCore(x: Tensor, w: Tensor, g: Geom, groups: number): Tensor {
  const k = x.ndim - 2;
  const o2 = (i: number, j: number) => ({ stride: [g.strides[i]!, g.strides[j]!] as [number, number], dilation: [g.dilations[i]!, g.dilations[j]!] as [number, number], groups });
  if (k === 1) {
    return convTranspose2d(x.unsqueeze(2), w.unsqueeze(2), null, { stride: [1, g.strides[0]!], dilation: [1, g.dilations[0]!], groups }).squeeze(2);
  }
  if (k === 2) return convTranspose2d(x, w, null, o2(0, 1));
  const [N, C, D, H, W] = x.shape as [number, number, number, number, number];
  const flat = x.permute([0, 2, 1, 3, 4]).reshape([N * D, C, H, W]);
  const Do = (D - 1) * g.strides[0]! + span(g, 0);
  let y: Tensor | undefined;
  for (let t = 0; t < g.kernel[0]!; t++) {
    const part = convTranspose2d(flat, w.slice(2, t, t + 1).squeeze(2), null, o2(1, 2));
    const [, M, Ho, Wo] = part.shape as [number, number, number, number];
    // Input depth i lands at i·s + t·d: spread by the stride, then shifted by the tap.
    const placed = spread(part.reshape([N, D, M, Ho, Wo]).permute([0, 2, 1, 3, 4]), 2, g.strides[0]!);
    const before = t * g.dilations[0]!;
    const shifted = placed.pad([0, 0, 0, 0, before, Do - before - placed.shape[2]!]);
    y = y ? y.add(shifted) : shifted;
  }
  return y!;
}

function convTranspose(ctx: OpContext): Tensor[] {
  const x = ctx.tensor(0), w = ctx.tensor(1);
  const k = dims(ctx, x, w);
  const groups = ctx.attr.int('group', 1);
  if (x.shape[1] !== w.shape[0]) ctx.fail(`X has ${x.shape[1]} channels, W [${w.shape.join(', ')}] expects ${w.shape[0]}`);
  const kernel = ctx.attr.ints('kernel_shape', w.shape.slice(2));
  const inS = x.shape.slice(2);
  const strides = ctx.attr.ints('strides', Array<number>(k).fill(1)), dilations = ctx.attr.ints('dilations', Array<number>(k).fill(1));
  const outPad = ctx.attr.ints('output_padding', Array<number>(k).fill(0));
  const g: Geom = { kernel, strides, dilations, begin: [], end: [] };
  const full = inS.map((n, i) => (n - 1) * strides[i]! + span(g, i));
  const autoPad = ctx.attr.string('auto_pad', 'NOTSET');
  let begin: number[], out: number[];
  const explicit = ctx.attr.has('output_shape') ? ctx.attr.ints('output_shape') : autoPad.startsWith('SAME') ? inS.map((n, i) => n * strides[i]!) : undefined;
  if (explicit) {
    const shape = explicit.length === k + 2 ? explicit.slice(2) : explicit;
    if (shape.length !== k) ctx.fail(`output_shape [${explicit.join(', ')}] does not match ${k} spatial dims`);
    out = shape;
    // The pads the shape implies, the odd one at the end except for SAME_LOWER; halves truncate,
    // so a shape one larger than the unpadded output is an output_padding at the end (ONNX's data).
    const total = shape.map((o, i) => full[i]! + outPad[i]! - o);
    begin = total.map((t) => (autoPad === 'SAME_LOWER' ? t - Math.trunc(t / 2) : Math.trunc(t / 2)));
  } else {
    const pads = autoPad === 'VALID' ? Array<number>(2 * k).fill(0) : ctx.attr.ints('pads', Array<number>(2 * k).fill(0));
    begin = pads.slice(0, k);
    out = full.map((f, i) => f + outPad[i]! - pads[i]! - pads[k + i]!);
  }
  if (out.some((n) => n < 1)) ctx.fail(`output size [${out.join(', ')}] is not positive`);
  const y0 = transposeCore(x, w, g, groups);
  // Crop the pads (negative pad) and extend by output_padding's zeros (positive), then the bias.
  let y = padSpatial(y0, begin.map((b) => -b), out.map((o, i) => o + begin[i]! - full[i]!));
  if (ctx.has(2)) y = y.add(ctx.tensor(2).reshape([y.shape[1]!, ...Array<number>(k).fill(1)]));
  return [y];
}
register('ConvTranspose', 1, convTranspose);
