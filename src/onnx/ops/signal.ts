/**
 * Spectral ops (opset 17): DFT, STFT and MelWeightMatrix.
 *
 * DFT and STFT run as one matmul against a real matrix that maps the signal's [length, re/im]
 * values straight to the spectrum's [bins, re/im] values: the cosines and sines of the transform,
 * worked out once per (length, dft_length, mode, dtype, device) in float64 and cached. That keeps
 * the result lazy and differentiable in the signal (and in STFT's window), and a length-n
 * transform costs one O(n^2) product, which the matmul kernels run well for the lengths models use.
 * Zero-padding to dft_length is rows of zeros in the matrix; truncation drops rows.
 */
import { isFloat, storageFrom, type DType } from '../../graph/dtype.js';
import type { DeviceName } from '../../graph/node.js';
import { fromStorage } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { HOST_LIMIT, host, numbers, toTensor } from '../host.js';
import { bornDType } from '../tensor-proto.js';
import { register, type OpContext, type Value } from './registry.js';

/** What one transform matrix computes. */
interface Plan {
  /** The signal's length along the axis, and its channels (1 real, 2 complex). */
  readonly len: number;
  readonly channels: 1 | 2;
  /** dft_length. */
  readonly n: number;
  readonly inverse: boolean;
  /** Forward: keep bins 0..n/2 (RFFT). Inverse: the input is those bins, the output real (IRFFT). */
  readonly onesided: boolean;
}

/** The output's length along the axis and its channels. */
const outShape = (p: Plan): [number, 1 | 2] =>
  p.onesided ? (p.inverse ? [p.n, 1] : [Math.floor(p.n / 2) + 1, 2]) : [p.n, 2];

/**
 * The [len * channels, bins * outChannels] matrix, row-major, in float64. Angles use (k m mod n)
 * so the argument stays in [0, 2 pi) and large n loses no accuracy to the cosine's argument.
 */
function matrix(p: Plan): Float64Array {
  const [bins, outC] = outShape(p);
  const cols = bins * outC;
  const w = new Float64Array(p.len * p.channels * cols);
  const s = p.inverse ? 1 : -1, scale = p.inverse ? 1 / p.n : 1;
  for (let m = 0; m < p.len; m++) {
    if (p.onesided && p.inverse ? m > p.n / 2 : m >= p.n) continue; // zero rows: truncated input
    for (let k = 0; k < bins; k++) {
      const t = (2 * Math.PI * ((k * m) % p.n)) / p.n;
      const c = Math.cos(t) * scale, sn = Math.sin(t) * scale;
      const r0 = m * p.channels * cols, r1 = r0 + cols;
      if (p.onesided && p.inverse) {
        // x[k] = (1/n) sum over the full spectrum, whose bins past n/2 are the conjugates of
        // those below it: every bin but DC and Nyquist counts twice, and only the real part survives.
        const twice = m === 0 || 2 * m === p.n ? 1 : 2;
        w[r0 + k] = twice * c;
        w[r1 + k] = -twice * sn;
        continue;
      }
      // (xr + i xi)(cos t + s i sin t)
      w[r0 + 2 * k] = c;
      w[r0 + 2 * k + 1] = s * sn;
      if (p.channels === 2) {
        w[r1 + 2 * k] = -s * sn;
        w[r1 + 2 * k + 1] = c;
      }
    }
  }
  return w;
}

const CACHE_SIZE = 32;
const cache = new Map<string, Tensor>();
/** The transform matrix as a realised tensor, built once per plan, dtype and device. */
function matrixTensor(p: Plan, dtype: DType, device: DeviceName | undefined): Tensor {
  const key = `${p.len},${p.channels},${p.n},${+p.inverse},${+p.onesided},${dtype},${device ?? ''}`;
  let t = cache.get(key);
  if (t) { cache.delete(key); cache.set(key, t); return t; }
  const [bins, outC] = outShape(p);
  t = fromStorage(storageFrom(dtype, matrix(p)), [p.len * p.channels, bins * outC], dtype, device);
  cache.set(key, t);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return t;
}

