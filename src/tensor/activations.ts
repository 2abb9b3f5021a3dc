/**
 * Activation functions beyond the basic ones in elementwise.ts, as composites written with
 * PyTorch's formulas and gradient conventions at the kinks (leakyRelu's slope at 0, hardtanh's
 * zero gradient at its bounds, hardswish's one-sided derivatives). Integer and bool inputs
 * compute in float32, like sigmoid and gelu.
 */
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import * as E from './elementwise.js';
import { floatOf } from './elementwise.js';
import type { Tensor } from './tensor.js';

/** x where x > 0, else negativeSlope·x (the slope also at 0, as PyTorch's gradient). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  const v = floatOf(x);
  return E.where(v.gt(0), v, v.mul(negativeSlope));
}

/**
 * alpha·expm1(x / inputScale)·scale for x ≤ 0, scale·x above. expm1 where PyTorch's kernel
 * computes exp(x) − 1: the same to float32 resolution near −1, and exact for tiny |x| (elu(−1e−30)
 * is −1e−30, where PyTorch gives 0). The negative branch reads
 * min(x, 0), so the branch not taken never overflows (exp of a large x would make its zero
 * gradient NaN).
 */
function eluLike(x: Tensor, alpha: number, scale: number, inputScale: number): Tensor {
  const v = floatOf(x);
  const pos = v.gt(0);
  const neg = E.where(pos, 0, v);
  const negative = (inputScale === 1 ? neg : neg.mul(inputScale)).expm1().mul(alpha * scale);
  return E.where(pos, scale === 1 ? v : v.mul(scale), negative);
}

export const elu = (x: Tensor, alpha = 1): Tensor => eluLike(x, alpha, 1, 1);

// The constants of Klambauer et al. (2017), as torch.nn.functional.selu writes them.
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
export const selu = (x: Tensor): Tensor => eluLike(x, SELU_ALPHA, SELU_SCALE, 1);

export function celu(x: Tensor, alpha = 1): Tensor {
  if (alpha === 0) throw new RangeError('celu: alpha must not be 0 (the negative branch divides by it)');
  return eluLike(x, alpha, 1, 1 / alpha);
}

/** log σ(x) = min(x, 0) − log1p(exp(−|x|)): never exponentiates a large positive number. */
export function logSigmoid(x: Tensor): Tensor {
  const v = floatOf(x);
  return v.minimum(0).sub(v.abs().neg().exp().log1p());
}

/** x clamped to [minVal, maxVal]; the gradient is 0 at and beyond the bounds, as PyTorch's. */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (minVal > maxVal) throw new RangeError(`hardtanh: minVal (${minVal}) must not be greater than maxVal (${maxVal})`);
  if (x.dtype === 'bool') throw new DTypeError(`hardtanh: not defined for bool tensors (shape ${fmt(x.shape)}); convert first, e.g. .to('float32')`);
  return E.where(x.le(minVal), minVal, E.where(x.ge(maxVal), maxVal, x));
}

/**
 * x·relu6(x + 3)/6, PyTorch's formula (so -inf gives NaN as there). The clamp passes its
 * gradient at the bounds, which gives PyTorch's one-sided derivatives: -0.5 at -3, 1.5 at 3.
 */
export function hardswish(x: Tensor): Tensor {
  const v = floatOf(x);
  return v.mul(E.clamp(v.add(3), 0, 6)).div(6);
}

/** relu6(x + 3)/6. */
export function hardsigmoid(x: Tensor): Tensor {
  const v = floatOf(x);
  return E.where(v.le(-3), 0, E.where(v.ge(3), 1, v.add(3).div(6)));
}

/** x·tanh(softplus(x)), softplus written as max(x, 0) + log1p(exp(−|x|)) so no branch overflows. */
export function mish(x: Tensor): Tensor {
  const v = floatOf(x);
  return v.mul(v.maximum(0).add(v.abs().neg().exp().log1p()).tanh());
}

/**
 * x where x > 0, else weight·x, with one weight per channel (dim 1) or a single shared one, as
 * torch.nn.functional.prelu.
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const v = floatOf(x);
  const n = weight.numel();
  let w = weight;
  if (n !== 1) {
    if (weight.ndim !== 1 || v.ndim < 2 || v.shape[1] !== n) {
      throw new ShapeError(
        `prelu: a weight of shape ${fmt(weight.shape)} needs an input with ${n} channels in dim 1, got shape ${fmt(v.shape)} ` +
        '(or use a single weight, shared by every channel)');
    }
    w = weight.reshape([n, ...new Array<number>(v.ndim - 2).fill(1)]);
  } else if (weight.ndim > v.ndim) {
    w = weight.reshape([]);
  }
  return E.where(v.gt(0), v, v.mul(w));
}
