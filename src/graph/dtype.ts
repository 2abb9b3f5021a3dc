/**
 * Element types, how each is stored, and PyTorch's promotion rules.
 *
 * Storage and compute:
 * - float32 (default), float64 (CPU only: gradient checks, user data) are stored natively.
 * - float16 and bfloat16 are stored as their 16-bit patterns (Uint16Array: Node 20 has no
 *   Float16Array); kernels compute in float32 and round to nearest even on every op and store,
 *   as PyTorch's CPU kernels do. `data()` returns them widened to a Float32Array (every value is
 *   exact there); safetensors reads and writes the bits themselves.
 * - int64 is stored in a BigInt64Array and loaded into kernels as a JS number: exact for
 *   |x| <= 2^53 (every index, shape and offset ONNX and PyTorch use); beyond that a computed value
 *   is the nearest double, and a store rounds to it (see test/dtypes.test.ts). `data()` returns
 *   the BigInt64Array.
 * - int32, int16, int8, uint8 are stored natively and wrap on overflow like PyTorch's.
 * - bool is one byte, 0 or 1.
 */
export type FloatDType = 'float32' | 'float64' | 'float16' | 'bfloat16';
export type IntDType = 'int64' | 'int32' | 'int16' | 'int8' | 'uint8';
export type DType = FloatDType | IntDType | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
export const FLOAT_DTYPES: readonly FloatDType[] = ['float32', 'float64', 'float16', 'bfloat16'];

/** What a device buffer of each dtype holds (half types as bits). */
export interface StorageFor {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** The array type `data()` returns for each dtype: its storage, but half types widened exactly to float32. */
export interface DataFor extends Omit<StorageFor, 'float16' | 'bfloat16'> {
  float16: Float32Array;
  bfloat16: Float32Array;
}

/** Any array a tensor's storage or data can be. */
export type TypedArray = StorageFor[DType] | DataFor[DType];
/** The arrays holding plain numbers (every storage but int64's). */
export type NumberArray = Exclude<TypedArray, BigInt64Array>;

export const itemBytes: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

type ArrayCtor = { new (length: number): TypedArray; new (buffer: ArrayBufferLike, offset: number, length: number): TypedArray };
export const storageCtor: Record<DType, ArrayCtor> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array, int64: BigInt64Array,
  int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array,
};

/** The storage view of `length` elements of `dtype` at byte 0 of `buffer`. */
export function arrayFor<D extends DType>(dtype: D, buffer: ArrayBufferLike, length: number, byteOffset = 0): StorageFor[D] {
  return new storageCtor[dtype](buffer, byteOffset, length) as StorageFor[D];
}

export function newArray<D extends DType>(dtype: D, length: number): StorageFor[D] {
  return new storageCtor[dtype](length) as StorageFor[D];
}

export const isFloat = (d: DType): d is FloatDType => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
export const isInt = (d: DType): d is IntDType => d === 'int64' || d === 'int32' || d === 'int16' || d === 'int8' || d === 'uint8';
export const isDType = (x: unknown): x is DType => typeof x === 'string' && (DTYPES as readonly string[]).includes(x);

/** The valid dtypes, for error messages. */
export const dtypeList = (): string => DTYPES.join(', ');

// ---- half-precision conversions (host side; the kernel prelude has twins) ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits of `x` (first rounded to float32, as PyTorch's c10::Half(float) does), nearest even. */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: correct
  return sign | h;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** bfloat16 bits of `x` (rounded to float32 first), nearest even; NaN stays a quiet NaN. */
export function toBfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

let float16Table: Float32Array | undefined;

/**
 * float16 or bfloat16 bits widened to float32 (exactly: every half value is a float32 value), into
 * `out` (at least bits.length long; a new array if omitted). float16 goes through a 65536-entry
 * table, bfloat16 is a shift: both run at memory speed on checkpoint-sized arrays.
 */
