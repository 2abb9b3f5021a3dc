/** TopK and NonZero (a data-dependent shape, read at run time), DepthToSpace and SpaceToDepth. */
import { host, HOST_LIMIT, numbers, stridesOf, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

register('TopK', 1, async (ctx: OpContext) => {
  const x = ctx.tensor(0);
  const k = ctx.opset < 10 ? ctx.attr.int('k') : (await ctx.ints(1))[0]!;
  let axis = ctx.attr.int('axis', -1);
  if (axis < -x.ndim || axis >= x.ndim) ctx.fail(`axis ${axis} is out of range for rank ${x.ndim}`);
  if (axis < 0) axis += x.ndim;
  if (k < 0 || k > x.shape[axis]!) ctx.fail(`k = ${k} is out of range for axis ${axis} of size ${x.shape[axis]}`);
  const largest = ctx.attr.int('largest', 1) === 1, sorted = ctx.attr.int('sorted', 1) === 1;
  const r = x.topk(k, { dim: axis, largest, sorted });
  return [r.values, r.indices.to('int64')];
});

/** The indices of the non-zero elements, [rank, count] int64: the count is only known from the data. */
register('NonZero', 9, async (ctx) => {
  const h = await ctx.host(0);
  const v = numbers(h);
  const st = stridesOf(h.shape);
  const at = v.flatMap((x, i) => (x !== 0 ? [i] : []));
  const out: number[] = [];
  for (let d = 0; d < h.shape.length; d++) for (const i of at) out.push(Math.floor(i / st[d]!) % h.shape[d]!);
  const r = host('int64', [h.shape.length, at.length], out);
  return [out.length <= HOST_LIMIT ? r : toTensor(r, ctx.device)];
});

register('DepthToSpace', 1, (ctx) => {
  const x = ctx.tensor(0);
  if (x.ndim !== 4) ctx.fail(`takes NCHW tensors, got [${x.shape.join(', ')}]`);
  const b = ctx.attr.int('blocksize');
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (c % (b * b)) ctx.fail(`channels ${c} are not a multiple of blocksize² ${b * b}`);
  const crd = ctx.opset >= 11 && ctx.attr.string('mode', 'DCR') === 'CRD';
  const t = crd
    ? x.reshape([n, c / (b * b), b, b, h, w]).permute([0, 1, 4, 2, 5, 3])
    : x.reshape([n, b, b, c / (b * b), h, w]).permute([0, 3, 4, 1, 5, 2]);
  return [t.reshape([n, c / (b * b), h * b, w * b])];
});

register('SpaceToDepth', 1, (ctx) => {
  const x = ctx.tensor(0);
  if (x.ndim !== 4) ctx.fail(`takes NCHW tensors, got [${x.shape.join(', ')}]`);
  const b = ctx.attr.int('blocksize');
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h % b || w % b) ctx.fail(`height ${h} and width ${w} must be multiples of blocksize ${b}`);
  return [x.reshape([n, c, h / b, b, w / b, b]).permute([0, 3, 5, 1, 2, 4]).reshape([n, c * b * b, h / b, w / b])];
});
