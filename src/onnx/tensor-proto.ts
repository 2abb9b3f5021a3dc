/**
 * TensorProto <-> host arrays in Born's storage layout (half types as their 16-bit patterns,
 * int64 as BigInt64Array, bool as bytes). Reads raw_data (little-endian, possibly unaligned inside
 * the model's bytes, so it is copied), the typed fields, and external data files.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { itemBytes, newArray, storageCtor, storageFrom, type DType, type StorageFor } from '../graph/dtype.js';
import { OnnxError, type TensorProto } from './proto.js';

/** A tensor's values on the host, in Born's storage layout for its dtype. */
export interface HostArray<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: StorageFor[D];
}

/** TensorProto.DataType numbers. */
export const ONNX_TYPE = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10,
  DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;
const TYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(ONNX_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

/**
 * The Born dtype holding each ONNX element type. The unsigned types Born lacks widen to the next
 * signed type that holds every value (uint16 -> int32, uint32 -> int64); uint64 reads as int64 and
 * refuses values past 2^63 - 1.
 */
const BORN_DTYPE: Partial<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'int32', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16',
  11: 'float64', 12: 'int64', 13: 'int64', 16: 'bfloat16',
};
const ONNX_OF: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

export const onnxTypeName = (t: number): string => TYPE_NAME[t] ?? `unknown type ${t}`;
export const onnxTypeOf = (d: DType): number => ONNX_OF[d];

/** The Born dtype for an ONNX element type, or a clear error naming `what`. */
export function bornDType(t: number | undefined, what: string): DType {
  const d = t === undefined ? undefined : BORN_DTYPE[t];
  if (d) return d;
  const name = t === undefined ? 'undefined' : onnxTypeName(t);
  const hint = t === ONNX_TYPE.STRING ? 'strings are not supported' : t === ONNX_TYPE.COMPLEX64 || t === ONNX_TYPE.COMPLEX128 ? 'complex numbers are not supported' : 'unsupported element type';
  throw new OnnxError(`onnx: ${what} has element type ${name}: ${hint} (Born reads float32/16, bfloat16, float64, int64/32/16/8, uint8/16/32/64, bool)`);
}

export interface ReadOptions {
  /** The directory external data locations are relative to (the model file's directory). */
  readonly baseDir?: string;
  /** What to call the tensor in errors. */
  readonly what?: string;
}

const MAX_ELEMENTS = 2 ** 32;

/** The values of a TensorProto. */
export function readTensorProto(t: TensorProto, opts: ReadOptions = {}): HostArray {
  const what = opts.what ?? `tensor ${JSON.stringify(t.name ?? '')}`;
  const onnxType = t.data_type;
  const dtype = bornDType(onnxType, what);
  const shape = (t.dims ?? []).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxError(`onnx: ${what} has invalid dims [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_ELEMENTS) throw new OnnxError(`onnx: ${what} has ${n} elements, more than Born reads (${MAX_ELEMENTS})`);
  const srcBytes = onnxItemBytes(onnxType!);
  let raw: Uint8Array | undefined = t.raw_data && t.raw_data.length ? t.raw_data : undefined;
  if (t.data_location === 1) raw = readExternal(t, n * srcBytes, what, opts.baseDir);
  if (raw !== undefined || (n === 0 && !hasTyped(t))) {
    const bytes = raw ?? new Uint8Array(0);
    if (bytes.length !== n * srcBytes) {
      throw new OnnxError(`onnx: ${what}: raw data holds ${bytes.length} bytes, but dims [${shape.join(', ')}] of ${onnxTypeName(onnxType!)} need ${n * srcBytes}`);
    }
    // External bytes arrive in a fresh buffer of their own; raw_data is copied out of the model's.
    const own = t.data_location === 1 ? bytes : new Uint8Array(bytes);
    return { dtype, shape, data: fromRaw(onnxType!, dtype, own, n, what) };
  }
  return { dtype, shape, data: fromTyped(t, onnxType!, dtype, n, what) };
}

const hasTyped = (t: TensorProto): boolean =>
  !!(t.float_data?.length || t.int32_data?.length || t.int64_data?.length || t.double_data?.length || t.uint64_data?.length || t.string_data?.length);

function onnxItemBytes(t: number): number {
  switch (t) {
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 1: case 6: case 12: return 4;
    default: return 8;
  }
}

/** `bytes` is a fresh copy at offset 0 (Buffer.slice would share the model's memory), so views on its buffer are aligned. Little-endian, as ONNX stores it. */
function fromRaw(onnxType: number, dtype: DType, bytes: Uint8Array, n: number, what: string): StorageFor[DType] {
  const buf = bytes.buffer;
  switch (onnxType) {
    case ONNX_TYPE.UINT16: return Int32Array.from(new Uint16Array(buf, 0, n));
    case ONNX_TYPE.UINT32: return BigInt64Array.from(new Uint32Array(buf, 0, n), (x) => BigInt(x));
    case ONNX_TYPE.UINT64: return uint64ToInt64(new BigUint64Array(buf, 0, n), what);
    case ONNX_TYPE.BOOL: return bytes.map((b) => (b ? 1 : 0));
    default: return new storageCtor[dtype](buf, 0, n) as StorageFor[DType];
  }
}

function uint64ToInt64(u: ArrayLike<bigint>, what: string): BigInt64Array {
  const out = new BigInt64Array(u.length);
  for (let i = 0; i < u.length; i++) {
    if (u[i]! > 0x7fffffffffffffffn) throw new OnnxError(`onnx: ${what}: uint64 value ${u[i]} does not fit int64, Born's widest integer type`);
    out[i] = u[i]!;
  }
  return out;
}

