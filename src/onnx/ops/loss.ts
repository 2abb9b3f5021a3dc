/**
 * Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none/sum/mean, class
 * weights, ignore_index, any number of spatial dims), through Born's gather and reductions.
 */
import { where } from '../../tensor/elementwise.js';
import { onesLike } from '../../tensor/like.js';
import type { Tensor } from '../../tensor/tensor.js';
import { register, type OpContext } from './registry.js';

/**
 * loss[n, d…] = -input[n, target[n, d…], d…] * weight[target[n, d…]], 0 where target is
 * ignore_index; 'mean' divides the sum by the sum of the weights that count (ONNX's rule).
 */
function nll(ctx: OpContext, input: Tensor, target: Tensor, weight: Tensor | undefined): Tensor {
  const reduction = ctx.attr.string('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) ctx.fail(`reduction ${JSON.stringify(reduction)}: supported are none, sum, mean`);
  if (input.ndim < 2 || target.ndim !== input.ndim - 1) ctx.fail(`input [${input.shape.join(', ')}] and target [${target.shape.join(', ')}] are not [N, C, d…] and [N, d…]`);
  const ii = ctx.attr.has('ignore_index') ? ctx.attr.int('ignore_index') : undefined;
  const keep = ii === undefined ? undefined : target.ne(ii);
  const safe = keep ? where(keep, target, 0) : target;
  const picked = input.gather(1, safe.unsqueeze(1)).squeeze(1);
  let w: Tensor = weight ? weight.gather(0, safe.flatten()).reshape([...target.shape]) : onesLike(picked);
  if (keep) w = where(keep, w, 0);
  const loss = picked.neg().mul(w);
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return loss.sum();
  return loss.sum().div(w.sum());
}

register('NegativeLogLikelihoodLoss', 12, (ctx) =>
  [nll(ctx, ctx.tensor(0), ctx.tensor(1), ctx.has(2) ? ctx.tensor(2) : undefined)]);

register('SoftmaxCrossEntropyLoss', 12, (ctx) => {
  const scores = ctx.tensor(0);
  if (scores.ndim < 2) ctx.fail(`scores of shape [${scores.shape.join(', ')}] are not [N, C, d…]`);
  const logProb = scores.logSoftmax(1);
  return [nll(ctx, logProb, ctx.tensor(1), ctx.has(2) ? ctx.tensor(2) : undefined), logProb];
});
