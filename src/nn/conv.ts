/**
 * Convolution and pooling. A float convolution is one im2col window kernel (tensor/window.ts:
 * patches laid out channel-major over the whole batch) and one matmul per group; its input
 * gradient is a matmul and the col2im window kernel, its weight gradient one matmul. Max pooling
 * is one window kernel, and so is its gradient (to each window's first maximum, as PyTorch);
 * so are average pooling and its gradient. Other dtypes compose strided slices of the padded input, stacked, with
 * matmul and reductions, and take their gradients from those rules.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { stack } from '../tensor/join.js';
import { avgPoolWindows, im2col, maxPoolWindows, windowDType, type WindowGeom } from '../tensor/window.js';
import type { Tensor } from '../tensor/tensor.js';
import { defaultWeight, uniformParam } from './init.js';
import { Module } from './module.js';
import { adaptiveAvgPool2d as adaptiveAvg2d } from './pool.js';

export type Pair = number | readonly [number, number];
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

/** Shapes: x [N, C, H, W], weight [O, C/groups, kh, kw] → [N, O, Ho, Wo]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: Conv2dOptions = {}): Tensor {
  const [sh, sw] = pair(opts.stride ?? 1), [ph, pw] = pair(opts.padding ?? 0), [dh, dw] = pair(opts.dilation ?? 1);
  const groups = opts.groups ?? 1;
  if (x.ndim !== 4 || weight.ndim !== 4) throw new ShapeError(`conv2d: expected input [N, C, H, W] and weight [O, C/groups, kh, kw], got ${fmt(x.shape)} and ${fmt(weight.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  if (C % groups !== 0 || O % groups !== 0 || Cg !== C / groups) {
    throw new ShapeError(`conv2d: input has ${C} channels and weight ${fmt(weight.shape)} with groups=${groups}: need C = ${Cg}·groups and O divisible by groups`);
  }
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (Ho < 1 || Wo < 1) throw new ShapeError(`conv2d: input ${fmt(x.shape)} is smaller than the ${kh}x${kw} kernel (dilation ${dh}x${dw}, padding ${ph}x${pw})`);
  const geom: WindowGeom = { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw };
  const w = weight.reshape([groups, O / groups, Cg * kh * kw]);
  if (windowDType(x.dtype)) {
    // Patches [C, kh·kw, N, Ho, Wo] (one window kernel; its gradient is the col2im kernel) as
    // [groups, Cg·kh·kw, N·Ho·Wo]: one matmul per group over the whole batch, whose weight
    // gradient is one matmul too (no per-sample products summed afterwards).
    const cols = im2col(x, geom).reshape([groups, Cg * kh * kw, N * Ho * Wo]);
    let y = w.matmul(cols);
    if (bias) y = y.add(bias.reshape([groups, O / groups, 1]));
    return y.reshape([O, N, Ho, Wo]).permute([1, 0, 2, 3]);
  }
  // [N, C, kh·kw, Ho, Wo] → [N, groups, Cg·kh·kw, Ho·Wo]: the channel-major order of weight's rows.
  const cols = slicedPatches(x, geom).reshape([N, groups, Cg * kh * kw, Ho * Wo]);
  let y = w.matmul(cols).reshape([N, O, Ho, Wo]);
  if (bias) y = y.add(bias.reshape([1, O, 1, 1]));
  return y;
}

/** The im2col patches [N, C, kh·kw, Ho, Wo] of x as strided slices of the padded input, stacked. */
function slicedPatches(x: Tensor, g: WindowGeom): Tensor {
  const { Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  const xp = ph || pw ? x.pad([pw, pw, ph, ph]) : x;
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(xp.slice(2, i * dh, i * dh + sh * (Ho - 1) + 1, sh).slice(3, j * dw, j * dw + sw * (Wo - 1) + 1, sw));
    }
  }
  return taps.length === 1 ? taps[0]!.unsqueeze(2) : stack(taps, 2);
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair, readonly opts: Conv2dOptions & { bias?: boolean } = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    const groups = opts.groups ?? 1;
    const fanIn = (inChannels / groups) * kh * kw;
    this.weight = defaultWeight([outChannels, inChannels / groups, kh, kw], fanIn);
    if (opts.bias ?? true) this.bias = uniformParam([outChannels], 1 / Math.sqrt(fanIn));
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
  /** As PyTorch prints a Conv2d: stride always, padding / dilation / groups / bias where not the default. */
  override extraRepr(): string {
    const t = (p: Pair): string => `(${pair(p).join(', ')})`;
    const o = this.opts;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=${t(this.kernelSize)}, stride=${t(o.stride ?? 1)}` +
      (pair(o.padding ?? 0).some((v) => v !== 0) ? `, padding=${t(o.padding!)}` : '') +
      (pair(o.dilation ?? 1).some((v) => v !== 1) ? `, dilation=${t(o.dilation!)}` : '') +
      ((o.groups ?? 1) !== 1 ? `, groups=${o.groups}` : '') + (this.bias ? '' : ', bias=False');
  }
}

/** Windows of a pooling layer, reduced by `reduce` over the window dims. */
function pool2d(name: string, x: Tensor, kernel: Pair, stride: Pair | undefined, padding: Pair, reduce: (t: Tensor, dims: number[]) => Tensor, padValue: number): Tensor {
  const [kh, kw] = pair(kernel), [sh, sw] = pair(stride ?? kernel), [ph, pw] = pair(padding);
  if (x.ndim !== 4) throw new ShapeError(`${name}: expected input [N, C, H, W], got ${fmt(x.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1, Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) throw new ShapeError(`${name}: input ${fmt(x.shape)} is smaller than the ${kh}x${kw} window`);
  const xp = ph || pw ? x.pad([pw, pw, ph, ph], { value: padValue }) : x;
  if (kh === sh && kw === sw) {
    // Non-overlapping windows are a reshape: [N, C, Ho, kh, Wo, kw].
    const cropped = xp.slice(2, 0, Ho * kh).slice(3, 0, Wo * kw);
    return reduce(cropped.reshape([N, C, Ho, kh, Wo, kw]), [3, 5]);
  }
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) taps.push(xp.slice(2, i, i + sh * (Ho - 1) + 1, sh).slice(3, j, j + sw * (Wo - 1) + 1, sw));
  }
  return reduce(stack(taps, 2), [2]);
}

