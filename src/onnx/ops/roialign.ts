/**
 * RoiAlign (Mask R-CNN's region pooling). The sample points depend on the rois' values (and with
 * sampling_ratio 0 so does their number), so the geometry is worked out on the host from rois and
 * batch_indices; the input itself stays lazy: one gather at every bilinear tap, weighted, then
 * summed (avg) or maxed (max) per output bin, so the result is differentiable in X.
 */
import { where } from '../../tensor/elementwise.js';
import { host, numbers, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

/** The 4 bilinear taps of (y, x) as flat indices into an h x w plane and their weights (ORT's rules). */
function taps(y: number, x: number, h: number, w: number): [number[], number[]] {
  // A point more than one pixel outside the plane contributes 0.
  if (y < -1 || y > h || x < -1 || x > w) return [[0, 0, 0, 0], [0, 0, 0, 0]];
  y = Math.max(y, 0); x = Math.max(x, 0);
  let y0 = Math.floor(y), x0 = Math.floor(x), y1: number, x1: number;
  if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
  if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
  const ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return [[y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1], [hy * hx, hy * lx, ly * hx, ly * lx]];
}

register('RoiAlign', 10, async (ctx: OpContext) => {
  const x = ctx.tensor(0);
  if (x.ndim !== 4) ctx.fail(`takes NCHW input, got [${x.shape.join(', ')}]`);
  const [n, ch, h, w] = x.shape as [number, number, number, number];
  const rh = await ctx.host(1), bh = await ctx.host(2);
  if (rh.shape.length !== 2 || rh.shape[1] !== 4) ctx.fail(`rois must be [num_rois, 4], got [${rh.shape.join(', ')}]`);
  const r = rh.shape[0]!;
  if (bh.shape.length !== 1 || bh.shape[0] !== r) ctx.fail(`batch_indices must be [${r}], got [${bh.shape.join(', ')}]`);
  const rois = numbers(rh), batch = numbers(bh);
  const mode = ctx.attr.string('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') ctx.fail(`mode '${mode}' is not supported (avg, max)`);
  // Before opset 16 the op had no such attribute and behaved as output_half_pixel.
  const ctm = ctx.opset >= 16 ? ctx.attr.string('coordinate_transformation_mode', 'half_pixel') : 'output_half_pixel';
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') ctx.fail(`coordinate_transformation_mode '${ctm}' is not supported (half_pixel, output_half_pixel)`);
  const ph = ctx.attr.int('output_height', 1), pw = ctx.attr.int('output_width', 1);
  const ratio = ctx.attr.int('sampling_ratio', 0), scale = ctx.attr.float('spatial_scale', 1);
  const offset = ctm === 'half_pixel' ? 0.5 : 0;

  // Per output bin (roi, ph, pw): its taps, padded to the longest with index 0 and weight 0.
  const binIdx: number[][] = [], binWt: number[][] = [];
  for (let k = 0; k < r; k++) {
    const b = batch[k]!;
    if (!Number.isInteger(b) || b < 0 || b >= n) ctx.fail(`batch index ${b} of roi ${k} is out of range for ${n} images`);
    const [sx, sy, ex, ey] = [0, 1, 2, 3].map((j) => rois[k * 4 + j]! * scale - offset) as [number, number, number, number];
    let rw = ex - sx, rhgt = ey - sy;
    if (ctm === 'output_half_pixel') { rw = Math.max(rw, 1); rhgt = Math.max(rhgt, 1); }
    const bw = rw / pw, bhgt = rhgt / ph;
    const gh = ratio > 0 ? ratio : Math.ceil(rhgt / ph), gw = ratio > 0 ? ratio : Math.ceil(rw / pw);
    const count = Math.max(gh * gw, 1);
    for (let i = 0; i < ph; i++) {
      for (let j = 0; j < pw; j++) {
        const idx: number[] = [], wt: number[] = [];
        for (let iy = 0; iy < gh; iy++) {
          const y = sy + i * bhgt + (iy + 0.5) * bhgt / gh;
          for (let ix = 0; ix < gw; ix++) {
            const [ti, tw] = taps(y, sx + j * bw + (ix + 0.5) * bw / gw, h, w);
            idx.push(...ti.map((t) => b * h * w + t));
            wt.push(...(mode === 'avg' ? tw.map((t) => t / count) : tw));
          }
        }
        binIdx.push(idx); binWt.push(wt);
      }
    }
  }
  const t = Math.max(1, ...binIdx.map((a) => a.length)), bins = binIdx.length;
  const idx = new Array<number>(bins * t).fill(0), wt = new Array<number>(bins * t).fill(0), real = new Array<number>(bins * t).fill(0);
  binIdx.forEach((a, i) => a.forEach((v, j) => { idx[i * t + j] = v; wt[i * t + j] = binWt[i]![j]!; real[i * t + j] = 1; }));
  const dev = ctx.device;
  const flat = x.reshape([n, ch, h * w]).permute([1, 0, 2]).reshape([ch, n * h * w]);
  const gathered = flat.gather(1, toTensor(host('int32', [1, bins * t], idx), dev).expand([ch, bins * t]));
  const v = gathered.mul(toTensor(host(x.dtype, [1, bins * t], wt), dev)).reshape([ch, bins, t]);
  // max takes the largest weighted tap of any sample (as onnxruntime); padding taps must not win.
  const y = mode === 'avg'
    ? v.sum(-1)
    : where(toTensor(host('bool', [1, bins, t], real), dev), v, -Infinity).amax(-1);
  return [y.reshape([ch, r, ph, pw]).permute([1, 0, 2, 3])];
});
