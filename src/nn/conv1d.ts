/**
 * Conv1d and the transposed convolutions, built on conv2d (conv.ts): a 1-D convolution is a 2-D
 * one over [N, C, 1, L]; a transposed convolution is the convolution it is the gradient of,
 * written forward: the input with stride-1 zeros between its elements (a pad of a new axis, then
 * a reshape: views, no copy), padded by dilation·(k-1) - padding on each side (plus outputPadding
 * after), convolved at stride 1 with the kernel flipped and its in/out channels swapped per
 * group. That reuses conv2d's im2col kernel and gradients; the zeros cost stride² more
 * multiply-adds than a col2im scatter would, which Born has no primitive for.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { describeArg, int, options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2d, type Pair } from './conv.js';
import { defaultWeight, uniformParam } from './init.js';
import { Module } from './module.js';
import { pad as padFn } from './resample.js';
import { spatialArgs } from './spatial-args.js';

export interface Conv1dOptions {
  stride?: number;
  /** Zeros on both ends, or 'valid' (none) or 'same' (output length = input length; stride 1 only). */
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

const one = (op: string, name: string, v: unknown, fallback: number): number =>
  int(op, name, Array.isArray(v) && v.length === 1 ? v[0] : v ?? fallback);

/** [left, right] padding of a 1-D convolution; 'same' puts the odd one on the right, as PyTorch. */
function pads1d(op: string, padding: Conv1dOptions['padding'], k: number, stride: number, dilation: number): [number, number] {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') {
    if (stride !== 1) throw new ShapeError(`${op}: padding 'same' needs stride 1, got stride ${stride}`);
    const total = dilation * (k - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  if (typeof padding === 'string') throw new TypeError(`${op}: padding must be an integer, 'same' or 'valid', got ${describeArg(padding)}`);
  const p = one(op, 'padding', padding, 0);
  return [p, p];
}

/** conv1d's arguments after the bias: an options object, or PyTorch's positional stride, padding, dilation, groups. */
export type Conv1dArgs = [opts?: Conv1dOptions] | [stride?: number, padding?: Conv1dOptions['padding'], dilation?: number, groups?: number];

/**
 * torch.nn.functional.conv1d: `conv1d(x, w, b, { stride, padding, dilation, groups })` or
 * `conv1d(x, w, b, stride, padding, dilation, groups)`. Shapes: x [N, C, L] (or [C, L]),
 * weight [O, C/groups, k], bias [O] → [N, O, Lo], Lo = floor((L + 2·padding - dilation·(k-1) - 1) / stride) + 1.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, ...args: Conv1dArgs): Tensor {
  return conv1dWith(x, weight, bias, spatialArgs<Conv1dOptions>('conv1d', args, ['stride', 'padding', 'dilation', 'groups']), 'zeros');
}

function conv1dWith(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: Conv1dOptions, paddingMode: PaddingMode): Tensor {
  const op = 'conv1d';
  if ((x.ndim !== 3 && x.ndim !== 2) || weight.ndim !== 3) {
    throw new ShapeError(`${op}: expected input [N, C, L] or [C, L] and weight [O, C/groups, k], got ${fmt(x.shape)} and ${fmt(weight.shape)}`);
  }
  if (x.ndim === 2) return conv1dWith(x.unsqueeze(0), weight, bias, o, paddingMode).squeeze(0);
  const stride = one(op, 'stride', o.stride, 1), dilation = one(op, 'dilation', o.dilation, 1);
  const [left, right] = pads1d(op, o.padding, weight.shape[2]!, stride, dilation);
  let xp = x;
  if (left || right) xp = paddingMode === 'zeros' ? x.pad([left, right]) : padFn(x, [left, right], { mode: paddingMode });
  const y = conv2d(xp.unsqueeze(2), weight.unsqueeze(2), bias, { stride: [1, stride], dilation: [1, dilation], groups: o.groups ?? 1 });
  return y.squeeze(2);
}

/** nn.Conv1d. weight [outChannels, inChannels/groups, k], bias [outChannels]; init U(±1/√fanIn) as PyTorch. */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  readonly opts: Conv1dOptions;
  readonly paddingMode: PaddingMode;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number | readonly [number],
    opts: Conv1dOptions & { bias?: boolean; paddingMode?: PaddingMode } = {}) {
    super();
    const o = options<Conv1dOptions & { bias?: boolean; paddingMode?: PaddingMode }>('Conv1d', opts, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode']);
    const k = one('Conv1d', 'kernelSize', kernelSize, 1);
    const groups = o.groups ?? 1;
    checkGroups('Conv1d', inChannels, outChannels, groups);
    this.paddingMode = o.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode)) {
      throw new TypeError(`Conv1d: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got ${describeArg(this.paddingMode)}`);
    }
    this.opts = { stride: o.stride, padding: o.padding, dilation: o.dilation, groups };
    const fanIn = (inChannels / groups) * k;
    this.weight = defaultWeight([outChannels, inChannels / groups, k], fanIn);
    if (o.bias ?? true) this.bias = uniformParam([outChannels], 1 / Math.sqrt(fanIn));
  }
  forward(x: Tensor): Tensor { return conv1dWith(x, this.weight, this.bias, this.opts, this.paddingMode); }
}