/** Checks a plan against the spec's rules for onesided. */
function checkPlan(ctx: OpContext, p: Plan): void {
  if (!Number.isInteger(p.n) || p.n < 1) ctx.fail(`dft_length must be a positive integer, got ${p.n}`);
  if (p.onesided && !p.inverse && p.channels !== 1) ctx.fail('onesided forward transforms (RFFT) take a real signal ([..., 1]), got a complex one');
  if (p.onesided && p.inverse && p.channels !== 2) ctx.fail('onesided inverse transforms (IRFFT) take a complex half spectrum ([..., 2]), got a real one');
}

/** The transform of x [..., len, channels] along its second-last dim: [..., bins, outChannels]. */
function transform(ctx: OpContext, x: Tensor, p: Plan): Tensor {
  checkPlan(ctx, p);
  const lead = x.shape.slice(0, -2);
  const [bins, outC] = outShape(p);
  const w = matrixTensor(p, x.dtype, x.device);
  return x.reshape([...lead, p.len * p.channels]).matmul(w).reshape([...lead, bins, outC]);
}

function signalOf(ctx: OpContext, i: number, what: string): Tensor {
  const x = ctx.tensor(i);
  if (!isFloat(x.dtype)) ctx.fail(`${what} must be a float tensor, got ${x.dtype}`);
  const c = x.shape[x.ndim - 1];
  if (c !== 1 && c !== 2) ctx.fail(`${what}'s last dim holds [real] or [real, imaginary], so it is 1 or 2, got [${x.shape.join(', ')}]`);
  return x;
}

async function scalarInt(ctx: OpContext, i: number, what: string): Promise<number> {
  const v = await ctx.ints(i);
  if (v.length !== 1) ctx.fail(`${what} must be a scalar, got ${v.length} values`);
  return v[0]!;
}

/** DFT: opset 17 takes the axis as an attribute (default 1), opset 20 as input 2 (default -2). */
async function dft(ctx: OpContext): Promise<Value[]> {
  const x = signalOf(ctx, 0, 'input');
  const r = x.ndim;
  if (r < 2) ctx.fail(`input must have rank >= 2 ([..., signal, 1 or 2]), got [${x.shape.join(', ')}]`);
  const axis0 = ctx.opset >= 20 ? (ctx.has(2) ? await scalarInt(ctx, 2, 'axis') : -2) : ctx.attr.int('axis', 1);
  const axis = axis0 < 0 ? axis0 + r : axis0;
  if (axis < 0 || axis > r - 2) ctx.fail(`axis ${axis0} is out of range for rank ${r} (the last dim holds re/im; use [${-r}, -2] or [0, ${r - 2}])`);
  const inverse = ctx.attr.int('inverse', 0) !== 0, onesided = ctx.attr.int('onesided', 0) !== 0;
  const len = x.shape[axis]!;
  const n = ctx.has(1) ? await scalarInt(ctx, 1, 'dft_length') : onesided && inverse ? 2 * (len - 1) : len;
  const y = transform(ctx, x.movedim(axis, r - 2), { len, channels: x.shape[r - 1] as 1 | 2, n, inverse, onesided });
  return [y.movedim(r - 2, axis)];
}
register('DFT', 17, dft);
register('DFT', 20, dft);

/**
 * STFT: frames of frame_length samples every frame_step samples (as many as fit whole), each
 * times the window, then the DFT of each frame. The frames are one index_select of the signal.
 */