export function widenHalf(dtype: 'float16' | 'bfloat16', bits: Uint16Array<ArrayBufferLike>, out: Float32Array<ArrayBufferLike> = new Float32Array(bits.length)): Float32Array<ArrayBufferLike> {
  const n = bits.length;
  if (dtype === 'bfloat16') {
    const o = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) o[i] = bits[i]! << 16;
    return out;
  }
  const table = float16Table ??= Float32Array.from({ length: 65536 }, (_, h) => fromFloat16Bits(h));
  for (let i = 0; i < n; i++) out[i] = table[bits[i]!]!;
  return out;
}

/** The value `data()` shows for a storage array: half types widened to float32, others as is. */
export function publicData<D extends DType>(dtype: D, storage: StorageFor[D]): DataFor[D] {
  if (dtype !== 'float16' && dtype !== 'bfloat16') return storage as unknown as DataFor[D];
  return widenHalf(dtype, storage as Uint16Array) as DataFor[D];
}

/** Storage for values given as numbers (or bigints for int64) in a dtype: rounds, wraps, casts like `to`. */
export function storageFrom<D extends DType>(dtype: D, values: ArrayLike<number | bigint>): StorageFor[D] {
  const n = values.length;
  const out = newArray(dtype, n);
  if (dtype === 'int64') {
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) { const v = values[i]!; o[i] = typeof v === 'bigint' ? v : BigInt(castNumber(v, 'int64')); }
    return out;
  }
  const o = out as NumberArray;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    const x = typeof v === 'bigint' ? Number(v) : v;
    o[i] = dtype === 'float16' ? toFloat16Bits(x) : dtype === 'bfloat16' ? toBfloat16Bits(x) : castNumber(x, dtype);
  }
  return out;
}

// ---- casts of single values (host side: constants, creation from numbers) ----

/**
 * A JS number as `dtype` holds it, with the rules of `to(dtype)` from a float: floats round (half
 * types to nearest even), bool is x != 0, integers truncate toward zero. Out of range, what x86
 * gives PyTorch 1.13 (measured in test/fixtures/gen_dtypes.py): int64 and int32 take their most
 * negative value for NaN, ±inf and anything they cannot hold; int16 and int8 wrap the int32
 * result; uint8 wraps the int64 result.
 */
export function castNumber(x: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(x);
    case 'float64': return x;
    case 'float16': return fromFloat16Bits(toFloat16Bits(x));
    case 'bfloat16': return fromBfloat16Bits(toBfloat16Bits(x));
    case 'bool': return x !== 0 ? 1 : 0;
    case 'int64': return Math.abs(x) < 2 ** 63 ? Math.trunc(x) + 0 : -(2 ** 63);
    case 'int32': return x > -2147483649 && x < 2147483648 ? x | 0 : -2147483648;
    case 'int16': return (castNumber(x, 'int32') << 16) >> 16;
    case 'int8': return (castNumber(x, 'int32') << 24) >> 24;
    case 'uint8': return Math.abs(x) < 2 ** 63 ? x & 0xff : 0;
  }
}

// ---- promotion (torch.result_type) ----

type Category = 0 | 1 | 2; // bool, integer, floating
const category = (d: DType): Category => (d === 'bool' ? 0 : isFloat(d) ? 2 : 1);

const intBits: Record<IntDType, number> = { uint8: 8, int8: 8, int16: 16, int32: 32, int64: 64 };

/** PyTorch's promote_types for two tensors of these dtypes. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  if (isFloat(a) || isFloat(b)) {
    if (!isFloat(b)) return a;
    if (!isFloat(a)) return b;
    if (a === 'float64' || b === 'float64') return 'float64';
    return 'float32'; // float32 with a half type, or float16 with bfloat16
  }
  // Two integer dtypes: uint8 with a signed one needs a signed type wider than 8 bits.
  if (a === 'uint8' || b === 'uint8') {
    const other = (a === 'uint8' ? b : a) as IntDType;
    return other === 'int8' ? 'int16' : other;
  }
  return intBits[a as IntDType] >= intBits[b as IntDType] ? a : b;
}

/**
 * How an operand takes part in promotion, as in torch.result_type: tensors with dims decide;
 * 0-d tensors only where they raise the category; a JS number (PyTorch's "wrapped number") only
 * where it raises the category, and then as the default dtype of its category.
 */
