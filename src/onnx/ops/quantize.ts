/**
 * The requantization QLinearConv and QLinearMatMul share: an int32 accumulator times
 * x_scale·w_scale/y_scale, rounded half to even, plus y_zero_point, saturated to y's integer type.
 */
import type { DType } from '../../graph/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OpContext } from './registry.js';

const RANGE: Partial<Record<DType, [number, number]>> = { uint8: [0, 255], int8: [-128, 127] };

/** x minus its zero point in int32; a per-channel zero point broadcasts along `axis`. */
export function centred(ctx: OpContext, i: number, zp: number, axis?: number): Tensor {
  const x = ctx.tensor(i).to('int32');
  if (!ctx.has(zp)) return x;
  const z = ctx.tensor(zp).to('int32');
  if (z.numel() === 1) return x.sub(z.reshape([]));
  if (axis === undefined) return ctx.fail(`zero point ${zp} must be a scalar, got [${z.shape.join(', ')}]`);
  return x.sub(z.reshape(x.shape.map((d, k) => (k === axis ? z.numel() : 1))));
}

/**
 * round(acc · sx·sw/sy) + zy, saturated: sw may be per output channel, along `axis` of acc.
 * yType is the y_zero_point's type (uint8 when it is absent).
 */
export function requantize(ctx: OpContext, acc: Tensor, sx: number, sw: number, sy: number, zy: number, axis: number): Tensor {
  const yType = ctx.has(zy) ? ctx.tensor(zy).dtype : 'uint8';
  const range = RANGE[yType] ?? ctx.fail(`y_zero_point of type ${yType}: uint8 and int8 are supported`);
  let w = ctx.tensor(sw).to('float32');
  if (w.numel() > 1) w = w.reshape(acc.shape.map((d, k) => (k === axis ? w.numel() : 1)));
  else w = w.reshape([]);
  const scale = ctx.tensor(sx).to('float32').reshape([]).mul(w).div(ctx.tensor(sy).to('float32').reshape([]));
  let y = acc.to('float32').mul(scale).round();
  if (ctx.has(zy)) y = y.add(ctx.tensor(zy).to('float32').reshape([]));
  return y.clamp(range[0], range[1]).to(yType);
}