register('STFT', 17, async (ctx: OpContext) => {
  const x = signalOf(ctx, 0, 'signal');
  if (x.ndim !== 3) ctx.fail(`signal must be [batch, length, 1 or 2], got [${x.shape.join(', ')}]`);
  const [batch, total, channels] = x.shape as [number, number, 1 | 2];
  const step = await scalarInt(ctx, 1, 'frame_step');
  if (!Number.isInteger(step) || step < 1) ctx.fail(`frame_step must be a positive integer, got ${step}`);
  let window: Tensor | undefined;
  if (ctx.has(2)) {
    window = ctx.tensor(2);
    if (window.ndim !== 1) ctx.fail(`window must be 1-D, got [${window.shape.join(', ')}]`);
  }
  const len = ctx.has(3) ? await scalarInt(ctx, 3, 'frame_length') : window ? window.shape[0]! : total;
  if (window && window.shape[0] !== len) ctx.fail(`the window has ${window.shape[0]} samples but frame_length is ${len}`);
  if (!Number.isInteger(len) || len < 1 || len > total) ctx.fail(`frame_length ${len} must be in [1, ${total}] (the signal's length)`);
  const frames = 1 + Math.floor((total - len) / step);
  const idx = new Int32Array(frames * len);
  for (let f = 0; f < frames; f++) for (let j = 0; j < len; j++) idx[f * len + j] = f * step + j;
  let fx = x.indexSelect(1, fromStorage(idx, [idx.length], 'int32', x.device)).reshape([batch, frames, len, channels]);
  if (window) fx = fx.mul((window.dtype === x.dtype ? window : window.to(x.dtype)).reshape([len, 1]));
  const onesided = ctx.attr.int('onesided', 1) !== 0;
  return [transform(ctx, fx, { len, channels, n: len, inverse: false, onesided })];
});

const mel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const hertz = (m: number): number => 700 * (10 ** (m / 2595) - 1);

/**
 * MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangles with peak 1. The band edges are
 * num_mel_bins + 2 points evenly spaced on the mel scale from lower_edge_hertz, one step short of
 * upper_edge_hertz (ONNX divides the range by num_mel_bins + 2), each snapped down to a DFT bin.
 */
register('MelWeightMatrix', 17, async (ctx: OpContext) => {
  const bins = await scalarInt(ctx, 0, 'num_mel_bins');
  const dftLen = await scalarInt(ctx, 1, 'dft_length');
  const rate = await scalarInt(ctx, 2, 'sample_rate');
  const [lo] = numbers(await ctx.host(3)), [hi] = numbers(await ctx.host(4));
  if (!Number.isInteger(bins) || bins < 1) ctx.fail(`num_mel_bins must be a positive integer, got ${bins}`);
  if (!Number.isInteger(dftLen) || dftLen < 1) ctx.fail(`dft_length must be a positive integer, got ${dftLen}`);
  if (!(rate > 0)) ctx.fail(`sample_rate must be positive, got ${rate}`);
  if (lo === undefined || hi === undefined || !(lo >= 0 && hi > lo)) ctx.fail(`need 0 <= lower_edge_hertz < upper_edge_hertz, got ${lo} and ${hi}`);
  const dtype = bornDType(ctx.attr.int('output_datatype', 1), "MelWeightMatrix's output_datatype");
  const rows = Math.floor(dftLen / 2) + 1;
  const loMel = mel(lo), stepMel = (mel(hi) - loMel) / (bins + 2);
  const edge = Array.from({ length: bins + 2 }, (_, i) => Math.floor(((dftLen + 1) * hertz(loMel + i * stepMel)) / rate));
  // The triangles write rows up to the last centre and one short of the last right edge.
  if (Math.max(edge[bins]!, edge[bins + 1]! - 1) >= rows) ctx.fail(`upper_edge_hertz ${hi} reaches past the spectrum's last bin (${rows - 1}, i.e. sample_rate / 2)`);
  const out = new Float64Array(rows * bins);
  for (let i = 0; i < bins; i++) {
    const l = edge[i]!, c = edge[i + 1]!, r = edge[i + 2]!;
    if (c === l) out[c * bins + i] = 1;
    else for (let j = l; j <= c; j++) out[j * bins + i] = (j - l) / (c - l);
    for (let j = c; j < r; j++) out[j * bins + i] = (r - j) / (r - c);
  }
  const h = host(dtype, [rows, bins], isFloat(dtype) ? out : out.map(Math.trunc));
  return [rows * bins > HOST_LIMIT ? toTensor(h, ctx.device) : h];
});