function checkGroups(op: string, inC: number, outC: number, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1 || inC % groups !== 0 || outC % groups !== 0) {
    throw new ShapeError(`${op}: inChannels ${inC} and outChannels ${outC} must both be divisible by groups ${groups}`);
  }
}

export interface ConvTransposeOptions<P = Pair> { stride?: P; padding?: P; outputPadding?: P; groups?: number; dilation?: P }

const pair = (op: string, name: string, v: unknown, fallback: number): [number, number] => {
  if (v === undefined) return [fallback, fallback];
  if (typeof v === 'number') return [int(op, name, v), int(op, name, v)];
  if (Array.isArray(v) && v.length === 2) return [int(op, name, v[0]), int(op, name, v[1])];
  throw new TypeError(`${op}: ${name} must be an integer or a pair of integers, got ${describeArg(v)}`);
};

/** x with stride-1 zeros inserted between the elements of dim d: [.., n, ..] → [.., (n-1)·s + 1, ..]. */
function dilate(x: Tensor, d: number, s: number): Tensor {
  if (s === 1) return x;
  const n = x.shape[d]!;
  const pads = new Array<number>(2 * (x.ndim - d)).fill(0);
  pads[2 * (x.ndim - d) - 1] = s - 1; // the new axis d + 1, after
  const spread = x.unsqueeze(d + 1).pad(pads);
  const shape = [...x.shape];
  shape[d] = n * s;
  return spread.reshape(shape).slice(d, 0, (n - 1) * s + 1);
}

const TRANSPOSE_NAMES = ['stride', 'padding', 'outputPadding', 'groups', 'dilation'] as const;
/** A transposed convolution's arguments after the bias: options, or PyTorch's positional stride, padding, outputPadding, groups, dilation. */
export type ConvTransposeArgs<P> = [opts?: ConvTransposeOptions<P>] | [stride?: P, padding?: P, outputPadding?: P, groups?: number, dilation?: P];

/**
 * torch.nn.functional.conv_transpose2d: `convTranspose2d(x, w, b, { stride, padding,
 * outputPadding, groups, dilation })` or the same positionally. Shapes: x [N, Cin, H, W], weight
 * [Cin, Cout/groups, kh, kw] (PyTorch's layout), bias [Cout] → [N, Cout, Ho, Wo],
 * Ho = (H-1)·stride - 2·padding + dilation·(kh-1) + outputPadding + 1.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, ...args: ConvTransposeArgs<Pair>): Tensor {
  return convTranspose2dWith(x, weight, bias, spatialArgs<ConvTransposeOptions>('convTranspose2d', args, TRANSPOSE_NAMES), 'convTranspose2d');
}

function convTranspose2dWith(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: ConvTransposeOptions, op: string): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) {
    throw new ShapeError(`${op}: expected input [N, Cin, H, W] and weight [Cin, Cout/groups, kh, kw], got ${fmt(x.shape)} and ${fmt(weight.shape)}`);
  }
  const [s, p, op2, dl] = [pair(op, 'stride', o.stride, 1), pair(op, 'padding', o.padding, 0), pair(op, 'outputPadding', o.outputPadding, 0), pair(op, 'dilation', o.dilation, 1)];
  const groups = o.groups ?? 1;
  const [, C, H, W] = x.shape as [number, number, number, number];
  const [Ci, Cog, kh, kw] = weight.shape as [number, number, number, number];
  if (Ci !== C || C % groups !== 0) {
    throw new ShapeError(`${op}: input has ${C} channels but weight ${fmt(weight.shape)} with groups=${groups} expects ${Ci} (weight is [Cin, Cout/groups, kh, kw], Cin divisible by groups)`);
  }
  for (let i = 0; i < 2; i++) {
    if (s[i]! < 1 || dl[i]! < 1 || p[i]! < 0 || op2[i]! < 0 || op2[i]! >= Math.max(s[i]!, dl[i]!)) {
      throw new ShapeError(`${op}: stride ${fmt(s)}, padding ${fmt(p)}, outputPadding ${fmt(op2)}, dilation ${fmt(dl)}: ` +
        'stride and dilation must be >= 1, padding >= 0, and outputPadding smaller than stride or dilation');
    }
  }
  const k = [kh, kw];
  const out = [H, W].map((n, i) => (n - 1) * s[i]! - 2 * p[i]! + dl[i]! * (k[i]! - 1) + op2[i]! + 1);
  if (out.some((n) => n < 1)) throw new ShapeError(`${op}: output size ${fmt(out)} for input ${fmt(x.shape)} is not positive (padding too large)`);
  const spread = dilate(dilate(x, 2, s[0]!), 3, s[1]!);
  const edge = k.map((kk, i) => dl[i]! * (kk - 1) - p[i]!);
  const padded = spread.pad([edge[1]!, edge[1]! + op2[1]!, edge[0]!, edge[0]! + op2[0]!]);
  const flipped = weight.reshape([groups, C / groups, Cog, kh, kw]).permute([0, 2, 1, 3, 4])
    .reshape([groups * Cog, C / groups, kh, kw]).flip([2, 3]);
  return conv2d(padded, flipped, bias, { dilation: [dl[0]!, dl[1]!], groups });
}

/** torch.nn.functional.conv_transpose1d (options or positional, as convTranspose2d): x [N, Cin, L] (or [Cin, L]), weight [Cin, Cout/groups, k] → [N, Cout, Lo]. */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, ...args: ConvTransposeArgs<number>): Tensor {
  return convTranspose1dWith(x, weight, bias, spatialArgs<ConvTransposeOptions<number>>('convTranspose1d', args, TRANSPOSE_NAMES));
}

