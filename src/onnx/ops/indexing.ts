/**
 * Index ops: GatherElements, GatherND, ScatterElements / Scatter, ScatterND, Compress, OneHot,
 * through Born's gather / scatter / scatterAdd (Trilu, EyeLike, NonZero live in misc.ts and
 * select.ts). ScatterND and GatherND
 * flatten the indexed dims into one linear index, so both are a single gather or scatter.
 */
import { iotaAlong } from '../../tensor/creation.js';
import { where } from '../../tensor/elementwise.js';
import { onesLike } from '../../tensor/like.js';
import type { Tensor } from '../../tensor/tensor.js';
import { host, numbers, numel, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

const axisIn = (ctx: OpContext, a: number, rank: number): number => {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};
/** ONNX indices may count from the end: i < 0 reads i + n. */
const wrapped = (idx: Tensor, n: number | Tensor): Tensor => where(idx.lt(0), idx.add(n), idx);

register('GatherElements', 11, (ctx) => {
  const x = ctx.tensor(0), idx = ctx.tensor(1);
  const axis = axisIn(ctx, ctx.attr.int('axis', 0), x.ndim);
  return [x.gather(axis, wrapped(idx, x.shape[axis]!))];
});

/**
 * GatherND / ScatterND's linear index: data [B…, K…, R…] read as [prod B, prod K, prod R], and
 * indices [B…, M…, k] as [prod B, prod M] offsets into the middle dim.
 */
function linearIndex(ctx: OpContext, data: readonly number[], idx: Tensor, batch: number): { lin: Tensor; k: number; m: number[] } {
  const k = idx.shape[idx.ndim - 1]!;
  if (idx.ndim < 1 || batch + k > data.length) ctx.fail(`indices of shape [${idx.shape.join(', ')}] do not index data of shape [${data.join(', ')}] with batch_dims ${batch}`);
  const dims = data.slice(batch, batch + k);
  let lin: Tensor | undefined;
  let stride = 1;
  for (let j = k - 1; j >= 0; j--) {
    const part = wrapped(idx.narrow(-1, j, 1).squeeze(-1), dims[j]!).mul(stride);
    lin = lin ? lin.add(part) : part;
    stride *= dims[j]!;
  }
  const m = idx.shape.slice(batch, -1);
  const lead = [numel(data.slice(0, batch)), numel(m)];
  return { lin: lin ? lin.reshape(lead) : idx.sum(-1).reshape(lead), k, m };
}

register('GatherND', 11, (ctx) => {
  const x = ctx.tensor(0), idx = ctx.tensor(1);
  const b = ctx.opset >= 12 ? ctx.attr.int('batch_dims', 0) : 0;
  const { lin, k, m } = linearIndex(ctx, x.shape, idx, b);
  const bs = x.shape.slice(0, b), rest = x.shape.slice(b + k);
  const [nb, nm] = lin.shape as [number, number], r = numel(rest);
  const flat = x.reshape([nb, numel(x.shape.slice(b, b + k)), r]);
  const out = flat.gather(1, lin.reshape([nb, nm, 1]).expand([nb, nm, r]));
  return [out.reshape([...bs, ...m, ...rest])];
});

/** A scatter with ONNX's reductions; mul/max/min compose from a plain scatter, so need unique indices. */
async function scatterReduced(ctx: OpContext, x: Tensor, axis: number, idx: Tensor, src: Tensor, reduction: string): Promise<Tensor> {
  if (reduction === 'none') return x.scatter(axis, idx, src);
  if (reduction === 'add') return x.scatterAdd(axis, idx, src);
  if (!['mul', 'max', 'min'].includes(reduction)) ctx.fail(`reduction ${JSON.stringify(reduction)}: supported are none, add, mul, max, min`);
  const hits = x.to('int32').mul(0).scatterAdd(axis, idx, onesLike(idx, { dtype: 'int32' }));
  if (numbers({ dtype: 'int32', shape: hits.shape, data: await hits.amax().data() as Int32Array })[0]! > 1) {
    ctx.fail(`reduction ${reduction} with repeated indices is not supported (Born's scatters add or write once; none and add take repeats)`);
  }
  const placed = x.scatter(axis, idx, src);
  const r = reduction === 'mul' ? x.mul(placed) : reduction === 'max' ? x.maximum(placed) : x.minimum(placed);
  return where(hits.gt(0), r, x);
}

const reductionOf = (ctx: OpContext): string => (ctx.opset >= 16 ? ctx.attr.string('reduction', 'none') : 'none');

register('ScatterElements', 11, async (ctx) => {
  const x = ctx.tensor(0), idx = ctx.tensor(1), src = ctx.tensor(2);
  const axis = axisIn(ctx, ctx.attr.int('axis', 0), x.ndim);
  return [await scatterReduced(ctx, x, axis, wrapped(idx, x.shape[axis]!), src, reductionOf(ctx))];
});
register('Scatter', 9, async (ctx) => {
  const x = ctx.tensor(0), idx = ctx.tensor(1), src = ctx.tensor(2);
  const axis = axisIn(ctx, ctx.attr.int('axis', 0), x.ndim);
  return [await scatterReduced(ctx, x, axis, wrapped(idx, x.shape[axis]!), src, 'none')];
});

register('ScatterND', 11, async (ctx) => {
  const x = ctx.tensor(0), idx = ctx.tensor(1), upd = ctx.tensor(2);
  const { lin, k } = linearIndex(ctx, x.shape, idx, 0);
  const rest = x.shape.slice(k), r = numel(rest), nm = lin.numel();
  let out = x.reshape([numel(x.shape.slice(0, k)), r]);
  const rows = upd.reshape([nm, r]), reduction = reductionOf(ctx);
  const at = (t: Tensor): Tensor => t.reshape([t.numel(), 1]).expand([t.numel(), r]);
  if (reduction === 'none' || reduction === 'add') return [(await scatterReduced(ctx, out, 0, at(lin), rows, reduction)).reshape([...x.shape])];
  // mul / max / min with repeated rows: the j-th update of each row goes in round j, so every
  // round's indices are unique and the rounds apply in order.
  const seen = new Map<number, number>(), rounds: number[][] = [];
  for (const [u, v] of numbers({ dtype: 'int64', shape: [nm], data: await lin.to('int64').data() as BigInt64Array }).entries()) {
    const j = seen.get(v) ?? 0;
    seen.set(v, j + 1);
    (rounds[j] ??= []).push(u);
  }
  for (const round of rounds) {
    const pick = toTensor(host('int64', [round.length], round), ctx.device);
    out = await scatterReduced(ctx, out, 0, at(lin.flatten().indexSelect(0, pick)), rows.indexSelect(0, pick), reduction);
  }
  return [out.reshape([...x.shape])];
});

register('Compress', 9, async (ctx) => {
  const x0 = ctx.tensor(0);
  const cond = numbers(await ctx.host(1));
  const hasAxis = ctx.attr.has('axis');
  const x = hasAxis ? x0 : x0.flatten();
  const axis = hasAxis ? axisIn(ctx, ctx.attr.int('axis'), x.ndim) : 0;
  const keep = cond.slice(0, x.shape[axis]).flatMap((c, i) => (c ? [i] : []));
  return [x.indexSelect(axis, toTensor(host('int64', [keep.length], keep), ctx.device))];
});

register('OneHot', 9, async (ctx) => {
  const depth = Math.trunc(numbers(await ctx.host(1))[0]!);
  const values = ctx.tensor(2);
  let idx = ctx.tensor(0);
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32') idx = idx.to('int64');
  const rank = idx.ndim + 1;
  const axis = axisIn(ctx, ctx.attr.int('axis', -1), rank);
  const at = wrapped(idx, depth).unsqueeze(axis);
  const shape = idx.shape.slice(); shape.splice(axis, 0, depth);
  const on = values.narrow(0, 1, 1).reshape([]), off = values.narrow(0, 0, 1).reshape([]);
  return [where(at.eq(iotaAlong(shape, axis)), on, off)];
});
