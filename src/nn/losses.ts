/** Loss functions with PyTorch's semantics and `reduction` ('mean' | 'sum' | 'none'). */
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { isFloat } from '../graph/dtype.js';
import { where } from '../tensor/elementwise.js';
import { gather, indexSelect } from '../tensor/linalg.js';
import { options } from '../tensor/args.js';
import { noGrad } from '../autodiff/grad.js';
import { Tensor } from '../tensor/tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

function reduction(op: string, r: unknown, valid: readonly string[] = REDUCTIONS): string {
  if (r === undefined) return 'mean';
  if (typeof r !== 'string' || !valid.includes(r)) throw new TypeError(`${op}: reduction must be ${valid.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(r)}`);
  return r;
}
const reduce = (t: Tensor, r: string = 'mean'): Tensor => (r === 'none' ? t : r === 'sum' ? t.sum() : t.mean());

/** An optional tensor option (weight, posWeight): a float tensor, else a TypeError naming the op. */
function optTensor(op: string, name: string, v: unknown): Tensor | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${typeof v}`);
  if (!isFloat(v.dtype)) throw new DTypeError(`${op}: ${name} must be a floating-point tensor, got ${v.dtype}`);
  return v;
}

/** A class-weight vector of length C. */
function classWeight(op: string, v: unknown, C: number): Tensor | undefined {
  const w = optTensor(op, 'weight', v);
  if (w && (w.ndim !== 1 || w.shape[0] !== C)) throw new ShapeError(`${op}: weight must be a 1-d tensor of one weight per class (${C}), got shape ${fmt(w.shape)}`);
  return w;
}

export interface NllOptions { reduction?: Reduction; ignoreIndex?: number; weight?: Tensor }
const NLL_KEYS = ['reduction', 'ignoreIndex', 'weight'] as const;

/**
 * Negative log-likelihood of class indices: logp [N, C] (or [N, C, ...]), target int32 [N] (or
 * [N, ...]). `weight` [C] scales each class; 'mean' divides by the summed weights of the
 * targets that are not `ignoreIndex` (default -100), as PyTorch does.
 */
export function nllLoss(logp: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return nll('nllLoss', logp, target, options<NllOptions>('nllLoss', opts, NLL_KEYS));
}

/** nllLoss under the name of the op the user called: a target out of [0, C) is an IndexError naming it. */
function nll(op: string, logp: Tensor, target: Tensor, opts: NllOptions): Tensor {
  if (target.dtype !== 'int32') throw new DTypeError(`${op}: target must hold int32 class indices, got ${target.dtype}`);
  if (logp.ndim < 2 || target.ndim !== logp.ndim - 1 || target.shape[0] !== logp.shape[0] || target.shape.some((d, i) => i > 0 && d !== logp.shape[i + 1])) {
    throw new ShapeError(`${op}: input ${fmt(logp.shape)} and target ${fmt(target.shape)} do not match (input [N, C, ...], target [N, ...])`);
  }
  const r = reduction(op, opts.reduction);
  const w = classWeight(op, opts.weight, logp.shape[1]!);
  const keep = target.ne(opts.ignoreIndex ?? -100);
  const safe = where(keep, target, 0);
  const picked = gather(logp, 1, safe.unsqueeze(1), op).squeeze(1);
  // Per-target weights, zero where ignored: 'mean' divides by their sum.
  const wt = w ? where(keep, indexSelect(w, 0, safe.flatten(), op).reshape(target.shape), 0).to(logp.dtype) : keep.to(logp.dtype);
  const losses = picked.neg().mul(wt);
  if (r === 'mean') return losses.sum().div(wt.sum());
  return reduce(losses, r);
}

export interface CrossEntropyOptions extends NllOptions { labelSmoothing?: number }

/**
 * logSoftmax over dim 1, then the negative log-likelihood of the targets: int32 class indices
 * [N, ...] or class probabilities with the input's shape. Label smoothing mixes in the uniform
 * distribution as PyTorch does; `weight` [C] weighs classes (and the smoothing term) as PyTorch.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const o = options<CrossEntropyOptions>('crossEntropy', opts, [...NLL_KEYS, 'labelSmoothing']);
  if (logits.ndim < 1) throw new ShapeError(`crossEntropy: input must be [N, C, ...] or [C], got a scalar`);
  if (logits.ndim === 1) {
    // A single sample [C]: PyTorch treats it as a batch of one.
    return crossEntropy(logits.unsqueeze(0), target.unsqueeze(0), { ...o, reduction: o.reduction === 'none' ? 'sum' : o.reduction });
  }
  const r = reduction('crossEntropy', o.reduction);
  const eps = o.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${String(eps)}`);
  const C = logits.shape[1]!;
  const w = classWeight('crossEntropy', o.weight, C);
  const wb = w && w.reshape(logits.shape.map((d, i) => (i === 1 ? d : 1)));
  const logp = logits.logSoftmax({ dim: 1 });
  if (target.dtype !== 'int32') {
    if (target.shape.length !== logits.shape.length || target.shape.some((d, i) => d !== logits.shape[i])) {
      throw new ShapeError(`crossEntropy: probability targets must have the input's shape ${fmt(logits.shape)}, got ${fmt(target.shape)} (or give int32 class indices [N, ...])`);
    }
    const probs = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
    const terms = wb ? probs.mul(logp).mul(wb) : probs.mul(logp);
    return reduce(terms.sum({ dim: 1 }).neg(), r);
  }
  const nllv = nll('crossEntropy', logp, target, o);
  if (eps === 0) return nllv;
  const keep = target.ne(o.ignoreIndex ?? -100);
  const smooth = where(keep, (wb ? logp.mul(wb) : logp).sum({ dim: 1 }).neg(), 0);
  let smoothed: Tensor;
  if (r === 'mean') {
    const denom = w ? where(keep, indexSelect(w, 0, where(keep, target, 0).flatten(), 'crossEntropy').reshape(target.shape), 0).sum() : keep.sum().to(logits.dtype);
    smoothed = smooth.sum().div(denom);
  } else smoothed = reduce(smooth, r);
  return nllv.mul(1 - eps).add(smoothed.mul(eps / C));
}

