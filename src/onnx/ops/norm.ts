/**
 * ONNX normalizations: BatchNormalization (inference, and training_mode's batch statistics with
 * the running-stat outputs), InstanceNormalization, LayerNormalization (with its Mean and
 * InvStdDev outputs), GroupNormalization, LRN, MeanVarianceNormalization. Each composes Born's mean/var reductions;
 * variances are the population ones (no Bessel correction), as ONNX defines them.
 * BatchNormalization's one builder reads the opset: spatial before 9, is_test before 7, training
 * told by the outputs asked for before 14 and by training_mode from 14.
 */
import { groupNorm } from '../../nn/groupnorm.js';
import type { Tensor } from '../../tensor/tensor.js';
import { register, type OpContext, type Value } from './registry.js';

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
/** A per-channel [C] tensor shaped to broadcast over x's dim 1. */
const perChannel = (t: Tensor, ndim: number): Tensor => t.reshape([t.shape[0]!, ...Array<number>(ndim - 2).fill(1)]);
const popVar = (x: Tensor, dim: number[]): Tensor => x.var({ dim, keepdim: true, correction: 0 });

function batchNorm(ctx: OpContext): Value[] {
  const x = ctx.tensor(0);
  if (x.ndim < 2) ctx.fail(`X must be [N, C, ...], got [${x.shape.join(', ')}]`);
  if (ctx.opset < 9 && ctx.attr.int('spatial', 1) !== 1) ctx.fail('spatial=0 is not supported (spatial=1 is)');
  const eps = ctx.attr.float('epsilon', 1e-5), momentum = ctx.attr.float('momentum', 0.9);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => perChannel(ctx.tensor(i), x.ndim));
  // training_mode (opset 14+) or, before opset 7, is_test=0 with the extra outputs asked for.
  const training = ctx.opset >= 14 ? ctx.attr.int('training_mode', 0) === 1
    : ctx.opset < 7 ? ctx.attr.int('is_test', 0) === 0 && ctx.node.outputs.length > 1 : ctx.node.outputs.length > 1;
  if (!training) return [x.sub(mean!).div(variance!.add(eps).sqrt()).mul(scale!).add(bias!)];
  const axes = [0, ...range(2, x.ndim)];
  const m = x.mean({ dim: axes, keepdim: true }), v = popVar(x, axes);
  const y = x.sub(m).div(v.add(eps).sqrt()).mul(scale!).add(bias!);
  const flat = (t: Tensor): Tensor => t.reshape([x.shape[1]!]);
  const runMean = flat(mean!.mul(momentum).add(m.mul(1 - momentum)));
  const runVar = flat(variance!.mul(momentum).add(v.mul(1 - momentum)));
  // Opsets before 14 also output the saved batch mean and variance.
  return ctx.opset >= 14 ? [y, runMean, runVar] : [y, runMean, runVar, flat(m), flat(v)];
}
register('BatchNormalization', 1, batchNorm);

register('InstanceNormalization', 1, (ctx) => {
  const x = ctx.tensor(0);
  if (x.ndim < 3) ctx.fail(`input must be [N, C, D1, ...], got [${x.shape.join(', ')}]`);
  const eps = ctx.attr.float('epsilon', 1e-5), axes = range(2, x.ndim);
  const m = x.mean({ dim: axes, keepdim: true }), v = popVar(x, axes);
  return [x.sub(m).div(v.add(eps).sqrt()).mul(perChannel(ctx.tensor(1), x.ndim)).add(perChannel(ctx.tensor(2), x.ndim))];
});

register('LayerNormalization', 17, (ctx) => {
  const x0 = ctx.tensor(0);
  const axis = ctx.attr.int('axis', -1), k = axis < 0 ? axis + x0.ndim : axis;
  if (k < 0 || k >= x0.ndim) ctx.fail(`axis ${axis} is out of range for rank ${x0.ndim}`);
  // stash_type 1 computes the statistics in float32; other dtypes are kept as given.
  const stash = ctx.attr.int('stash_type', 1);
  const x = stash === 1 && x0.dtype !== 'float32' ? x0.to('float32') : x0;
  const axes = range(k, x.ndim);
  const m = x.mean({ dim: axes, keepdim: true });
  const inv = popVar(x, axes).add(ctx.attr.float('epsilon', 1e-5)).rsqrt();
  let y = x.sub(m).mul(inv);
  if (y.dtype !== x0.dtype) y = y.to(x0.dtype);
  y = y.mul(ctx.tensor(1));
  if (ctx.has(2)) y = y.add(ctx.tensor(2));
  return [y, m, inv];
});

/** Cross-channel LRN: x / (bias + alpha/size · Σ x² over the channel window)^beta. */
register('LRN', 1, (ctx) => {
  const x = ctx.tensor(0);
  const size = ctx.attr.int('size'), alpha = ctx.attr.float('alpha', 1e-4), beta = ctx.attr.float('beta', 0.75), bias = ctx.attr.float('bias', 1);
  const C = x.shape[1]!, before = Math.floor((size - 1) / 2), after = Math.ceil((size - 1) / 2);
  const pads = Array<number>(2 * (x.ndim - 1)).fill(0);
  pads[2 * (x.ndim - 2)] = before;
  pads[2 * (x.ndim - 2) + 1] = after;
  const sq = x.mul(x).pad(pads);
  let sum = sq.slice(1, 0, C);
  for (let i = 1; i < size; i++) sum = sum.add(sq.slice(1, i, i + C));
  return [x.div(sum.mul(alpha / size).add(bias).pow(beta))];
});

register('MeanVarianceNormalization', 9, (ctx) => {
  const x = ctx.tensor(0);
  const axes = ctx.attr.ints('axes', [0, 2, 3]).map((a) => (a < 0 ? a + x.ndim : a));
  const m = x.mean({ dim: axes, keepdim: true });
  // ONNX's function body: sqrt(E[x²] - E[x]²) + 1e-9 as the divisor.
  const v = x.mul(x).mean({ dim: axes, keepdim: true }).sub(m.mul(m));
  return [x.sub(m).div(v.sqrt().add(1e-9))];
});

/**
 * GroupNormalization on Born's groupNorm. Opset 18's scale and bias are one per group (each
 * spread over its C/G channels); opset 21's are one per channel.
 */
register('GroupNormalization', 18, (ctx) => {
  const x = ctx.tensor(0), G = ctx.attr.int('num_groups');
  const C = x.shape[1]!;
  if (x.ndim < 3 || C % G) ctx.fail(`X must be [N, C, D1, ...] with C divisible by num_groups ${G}, got [${x.shape.join(', ')}]`);
  const perChannel = (t: Tensor, what: string): Tensor => {
    if (t.ndim !== 1 || (t.shape[0] !== G && t.shape[0] !== C)) ctx.fail(`${what} must be [${ctx.opset < 21 ? G : C}], got [${t.shape.join(', ')}]`);
    return ctx.opset < 21 && t.shape[0] === G && G !== C ? t.reshape([G, 1]).expand([G, C / G]).reshape([C]) : t;
  };
  return [groupNorm(x, G, { weight: perChannel(ctx.tensor(1), 'scale'), bias: perChannel(ctx.tensor(2), 'bias'), eps: ctx.attr.float('epsilon', 1e-5) })];
});
