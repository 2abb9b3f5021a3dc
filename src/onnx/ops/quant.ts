/**
 * Linear quantization: QuantizeLinear, DequantizeLinear (per tensor or per axis),
 * DynamicQuantizeLinear. Arithmetic runs in float32 (integer values there are
 * exact below 2^24) and Born's round is half to even, ONNX's rule. 8-bit integers only: Born has
 * no float8 or 4-bit dtypes. MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv live with the matmul/conv ops.
 */
import type { DType } from '../../graph/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { register, type OpContext } from './registry.js';

const RANGE: Partial<Record<DType, readonly [number, number]>> = { uint8: [0, 255], int8: [-128, 127] };

const rangeOf = (ctx: OpContext, d: DType): readonly [number, number] =>
  RANGE[d] ?? ctx.fail(`quantized type ${d}: supported are uint8 and int8`);

/** A 1-D per-axis parameter shaped to broadcast along `axis` of a rank-`rank` tensor; scalars as they are. */
function alongAxis(ctx: OpContext, p: Tensor, axis: number, rank: number, n: number): Tensor {
  if (p.numel() === 1) return p.reshape([]);
  if (p.ndim !== 1 || p.shape[0] !== n) ctx.fail(`a per-axis parameter of shape [${p.shape.join(', ')}] does not match axis ${axis} of size ${n}`);
  const a = axis < 0 ? axis + rank : axis;
  return p.reshape(Array.from({ length: rank }, (_, i) => (i === a ? n : 1)));
}

const saturate = (ctx: OpContext, v: Tensor, to: DType): Tensor => {
  const [lo, hi] = rangeOf(ctx, to);
  return v.round().clamp(lo, hi).to(to);
};

register('QuantizeLinear', 10, (ctx) => {
  const x = ctx.tensor(0);
  const axis = ctx.opset >= 13 ? ctx.attr.int('axis', 1) : 1;
  const n = x.shape[axis < 0 ? axis + x.ndim : axis] ?? 1;
  const scale = alongAxis(ctx, ctx.tensor(1), axis, x.ndim, n);
  const zp = ctx.has(2) ? alongAxis(ctx, ctx.tensor(2), axis, x.ndim, n) : undefined;
  const to = zp?.dtype ?? 'uint8';
  let q = x.to('float32').div(scale.to('float32')).round();
  if (zp) q = q.add(zp.to('float32'));
  return [saturate(ctx, q, to)];
});

register('DequantizeLinear', 10, (ctx) => {
  const x = ctx.tensor(0);
  if (x.dtype !== 'int32') rangeOf(ctx, x.dtype);
  const axis = ctx.opset >= 13 ? ctx.attr.int('axis', 1) : 1;
  const n = x.shape[axis < 0 ? axis + x.ndim : axis] ?? 1;
  const scale = alongAxis(ctx, ctx.tensor(1), axis, x.ndim, n);
  let v = x.to('float32');
  if (ctx.has(2)) v = v.sub(alongAxis(ctx, ctx.tensor(2), axis, x.ndim, n).to('float32'));
  return [v.mul(scale.to('float32')).to(scale.dtype)];
});

/** uint8 with the range [min(x, 0), max(x, 0)] mapped onto [0, 255] (ONNX's formula, step by step). */
register('DynamicQuantizeLinear', 11, (ctx) => {
  const x = ctx.tensor(0).to('float32');
  const lo = x.amin().minimum(0), hi = x.amax().maximum(0);
  const scale = hi.sub(lo).div(255);
  const zp = lo.neg().div(scale).round().clamp(0, 255).to('uint8');
  const y = saturate(ctx, x.div(scale).round().add(zp.to('float32')), 'uint8');
  return [y, scale, zp];
});
