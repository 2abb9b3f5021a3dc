/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 *
 *   "\x93NUMPY" | major | minor | header length (u16 LE in 1.0, u32 LE in 2.0/3.0) | header | data
 *
 * The header is a Python dict literal, `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`,
 * padded with spaces and a newline so the data starts on a 64-byte boundary. We parse exactly that
 * dict syntax (quoted strings, True/False, tuples of integers), never a general Python expression.
 * Files are untrusted: the header length, the shape and the data size are all checked against the
 * bytes actually present before anything is allocated.
 */
import { open } from 'node:fs/promises';
import { arrayFor, itemBytes, storageCtor, type DType, type StorageFor, type TypedArray } from '../graph/dtype.js';
import { LITTLE_ENDIAN, swapBytes } from './bytes.js';
import { fromStorage } from '../tensor/creation.js';
import { readNode, realize } from '../scheduler/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { writeAll, writeFileAtomic } from './atomic.js';

/** A malformed, unsupported or unreadable .npy file. */
export class NpyError extends Error {
  override name = 'NpyError';
}

/** An array as plain data: its storage array (float16 as bits), C (row-major) order. */
export interface NpyArray { dtype: DType; shape: number[]; data: TypedArray }
export interface ReadNpyOptions {
  /** Names the input in error messages (default 'buffer'). */
  source?: string;
  /** Longest header accepted, in bytes (default 10000, NumPy's own `max_header_size`). */
  maxHeaderBytes?: number;
}
export interface LoadNpyOptions extends Omit<ReadNpyOptions, 'source'> {
  /** Largest file accepted, in bytes (default 4 GiB). */
  maxBytes?: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const DEFAULT_MAX_HEADER = 10_000;
const DEFAULT_MAX_BYTES = 2 ** 32;
const ALIGN = 64;
/** NumPy leaves room after the header for the growing axis to reach this many digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;

type Fail = (msg: string) => never;

// ---- dtypes ----

/** A file element type: its size, what Born stores it as, and whether it must be widened. */
interface FileType { size: number; to: DType; unsigned?: boolean }
const KINDS: Record<string, FileType> = {
  f2: { size: 2, to: 'float16' }, f4: { size: 4, to: 'float32' }, f8: { size: 8, to: 'float64' },
  i1: { size: 1, to: 'int8' }, i2: { size: 2, to: 'int16' }, i4: { size: 4, to: 'int32' }, i8: { size: 8, to: 'int64' },
  u1: { size: 1, to: 'uint8' }, b1: { size: 1, to: 'bool' },
  // Born has no uint16/32/64: each is read into the smallest signed type holding every value.
  u2: { size: 2, to: 'int32', unsigned: true }, u4: { size: 4, to: 'int64', unsigned: true }, u8: { size: 8, to: 'int64', unsigned: true },
};
const WRITE_AS: Partial<Record<DType, string>> = {
  float16: '<f2', float32: '<f4', float64: '<f8', int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8', uint8: '|u1', bool: '|b1',
};

interface Descr { type: FileType; bigEndian: boolean }
function parseDescr(descr: string, at: number, fail: Fail): Descr {
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const type = m ? KINDS[`${m[2]}${m[3]}`] : undefined;
  if (!m || type === undefined) {
    fail(`header byte ${at}: unsupported dtype '${descr}' (readable: ${Object.keys(KINDS).map((k) => `<${k}`).join(', ')}, also '>' big-endian)`);
  }
  if (m[1] === '|' && type.size > 1) fail(`header byte ${at}: dtype '${descr}' has no byte order ('|' is only for 1-byte types)`);
  return { type, bigEndian: m[1] === '>' || (m[1] === '=' && !LITTLE_ENDIAN) };
}

// ---- the header dict ----

type Value = string | boolean | number[];

/**
 * A strict parser for the one dict NumPy writes: string keys, and values that are strings,
 * True/False or tuples of non-negative integers. `base` is the header's offset in the file.
 */
function parseDict(text: string, base: number, fail: Fail): Map<string, { value: Value; at: number }> {
  let i = 0;
  const where = (): string => `header byte ${base + i}`;
  const ws = (): void => { while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++; };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) fail(`${where()}: expected '${c}', found ${text[i] === undefined ? 'the end of the header' : JSON.stringify(text[i])}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') fail(`${where()}: expected a quoted string, found ${JSON.stringify(text.slice(i, i + 8))}`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) fail(`${where()}: string is not closed`);
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) fail(`${where()}: escapes in strings are not supported`);
    i = end + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const m = /^\d{1,16}/.exec(text.slice(i, i + 17));
    if (!m) fail(`${where()}: expected a non-negative integer, found ${JSON.stringify(text.slice(i, i + 8))}`);
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n) || /^\d/.test(text.slice(i + m[0].length, i + m[0].length + 1))) fail(`${where()}: dimension is too large`);
    i += m[0].length;
    if (text[i] === 'L') i++; // Python 2 wrote longs with an L suffix
    return n;
  };
  const value = (): Value => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (text[i] === '[') fail(`${where()}: structured dtypes (a list descr) are not supported`);
    if (text[i] !== '(') fail(`${where()}: expected a string, True, False or a tuple, found ${JSON.stringify(text.slice(i, i + 8))}`);
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') break;
      dims.push(int());
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] !== ')') fail(`${where()}: expected ',' or ')' in the shape tuple`);
      if (dims.length === 1) fail(`${where()}: a one-element tuple needs a trailing comma, '(n,)'`);
    }
    i++;
    return dims;
  };
  const out = new Map<string, { value: Value; at: number }>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const keyAt = base + i;
    const key = str();
    if (out.has(key)) fail(`header byte ${keyAt}: key '${key}' appears twice`);
    expect(':');
    ws();
    out.set(key, { at: base + i, value: value() });
    ws();
    if (text[i] === ',') { i++; continue; }
    if (text[i] !== '}') fail(`${where()}: expected ',' or '}' after the value of '${key}'`);
  }
  i++;
  // After the dict: only the padding NumPy writes (spaces) and the newline that ends the header.
  const rest = text.slice(i);
  if (!/^[ \t\0]*\n?[ \t\0]*$/.test(rest)) fail(`${where()}: unexpected text after the header dict`);
  return out;
}

interface Header { descr: Descr; fortran: boolean; shape: number[]; dataStart: number }

function parseHeader(bytes: Uint8Array, maxHeader: number, fail: Fail): Header {
  if (bytes.length < 10) fail(`file is ${bytes.length} bytes, too short for a .npy preamble (10 bytes)`);
  for (let k = 0; k < MAGIC.length; k++) if (bytes[k] !== MAGIC[k]) fail(`byte ${k}: not a .npy file (magic string "\\x93NUMPY" missing)`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) fail(`byte 6: format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) fail(`file is ${bytes.length} bytes, too short for a version ${major}.0 preamble (${start} bytes)`);
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (len > maxHeader) fail(`byte 8: header length ${len} is over the ${maxHeader}-byte limit (pass { maxHeaderBytes } to allow more)`);
  if (start + len > bytes.length) fail(`byte 8: header length ${len} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  const raw = bytes.subarray(start, start + len);
  let text: string;
  if (major === 3) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch { fail(`byte ${start}: version 3.0 header is not valid UTF-8`); }
  } else {
    text = Buffer.from(raw).toString('latin1');
  }
  const dict = parseDict(text, start, fail);
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') fail(`byte ${start}: header keys are {${keys}}, expected exactly {descr, fortran_order, shape}`);
  const d = dict.get('descr')!;
  const f = dict.get('fortran_order')!;
  const s = dict.get('shape')!;
  if (typeof d.value !== 'string') fail(`header byte ${d.at}: 'descr' must be a string`);
  if (typeof f.value !== 'boolean') fail(`header byte ${f.at}: 'fortran_order' must be True or False`);
  if (!Array.isArray(s.value)) fail(`header byte ${s.at}: 'shape' must be a tuple of integers`);
  return { descr: parseDescr(d.value, d.at, fail), fortran: f.value, shape: s.value, dataStart: start + len };
}

// ---- decoding ----

/** Elements from Fortran (column-major) order into C order, for any rank. */
function fortranToC<T extends TypedArray>(src: T, shape: readonly number[]): T {
  const n = src.length;
  const rank = shape.length;
  if (rank < 2 || n === 0) return src;
  const out = new (src.constructor as new (n: number) => T)(n);
  const fstride: number[] = [];
  for (let k = 0, s = 1; k < rank; k++) { fstride.push(s); s *= shape[k]!; }
  const idx = new Array<number>(rank).fill(0);
  let from = 0;
  for (let c = 0; c < n; c++) {
    (out as unknown as number[])[c] = (src as unknown as number[])[from]!;
    for (let k = rank - 1; k >= 0; k--) { // odometer over the C index, last axis fastest
      idx[k]!++;
      from += fstride[k]!;
      if (idx[k]! < shape[k]!) break;
      from -= idx[k]! * fstride[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** The elements of `bytes` (owned, little-endian after swapping) as Born's storage for `t`. */
function decodeElements(bytes: Uint8Array, t: FileType, n: number, fail: Fail): TypedArray {
  if (t.to === 'bool') return bytes.map((b) => (b === 0 ? 0 : 1));
  if (!t.unsigned) return arrayFor(t.to, bytes.buffer, n);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (t.size === 2) return Int32Array.from({ length: n }, (_, i) => v.getUint16(i * 2, true));
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const x = t.size === 4 ? BigInt(v.getUint32(i * 4, true)) : v.getBigUint64(i * 8, true);
    if (x > 0x7fffffffffffffffn) fail(`uint64 value ${x} at flat index ${i} does not fit in int64`);
    out[i] = x;
  }
  return out;
}

/** Guarantees one error type for any bad input, even a failure we did not foresee. */
function guarded<R>(source: string, body: (fail: Fail) => R): R {
  const fail: Fail = (msg) => { throw new NpyError(`npy: ${source}: ${msg}`); };
  try {
    return body(fail);
  } catch (err) {
    if (err instanceof NpyError) throw err;
    throw new NpyError(`npy: ${source}: unexpected failure while reading: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/** Parses a whole .npy file held in memory into C-order storage. Pure; every length is checked first. */
export function readNpy(bytes: Uint8Array, opts: ReadNpyOptions = {}): NpyArray {
  return guarded(opts.source ?? 'buffer', (fail) => {
    if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
    const h = parseHeader(bytes, opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER, fail);
    const t = h.descr.type;
    const count = h.shape.reduce((a, d) => a * d, 1);
    const available = bytes.length - h.dataStart;
    // Checked before any allocation: a header claiming a huge shape fails here, not in `new`.
    if (!Number.isSafeInteger(count * t.size) || count * t.size > available) {
      fail(`byte ${h.dataStart}: shape (${h.shape.join(', ')}) of ${t.size}-byte elements needs ${count * t.size} bytes of data, the file has ${available} (truncated?)`);
    }
    if (count * t.size < available) fail(`byte ${h.dataStart + count * t.size}: ${available - count * t.size} bytes after the array's data`);
    // A fresh buffer at offset 0 (a Node Buffer's slice() would share its pool instead).
    const own = new Uint8Array(count * t.size);
    own.set(bytes.subarray(h.dataStart, h.dataStart + count * t.size));
    if (h.descr.bigEndian === LITTLE_ENDIAN) swapBytes(own, t.size);
    const data = decodeElements(own, t, count, fail);
    return { dtype: t.to, shape: h.shape, data: h.fortran ? fortranToC(data, h.shape) : data };
  });
}

// ---- writing ----

/** The dict exactly as NumPy 1.24's `np.save` writes it, growth padding included. */
function headerText(descr: string, shape: readonly number[]): string {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  return shape.length === 0 ? dict : dict + ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
}

/** A .npy file (version 1.0, or 2.0 when the header needs over 64 KiB) of C-order data. Pure. */
export function writeNpy(arr: NpyArray): Uint8Array {
  const { dtype, shape, data } = arr;
  const descr = WRITE_AS[dtype];
  if (descr === undefined) throw new NpyError(`npy: NumPy has no ${dtype} dtype; convert first (e.g. .to('float32'))`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new NpyError(`npy: invalid shape ${String(shape)}`);
  const count = shape.reduce((a, d) => a * d, 1);
  if (!(data instanceof storageCtor[dtype])) throw new NpyError(`npy: a ${dtype} array needs its storage type, got ${data?.constructor?.name ?? typeof data}`);
  if (data.length !== count) throw new NpyError(`npy: shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const text = Buffer.from(headerText(descr, shape), 'latin1');
  let pre = 10;
  let pad = ALIGN - ((pre + text.length + 1) % ALIGN);
  if (text.length + 1 + pad > 0xffff) { pre = 12; pad = ALIGN - ((pre + text.length + 1) % ALIGN); }
  const headerLen = text.length + pad + 1;
  const out = new Uint8Array(pre + headerLen + count * itemBytes[dtype]);
  out.set(MAGIC);
  out[6] = pre === 10 ? 1 : 2;
  const view = new DataView(out.buffer);
  if (pre === 10) view.setUint16(8, headerLen, true); else view.setUint32(8, headerLen, true);
  out.set(text, pre);
  out.fill(0x20, pre + text.length, pre + headerLen - 1);
  out[pre + headerLen - 1] = 0x0a;
  const body = out.subarray(pre + headerLen);
  if (dtype === 'bool') body.set((data as Uint8Array).map((b) => (b === 0 ? 0 : 1)));
  else {
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!LITTLE_ENDIAN) swapBytes(body, itemBytes[dtype]);
  }
  return out;
}

// ---- files and tensors ----

/** Reads a .npy file into a tensor on the default device. */
export async function loadNpy(path: string, opts: LoadNpyOptions = {}): Promise<Tensor> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes >= 0)) throw new RangeError(`loadNpy: maxBytes must be a non-negative number, got ${maxBytes}`);
  const file = await open(path, 'r');
  let bytes: Uint8Array;
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new NpyError(`npy: ${path}: not a regular file`);
    if (stat.size > maxBytes) throw new NpyError(`npy: ${path}: file is ${stat.size} bytes, over maxBytes ${maxBytes} (pass { maxBytes } to allow more)`);
    bytes = await file.readFile();
  } finally {
    await file.close();
  }
  const raw = readNpy(bytes, { ...opts, source: path });
  return fromStorage(raw.data as StorageFor[DType], raw.shape, raw.dtype);
}

/** The tensor's values as an NpyArray (realising it if it is still lazy). */
export async function toNpyArray(t: Tensor): Promise<NpyArray> {
  if (!(t instanceof Tensor)) throw new TypeError(`saveNpy: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  await realize([t.node]);
  return { dtype: t.dtype, shape: [...t.shape], data: await readNode(t.node) };
}

/** Writes a tensor as a .npy file, atomically (see writeFileAtomic). bfloat16 has no NumPy dtype and is refused. */
export async function saveNpy(path: string, t: Tensor): Promise<void> {
  const bytes = writeNpy(await toNpyArray(t));
  await writeFileAtomic(path, (file) => writeAll(file, bytes));
}
