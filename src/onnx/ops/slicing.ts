/**
 * Gather, Slice, Expand, Tile, Split, ConstantOfShape, Range. Host inputs (shapes) give host
 * results; the rest are Born views and index ops.
 */
import { isFloat } from '../../graph/dtype.js';
import { full } from '../../tensor/creation.js';
import { broadcastShapes, host, hostable, hostMap, hostPick, HOST_LIMIT, isHost, numbers, numel, stridesOf, toTensor } from '../host.js';
import type { HostArray } from '../tensor-proto.js';
import { register, type OpContext, type Value } from './registry.js';

const axisIn = (ctx: OpContext, a: number, rank: number): number => {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};
const need = (ctx: OpContext, v: Value | undefined, i: number): Value => v ?? ctx.fail(`input ${i} is required`);

register('Gather', 1, (ctx, ins) => {
  const data = need(ctx, ins[0], 0), idx = need(ctx, ins[1], 1);
  const axis = axisIn(ctx, ctx.attr.int('axis', 0), data.shape.length);
  const n = data.shape[axis]!;
  const outShape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
  if (isHost(idx)) {
    const ix = numbers(idx).map((i) => {
      if (i < -n || i >= n) ctx.fail(`index ${i} is out of range for axis ${axis} of size ${n}`);
      return i < 0 ? i + n : i;
    });
    if (isHost(data) && numel(outShape) <= HOST_LIMIT) {
      const st = stridesOf(data.shape), k = idx.shape.length;
      return [hostPick(data, outShape, (o) => {
        let off = 0;
        for (let d = 0; d < axis; d++) off += o[d]! * st[d]!;
        let flat = 0;
        for (let d = 0; d < k; d++) flat = flat * idx.shape[d]! + o[axis + d]!;
        off += ix[flat]! * st[axis]!;
        for (let d = axis + 1; d < data.shape.length; d++) off += o[d + k - 1]! * st[d]!;
        return off;
      })];
    }
    const t = ctx.tensorOf(data, 0).indexSelect(axis, toTensor(host('int64', [ix.length], ix), ctx.device));
    return [t.reshape(outShape)];
  }
  // Negative indices count from the end: wrapped on the device.
  const it = ctx.tensorOf(idx, 1);
  const flat = it.lt(0).to(it.dtype).mul(n).add(it).reshape([numel(idx.shape)]);
  return [ctx.tensorOf(data, 0).indexSelect(axis, flat).reshape(outShape)];
});

/** One axis of Slice: ONNX's clamping, for either sign of step. */
function sliceRange(dim: number, start: number, end: number, step: number): { s: number; count: number } {
  const norm = (v: number): number => (v < 0 ? v + dim : v);
  let s = norm(start), e = norm(end);
  if (step > 0) { s = Math.min(Math.max(s, 0), dim); e = Math.min(Math.max(e, 0), dim); }
  else { s = Math.min(Math.max(s, -1), dim - 1); e = Math.min(Math.max(e, -1), dim - 1); }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return { s, count };
}
register('Slice', [
  [1, (ctx, ins) => doSlice(ctx, need(ctx, ins[0], 0), ctx.attr.ints('starts'), ctx.attr.ints('ends'), ctx.attr.has('axes') ? ctx.attr.ints('axes') : undefined, undefined)],
  [10, async (ctx, ins) => doSlice(ctx, need(ctx, ins[0], 0), await ctx.ints(1), await ctx.ints(2),
    ctx.has(3) ? await ctx.ints(3) : undefined, ctx.has(4) ? await ctx.ints(4) : undefined)],
]);
function doSlice(ctx: OpContext, x: Value, starts: number[], ends: number[], axes0: number[] | undefined, steps0: number[] | undefined): Value[] {
  const r = x.shape.length;
  const axes = (axes0 ?? starts.map((_, i) => i)).map((a) => axisIn(ctx, a, r));
  const steps = steps0 ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) ctx.fail('starts, ends, axes and steps must have the same length');
  const per = x.shape.map((d) => ({ s: 0, count: d, step: 1 }));
  axes.forEach((a, i) => {
    if (steps[i] === 0) ctx.fail('a step of 0 is not allowed');
    per[a] = { ...sliceRange(x.shape[a]!, starts[i]!, ends[i]!, steps[i]!), step: steps[i]! };
  });
  const outShape = per.map((p) => p.count);
  if (isHost(x) && numel(outShape) <= HOST_LIMIT) {
    const st = stridesOf(x.shape);
    return [hostPick(x, outShape, (o) => o.reduce((off, j, d) => off + (per[d]!.s + j * per[d]!.step) * st[d]!, 0))];
  }
  let t = ctx.tensorOf(x, 0);
  per.forEach((p, d) => {
    if (p.step > 0) {
      if (p.s !== 0 || p.count !== x.shape[d] || p.step !== 1) t = t.slice(d, p.s, p.s + Math.max(0, (p.count - 1) * p.step + 1), p.step);
      if (p.count === 0) t = t.narrow(d, 0, 0);
    } else {
      // A negative step reads the flipped axis forwards.
      const j0 = x.shape[d]! - 1 - p.s, step = -p.step;
      t = p.count === 0 ? t.narrow(d, 0, 0) : t.flip([d]).slice(d, j0, j0 + (p.count - 1) * step + 1, step);
    }
  });
  return [t];
}

