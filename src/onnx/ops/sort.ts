/**
 * Unique and ReverseSequence (TopK and CumSum live in select.ts and misc.ts). Unique's output
 * shape depends on the data, so it reads the values to the host and picks the unique slices with
 * indexSelect; ReverseSequence is one gather along the time axis.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { host, numbers, numel, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

const axisIn = (ctx: OpContext, a: number, rank: number): number => {
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};
const int64 = (ctx: OpContext, values: readonly number[], shape: readonly number[] = [values.length]): Tensor =>
  toTensor(host('int64', shape, values), ctx.device);

/** Lexicographic order of two slices' values (NaN last, as numpy sorts). */
function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (Number.isNaN(x)) return 1;
    if (Number.isNaN(y)) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

register('Unique', 11, async (ctx) => {
  const h = await ctx.host(0);
  const vals = numbers(h);
  const hasAxis = ctx.attr.has('axis');
  const axis = hasAxis ? axisIn(ctx, ctx.attr.int('axis'), h.shape.length) : 0;
  const shape = hasAxis ? h.shape : [vals.length];
  const n = shape[axis]!, outer = numel(shape.slice(0, axis)), inner = numel(shape.slice(axis + 1));
  // Slice i along axis, as a flat list of numbers.
  const slices: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s: number[] = [];
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) s.push(vals[(o * n + i) * inner + j]!);
    slices.push(s);
  }
  const first: number[] = [];
  const inverseOf: number[] = new Array<number>(n);
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = first.findIndex((f) => compare(slices[f]!, slices[i]!) === 0);
    if (u >= 0) { inverseOf[i] = u; counts[u]!++; } else { inverseOf[i] = first.length; first.push(i); counts.push(1); }
  }
  let order = [...first.keys()];
  if (ctx.attr.int('sorted', 1) === 1) order.sort((a, b) => compare(slices[first[a]!]!, slices[first[b]!]!));
  const rank = new Array<number>(order.length);
  order.forEach((u, r) => { rank[u] = r; });
  const x = ctx.tensor(0);
  const picked = int64(ctx, order.map((u) => first[u]!));
  const y = hasAxis ? x.indexSelect(axis, picked) : x.flatten().indexSelect(0, picked);
  return [y, picked, int64(ctx, inverseOf.map((u) => rank[u]!)), int64(ctx, order.map((u) => counts[u]!))];
});

/** out[t, b] = x[len[b] - 1 - t, b] for t < len[b], else x[t, b]: one gather along the time axis. */
register('ReverseSequence', 10, async (ctx) => {
  const x = ctx.tensor(0);
  const lens = await ctx.ints(1);
  const ta = ctx.attr.int('time_axis', 0), ba = ctx.attr.int('batch_axis', 1);
  if (x.ndim < 2 || ![0, 1].includes(ta) || ta + ba !== 1) ctx.fail(`time_axis ${ta} and batch_axis ${ba}: supported are 0/1 and 1/0 on rank >= 2`);
  const T = x.shape[ta]!, B = x.shape[ba]!;
  if (lens.length !== B) ctx.fail(`sequence_lens has ${lens.length} entries for a batch of ${B}`);
  const idx: number[] = new Array<number>(T * B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) idx[ta === 0 ? t * B + b : b * T + t] = t < lens[b]! ? lens[b]! - 1 - t : t;
  }
  const lead = ta === 0 ? [T, B] : [B, T];
  const index = int64(ctx, idx, [...lead, ...Array<number>(x.ndim - 2).fill(1)]).expand([...x.shape]);
  return [x.gather(ta, index)];
});
