/**
 * How each dtype lies in a WebGPU buffer. WGSL reads storage in 32-bit words, so the narrow types
 * (bool, int8, uint8, int16) take one word per element holding the value (sign-extended for signed
 * types), and float16/bfloat16 one word holding their 16 bits: no kernel ever writes part of a
 * word another invocation writes. int64 keeps its 8-byte little-endian layout (two words, low
 * first; kernels compute on the low word as i32, exact for |x| < 2^31). float64 has no WGSL type.
 */
import { DTypeError } from '../../graph/errors.js';
import { arrayFor, DTYPES, type DType } from '../../graph/dtype.js';

/** Bytes per element in a WebGPU buffer, or null where WebGPU has no such type. */
export const deviceItemBytes: Record<DType, number | null> = {
  float32: 4, float64: null, float16: 4, bfloat16: 4, int64: 8, int32: 4, int16: 4, int8: 4, uint8: 4, bool: 4,
};

export const WEBGPU_DTYPES: readonly DType[] = DTYPES.filter((d) => deviceItemBytes[d] !== null);

export function checkDtype(dtype: DType, op: string): number {
  const b = deviceItemBytes[dtype];
  if (b === null) {
    throw new DTypeError(`${op}: dtype ${dtype} is not supported on device 'webgpu' (WGSL has no 64-bit float; ` +
      `webgpu takes ${WEBGPU_DTYPES.join(', ')}); compute it on the CPU with .to('cpu')`);
  }
  return b;
}

/** Buffer sizes are multiples of 4 and never 0 (WebGPU binds no empty buffer). */
export const bufferBytes = (dtype: DType, count: number): number => Math.max(4, Math.ceil((count * checkDtype(dtype, 'alloc')) / 4) * 4);

/** CPU storage (the array a tensor of `dtype` holds) → the words a WebGPU buffer holds. */
export function toDeviceLayout(dtype: DType, data: ArrayBufferView): ArrayBufferView {
  switch (dtype) {
    case 'bool': case 'uint8': case 'float16': case 'bfloat16':
      return Uint32Array.from(data as Uint8Array | Uint16Array);
    case 'int8': case 'int16':
      return Int32Array.from(data as Int8Array | Int16Array);
    default:
      return data;
  }
}

/** The words read back from a WebGPU buffer (`bytes`, at least `length` elements) → CPU storage of `dtype`. */
export function fromDeviceLayout(dtype: DType, bytes: ArrayBuffer, length: number): ArrayBufferView {
  switch (dtype) {
    case 'bool': case 'uint8': case 'int8': case 'int16': case 'float16': case 'bfloat16': {
      const out = arrayFor(dtype, new ArrayBuffer(length * (dtype === 'float16' || dtype === 'bfloat16' || dtype === 'int16' ? 2 : 1)), length);
      const words = dtype === 'int8' || dtype === 'int16' ? new Int32Array(bytes, 0, length) : new Uint32Array(bytes, 0, length);
      (out as Uint8Array).set(words as unknown as Uint8Array);
      return out;
    }
    default:
      return arrayFor(dtype, bytes, length);
  }
}
