/**
 * Host values: small integer tensors (shapes, indices, constants) kept as arrays so shape
 * arithmetic never waits on a device, and the moves between them and lazy Born tensors.
 */
import { isFloat, publicData, storageFrom, type DType, type StorageFor } from '../graph/dtype.js';
import type { DeviceName } from '../graph/node.js';
import { broadcastShapes as broadcast } from '../graph/shape.js';
import { fromStorage } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import type { Value } from './ops/registry.js';
import type { HostArray } from './tensor-proto.js';

/** Host values over this many elements become tensors: only shape-sized data stays on the host. */
export const HOST_LIMIT = 4096;

export const isHost = (v: Value): v is HostArray => !(v instanceof Tensor);
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A host array of numbers (bigints for int64 accepted) in dtype's storage. */
export const host = <D extends DType>(dtype: D, shape: readonly number[], values: ArrayLike<number | bigint>): HostArray<D> =>
  ({ dtype, shape: [...shape], data: storageFrom(dtype, values) });

/** The values as JS numbers (half types decoded, int64 exact to 2^53). */
export function numbers(h: HostArray): number[] {
  const d = publicData(h.dtype, h.data);
  return Array.from(d as ArrayLike<number | bigint>, Number);
}

const uploaded = new WeakMap<HostArray, Map<string, Tensor>>();
/** The host array as a realised tensor on `device`, uploaded once per device. */
export function toTensor(h: HostArray, device: DeviceName | undefined): Tensor {
  const k = device ?? '';
  let m = uploaded.get(h);
  if (!m) uploaded.set(h, (m = new Map()));
  let t = m.get(k);
  if (!t) m.set(k, (t = fromStorage(h.data, h.shape, h.dtype, device)));
  return t;
}

/** A tensor's values on the host (runs its graph). */
export async function toHost(t: Tensor): Promise<HostArray> {
  const d = await t.data();
  const data = (t.dtype === 'float16' || t.dtype === 'bfloat16') ? storageFrom(t.dtype, d as Float32Array) : d as StorageFor[DType];
  return { dtype: t.dtype, shape: [...t.shape], data };
}

export const shapeOf = (v: Value): readonly number[] => v.shape;
export const dtypeOf = (v: Value): DType => v.dtype;

/** numpy broadcasting of shapes (Born's rule), or null when they do not broadcast. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | null {
  try {
    return broadcast('onnx', ...shapes);
  } catch {
    return null;
  }
}

/** Row-major strides of `shape` read as broadcast into `out` (0 along broadcast dims). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = new Array<number>(out.length).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const j = out.length - shape.length + i;
    st[j] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i]!;
  }
  return st;
}

/**
 * Elementwise on host values with numpy broadcasting: `f` on numbers, the result stored as
 * `dtype` (wrapping/truncating like Born's casts). Only for integer/bool data: float arithmetic
 * runs on the device so it rounds exactly as Born's kernels do.
 */
export function hostMap(inputs: readonly HostArray[], dtype: DType, f: (...xs: number[]) => number): HostArray | null {
  const shape = broadcastShapes(...inputs.map((h) => h.shape));
  if (!shape) return null;
  const n = numel(shape);
  const vals = inputs.map(numbers);
  const strides = inputs.map((h) => broadcastStrides(h.shape, shape));
  const out = new Array<number>(n);
  const idx = new Array<number>(shape.length).fill(0);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) o += idx[d]! * strides[k]![d]!;
      args[k] = vals[k]![o]!;
    }
    out[i] = f(...args);
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return host(dtype, shape, out);
}

/** Whether host arithmetic is exact for these values: all host, integer or bool, small. */
export const hostable = (vs: readonly (Value | undefined)[]): vs is HostArray[] =>
  vs.every((v) => v !== undefined && isHost(v) && !isFloat(v.dtype) && numel(v.shape) <= HOST_LIMIT);

/** A host array of `outShape` whose element at each multi-index is `h`'s element at `src(index)` (a flat offset). */
export function hostPick(h: HostArray, outShape: readonly number[], src: (idx: readonly number[]) => number): HostArray {
  const n = numel(outShape);
  const vals = numbers(h);
  const out = new Array<number>(n);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = vals[src(idx)]!;
    for (let d = outShape.length - 1; d >= 0; d--) { if (++idx[d]! < outShape[d]!) break; idx[d] = 0; }
  }
  return host(h.dtype, outShape, out);
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = acc; acc *= shape[i]!; }
  return st;
}

/**
 * The float type integer arithmetic that Born only has in float (division, means) runs in:
 * float64 where the device has it (exact for |x| <= 2^53), else float32 (exact to 2^24).
 */
export const wideFloat = (t: Tensor): 'float64' | 'float32' => (t.device === 'webgpu' ? 'float32' : 'float64');