register('Expand', 8, async (ctx, ins) => {
  const x = need(ctx, ins[0], 0);
  const spec = await ctx.ints(1);
  const out = broadcastShapes(x.shape, spec) ?? ctx.fail(`cannot expand [${x.shape.join(', ')}] to [${spec.join(', ')}]`);
  if (hostable([x]) && numel(out) <= HOST_LIMIT) return [hostMap([x as HostArray, host('bool', out, new Array<number>(numel(out)).fill(0))], x.dtype, (a) => a)!];
  const t = ctx.tensorOf(x, 0);
  return [out.join() === t.shape.join() ? t : t.expand(out)];
});

register('Tile', 6, async (ctx, ins) => {
  const reps = await ctx.ints(1);
  const t = ctx.tensorOf(need(ctx, ins[0], 0), 0);
  if (reps.length !== t.ndim) ctx.fail(`repeats [${reps.join(', ')}] must have one entry per dim of [${t.shape.join(', ')}]`);
  return [t.tile(reps)];
});

register('Split', 1, async (ctx, ins) => {
  const x = need(ctx, ins[0], 0);
  const axis = axisIn(ctx, ctx.attr.int('axis', 0), x.shape.length);
  const dim = x.shape[axis]!;
  const outs = ctx.node.outputs.length;
  let sizes: number[] | undefined;
  if (ctx.opset < 13) sizes = ctx.attr.has('split') ? ctx.attr.ints('split') : (ctx.opset < 2 && ctx.has(1) ? await ctx.ints(1) : undefined);
  else if (ctx.has(1)) sizes = await ctx.ints(1);
  if (!sizes) {
    const parts = ctx.opset >= 18 && ctx.attr.has('num_outputs') ? ctx.attr.int('num_outputs') : outs;
    const each = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dim) ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to ${dim}`);
  const t = ctx.tensorOf(x, 0);
  let at = 0;
  return sizes.map((s) => { const p = t.narrow(axis, at, s); at += s; return p; });
});

register('ConstantOfShape', 9, async (ctx) => {
  const shape = await ctx.ints(0);
  const v: HostArray = ctx.attr.tensor('value', undefined) ?? host('float32', [1], [0]);
  if (numel(v.shape) !== 1) ctx.fail('value must hold one element');
  const x = numbers(v)[0]!;
  const n = numel(shape);
  if (!isFloat(v.dtype) && n <= HOST_LIMIT) return [host(v.dtype, shape, new Array<number>(n).fill(x))];
  return [full(shape, v.dtype === 'bool' ? x !== 0 : x, { dtype: v.dtype, device: ctx.device })];
});

register('Range', 11, async (ctx, ins) => {
  const [start, limit, delta] = [await ctx.ints(0), await ctx.ints(1), await ctx.ints(2)].map((a) => a[0]!);
  if (delta === 0) ctx.fail('delta must not be 0');
  const n = Math.max(Math.ceil((limit! - start!) / delta!), 0);
  if (n > 2 ** 31) ctx.fail(`${n} elements is too many`);
  const dtype = ins[0]!.dtype;
  const values = Array.from({ length: n }, (_, i) => start! + i * delta!);
  const h = host(dtype, [n], values);
  return [!isFloat(dtype) && n <= HOST_LIMIT ? h : toTensor(h, ctx.device)];
});