const sameShape = (name: string, a: Tensor, b: Tensor): void => {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${name}: input ${fmt(a.shape)} and target ${fmt(b.shape)} must have the same shape`);
  }
};

export interface ReductionOptions { reduction?: Reduction }

/** Mean squared error (input - target)². */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const o = options<ReductionOptions>('mseLoss', opts, ['reduction']);
  sameShape('mseLoss', input, target);
  return reduce(input.sub(target).pow(2), reduction('mseLoss', o.reduction));
}

/** Mean absolute error |input - target|. */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const o = options<ReductionOptions>('l1Loss', opts, ['reduction']);
  sameShape('l1Loss', input, target);
  return reduce(input.sub(target).abs(), reduction('l1Loss', o.reduction));
}

export interface SmoothL1Options extends ReductionOptions { beta?: number }

/** 0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target; beta default 1; beta 0 is l1Loss). */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: SmoothL1Options = {}): Tensor {
  const o = options<SmoothL1Options>('smoothL1Loss', opts, ['reduction', 'beta']);
  sameShape('smoothL1Loss', input, target);
  const beta = o.beta ?? 1;
  if (typeof beta !== 'number' || !(beta >= 0)) throw new RangeError(`smoothL1Loss: beta must be >= 0, got ${String(beta)}`);
  const r = reduction('smoothL1Loss', o.reduction);
  const d = input.sub(target), a = d.abs();
  if (beta === 0) return reduce(a, r);
  return reduce(where(a.lt(beta), d.pow(2).mul(0.5 / beta), a.sub(0.5 * beta)), r);
}

export interface HuberOptions extends ReductionOptions { delta?: number }

/** 0.5·d² where |d| <= delta, else delta·(|d| - 0.5·delta) (delta default 1). */
export function huberLoss(input: Tensor, target: Tensor, opts: HuberOptions = {}): Tensor {
  const o = options<HuberOptions>('huberLoss', opts, ['reduction', 'delta']);
  sameShape('huberLoss', input, target);
  const delta = o.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0)) throw new RangeError(`huberLoss: delta must be > 0, got ${String(delta)}`);
  const d = input.sub(target), a = d.abs();
  return reduce(where(a.le(delta), d.pow(2).mul(0.5), a.sub(0.5 * delta).mul(delta)), reduction('huberLoss', o.reduction));
}

export interface BceOptions extends ReductionOptions { weight?: Tensor }

/**
 * On probabilities; logs clamped at -100 as PyTorch does, so a confident mistake stays finite.
 * The gradient is PyTorch's (p - t) / max(p(1 - p), 1e-12): finite where p saturates at 0 or 1,
 * where differentiating the clamped logs would give 0·∞. `weight` (broadcast to the input)
 * scales each element.
 */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  const o = options<BceOptions>('binaryCrossEntropy', opts, ['reduction', 'weight']);
  sameShape('binaryCrossEntropy', p, target);
  const w = optTensor('binaryCrossEntropy', 'weight', o.weight);
  const r = reduction('binaryCrossEntropy', o.reduction);
  const value = noGrad(() => {
    const logP = p.log().clamp({ min: -100 }), log1mP = p.neg().log1p().clamp({ min: -100 });
    return target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
  });
  const slope = noGrad(() => p.sub(target).div(p.mul(p.neg().add(1)).clamp({ min: 1e-12 })));
  // value + (p - p)·slope: the value of the loss, the gradient `slope` with respect to p.
  const loss = value.add(p.sub(p.detach()).mul(slope));
  return reduce(w ? loss.mul(w) : loss, r);
}

export interface BceWithLogitsOptions extends BceOptions { posWeight?: Tensor }

/**
 * On logits, in the stable form (1 - y)·x + (1 + (posWeight - 1)·y)·softplus(-x), with
 * softplus(-x) = max(-x, 0) + log(1 + e^-|x|). `posWeight` (broadcast over the last dim, one
 * per class) weighs the positive term; `weight` scales each element.
 */
export function binaryCrossEntropyWithLogits(x: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const o = options<BceWithLogitsOptions>('binaryCrossEntropyWithLogits', opts, ['reduction', 'weight', 'posWeight']);
  sameShape('binaryCrossEntropyWithLogits', x, target);
  const w = optTensor('binaryCrossEntropyWithLogits', 'weight', o.weight);
  const pw = optTensor('binaryCrossEntropyWithLogits', 'posWeight', o.posWeight);
  const r = reduction('binaryCrossEntropyWithLogits', o.reduction);
  const softplusNeg = x.neg().relu().add(x.abs().neg().exp().log1p());
  const loss = pw
    ? target.neg().add(1).mul(x).add(pw.sub(1).mul(target).add(1).mul(softplusNeg))
    : x.relu().sub(x.mul(target)).add(x.abs().neg().exp().log1p());
  return reduce(w ? loss.mul(w) : loss, r);
}

export interface KlDivOptions { reduction?: Reduction | 'batchmean'; logTarget?: boolean }

/**
 * Kullback–Leibler divergence with `input` holding log-probabilities: target·(log target - input)
 * (0 where target is 0), or e^target·(target - input) with logTarget. 'batchmean' divides the
 * sum by the batch size input.shape[0] (the true KL divergence per sample); 'mean', PyTorch's
 * default, divides by the number of elements.
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  const o = options<KlDivOptions>('klDiv', opts, ['reduction', 'logTarget']);
  sameShape('klDiv', input, target);
  const r = reduction('klDiv', o.reduction, [...REDUCTIONS, 'batchmean']);
  let loss: Tensor;
  if (o.logTarget) loss = target.exp().mul(target.sub(input));
  else {
    // xlogy(t, t) with log of 1 where t is 0, so neither value nor gradient is 0·∞.
    const pos = target.gt(0);
    loss = target.mul(where(pos, target, 1).log()).sub(target.mul(input));
  }
  if (r === 'batchmean') return input.ndim === 0 ? loss.sum() : loss.sum().div(input.shape[0]!);
  return reduce(loss, r);
}