function fromTyped(t: TensorProto, onnxType: number, dtype: DType, n: number, what: string): StorageFor[DType] {
  const field = typedField(onnxType);
  const src = (t[field] ?? []) as readonly (number | Uint8Array)[];
  if (src.length !== n) {
    throw new OnnxError(`onnx: ${what}: ${field} holds ${src.length} values, but dims [${(t.dims ?? []).join(', ')}] need ${n}`);
  }
  const nums = src as readonly number[];
  switch (onnxType) {
    // int32_data holds the 16-bit patterns of float16 and bfloat16.
    case ONNX_TYPE.FLOAT16: case ONNX_TYPE.BFLOAT16: return Uint16Array.from(nums, (x) => x & 0xffff);
    case ONNX_TYPE.BOOL: return Uint8Array.from(nums, (x) => (x ? 1 : 0));
    case ONNX_TYPE.UINT64: return uint64ToInt64(nums.map((x) => BigInt(Math.trunc(x))), what);
    default: {
      const out = newArray(dtype, n);
      if (out instanceof BigInt64Array) nums.forEach((x, i) => { out[i] = BigInt(Math.trunc(x)); });
      else out.set(storageFrom(dtype, nums) as ArrayLike<number>);
      return out;
    }
  }
}

type TypedFieldName = 'float_data' | 'int32_data' | 'int64_data' | 'double_data' | 'uint64_data' | 'string_data';
function typedField(t: number): TypedFieldName {
  switch (t) {
    case ONNX_TYPE.FLOAT: return 'float_data';
    case ONNX_TYPE.INT64: return 'int64_data';
    case ONNX_TYPE.DOUBLE: return 'double_data';
    case ONNX_TYPE.UINT32: case ONNX_TYPE.UINT64: return 'uint64_data';
    default: return 'int32_data';
  }
}

/** External data: `location` relative to the model's directory (never outside it), `offset`, `length`. */
function readExternal(t: TensorProto, need: number, what: string, baseDir: string | undefined): Uint8Array {
  const info = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = info.get('location');
  if (!location) throw new OnnxError(`onnx: ${what} is stored externally but names no location`);
  if (baseDir === undefined) throw new OnnxError(`onnx: ${what} is stored externally in ${JSON.stringify(location)}; load the model from a file path so its directory is known`);
  if (isAbsolute(location)) throw new OnnxError(`onnx: ${what}: external data location ${JSON.stringify(location)} is absolute; it must be relative to the model's directory`);
  const base = realpathSync(baseDir);
  const file = resolve(base, location);
  const rel = relative(base, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new OnnxError(`onnx: ${what}: external data location ${JSON.stringify(location)} leaves the model's directory`);
  }
  let real: string;
  try { real = realpathSync(file); } catch { throw new OnnxError(`onnx: ${what}: external data file ${JSON.stringify(location)} not found beside the model`); }
  if (!(real + sep).startsWith(base + sep)) throw new OnnxError(`onnx: ${what}: external data location ${JSON.stringify(location)} leaves the model's directory`);
  const offset = byteCount(info.get('offset') ?? '0');
  const length = info.has('length') ? byteCount(info.get('length')!) : need;
  if (offset === null || length === null) {
    throw new OnnxError(`onnx: ${what}: external data offset ${JSON.stringify(info.get('offset') ?? '0')} / length ${JSON.stringify(info.get('length') ?? String(need))} is not a byte count`);
  }
  if (length !== need) throw new OnnxError(`onnx: ${what}: external data length ${length} does not match the ${need} bytes its dims need`);
  return readRange(real, offset, length, location, what);
}

/** A decimal byte count up to 2^53 (offsets past 2^31 and 2^32 included), or null. */
const byteCount = (s: string): number | null => (/^\d{1,16}$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : null);

/** The positioned read is capped near 2 GiB per call on Linux, so a longer range is read in chunks. */
const READ_CHUNK = 2 ** 30;

/**
 * `length` bytes at `offset` of `file`, read with positioned reads into a fresh buffer: only this
 * tensor's bytes are read (weights of models over 2 GB live in such files), and the range is
 * checked against the file's size before anything is allocated.
 */
function readRange(file: string, offset: number, length: number, location: string, what: string): Uint8Array {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (e) { throw new OnnxError(`onnx: ${what}: cannot open external data file ${JSON.stringify(location)}: ${(e as Error).message}`); }
  try {
    const size = fstatSync(fd).size;
    if (offset + length > size) {
      throw new OnnxError(`onnx: ${what}: external data range offset ${offset}, length ${length} is outside ${JSON.stringify(location)} (${size} bytes)`);
    }
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = readSync(fd, out, done, Math.min(length - done, READ_CHUNK), offset + done);
      if (n === 0) throw new OnnxError(`onnx: ${what}: ${JSON.stringify(location)} ended at byte ${offset + done} while reading (was it truncated during the load?)`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The reverse, for export: a TensorProto holding `a` as raw_data. */
export function writeTensorProto(a: HostArray, name = ''): TensorProto {
  const n = a.shape.reduce((x, y) => x * y, 1);
  const view = a.data.subarray(0, n);
  const raw = new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + n * itemBytes[a.dtype]));
  return { name, dims: [...a.shape], data_type: ONNX_OF[a.dtype], raw_data: raw };
}
