/** Element types. float64 exists for gradient checks on the CPU device. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The array type `data()` returns for each dtype. */
export interface DataFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

export const itemBytes: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

export function arrayFor(dtype: DType, buffer: ArrayBufferLike, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, 0, length);
    case 'float64': return new Float64Array(buffer, 0, length);
    case 'int32': return new Int32Array(buffer, 0, length);
    case 'bool': return new Uint8Array(buffer, 0, length);
  }
}

export function newArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int32': return new Int32Array(length);
    case 'bool': return new Uint8Array(length);
  }
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

/** PyTorch's promotion lattice restricted to our dtypes: bool < int32 < float32 < float64. */
const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };
export function promote(a: DType, b: DType): DType {
  return rank[a] >= rank[b] ? a : b;
}

/**
 * The dtype a JS number takes next to a tensor of dtype `t`: a scalar never widens a tensor
 * within its category (int32 + 2 stays int32, float32 + 2.5 stays float32), as in PyTorch.
 */
export function scalarDType(value: number | boolean, t: DType): DType {
  if (typeof value === 'boolean') return t;
  if (isFloat(t)) return t;
  if (Number.isInteger(value)) return t === 'bool' ? 'int32' : t;
  return 'float32';
}

/** Clamp a JS number to what a dtype can hold (int32 wraps and truncates, bool is 0/1). */
export function coerce(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(value);
    case 'float64': return value;
    case 'int32': return value | 0;
    case 'bool': return value ? 1 : 0;
  }
}