/**
 * The window geometry of a 2-D pool where the window kernels apply (float NCHW, padding at most
 * half the window, as PyTorch requires); null sends the pool to the composite, which reports errors.
 */
function windowGeom(x: Tensor, kernel: Pair, opts: { stride?: Pair; padding?: Pair }): WindowGeom | null {
  const [kh, kw] = pair(kernel), [sh, sw] = pair(opts.stride ?? kernel), [ph, pw] = pair(opts.padding ?? 0);
  if (x.ndim !== 4 || !windowDType(x.dtype) || 2 * ph > kh || 2 * pw > kw || Math.min(kh, kw, sh, sw) < 1 || Math.min(ph, pw) < 0) return null;
  const [, , H, W] = x.shape as [number, number, number, number];
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1, Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  return Ho >= 1 && Wo >= 1 ? { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1 } : null;
}

/** Max over each window, padding never chosen; the gradient goes to the window's first maximum (PyTorch's). */
export function maxPool2d(x: Tensor, kernel: Pair, opts: { stride?: Pair; padding?: Pair } = {}): Tensor {
  const g = windowGeom(x, kernel, opts);
  if (g) return maxPoolWindows(x, g);
  return pool2d('maxPool2d', x, kernel, opts.stride, opts.padding ?? 0, (t, dim) => t.amax(dim), -Infinity);
}
/** Average over each window, padding counted as zeros (PyTorch's count_include_pad). */
export function avgPool2d(x: Tensor, kernel: Pair, opts: { stride?: Pair; padding?: Pair } = {}): Tensor {
  const g = windowGeom(x, kernel, opts);
  if (g) return avgPoolWindows(x, g);
  return pool2d('avgPool2d', x, kernel, opts.stride, opts.padding ?? 0, (t, dim) => t.mean({ dim }), 0);
}

/**
 * torch.nn.functional.adaptive_avg_pool2d: [N, C, H, W] or [C, H, W] → output size (oh, ow), any
 * sizes (null keeps one); bins as PyTorch: [floor(i·H/oh), ceil((i+1)·H/oh)). See pool.ts.
 */
export const adaptiveAvgPool2d = (x: Tensor, size: Pair | null | readonly [number | null, number | null]): Tensor => adaptiveAvg2d(x, size);

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: { stride?: Pair; padding?: Pair } = {}) { super(); }
  forward(x: Tensor): Tensor { return maxPool2d(x, this.kernelSize, this.opts); }
}
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly opts: { stride?: Pair; padding?: Pair } = {}) { super(); }
  forward(x: Tensor): Tensor { return avgPool2d(x, this.kernelSize, this.opts); }
}
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair | null | readonly [number | null, number | null]) { super(); }
  forward(x: Tensor): Tensor { return adaptiveAvgPool2d(x, this.outputSize); }
}