export type Participant =
  | { readonly kind: 'tensor'; readonly dtype: DType; readonly ndim: number }
  | { readonly kind: 'scalar'; readonly value: number | boolean };

/** Born's default dtypes: float32 for floats and, unlike PyTorch's int64, int32 for integers. */
export const DEFAULT_FLOAT = 'float32' satisfies FloatDType;
export const DEFAULT_INT = 'int32' satisfies IntDType;

const scalarKind = (v: number | boolean): DType => (typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? DEFAULT_INT : DEFAULT_FLOAT);

function combine(higher: DType | null, lower: DType | null): DType | null {
  if (higher === null) return lower;
  if (lower === null) return higher;
  if (isFloat(higher)) return higher;
  if (higher === 'bool' || isFloat(lower)) return promote(higher, lower);
  return higher;
}

/** torch.result_type over any number of operands. */
export function resultType(...ps: readonly Participant[]): DType {
  let dim: DType | null = null, zero: DType | null = null, wrapped: DType | null = null;
  const up = (cur: DType | null, d: DType): DType => (cur === null ? d : promote(cur, d));
  for (const p of ps) {
    if (p.kind === 'scalar') wrapped = up(wrapped, scalarKind(p.value));
    else if (p.ndim > 0) dim = up(dim, p.dtype);
    else zero = up(zero, p.dtype);
  }
  return combine(dim, combine(zero, wrapped)) ?? DEFAULT_FLOAT;
}

/**
 * The dtype a JS number takes next to a tensor of dtype `t`: a scalar never widens a tensor
 * within its category (int32 + 2 stays int32, float16 + 2.5 stays float16), as in PyTorch.
 */
export function scalarDType(value: number | boolean, t: DType): DType {
  return resultType({ kind: 'tensor', dtype: t, ndim: 1 }, { kind: 'scalar', value });
}

export { category as dtypeCategory };

// ---- the same rules at the type level (Tensor<D>'s method results) ----

/** Promotion of two different dtypes of one category (PyTorch's promote_types). */
type PromoteSameCategory<A extends DType, B extends DType> =
  A | B extends FloatDType ? ('float64' extends A | B ? 'float64' : 'float32')
    : 'int64' extends A | B ? 'int64' : 'int32' extends A | B ? 'int32' : 'int16';

/**
 * The dtype of an op on tensors of dtypes A and B, as far as types can tell: torch.result_type
 * also looks at which operand is 0-d, so within one category the result is A, B or their
 * promotion; across categories it is always the higher one.
 */
export type PromoteTensors<A extends DType, B extends DType> =
  A extends DType ? B extends DType ? (
    [A] extends [B] ? A
      : A extends 'bool' ? B : B extends 'bool' ? A
        : A extends FloatDType ? (B extends FloatDType ? A | B | PromoteSameCategory<A, B> : A)
          : B extends FloatDType ? B : A | B | PromoteSameCategory<A, B>
  ) : never : never;

/** An integer literal type (2, -3) as opposed to 2.5 or an unknown `number`. */
type IsIntLiteral<N extends number> = `${N}` extends `${bigint}` ? true : false;

/** The dtype of an op on a tensor of dtype D and a JS number or boolean S. */
export type PromoteScalar<D extends DType, S extends number | boolean> =
  S extends boolean ? D
    : D extends FloatDType ? D
      : S extends number ? (IsIntLiteral<S> extends true ? (D extends 'bool' ? typeof DEFAULT_INT : D)
        : number extends S ? (D extends 'bool' ? typeof DEFAULT_INT | typeof DEFAULT_FLOAT : D | typeof DEFAULT_FLOAT)
          : typeof DEFAULT_FLOAT)
        : never;

/** Ops whose result is float (div, pow, exp, …): integer and bool inputs compute in float32. */
export type FloatResult<D extends DType> = D extends FloatDType ? D : typeof DEFAULT_FLOAT;
/** add/sub/mul: bools count in int32. */
export type ArithResult<D extends DType> = D extends 'bool' ? typeof DEFAULT_INT : D;
