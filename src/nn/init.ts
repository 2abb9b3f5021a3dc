/**
 * Initialisation (PyTorch's torch.nn.init), drawn from Born's seeded random stream (manualSeed).
 * The `_` functions write into an existing tensor in place (Tensor.assign: a parameter keeps its
 * identity, requiresGrad and optimizer state) and return it; fans and gains follow PyTorch.
 */
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { isFloat } from '../graph/dtype.js';
import { where } from '../tensor/elementwise.js';
import { full, rand, randn } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { isPlainObject, options } from '../tensor/args.js';
import { parameter } from './module.js';

/** U(-bound, bound), as a parameter. */
export function uniformParam(shape: readonly number[], bound: number): Tensor {
  return parameter(rand(shape).mul(2 * bound).sub(bound));
}

export function normalParam(shape: readonly number[], std = 1): Tensor {
  return parameter(randn(shape).mul(std));
}

/** kaiming_uniform_(a=√5), PyTorch's default for Linear and Conv weights: U(±1/√fan_in). */
export const defaultWeight = (shape: readonly number[], fanIn: number): Tensor => uniformParam(shape, 1 / Math.sqrt(fanIn));

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

/**
 * PyTorch's recommended gain for a nonlinearity: 1 for linear, convolutions and sigmoid, 5/3
 * for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope `param`, default 0.01),
 * 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new TypeError(`calculateGain: negative slope ${String(param)} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: throw new TypeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}' (valid: linear, conv1d, conv2d, conv3d, conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu)`);
  }
}

/** [fanIn, fanOut] as PyTorch computes them: dims 1 and 0 times the receptive field (dims 2…). */
export function calculateFanInAndFanOut(op: string, t: Tensor): [number, number] {
  if (t.ndim < 2) throw new ShapeError(`${op}: fan in and fan out need a tensor with at least 2 dims, got shape ${fmt(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((n, d) => n * d, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function target(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor to fill, got ${t === null ? 'null' : typeof t}`);
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: fills floating-point tensors, got ${t.dtype}`);
  return t;
}

/** Writes `value` (float32 draws, cast to t's dtype) into t; returns t. */
const write = (t: Tensor, value: Tensor): Tensor => t.assign(value.to(t.dtype));

function fan(op: string, t: Tensor, mode: FanMode): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(op, t);
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new TypeError(`${op}: mode must be 'fan_in' or 'fan_out', got ${JSON.stringify(mode)}`);
  return mode === 'fan_in' ? fanIn : fanOut;
}

/** Fills t with U(a, b) (default U(0, 1)). */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  target('uniform_', t);
  if (!(a <= b)) throw new RangeError(`uniform_: need a <= b, got a=${a}, b=${b}`);
  return write(t, rand(t.shape).mul(b - a).add(a));
}

/** Fills t with N(mean, std²) (default N(0, 1)). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  target('normal_', t);
  if (!(std >= 0)) throw new RangeError(`normal_: std must be >= 0, got ${std}`);
  return write(t, randn(t.shape).mul(std).add(mean));
}

/** Fills t with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  target('constant_', t);
  if (typeof value !== 'number') throw new TypeError(`constant_: value must be a number, got ${typeof value}`);
  return write(t, full(t.shape, value));
}
/** Fills t with zeros. */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** Fills t with ones. */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity }

/** Kaiming's arguments: an options object, or PyTorch's positional (a, mode, nonlinearity). */
type KaimingArgs = [opts?: KaimingOptions] | [a?: number, mode?: FanMode, nonlinearity?: Nonlinearity];

function kaimingStd(op: string, t: Tensor, args: KaimingArgs): number {
  const o = isPlainObject(args[0]) ? options<KaimingOptions>(op, args[0], ['a', 'mode', 'nonlinearity'])
    : { a: args[0] as number | undefined, mode: args[1] as FanMode | undefined, nonlinearity: args[2] as Nonlinearity | undefined };
  if (o.a !== undefined && typeof o.a !== 'number') throw new TypeError(`${op}: a must be a number, got ${typeof o.a}`);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan(op, target(op, t), o.mode ?? 'fan_in'));
}

/**
 * He (Kaiming) uniform: U(±gain·√(3 / fan)); defaults a = 0, mode 'fan_in', nonlinearity
 * 'leaky_relu'. kaimingUniform_(w, { mode: 'fan_out', nonlinearity: 'relu' }) or PyTorch's
 * positional kaimingUniform_(w, 0, 'fan_out', 'relu').
 */
export function kaimingUniform_(t: Tensor, ...args: KaimingArgs): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, args);
  return write(t, rand(t.shape).mul(2 * bound).sub(bound));
}

/** He (Kaiming) normal: N(0, gain² / fan); the same defaults and call forms as kaimingUniform_. */
export function kaimingNormal_(t: Tensor, ...args: KaimingArgs): Tensor {
  return write(t, randn(t.shape).mul(kaimingStd('kaimingNormal_', t, args)));
}

const xavierStd = (op: string, t: Tensor, gain: number): number => {
  const [fanIn, fanOut] = calculateFanInAndFanOut(op, target(op, t));
  return gain * Math.sqrt(2 / (fanIn + fanOut));
};

/** Glorot (Xavier) uniform: U(±gain·√(6 / (fanIn + fanOut))). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const bound = Math.sqrt(3) * xavierStd('xavierUniform_', t, gain);
  return write(t, rand(t.shape).mul(2 * bound).sub(bound));
}

/** Glorot (Xavier) normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  return write(t, randn(t.shape).mul(xavierStd('xavierNormal_', t, gain)));
}

/** Φ, the standard normal CDF, for the bounds of truncNormal_. */
const normCdf = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));
function erf(x: number): number {
  // The Taylor series near 0 and erfc's continued fraction beyond: close to double precision,
  // where the usual 7-digit approximations would shift bounds far in the tails.
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    let sum = x, term = x;
    for (let n = 1; n < 200; n++) {
      term *= -x * x / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz) for larger |x|.
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d; d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

/** erfinv of a tensor in (-1, 1): M. Giles' single-precision approximation, composed of ops. */
function erfinv(x: Tensor): Tensor {
  const w = x.neg().add(1).mul(x.add(1)).log().neg();
  const horner = (v: Tensor, cs: readonly number[]): Tensor => cs.slice(1).reduce((p, c) => p.mul(v).add(c), full(v.shape, cs[0]!).to(v.dtype));
  const small = horner(w.sub(2.5), [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]);
  const large = horner(w.clamp({ min: 5 }).sqrt().sub(3), [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]);
  return where(w.lt(5), small, large).mul(x);
}

export interface TruncNormalOptions { mean?: number; std?: number; a?: number; b?: number }

/**
 * Fills t with N(mean, std²) truncated to [a, b] (defaults 0, 1, -2, 2; a and b are absolute
 * bounds, as PyTorch's trunc_normal_): inverse-CDF sampling of a uniform draw between Φ of the
 * bounds, then clamped to [a, b] against rounding. truncNormal_(w, { std: 0.02 }) or PyTorch's
 * positional truncNormal_(w, mean, std, a, b).
 */
export function truncNormal_(t: Tensor, opts?: TruncNormalOptions | number, std?: number, a?: number, b?: number): Tensor {
  target('truncNormal_', t);
  const o = isPlainObject(opts) ? options<TruncNormalOptions>('truncNormal_', opts, ['mean', 'std', 'a', 'b']) : { mean: opts as number | undefined, std, a, b };
  const { mean = 0, std: sd = 1, a: lower = -2, b: upper = 2 } = o;
  for (const [k, v] of [['mean', mean], ['std', sd], ['a', lower], ['b', upper]] as const) {
    if (typeof v !== 'number') throw new TypeError(`truncNormal_: ${k} must be a number, got ${typeof v}`);
  }
  if (!(sd > 0) || !(lower < upper)) throw new RangeError(`truncNormal_: need std > 0 and a < b, got std=${sd}, a=${lower}, b=${upper}`);
  const lo = 2 * normCdf((lower - mean) / sd) - 1, hi = 2 * normCdf((upper - mean) / sd) - 1;
  // Kept strictly inside (-1, 1), where erfinv is finite.
  const eps = 1e-7;
  const u = rand(t.shape).mul(hi - lo).add(lo).clamp({ min: -1 + eps, max: 1 - eps });
  return write(t, erfinv(u).mul(sd * Math.SQRT2).add(mean).clamp({ min: lower, max: upper }));
}
