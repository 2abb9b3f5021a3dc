/** Small ops with no other family: Trilu, Dropout (inference), CumSum, Shrink, EyeLike. */
import { isFloat } from '../../graph/dtype.js';
import { arange, full } from '../../tensor/creation.js';
import { where } from '../../tensor/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bornDType } from '../tensor-proto.js';
import { register } from './registry.js';

register('Trilu', 14, async (ctx) => {
  const x = ctx.tensor(0);
  const k = ctx.has(1) ? (await ctx.ints(1))[0]! : 0;
  return [ctx.attr.int('upper', 1) ? x.triu(k) : x.tril(k)];
});

/**
 * Dropout at inference: the identity, and an all-true mask. Training mode (opset 12's input 2,
 * or is_test=0 before opset 7) draws random numbers ONNX does not specify, so it is refused unless
 * the ratio is 0.
 */
register('Dropout', 1, async (ctx) => {
  const x = ctx.tensor(0);
  let training = ctx.opset < 7 ? ctx.attr.int('is_test', 0) === 0 : false;
  if (ctx.opset >= 12 && ctx.has(2)) training = (await ctx.ints(2))[0] !== 0;
  const ratio = ctx.opset >= 12 ? (ctx.has(1) ? (await ctx.ints(1))[0]! : 0.5) : ctx.attr.float('ratio', 0.5);
  if (training && ratio !== 0) ctx.fail('training mode (random masks) is not supported; run the model for inference');
  const mask = full(x.shape, true, { dtype: 'bool', device: x.device });
  return [x, ctx.opset >= 10 || ctx.node.outputs.length < 2 ? mask : mask.to(x.dtype)];
});

register('CumSum', 11, async (ctx) => {
  const x = ctx.tensor(0);
  const [a] = await ctx.ints(1);
  let axis = a!;
  if (axis < -x.ndim || axis >= x.ndim) ctx.fail(`axis ${axis} is out of range for rank ${x.ndim}`);
  if (axis < 0) axis += x.ndim;
  const reverse = ctx.attr.int('reverse', 0) === 1, exclusive = ctx.attr.int('exclusive', 0) === 1;
  const v = reverse ? x.flip([axis]) : x;
  let s: Tensor = v.cumsum(axis);
  if (exclusive) s = s.sub(v);
  if (s.dtype !== x.dtype) s = s.to(x.dtype);
  return [reverse ? s.flip([axis]) : s];
});

register('Shrink', 9, (ctx) => {
  const x = ctx.tensor(0);
  const bias = ctx.attr.float('bias', 0), lambd = ctx.attr.float('lambd', 0.5);
  const zero = full([], 0, { dtype: x.dtype, device: x.device });
  const keep = (t: Tensor): Tensor => (t.dtype === x.dtype ? t : t.to(x.dtype));
  return [where(x.lt(-lambd), keep(x.add(bias)), where(x.gt(lambd), keep(x.sub(bias)), zero))];
});

register('EyeLike', 9, (ctx) => {
  const x = ctx.tensor(0);
  if (x.ndim !== 2) ctx.fail(`takes a 2-D tensor, got [${x.shape.join(', ')}]`);
  const dtype = ctx.attr.has('dtype') ? bornDType(ctx.attr.int('dtype'), 'EyeLike\'s dtype') : x.dtype;
  const k = ctx.attr.int('k', 0);
  const [n, m] = x.shape as [number, number];
  const rows = arange(n, { dtype: 'int32', device: x.device }).reshape([n, 1]);
  const cols = arange(m, { dtype: 'int32', device: x.device }).reshape([1, m]);
  const eye = cols.sub(rows).eq(k);
  return [isFloat(dtype) || dtype !== 'bool' ? eye.to(dtype) : eye];
});
