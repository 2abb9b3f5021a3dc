/**
 * Reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare), ArgMax/ArgMin, and
 * Softmax/LogSoftmax/Hardmax. Axes are an attribute before opset 13 (ReduceSum) or 18 (the others)
 * and an optional input after; before opset 13 the softmax family flattens to 2-D at `axis`.
 */
import { isFloat } from '../../graph/dtype.js';
import { arange } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { wideFloat } from '../host.js';
import { register, type OpContext } from './registry.js';

const axisIn = (ctx: OpContext, a: number, rank: number): number => {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};

/** Integer reductions that Born computes in float (mean) come back to the input's dtype, truncated. */
const asInput = (t: Tensor, x: Tensor): Tensor => (t.dtype === x.dtype ? t : isFloat(x.dtype) ? t.to(x.dtype) : t.trunc().to(x.dtype));

type Reducer = (x: Tensor, dim: number[], keepdim: boolean) => Tensor;
const REDUCERS: Record<string, [inputSince: number, Reducer]> = {
  ReduceSum: [13, (x, dim, keepdim) => x.sum({ dim, keepdim })],
  ReduceMean: [18, (x, dim, keepdim) => asInput((isFloat(x.dtype) ? x : x.to(wideFloat(x))).mean({ dim, keepdim }), x)],
  ReduceMax: [18, (x, dim, keepdim) => x.amax({ dim, keepdim })],
  ReduceMin: [18, (x, dim, keepdim) => x.amin({ dim, keepdim })],
  ReduceProd: [18, (x, dim, keepdim) => x.prod({ dim, keepdim })],
  ReduceL1: [18, (x, dim, keepdim) => x.abs().sum({ dim, keepdim })],
  ReduceL2: [18, (x, dim, keepdim) => asInput((isFloat(x.dtype) ? x : x.to(wideFloat(x))).square().sum({ dim, keepdim }).sqrt(), x)],
  ReduceLogSum: [18, (x, dim, keepdim) => x.sum({ dim, keepdim }).log()],
  ReduceLogSumExp: [18, (x, dim, keepdim) => asInput((isFloat(x.dtype) ? x : x.to(wideFloat(x))).logsumexp({ dim, keepdim }), x)],
  ReduceSumSquare: [18, (x, dim, keepdim) => x.square().sum({ dim, keepdim })],
};
for (const [op, [since, f]] of Object.entries(REDUCERS)) {
  register(op, 1, async (ctx, ins) => {
    const x = ctx.tensor(0);
    const keepdim = ctx.attr.int('keepdims', 1) === 1;
    let axes: number[] | undefined;
    if (ctx.opset < since) axes = ctx.attr.has('axes') ? ctx.attr.ints('axes') : undefined;
    else axes = ins[1] !== undefined ? await ctx.ints(1) : undefined;
    if (axes !== undefined && !axes.length) axes = undefined;
    if (axes === undefined && ctx.opset >= since && ctx.attr.int('noop_with_empty_axes', 0) === 1) return [x];
    const dim = (axes ?? [...x.shape.keys()]).map((a) => axisIn(ctx, a, x.ndim));
    if (!dim.length) return [f(x.reshape([1]), [0], false).reshape([])];
    return [f(x, dim, keepdim)];
  });
}

/** ArgMax/ArgMin as int64, the first extreme index or (select_last_index) the last. */
function arg(op: 'argmax' | 'argmin') {
  return (ctx: OpContext) => {
    const x = ctx.tensor(0);
    const axis = axisIn(ctx, ctx.attr.int('axis', 0), x.ndim);
    const keepdim = ctx.attr.int('keepdims', 1) === 1;
    if (ctx.attr.int('select_last_index', 0) === 1) {
      const i = x.flip([axis])[op]({ dim: axis, keepdim });
      return [i.neg().add(x.shape[axis]! - 1).to('int64')];
    }
    return [x[op]({ dim: axis, keepdim }).to('int64')];
  };
}
register('ArgMax', 1, arg('argmax'));
register('ArgMin', 1, arg('argmin'));

/** Softmax-like ops: along `axis` from opset 13 (default -1); before, on the 2-D flattening at `axis` (default 1). */
function softmaxLike(f: (x: Tensor, dim: number) => Tensor) {
  return (ctx: OpContext) => {
    const x = ctx.tensor(0);
    if (!isFloat(x.dtype)) ctx.fail(`takes float tensors, got ${x.dtype}`);
    if (x.ndim === 0) return [f(x.reshape([1]), 0).reshape([])];
    if (ctx.opset >= 13) return [f(x, axisIn(ctx, ctx.attr.int('axis', -1), x.ndim))];
    let axis = ctx.attr.int('axis', 1);
    if (axis < -x.ndim || axis > x.ndim) ctx.fail(`axis ${axis} is out of range for rank ${x.ndim}`);
    if (axis < 0) axis += x.ndim;
    const rows = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    return [f(x.reshape([rows, -1]), 1).reshape([...x.shape])];
  };
}
const hardmax = (x: Tensor, dim: number): Tensor => {
  const n = x.shape[dim]!;
  const at = arange(n, { dtype: 'int32', device: x.device }).reshape(x.shape.map((d, i) => (i === dim ? n : 1)));
  return at.eq(x.argmax({ dim, keepdim: true })).to(x.dtype);
};
register('Softmax', 1, softmaxLike((x, dim) => x.softmax(dim)));
register('LogSoftmax', 1, softmaxLike((x, dim) => x.logSoftmax(dim)));
register('Hardmax', 1, softmaxLike(hardmax));
