/**
 * How each dtype lies in a WebGPU buffer: in the CPU's typed-array byte layout (little-endian), so
 * uploads and readbacks are byte copies. int8/uint8 pack 4 to a 32-bit word, int16/float16/
 * bfloat16 2 (element i in bits 8*(i%4).. or 16*(i%2)..: WGSL reads storage in words, and kernels
 * store a narrow element with atomicAnd/atomicOr on its word, so invocations writing neighbouring
 * elements of one word never race). bool keeps one word per element (0 or 1). int64 keeps its
 * 8-byte layout (two words, low first; kernels compute on the low word as i32, exact for
 * |x| < 2^31). float64 has no WGSL type. A buffer is rounded up to whole words; the padding bytes
 * past the last element are never read back.
 */
import { DTypeError } from '../../graph/errors.js';
import { arrayFor, DTYPES, type DType } from '../../graph/dtype.js';

/** Bytes per element in a WebGPU buffer, or null where WebGPU has no such type. */
export const deviceItemBytes: Record<DType, number | null> = {
  float32: 4, float64: null, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 4,
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

/** Elements per 32-bit word for the packed dtypes (int8/uint8: 4; int16/float16/bfloat16: 2), else 1. */
export const perWord = (dtype: DType): number => {
  const b = deviceItemBytes[dtype];
  return b !== null && b < 4 ? 4 / b : 1;
};

/** CPU storage (the array a tensor of `dtype` holds) → the bytes a WebGPU buffer holds (whole words). */
export function toDeviceLayout(dtype: DType, data: ArrayBufferView): ArrayBufferView {
  if (dtype === 'bool') return Uint32Array.from(data as Uint8Array);
  if (data.byteLength % 4 === 0) return data;
  // WebGPU writes whole words: the tail is padded with zero bytes.
  const out = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}

/** The bytes read back from a WebGPU buffer (`bytes`, at least `length` elements) → CPU storage of `dtype`. */
export function fromDeviceLayout(dtype: DType, bytes: ArrayBuffer, length: number): ArrayBufferView {
  if (dtype === 'bool') {
    const out = arrayFor(dtype, new ArrayBuffer(length), length);
    (out as Uint8Array).set(new Uint32Array(bytes, 0, length) as unknown as Uint8Array);
    return out;
  }
  return arrayFor(dtype, bytes, length);
}
