/**
 * Constants and shape ops: Constant, Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
 * Concat. Shapes are host int64 values; a host input stays host (only its shape changes).
 */
import { cat } from '../../tensor/join.js';
import { host, hostable, HOST_LIMIT, isHost, numbers, numel, toTensor } from '../host.js';
import type { HostArray } from '../tensor-proto.js';
import { register, type OpContext, type Value } from './registry.js';

const int64 = (values: readonly number[], shape: readonly number[] = [values.length]): HostArray => host('int64', shape, values);
const reshaped = (h: HostArray, shape: readonly number[]): HostArray => ({ dtype: h.dtype, shape: [...shape], data: h.data });

/** A value with a new shape: host arrays keep their data, tensors reshape lazily. */
function withShape(ctx: OpContext, v: Value, shape: readonly number[]): Value {
  if (numel(shape) !== numel(v.shape)) ctx.fail(`cannot reshape [${v.shape.join(', ')}] to [${shape.join(', ')}]`);
  return isHost(v) ? reshaped(v, shape) : v.reshape([...shape]);
}

const axisIn = (ctx: OpContext, a: number, rank: number): number => {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};

register('Constant', 1, (ctx) => {
  const a = ctx.attr;
  let h: HostArray;
  if (a.has('value')) h = a.tensor('value');
  else if (a.has('value_float')) h = host('float32', [], [a.float('value_float')]);
  else if (a.has('value_floats')) { const f = a.floats('value_floats'); h = host('float32', [f.length], f); }
  else if (a.has('value_int')) h = int64([a.int('value_int')], []);
  else if (a.has('value_ints')) h = int64(a.ints('value_ints'));
  else if (a.has('value_string') || a.has('value_strings')) return ctx.fail('string constants are not supported');
  else if (a.has('sparse_value')) return ctx.fail('sparse constants are not supported');
  else return ctx.fail('needs one of value, value_float(s), value_int(s)');
  return [numel(h.shape) <= HOST_LIMIT ? h : toTensor(h, ctx.device)];
});

register('Shape', 1, (ctx, [x]) => {
  const s = (x ?? ctx.fail('input 0 is required')).shape;
  const r = s.length;
  const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(ctx.attr.int('start', 0)), end = clampAxis(ctx.attr.int('end', r));
  return [int64(s.slice(start, Math.max(start, end)))];
});
register('Size', 1, (ctx, [x]) => [int64([numel((x ?? ctx.fail('input 0 is required')).shape)], [])]);

/** Reshape's target: 0 copies the input's dim (unless allowzero), one -1 is inferred. */
function target(ctx: OpContext, from: readonly number[], spec: readonly number[], allowzero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowzero ? (i < from.length ? from[i]! : ctx.fail(`shape[${i}] = 0 copies a dim the input lacks`)) : d));
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) ctx.fail(`shape [${spec.join(', ')}] has more than one -1`);
  if (out.some((d) => d < -1)) ctx.fail(`shape [${spec.join(', ')}] has a negative dim`);
  if (neg) {
    const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const n = numel(from);
    if (known === 0 || n % known !== 0) ctx.fail(`cannot infer -1 reshaping [${from.join(', ')}] to [${spec.join(', ')}]`);
    out[out.indexOf(-1)] = n / known;
  }
  return out;
}
register('Reshape', [
  [1, (ctx, [x]) => [withShape(ctx, x!, target(ctx, x!.shape, ctx.attr.ints('shape'), false))]],
  [5, async (ctx, [x]) => {
    const spec = await ctx.ints(1);
    return [withShape(ctx, x ?? ctx.fail('input 0 is required'), target(ctx, x!.shape, spec, ctx.attr.int('allowzero', 0) === 1))];
  }],
]);

register('Flatten', 1, (ctx, [x]) => {
  const s = (x ?? ctx.fail('input 0 is required')).shape;
  let axis = ctx.attr.int('axis', 1);
  if (axis < -s.length || axis > s.length) ctx.fail(`axis ${axis} is out of range for rank ${s.length}`);
  if (axis < 0) axis += s.length;
  return [withShape(ctx, x!, [numel(s.slice(0, axis)), numel(s.slice(axis))])];
});

/** Axes from the attribute (before `since`) or the optional input 1 (from `since`). */
async function axesOf(ctx: OpContext, since: number): Promise<number[] | undefined> {
  if (ctx.opset < since) return ctx.attr.has('axes') ? ctx.attr.ints('axes') : undefined;
  return ctx.has(1) ? ctx.ints(1) : undefined;
}
register('Squeeze', 1, async (ctx, [x]) => {
  const s = (x ?? ctx.fail('input 0 is required')).shape;
  const given = await axesOf(ctx, 13);
  const axes = given ? given.map((a) => axisIn(ctx, a, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (s[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${s[a]}`);
  return [withShape(ctx, x!, s.filter((_, i) => !axes.includes(i)))];
});
register('Unsqueeze', 1, async (ctx, [x]) => {
  const s = (x ?? ctx.fail('input 0 is required')).shape;
  const given = await axesOf(ctx, 13) ?? ctx.fail('axes are required');
  const rank = s.length + given.length;
  const axes = given.map((a) => axisIn(ctx, a, rank));
  if (new Set(axes).size !== axes.length) ctx.fail(`axes [${given.join(', ')}] repeat`);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : s[k++]!);
  return [withShape(ctx, x!, out)];
});

register('Transpose', 1, (ctx, [x]) => {
  const r = (x ?? ctx.fail('input 0 is required')).shape.length;
  const perm = ctx.attr.ints('perm', [...Array(r).keys()].reverse());
  if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => p < 0 || p >= r)) ctx.fail(`perm [${perm.join(', ')}] is not a permutation of rank ${r}`);
  return [ctx.tensor(0).permute(perm)];
});

/** Concat of host arrays along `axis` (row-major blocks). */
function hostConcat(parts: readonly HostArray[], axis: number): HostArray {
  const shape = [...parts[0]!.shape];
  shape[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
  const outer = numel(shape.slice(0, axis));
  const vals = parts.map(numbers);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    parts.forEach((p, k) => {
      const block = numel(p.shape.slice(axis));
      for (let j = 0; j < block; j++) out.push(vals[k]![o * block + j]!);
    });
  }
  return host(parts[0]!.dtype, shape, out);
}
register('Concat', 1, (ctx, ins) => {
  const parts = ins.filter((v): v is Value => v !== undefined);
  if (!parts.length) ctx.fail('needs at least one input');
  const rank = parts[0]!.shape.length;
  const axis = axisIn(ctx, ctx.opset < 4 ? ctx.attr.int('axis', 1) : ctx.attr.int('axis'), rank);
  for (const p of parts) {
    if (p.shape.length !== rank || p.shape.some((d, i) => i !== axis && d !== parts[0]!.shape[i])) {
      ctx.fail(`inputs of shapes ${parts.map((q) => `[${q.shape.join(', ')}]`).join(', ')} do not concatenate along axis ${axis}`);
    }
  }
  if (hostable(parts)) return [hostConcat(parts, axis)];
  return [cat(parts.map((p, i) => ctx.tensorOf(p, i)), axis)];
});
