/**
 * Window functions (opset 17): HannWindow, HammingWindow, BlackmanWindow. The window is a few
 * cosines of the sample index, computed on the host in float64 like ONNX's reference and stored
 * in `output_datatype`; a window longer than the host limit is uploaded as a tensor.
 */
import { isFloat, storageFrom } from '../../graph/dtype.js';
import { HOST_LIMIT, toTensor } from '../host.js';
import { bornDType, type HostArray } from '../tensor-proto.js';
import { register, type OpContext, type Value } from './registry.js';

/** Each window as sum_k a_k cos(2 pi k n / N). */
const COEFFS: Record<string, readonly number[]> = {
  HannWindow: [0.5, -0.5],
  HammingWindow: [25 / 46, -21 / 46],
  BlackmanWindow: [0.42, -0.5, 0.08],
};

async function window(ctx: OpContext): Promise<Value[]> {
  const sizes = await ctx.ints(0);
  if (sizes.length !== 1) ctx.fail(`size must be a scalar, got ${sizes.length} values`);
  const size = sizes[0]!;
  if (!Number.isInteger(size) || size < 0) ctx.fail(`size ${size} is not a non-negative integer`);
  const dtype = bornDType(ctx.attr.int('output_datatype', 1), `${ctx.node.opType}'s output_datatype`);
  // periodic: the window of size + 1 without its last sample (for spectral analysis); else symmetric.
  const n = ctx.attr.int('periodic', 1) ? size : size - 1;
  const coeffs = COEFFS[ctx.node.opType]!;
  const out = new Array<number>(size);
  for (let i = 0; i < size; i++) {
    let v = 0;
    coeffs.forEach((a, k) => { v += a * Math.cos((2 * Math.PI * k * i) / n); });
    // A symmetric window of one sample divides 0/0: numpy gives nan there too, but 1 is the window.
    out[i] = n === 0 ? 1 : isFloat(dtype) ? v : Math.trunc(v);
  }
  const h: HostArray = { dtype, shape: [size], data: storageFrom(dtype, dtype === 'bool' ? out.map((v) => (v ? 1 : 0)) : out) };
  return [size > HOST_LIMIT ? toTensor(h, ctx.device) : h];
}

for (const op of Object.keys(COEFFS)) register(op, 17, window);
