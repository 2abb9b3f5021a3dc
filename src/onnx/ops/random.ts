/**
 * Random ops: RandomUniform(Like), RandomNormal(Like), Bernoulli, Multinomial, on Born's Philox
 * generator. A `seed` attribute makes a node's draws repeatable across runs; the values are
 * Born's, not numpy's (ONNX leaves the generator to the runtime).
 */
import { rand, randn } from '../../tensor/creation.js';
import { bernoulli, multinomial } from '../../tensor/sampling.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../graph/dtype.js';
import { bornDType } from '../tensor-proto.js';
import { register, type OpContext } from './registry.js';

const seedOf = (ctx: OpContext): { seed?: number } => (ctx.attr.has('seed') ? { seed: Math.trunc(ctx.attr.float('seed')) } : {});
const dtypeAttr = (ctx: OpContext, dflt: DType): DType => (ctx.attr.has('dtype') ? bornDType(ctx.attr.int('dtype'), `${ctx.node.opType}'s dtype`) : dflt);

/** Draws in float32, then scaled and shifted in the result's dtype. */
function draw(ctx: OpContext, kind: 'uniform' | 'normal', shape: readonly number[], dtype: DType): Tensor {
  const opts = { ...seedOf(ctx), device: ctx.device };
  if (kind === 'uniform') {
    const low = ctx.attr.float('low', 0), high = ctx.attr.float('high', 1);
    return rand([...shape], opts).to(dtype).mul(high - low).add(low);
  }
  const mean = ctx.attr.float('mean', 0), scale = ctx.attr.float('scale', 1);
  return randn([...shape], opts).to(dtype).mul(scale).add(mean);
}

for (const kind of ['uniform', 'normal'] as const) {
  const name = kind === 'uniform' ? 'RandomUniform' : 'RandomNormal';
  register(name, 1, (ctx) => [draw(ctx, kind, ctx.attr.ints('shape'), dtypeAttr(ctx, 'float32'))]);
  register(`${name}Like`, 1, (ctx, [x]) => {
    const like = x ?? ctx.fail('input 0 is required');
    return [draw(ctx, kind, like.shape, dtypeAttr(ctx, like.dtype))];
  });
}

register('Bernoulli', 15, (ctx) => {
  const p = ctx.tensor(0);
  return [bernoulli(p, seedOf(ctx)).to(dtypeAttr(ctx, p.dtype))];
});

/** ONNX's input holds unnormalised log-probabilities, one row per batch entry; samples are drawn with replacement. */
register('Multinomial', 7, (ctx) => {
  const x = ctx.tensor(0);
  if (x.ndim !== 2) ctx.fail(`input of shape [${x.shape.join(', ')}] is not [batch, classes]`);
  const dtype = dtypeAttr(ctx, 'int32');
  if (dtype !== 'int32' && dtype !== 'int64') ctx.fail(`dtype ${dtype}: supported are int32 and int64`);
  const probs = x.softmax(1);
  return [multinomial(probs, ctx.attr.int('sample_size', 1), { ...seedOf(ctx), replacement: true }).to(dtype)];
});
