/**
 * ONNX linear algebra: Gemm, MatMul, MatMulInteger, Einsum, on Born's matmul and einsum. Integer
 * products accumulate in int32 after subtracting the zero points (ONNX's MatMulInteger rule).
 */
import { einsum } from '../../tensor/contract.js';
import type { Tensor } from '../../tensor/tensor.js';
import { register, type OpContext } from './registry.js';

/** Gemm: alpha·A'·B' + beta·C with C unidirectionally broadcast; before opset 7 `broadcast=0` needs C's full shape. */
register('Gemm', 1, (ctx) => {
  let a = ctx.tensor(0), b = ctx.tensor(1);
  if (a.ndim !== 2 || b.ndim !== 2) ctx.fail(`A and B must be 2-D, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  if (ctx.attr.int('transA', 0)) a = a.permute([1, 0]);
  if (ctx.attr.int('transB', 0)) b = b.permute([1, 0]);
  const alpha = ctx.attr.float('alpha', 1), beta = ctx.attr.float('beta', 1);
  let y = a.matmul(b);
  if (alpha !== 1) y = y.mul(alpha);
  if (ctx.has(2) && beta !== 0) {
    const c = ctx.tensor(2);
    y = y.add(beta === 1 ? c : c.mul(beta));
  }
  return [y];
});

register('MatMul', 1, (ctx) => [ctx.tensor(0).matmul(ctx.tensor(1))]);

/** x minus its zero point (a scalar, or one per row of A / column of B), widened to int32. */
function centred(ctx: OpContext, i: number, zp: number, axis: 'row' | 'col'): Tensor {
  const x = ctx.tensor(i).to('int32');
  if (!ctx.has(zp)) return x;
  let z = ctx.tensor(zp).to('int32');
  if (z.ndim === 1 && z.shape[0] !== 1) z = axis === 'row' ? z.reshape([z.shape[0]!, 1]) : z;
  return x.sub(z);
}

register('MatMulInteger', 10, (ctx) => [centred(ctx, 0, 2, 'row').matmul(centred(ctx, 1, 3, 'col'))]);

register('Einsum', 12, (ctx, ins) => {
  const eq = ctx.attr.string('equation').replace(/\s+/g, '');
  const ops = ins.map((_, i) => ctx.tensor(i));
  try {
    return [einsum(eq, ...ops)];
  } catch (e) {
    return ctx.fail(`einsum '${eq}': ${(e as Error).message}`);
  }
});
