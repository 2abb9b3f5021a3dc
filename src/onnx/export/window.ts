/**
 * Born's window nodes as ONNX convolutions and pools. im2col (patches [C, kh·kw, N, Ho, Wo]) is a
 * depthwise Conv whose weights are one-hot over the kh·kw taps: each output channel copies one
 * tap, exactly (a product by 1 plus products by 0), with Born's zero padding. avgPool (the mean,
 * padding counted as zeros) is AveragePool with count_include_pad; maxPool is MaxPool, which
 * ignores padding as Born does.
 */
import { isFloat, newArray, type DType } from '../../graph/dtype.js';
import type { LazyNode } from '../../graph/node.js';
import type { WindowGeom, WindowOp } from '../../kernel/ir.js';
import type { GraphBuilder } from './builder.js';
import { castTo, computeType } from './elementwise.js';

/** The dtype ONNX pools and convolutions compute `d` in: floats (half ones in float32); integers exactly in float64. */
const windowType = (d: DType): DType => (isFloat(d) ? computeType(d) : 'float64');

function geometry(g: WindowGeom): Record<string, readonly number[]> {
  return { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [g.ph, g.pw, g.ph, g.pw], dilations: [g.dh, g.dw] };
}

/** A depthwise [C·kh·kw or C, 1, kh, kw] weight: one-hot per tap, or the window's mean. */
function depthwise(b: GraphBuilder, C: number, g: WindowGeom, dtype: DType, oneHot: boolean): string {
  const kk = g.kh * g.kw;
  const outC = oneHot ? C * kk : C;
  const data = newArray(dtype, outC * kk) as Float32Array | Float64Array;
  for (let o = 0; o < outC; o++) {
    if (oneHot) data[o * kk + (o % kk)] = 1;
    else data.fill(1 / kk, o * kk, (o + 1) * kk);
  }
  return b.tensor({ dtype, shape: [outC, 1, g.kh, g.kw], data });
}

/** 1 where the output grid is larger than the floor formula gives (PyTorch's ceil_mode). */
function ceilMode(g: WindowGeom): number {
  const ho = Math.floor((g.H + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
  const wo = Math.floor((g.W + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
  return ho === g.Ho && wo === g.Wo ? 0 : 1;
}

export function emitWindow(b: GraphBuilder, n: LazyNode, xs: readonly string[], op: WindowOp, g: WindowGeom, refuse: (why: string) => never): string {
  const src = n.srcs[0]!;
  const c = windowType(src.dtype);
  const [N, C] = src.shape as [number, number];
  const x = castTo(b, xs[0]!, src.dtype, c);
  switch (op) {
    case 'im2col': {
      const w = depthwise(b, C, g, c, true);
      const y = b.op('Conv', [x, w], { ...geometry(g), group: C });
      const five = b.op('Reshape', [y, b.int64s([N, C, g.kh * g.kw, g.Ho, g.Wo])]);
      return castTo(b, b.op('Transpose', [five], { perm: [1, 2, 0, 3, 4] }), c, n.dtype);
    }
    case 'avgPool': {
      // The window's mean with padding counted as zeros; AveragePool takes dilations from opset 19.
      if ((g.dh === 1 && g.dw === 1) || b.opset >= 19) {
        const { dilations, ...rest } = geometry(g);
        const attrs = { ...rest, ...(g.dh === 1 && g.dw === 1 ? {} : { dilations }), count_include_pad: 1, ceil_mode: ceilMode(g) };
        return castTo(b, b.op('AveragePool', [x], attrs), c, n.dtype);
      }
      const y = b.op('Conv', [x, depthwise(b, C, g, c, false)], { ...geometry(g), group: C });
      return castTo(b, y, c, n.dtype);
    }
    case 'maxPool': return castTo(b, b.op('MaxPool', [x], { ...geometry(g), ceil_mode: ceilMode(g) }), c, n.dtype);
    default:
      return refuse(`the ${op} window is part of a backward pass, not a forward one`);
  }
}
