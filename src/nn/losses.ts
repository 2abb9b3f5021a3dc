/** Loss functions with PyTorch's semantics and `reduction` ('mean' | 'sum' | 'none'). */
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { where } from '../tensor/elementwise.js';
import { gather } from '../tensor/linalg.js';
import { noGrad } from '../autodiff/grad.js';
import type { Tensor } from '../tensor/tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
const reduce = (t: Tensor, r: Reduction = 'mean'): Tensor => (r === 'none' ? t : r === 'sum' ? t.sum() : t.mean());

export interface NllOptions { reduction?: Reduction; ignoreIndex?: number }

/** Negative log-likelihood of class indices: logp [N, C] (or [N, C, ...]), target int32 [N] (or [N, ...]). */
export function nllLoss(logp: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  return nll('nllLoss', logp, target, opts);
}

/** nllLoss under the name of the op the user called: a target out of [0, C) is an IndexError naming it. */
function nll(op: string, logp: Tensor, target: Tensor, opts: NllOptions): Tensor {
  if (target.dtype !== 'int32') throw new DTypeError(`${op}: target must hold int32 class indices, got ${target.dtype}`);
  if (logp.ndim < 2 || target.ndim !== logp.ndim - 1 || target.shape[0] !== logp.shape[0]) {
    throw new ShapeError(`${op}: input ${fmt(logp.shape)} and target ${fmt(target.shape)} do not match (input [N, C, ...], target [N, ...])`);
  }
  const ignore = opts.ignoreIndex ?? -100;
  const keep = target.ne(ignore);
  const safe = where(keep, target, 0);
  const picked = gather(logp, 1, safe.unsqueeze(1), op).squeeze(1);
  const losses = where(keep, picked.neg(), 0);
  if ((opts.reduction ?? 'mean') === 'mean') return losses.sum().div(keep.sum().to(logp.dtype));
  return reduce(losses, opts.reduction);
}

export interface CrossEntropyOptions extends NllOptions { labelSmoothing?: number }

/**
 * logSoftmax over dim 1, then the negative log-likelihood of the targets: int32 class indices
 * [N, ...] or class probabilities with the input's shape. Label smoothing mixes in the uniform
 * distribution as PyTorch does.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const logp = logits.logSoftmax({ dim: 1 });
  const eps = opts.labelSmoothing ?? 0;
  const C = logits.shape[1]!;
  if (target.dtype !== 'int32') {
    if (target.shape.length !== logits.shape.length || target.shape.some((d, i) => d !== logits.shape[i])) {
      throw new ShapeError(`crossEntropy: probability targets must have the input's shape ${fmt(logits.shape)}, got ${fmt(target.shape)}`);
    }
    const probs = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
    return reduce(probs.mul(logp).sum({ dim: 1 }).neg(), opts.reduction);
  }
  const nllv = nll('crossEntropy', logp, target, opts);
  if (eps === 0) return nllv;
  const ignore = opts.ignoreIndex ?? -100;
  const keep = target.ne(ignore);
  const smooth = where(keep, logp.mean({ dim: 1 }).neg(), 0);
  const smoothed = (opts.reduction ?? 'mean') === 'mean' ? smooth.sum().div(keep.sum().to(logits.dtype)) : reduce(smooth, opts.reduction);
  return nllv.mul(1 - eps).add(smoothed.mul(eps));
}

const sameShape = (name: string, a: Tensor, b: Tensor): void => {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${name}: input ${fmt(a.shape)} and target ${fmt(b.shape)} must have the same shape`);
  }
};

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('mseLoss', input, target);
  return reduce(input.sub(target).pow(2), opts.reduction);
}

export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('l1Loss', input, target);
  return reduce(input.sub(target).abs(), opts.reduction);
}

/**
 * On probabilities; logs clamped at -100 as PyTorch does, so a confident mistake stays finite.
 * The gradient is PyTorch's (p - t) / max(p(1 - p), 1e-12): finite where p saturates at 0 or 1,
 * where differentiating the clamped logs would give 0·∞.
 */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('binaryCrossEntropy', p, target);
  const value = noGrad(() => {
    const logP = p.log().clamp({ min: -100 }), log1mP = p.neg().log1p().clamp({ min: -100 });
    return target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
  });
  const slope = noGrad(() => p.sub(target).div(p.mul(p.neg().add(1)).clamp({ min: 1e-12 })));
  // value + (p - p)·slope: the value of the loss, the gradient `slope` with respect to p.
  return reduce(value.add(p.sub(p.detach()).mul(slope)), opts.reduction);
}

/** On logits, in the stable form max(x, 0) - x·y + log(1 + e^-|x|). */
export function binaryCrossEntropyWithLogits(x: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  sameShape('binaryCrossEntropyWithLogits', x, target);
  return reduce(x.relu().sub(x.mul(target)).add(x.abs().neg().exp().log1p()), opts.reduction);
}
