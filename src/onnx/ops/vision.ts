/**
 * Detection and sampling ops: NonMaxSuppression (a data-dependent count, so it runs on the host
 * from the boxes' and scores' values) and GridSample (lazy: gathers of the input at the grid's
 * taps, weighted and summed, so it stays on the device and differentiable).
 */
import { where } from '../../tensor/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { host, HOST_LIMIT, numbers, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

/** A box as [y1, x1, y2, x2] with y1 <= y2 and x1 <= x2, from either of ONNX's two encodings. */
function corners(b: readonly number[], at: number, centerPoint: boolean): [number, number, number, number] {
  const [p, q, r, s] = [b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!];
  // center_point_box = 1: [x_center, y_center, width, height].
  if (centerPoint) return [q - s / 2, p - r / 2, q + s / 2, p + r / 2];
  // center_point_box = 0: [y1, x1, y2, x2] with the corners of either diagonal.
  return [Math.min(p, r), Math.min(q, s), Math.max(p, r), Math.max(q, s)];
}

function iou(a: readonly number[], b: readonly number[]): number {
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!), areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  if (areaA <= 0 || areaB <= 0) return 0;
  const h = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const w = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = h * w;
  return inter / (areaA + areaB - inter);
}

/**
 * Per batch and class: the boxes scoring above score_threshold, best first (ties keep box order),
 * each kept unless its IoU with an already kept one exceeds iou_threshold, at most
 * max_output_boxes_per_class of them (absent or 0: none). Output [selected, 3] int64 rows
 * [batch, class, box].
 */
register('NonMaxSuppression', 10, async (ctx: OpContext) => {
  const bh = await ctx.host(0), sh = await ctx.host(1);
  if (bh.shape.length !== 3 || bh.shape[2] !== 4) ctx.fail(`boxes must be [batches, boxes, 4], got [${bh.shape.join(', ')}]`);
  if (sh.shape.length !== 3) ctx.fail(`scores must be [batches, classes, boxes], got [${sh.shape.join(', ')}]`);
  const [nb, ns] = bh.shape as [number, number];
  const nc = sh.shape[1]!;
  if (sh.shape[0] !== nb || sh.shape[2] !== ns) ctx.fail(`scores [${sh.shape.join(', ')}] do not match boxes [${bh.shape.join(', ')}]`);
  const scalar = async (i: number, dflt: number): Promise<number> => (ctx.has(i) ? numbers(await ctx.host(i))[0] ?? dflt : dflt);
  const maxOut = await scalar(2, 0);
  const iouThreshold = await scalar(3, 0);
  const scoreThreshold = ctx.has(4) ? await scalar(4, -Infinity) : undefined;
  const centerPoint = ctx.attr.int('center_point_box', 0) === 1;
  const boxes = numbers(bh), scores = numbers(sh);
  const out: number[] = [];
  for (let b = 0; b < nb && maxOut > 0; b++) {
    const box = Array.from({ length: ns }, (_, i) => corners(boxes, (b * ns + i) * 4, centerPoint));
    for (let c = 0; c < nc; c++) {
      const s = (i: number): number => scores[(b * nc + c) * ns + i]!;
      const cand = Array.from({ length: ns }, (_, i) => i).filter((i) => scoreThreshold === undefined || s(i) > scoreThreshold);
      cand.sort((i, j) => s(j) - s(i) || i - j);
      const kept: number[] = [];
      for (const i of cand) {
        if (kept.length >= maxOut) break;
        if (kept.every((k) => iou(box[k]!, box[i]!) <= iouThreshold)) kept.push(i);
      }
      for (const k of kept) out.push(b, c, k);
    }
  }
  const r = host('int64', [out.length / 3, 3], out);
  return [out.length <= HOST_LIMIT ? r : toTensor(r, ctx.device)];
});

/** PyTorch's reflect_coordinates then clip: c mirrored into the sampled range, then into [0, size-1]. */
function reflect(c: Tensor, size: number, align: boolean): Tensor {
  const [lo2, hi2] = align ? [0, 2 * (size - 1)] : [-1, 2 * size - 1];
  if (lo2 === hi2) return c.mul(0);
  const min = lo2 / 2, span = (hi2 - lo2) / 2;
  const a = c.sub(min).abs();
  const extra = a.remainder(span);
  const odd = a.div(span).floor().remainder(2).gt(0.5);
  return where(odd, extra.neg().add(span + min), extra.add(min)).clamp(0, size - 1);
}

