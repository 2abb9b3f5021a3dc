/**
 * The window geometry conv and pool nodes share: kernel, strides, dilations and the begin/end pads
 * per spatial dim, with auto_pad resolved (SAME_UPPER puts the odd pad at the end, SAME_LOWER at
 * the start, VALID pads nothing), and the constant padding of a tensor by begin/end lists.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { OpContext } from './registry.js';

export interface Geom {
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  readonly begin: number[];
  readonly end: number[];
}

/** The window span of dim i: (k - 1)·d + 1. */
export const span = (g: Geom, i: number): number => (g.kernel[i]! - 1) * g.dilations[i]! + 1;

/** The geometry of a node over x's spatial dims (x.shape[2:]); `kernel` comes from the weight or kernel_shape. */
export function geometry(ctx: OpContext, spatialIn: readonly number[], kernel: readonly number[]): Geom {
  const k = spatialIn.length;
  if (kernel.length !== k) ctx.fail(`kernel_shape [${kernel.join(', ')}] does not match ${k} spatial dims`);
  const strides = ctx.attr.ints('strides', Array<number>(k).fill(1));
  const dilations = ctx.attr.ints('dilations', Array<number>(k).fill(1));
  const autoPad = ctx.attr.string('auto_pad', 'NOTSET');
  let begin: number[], end: number[];
  if (autoPad === 'NOTSET') {
    const pads = ctx.attr.ints('pads', Array<number>(2 * k).fill(0));
    if (pads.length !== 2 * k) ctx.fail(`pads has ${pads.length} values for ${k} spatial dims (needs ${2 * k})`);
    begin = pads.slice(0, k);
    end = pads.slice(k);
  } else if (autoPad === 'VALID') {
    begin = Array<number>(k).fill(0);
    end = Array<number>(k).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = spatialIn.map((n, i) => {
      const out = Math.ceil(n / strides[i]!);
      return Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n);
    });
    const small = total.map((t) => Math.floor(t / 2));
    begin = autoPad === 'SAME_UPPER' ? small : total.map((t, i) => t - small[i]!);
    end = total.map((t, i) => t - begin[i]!);
  } else {
    return ctx.fail(`auto_pad ${autoPad} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  if ([...strides, ...dilations].some((v) => v < 1) || strides.length !== k || dilations.length !== k) {
    ctx.fail(`strides [${strides.join(', ')}] and dilations [${dilations.join(', ')}] need ${k} values >= 1`);
  }
  return { kernel: [...kernel], strides, dilations, begin, end };
}

/** x padded (or cropped, for negative values) by begin/end over its trailing dims, with `value`. */
export function padSpatial(x: Tensor, begin: readonly number[], end: readonly number[], value = 0): Tensor {
  if (begin.every((b) => b === 0) && end.every((e) => e === 0)) return x;
  const pads: number[] = [];
  for (let i = begin.length - 1; i >= 0; i--) pads.push(begin[i]!, end[i]!);
  return x.pad(pads, { value });
}
