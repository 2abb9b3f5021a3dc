/**
 * Pad: constant (through Born's pad), edge and reflect (through slices, flips and cat). Pads are an
 * attribute before opset 11 and an input after (with optional constant_value, and axes from 18),
 * laid out [begin_0, begin_1, …, end_0, end_1, …].
 */
import { cat } from '../../tensor/join.js';
import { numbers } from '../host.js';
import type { Tensor } from '../../tensor/tensor.js';
import { register, type OpContext } from './registry.js';

function padAxis(ctx: OpContext, t: Tensor, d: number, before: number, after: number, mode: string): Tensor {
  const n = t.shape[d]!;
  if (before < 0 || after < 0) ctx.fail(`negative pads are only supported in constant mode`);
  if (mode === 'edge') {
    if (!n) ctx.fail('edge padding needs a non-empty axis');
    const edge = (at: number, k: number): Tensor => t.narrow(d, at, 1).expand(t.shape.map((s, i) => (i === d ? k : s)));
    return cat([...(before ? [edge(0, before)] : []), t, ...(after ? [edge(n - 1, after)] : [])], d);
  }
  if (before >= n || after >= n) ctx.fail(`reflect pads (${before}, ${after}) must be smaller than the axis size ${n}`);
  const parts = [...(before ? [t.narrow(d, 1, before).flip([d])] : []), t, ...(after ? [t.narrow(d, n - 1 - after, after).flip([d])] : [])];
  return cat(parts, d);
}

register('Pad', 1, async (ctx) => {
  const x = ctx.tensor(0);
  const r = x.ndim;
  const mode = ctx.attr.string('mode', 'constant');
  if (!['constant', 'edge', 'reflect'].includes(mode)) ctx.fail(`mode ${mode} is not supported (constant, edge, reflect are)`);
  let pads: number[], value = 0, axes = [...Array(r).keys()];
  if (ctx.opset < 11) {
    pads = ctx.attr.ints(ctx.opset < 2 ? 'paddings' : 'pads');
    value = ctx.attr.float('value', 0);
  } else {
    pads = await ctx.ints(1);
    if (ctx.has(2)) value = numbers(await ctx.host(2))[0] ?? 0;
    if (ctx.has(3)) axes = (await ctx.ints(3)).map((a) => (a < 0 ? a + r : a));
  }
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries for ${axes.length} axes`);
  const k = axes.length;
  if (mode === 'constant') {
    // Born's pad takes (before, after) pairs from the last dim backwards, as torch.nn.functional.pad.
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => { full[2 * (r - 1 - a)] = pads[i]!; full[2 * (r - 1 - a) + 1] = pads[i + k]!; });
    return [x.pad(full, value)];
  }
  let t = x;
  axes.forEach((a, i) => { if (pads[i] || pads[i + k]) t = padAxis(ctx, t, a, pads[i]!, pads[i + k]!, mode); });
  return [t];
});