const cubic1 = (t: Tensor, A: number): Tensor => t.mul(A + 2).sub(A + 3).mul(t).mul(t).add(1);
const cubic2 = (t: Tensor, A: number): Tensor => t.mul(A).sub(5 * A).mul(t).add(8 * A).mul(t).sub(4 * A);

/**
 * GridSample over NCHW input and an [N, H_out, W_out, 2] grid of (x, y) in [-1, 1], as PyTorch's
 * grid_sample (which ONNX's opset-16 op follows): every tap is a gather of the flattened input at
 * clamped indices, its weight zeroed where the tap falls outside (padding_mode zeros).
 */
register('GridSample', 16, (ctx: OpContext) => {
  const x = ctx.tensor(0), grid = ctx.tensor(1);
  if (x.ndim !== 4) ctx.fail(`supports 2-D sampling (NCHW input), got input [${x.shape.join(', ')}]`);
  const [n, ch, h, w] = x.shape as [number, number, number, number];
  if (grid.ndim !== 4 || grid.shape[0] !== n || grid.shape[3] !== 2) ctx.fail(`grid must be [${n}, H_out, W_out, 2], got [${grid.shape.join(', ')}]`);
  const [ho, wo] = [grid.shape[1]!, grid.shape[2]!];
  const mode = ctx.attr.string('mode', 'bilinear');
  const padding = ctx.attr.string('padding_mode', 'zeros');
  const align = ctx.attr.int('align_corners', 0) === 1;
  if (!['bilinear', 'nearest', 'bicubic'].includes(mode)) ctx.fail(`mode '${mode}' is not supported (bilinear, nearest, bicubic)`);
  if (!['zeros', 'border', 'reflection'].includes(padding)) ctx.fail(`padding_mode '${padding}' is not supported (zeros, border, reflection)`);
  const p = ho * wo;
  const flat = x.reshape([n, ch, h * w]);
  const g = grid.to(x.dtype);
  const unnorm = (c: Tensor, size: number): Tensor => (align ? c.add(1).mul((size - 1) / 2) : c.add(1).mul(size).sub(1).div(2));
  const gx = unnorm(g.narrow(3, 0, 1).reshape([n, 1, p]), w), gy = unnorm(g.narrow(3, 1, 1).reshape([n, 1, p]), h);
  // border / reflection bring a coordinate into the image; zeros leaves it for the tap mask.
  const fit = (c: Tensor, size: number): Tensor =>
    padding === 'border' ? c.clamp(0, size - 1) : padding === 'reflection' ? reflect(c, size, align) : c;
  const tap = (ix: Tensor, iy: Tensor, wt: Tensor): Tensor => {
    const inside = ix.ge(0).logicalAnd(ix.le(w - 1)).logicalAnd(iy.ge(0)).logicalAnd(iy.le(h - 1));
    const idx = iy.clamp(0, h - 1).mul(w).add(ix.clamp(0, w - 1)).to('int32').expand([n, ch, p]);
    return flat.gather(2, idx).mul(where(inside, wt, 0));
  };
  let y: Tensor;
  if (mode === 'nearest') {
    const ix = fit(gx, w).round(), iy = fit(gy, h).round();
    y = tap(ix, iy, ix.mul(0).add(1));
  } else if (mode === 'bilinear') {
    const sx = fit(gx, w), sy = fit(gy, h);
    const x0 = sx.floor(), y0 = sy.floor();
    const tx = sx.sub(x0), ty = sy.sub(y0);
    const ux = tx.neg().add(1), uy = ty.neg().add(1);
    y = tap(x0, y0, ux.mul(uy)).add(tap(x0.add(1), y0, tx.mul(uy)))
      .add(tap(x0, y0.add(1), ux.mul(ty))).add(tap(x0.add(1), y0.add(1), tx.mul(ty)));
  } else {
    // Bicubic (A = -0.75) over the 4x4 taps around the unclipped point; each tap index is fitted.
    const A = -0.75;
    const x0 = gx.floor(), y0 = gy.floor();
    const tx = gx.sub(x0), ty = gy.sub(y0);
    const coeffs = (t: Tensor): Tensor[] => [cubic2(t.add(1), A), cubic1(t, A), cubic1(t.neg().add(1), A), cubic2(t.neg().add(2), A)];
    const cx = coeffs(tx), cy = coeffs(ty);
    let acc: Tensor | undefined;
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) {
        const t = tap(fit(x0.add(i - 1), w), fit(y0.add(j - 1), h), cx[i]!.mul(cy[j]!));
        acc = acc ? acc.add(t) : t;
      }
    }
    y = acc!;
  }
  return [y.reshape([n, ch, ho, wo])];
});
