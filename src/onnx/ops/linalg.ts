/** MatMul and Gemm through Born's matmul (batched and broadcasting, like numpy's). */
import { register, type OpContext } from './registry.js';
import type { Tensor } from '../../tensor/tensor.js';
import { einsum } from '../../tensor/contract.js';

register('MatMul', 1, (ctx) => [ctx.tensor(0).matmul(ctx.tensor(1))]);

/** Y = alpha * A' B' + beta * C, with C broadcast to Y (optional from opset 11). */
register('Gemm', 1, (ctx: OpContext) => {
  let a: Tensor = ctx.tensor(0), b: Tensor = ctx.tensor(1);
  if (a.ndim !== 2 || b.ndim !== 2) ctx.fail(`A and B must be matrices, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  if (ctx.attr.int('transA', 0)) a = a.T;
  if (ctx.attr.int('transB', 0)) b = b.T;
  const alpha = ctx.attr.float('alpha', 1), beta = ctx.attr.float('beta', 1);
  let y = a.matmul(b);
  if (alpha !== 1) y = y.mul(alpha);
  if (ctx.has(2) && beta !== 0) {
    const c = ctx.tensor(2);
    y = y.add(beta === 1 ? c : c.mul(beta));
  }
  return [y];
});

/** Einsum: Born's einsum takes ONNX's equation grammar (explicit '->' or implicit output, '...'). */
register('Einsum', 12, (ctx, ins) => [einsum(ctx.attr.string('equation').replace(/\s+/g, ''), ...ins.map((v, i) => ctx.tensorOf(v!, i)))]);