function convTranspose1dWith(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: ConvTransposeOptions<number>): Tensor {
  const op = 'convTranspose1d';
  if ((x.ndim !== 3 && x.ndim !== 2) || weight.ndim !== 3) {
    throw new ShapeError(`${op}: expected input [N, Cin, L] or [Cin, L] and weight [Cin, Cout/groups, k], got ${fmt(x.shape)} and ${fmt(weight.shape)}`);
  }
  if (x.ndim === 2) return convTranspose1dWith(x.unsqueeze(0), weight, bias, o).squeeze(0);
  const as2 = (name: string, v: number | undefined, fallback: number): [number, number] => [fallback === 1 ? 1 : 0, one(op, name, v, fallback)];
  return convTranspose2dWith(x.unsqueeze(2), weight.unsqueeze(2), bias, {
    stride: as2('stride', o.stride, 1), padding: as2('padding', o.padding, 0), outputPadding: as2('outputPadding', o.outputPadding, 0),
    dilation: as2('dilation', o.dilation, 1), groups: o.groups ?? 1,
  }, op).squeeze(2);
}

/** Weight [inChannels, outChannels/groups, ...k] and bias [outChannels], init U(±1/√fanIn), fanIn = outChannels/groups·∏k (PyTorch's). */
function transposedParams(op: string, inC: number, outC: number, k: number[], groups: number, bias: boolean): [Tensor, Tensor | undefined] {
  checkGroups(op, inC, outC, groups);
  const fanIn = (outC / groups) * k.reduce((a, b) => a * b, 1);
  return [defaultWeight([inC, outC / groups, ...k], fanIn), bias ? uniformParam([outC], 1 / Math.sqrt(fanIn)) : undefined];
}

/** nn.ConvTranspose1d. Shapes: [N, inChannels, L] → [N, outChannels, Lo]. */
export class ConvTranspose1d extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  readonly opts: ConvTransposeOptions<number>;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    opts: ConvTransposeOptions<number> & { bias?: boolean } = {}) {
    super();
    const o = options<ConvTransposeOptions<number> & { bias?: boolean }>('ConvTranspose1d', opts, ['stride', 'padding', 'outputPadding', 'groups', 'dilation', 'bias']);
    const [w, b] = transposedParams('ConvTranspose1d', inChannels, outChannels, [one('ConvTranspose1d', 'kernelSize', kernelSize, 1)], o.groups ?? 1, o.bias ?? true);
    this.weight = w;
    if (b) this.bias = b;
    this.opts = { stride: o.stride, padding: o.padding, outputPadding: o.outputPadding, groups: o.groups, dilation: o.dilation };
  }
  forward(x: Tensor): Tensor { return convTranspose1d(x, this.weight, this.bias, this.opts); }
}

/** nn.ConvTranspose2d. Shapes: [N, inChannels, H, W] → [N, outChannels, Ho, Wo]. */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  readonly opts: ConvTransposeOptions;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair,
    opts: ConvTransposeOptions & { bias?: boolean } = {}) {
    super();
    const o = options<ConvTransposeOptions & { bias?: boolean }>('ConvTranspose2d', opts, ['stride', 'padding', 'outputPadding', 'groups', 'dilation', 'bias']);
    const [w, b] = transposedParams('ConvTranspose2d', inChannels, outChannels, pair('ConvTranspose2d', 'kernelSize', kernelSize, 1), o.groups ?? 1, o.bias ?? true);
    this.weight = w;
    if (b) this.bias = b;
    this.opts = { stride: o.stride, padding: o.padding, outputPadding: o.outputPadding, groups: o.groups, dilation: o.dilation };
  }
  forward(x: Tensor): Tensor { return convTranspose2d(x, this.weight, this.bias, this.opts); }
}
