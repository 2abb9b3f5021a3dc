/**
 * Checkpoints in Hugging Face's safetensors format
 * (https://github.com/huggingface/safetensors#format):
 *
 *   u64 little-endian N | N bytes of UTF-8 JSON header | data section
 *
 * The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } (offsets into
 * the data section) plus an optional "__metadata__" string→string map. Data is little-endian,
 * row-major, and the tensors must tile the data section exactly: no gaps, no overlaps, nothing
 * after the last one. Files are untrusted: every length and offset is checked before it is used.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { arrayFor, DTYPES, itemBytes, storageCtor, type DType, type StorageFor, type TypedArray } from '../graph/dtype.js';
import { LITTLE_ENDIAN, swapBytes } from './bytes.js';
import { DTypeError, ShapeError } from '../graph/errors.js';
import { fromStorage } from '../tensor/creation.js';
import { readNode, realize } from '../scheduler/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { writeAll, writeFileAtomic } from './atomic.js';

export type StateDict = Record<string, Tensor>;
export interface SaveOptions { metadata?: Record<string, string> }
export interface LoadOptions { /** Largest file accepted, in bytes (default 4 GiB). */ maxBytes?: number }
/** A tensor as plain data, its storage array (float16/bfloat16 as bits): what serialize() takes and parse() returns. */
export interface RawTensor { dtype: DType; shape: number[]; data: TypedArray }
export interface Checkpoint<T> { tensors: Record<string, T>; metadata: Record<string, string> }

/** A malformed or unreadable safetensors file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The reference implementation's cap; a longer header is refused before it is read. */
export const MAX_HEADER_BYTES = 100_000_000;
const DEFAULT_MAX_BYTES = 2 ** 32;

// ---- dtypes ----

type Decoder = (bytes: Uint8Array, n: number, fail: (msg: string) => never) => TypedArray;
interface FileDType { size: number; to: DType; decode: Decoder }

/** The bytes as they are stored (float16/bfloat16 as their bits): nothing is widened. */
const native = (dtype: DType): Decoder => (bytes, n) => {
  if (dtype === 'bool') return bytes.map((b) => (b === 0 ? 0 : 1));
  if (!LITTLE_ENDIAN) swapBytes(bytes, itemBytes[dtype]);
  return arrayFor(dtype, bytes.buffer, n);
};
/** Unsigned types Born has no dtype for, read through a DataView into a signed type that holds every value. */
const widen = (to: 'int32' | 'int64', read: (v: DataView, at: number) => number | bigint, size: number): Decoder => (bytes, n, fail) => {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = to === 'int32' ? new Int32Array(n) : new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const x = read(v, i * size);
    if (to === 'int64') {
      if (BigInt(x) > 0x7fffffffffffffffn) fail(`value ${x} at flat index ${i} does not fit in int64`);
      (out as BigInt64Array)[i] = BigInt(x);
    } else (out as Int32Array)[i] = Number(x);
  }
  return out;
};

/** What we read, and what each becomes; F8/F4/F6/complex types are refused by name. */
const FILE_DTYPES: Record<string, FileDType> = {
  F64: { size: 8, to: 'float64', decode: native('float64') },
  F32: { size: 4, to: 'float32', decode: native('float32') },
  F16: { size: 2, to: 'float16', decode: native('float16') },
  BF16: { size: 2, to: 'bfloat16', decode: native('bfloat16') },
  I64: { size: 8, to: 'int64', decode: native('int64') },
  I32: { size: 4, to: 'int32', decode: native('int32') },
  I16: { size: 2, to: 'int16', decode: native('int16') },
  I8: { size: 1, to: 'int8', decode: native('int8') },
  U8: { size: 1, to: 'uint8', decode: native('uint8') },
  BOOL: { size: 1, to: 'bool', decode: native('bool') },
  U16: { size: 2, to: 'int32', decode: widen('int32', (v, at) => v.getUint16(at, true), 2) },
  U32: { size: 4, to: 'int64', decode: widen('int64', (v, at) => v.getUint32(at, true), 4) },
  U64: { size: 8, to: 'int64', decode: widen('int64', (v, at) => v.getBigUint64(at, true), 8) },
};
const WRITE_AS: Record<DType, string> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
/** The reference writer puts wider dtypes first (its Dtype enum order, reversed), then sorts by name. */
const WRITE_RANK: Record<DType, number> = {
  int64: 0, float64: 1, float32: 2, int32: 3, bfloat16: 4, float16: 5, int16: 6, int8: 7, uint8: 8, bool: 9,
};

// ---- writing ----

interface Spec { name: string; dtype: DType; shape: readonly number[] }
type Placed<T> = T & { begin: number; end: number };

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function checkText(what: string, s: unknown): void {
  if (typeof s !== 'string') throw new TypeError(`safetensors: ${what} must be a string, got ${typeof s}`);
  if (loneSurrogate.test(s)) throw new TypeError(`safetensors: ${what} ${JSON.stringify(s)} is not valid Unicode (lone surrogate)`);
}

/** Orders the tensors, assigns offsets, and builds the 8-byte length plus the space-padded header. */
function layout<T extends Spec>(specs: readonly T[], metadata: Record<string, string> | undefined): { header: Uint8Array; entries: Placed<T>[] } {
  const sorted = [...specs].sort((a, b) => WRITE_RANK[a.dtype] - WRITE_RANK[b.dtype] || byUtf8(a.name, b.name));
  let offset = 0;
  const entries = sorted.map((s) => {
    const begin = offset;
    offset += s.shape.reduce((n, d) => n * d, 1) * itemBytes[s.dtype];
    return { ...s, begin, end: offset };
  });
  // Built by hand: a JS object would reorder integer-like names ("0", "1") ahead of the others.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata).map(([k, v]) => {
      checkText('metadata key', k); checkText(`metadata value for ${JSON.stringify(k)}`, v);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${meta.join(',')}}`);
  }
  for (const e of entries) {
    checkText('tensor name', e.name);
    if (e.name === '__metadata__') throw new TypeError('safetensors: "__metadata__" is reserved and cannot name a tensor');
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${WRITE_AS[e.dtype]}","shape":[${e.shape.join(',')}],"data_offsets":[${e.begin},${e.end}]}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8; // keeps the data section 8-byte aligned
  if (padded > MAX_HEADER_BYTES) throw new RangeError(`safetensors: header would be ${padded} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers enforce`);
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, entries };
}

/** The bytes to write for one tensor's data: little-endian, bools as 0/1. */
function dataBytes(name: string, dtype: DType, data: TypedArray, expected: number): Uint8Array {
  if (!(data instanceof storageCtor[dtype])) throw new DTypeError(`safetensors: tensor '${name}' is ${dtype} but its data is a ${data?.constructor?.name ?? typeof data}`);
  if (data.byteLength !== expected) throw new ShapeError(`safetensors: tensor '${name}' has ${data.length} values, its shape needs ${expected / itemBytes[dtype]}`);
  if (dtype === 'bool') return (data as Uint8Array).map((b) => (b === 0 ? 0 : 1));
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, itemBytes[dtype]);
  return copy;
}

function specOf(name: string, dtype: unknown, shape: unknown): Spec {
  if (!(DTYPES as readonly unknown[]).includes(dtype)) throw new DTypeError(`safetensors: tensor '${name}' has dtype ${String(dtype)} (expected one of ${DTYPES.join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ShapeError(`safetensors: tensor '${name}' has invalid shape ${String(shape)} (sizes must be non-negative integers)`);
  return { name, dtype: dtype as DType, shape };
}

/** The whole file as bytes, laid out as the reference writer lays it out. Pure. */
export function serialize(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const specs = Object.entries(tensors).map(([name, t]) => ({ ...specOf(name, t.dtype, t.shape), data: t.data }));
  const { header, entries } = layout(specs, metadata);
  const out = new Uint8Array(header.length + (entries.at(-1)?.end ?? 0));
  out.set(header);
  for (const e of entries) out.set(dataBytes(e.name, e.dtype, e.data, e.end - e.begin), header.length + e.begin);
  return out;
}

/**
 * Writes a state dict atomically: into a temp file beside `path`, fsynced, then renamed over
 * it; if anything fails, the previous file at `path` is untouched. Every dtype is written as
 * stored (float16 as F16, bfloat16 as BF16, int64 as I64, uint8 as U8, …), bit for bit.
 */
export async function save(tensors: StateDict, path: string, opts: SaveOptions = {}): Promise<void> {
  const specs = Object.entries(tensors).map(([name, t]) => {
    if (!(t instanceof Tensor)) throw new TypeError(`save: '${name}' is not a Tensor (got ${t === null ? 'null' : typeof t})`);
    return { ...specOf(name, t.dtype, [...t.shape]), t };
  });
  const { header, entries } = layout(specs, opts.metadata);
  await realize(specs.map((s) => s.t.node)); // whatever is still lazy runs as one schedule
  await writeFileAtomic(path, async (file) => {
    await writeAll(file, header);
    // One tensor's host copy at a time, not the whole checkpoint.
    for (const e of entries) await writeAll(file, dataBytes(e.name, e.dtype, await readNode(e.t.node), e.end - e.begin));
  });
}

// ---- reading ----

type Fail = (msg: string) => never;
const failer = (source: string): Fail => (msg) => { throw new SafetensorsError(`safetensors: ${source}: ${msg}`); };
interface Header { jsonEnd: number; entries: Placed<{ name: string; file: string; shape: number[] }>[]; metadata: Record<string, string> }

/** Defines an own property even for names like "__proto__", which plain assignment would not. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The header length from the 8-byte prefix, checked against the file's length. */
function headerLength(prefix: Uint8Array, fileLength: number, fail: Fail): number {
  if (fileLength < 8) fail(`file is ${fileLength} bytes, too short for the 8-byte header length`);
  const v = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = v.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  if (8 + Number(n) > fileLength) fail(`header length ${n} runs past the end of the file (${fileLength} bytes; truncated?)`);
  return Number(n);
}

/** A value from the header, for an error message: short, and safe for any shape of JSON. */
function show(x: unknown): string {
  let s: string;
  try { s = JSON.stringify(x) ?? String(x); } catch { s = `a deeply nested ${Array.isArray(x) ? 'array' : typeof x}`; }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isIndex = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Parses and validates the JSON header: dtypes, shapes, and that the offsets tile the data section. */
function parseHeader(json: Uint8Array, fileLength: number, fail: Fail): Header {
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json); } catch { fail('header is not valid UTF-8'); }
  if (!text.startsWith('{')) fail(`header must start with '{', found ${show(text.slice(0, 16))}`);
  let root: unknown;
  try { root = JSON.parse(text); } catch (e) { fail(`header is not valid JSON (${(e as Error).message})`); }
  if (!isRecord(root)) fail('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: Header['entries'] = [];
  for (const [name, info] of Object.entries(root)) {
    const where = `tensor ${show(name)}`;
    if (name === '__metadata__') {
      if (info === null) continue;
      if (!isRecord(info)) fail('"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') fail(`"__metadata__" value for ${show(k)} is ${show(v)}, not a string`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (!isRecord(info)) fail(`${where}: expected { dtype, shape, data_offsets }, got ${show(info)}`);
    const { dtype, shape, data_offsets: offs } = info;
    if (typeof dtype !== 'string' || !Object.hasOwn(FILE_DTYPES, dtype)) fail(`${where}: unsupported dtype ${show(dtype)} (readable: ${Object.keys(FILE_DTYPES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isIndex)) fail(`${where}: shape ${show(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isIndex) || offs[0] > offs[1]) {
      fail(`${where}: data_offsets ${show(offs)} is not [begin, end] with 0 <= begin <= end`);
    }
    entries.push({ name, file: dtype, shape, begin: offs[0], end: offs[1] });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev = '';
  for (const e of entries) {
    const where = `tensor ${show(e.name)}`;
    if (e.begin < cursor) fail(`${where}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${show(prev)}, which ends at ${cursor}`);
    if (e.begin > cursor) fail(`${where}: data_offsets [${e.begin}, ${e.end}] leave a gap of ${e.begin - cursor} bytes after ${cursor} (the spec forbids holes)`);
    const size = FILE_DTYPES[e.file]!.size;
    const count = e.shape.includes(0) ? 0 : e.shape.reduce((n, d) => n * d, 1);
    if (!Number.isSafeInteger(count * size)) fail(`${where}: shape ${show(e.shape)} is impossibly large`);
    if (count * size !== e.end - e.begin) {
      fail(`${where}: shape ${show(e.shape)} of ${e.file} needs ${count * size} bytes but data_offsets [${e.begin}, ${e.end}] hold ${e.end - e.begin}`);
    }
    cursor = e.end;
    prev = e.name;
  }
  const jsonEnd = 8 + json.length;
  const available = fileLength - jsonEnd;
  if (cursor > available) fail(`data section is ${available} bytes but the tensors need ${cursor} (truncated file?)`);
  if (cursor < available) fail(`${available - cursor} bytes after the last tensor's data (the spec requires the tensors to cover the data section exactly)`);
  return { jsonEnd, entries, metadata };
}

/** Decodes one tensor from bytes it owns (a fresh buffer at offset 0). */
function decode(e: Header['entries'][number], bytes: Uint8Array, fail: Fail): RawTensor {
  const d = FILE_DTYPES[e.file]!;
  const data = d.decode(bytes, (e.end - e.begin) / d.size, (msg) => fail(`tensor ${show(e.name)} (${e.file}): ${msg}`));
  return { dtype: d.to, shape: e.shape, data };
}

/** Guarantees one error type for any bad input, even a failure we did not foresee. */
function guarded<R>(source: string, body: (fail: Fail) => R): R {
  try {
    return body(failer(source));
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    throw new SafetensorsError(`safetensors: ${source}: unexpected failure while reading: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/** Parses a whole file held in memory. Pure; every offset is bounds-checked. */
export function parse(bytes: Uint8Array, opts: { source?: string } = {}): Checkpoint<RawTensor> {
  return guarded(opts.source ?? 'buffer', (fail) => {
    const n = headerLength(bytes, bytes.length, fail);
    const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length, fail);
    const tensors: Record<string, RawTensor> = {};
    for (const e of header.entries) {
      const at = header.jsonEnd + e.begin;
      // A copy at offset 0 (the decoders view its whole buffer); Buffer.prototype.slice would share memory.
      setOwn(tensors, e.name, decode(e, Uint8Array.prototype.slice.call(bytes, at, at + e.end - e.begin), fail));
    }
    return { tensors, metadata: header.metadata };
  });
}

async function readExactly(file: FileHandle, into: Uint8Array, position: number, fail: Fail): Promise<void> {
  for (let done = 0; done < into.length;) {
    const chunk = Math.min(into.length - done, 2 ** 30); // one read() is capped near 2 GiB
    const { bytesRead } = await file.read(into, done, chunk, position + done);
    if (bytesRead === 0) fail(`file ended while reading (${position + done} bytes in); was it modified during load?`);
    done += bytesRead;
  }
}

/** One tensor of an open file, as its header describes it. */
export interface SafetensorsEntry {
  readonly name: string;
  /** The dtype as the file spells it (F32, F16, BF16, …). */
  readonly fileDtype: string;
  /** The Born dtype it is read as. */
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/** An open safetensors file whose header has been checked; tensors are read one at a time, when asked for. */
export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  /** Every tensor, in file order. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** The tensor's stored bytes (little-endian, as in the file) read into `into` (a fresh array if omitted); returns the filled prefix. */
  readBytes(name: string, into?: Uint8Array): Promise<Uint8Array>;
  /** The tensor decoded to its storage array (half types as bits). */
  read(name: string): Promise<RawTensor>;
  close(): Promise<void>;
}

/**
 * Opens a checkpoint and validates its header (lengths, dtypes, offsets, that the tensors tile
 * the data section) without reading any tensor data: a caller reads the tensors it wants, each
 * straight from the file into a buffer of its own, so the file is never in memory whole.
 */
export async function openSafetensors(path: string, opts: LoadOptions = {}): Promise<SafetensorsFile> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const fail = failer(path);
  if (!(maxBytes >= 0)) throw new RangeError(`load: maxBytes must be a non-negative number, got ${maxBytes}`);
  const file = await open(path, 'r');
  try {
    const stat = await file.stat();
    if (!stat.isFile()) fail('not a regular file');
    if (stat.size > maxBytes) fail(`file is ${stat.size} bytes, over maxBytes ${maxBytes} (pass { maxBytes } to allow more)`);
    const prefix = new Uint8Array(Math.min(8, stat.size));
    await readExactly(file, prefix, 0, fail);
    const n = guarded(path, (f) => headerLength(prefix, stat.size, f));
    const json = new Uint8Array(n);
    await readExactly(file, json, 8, fail);
    const header = guarded(path, (f) => parseHeader(json, stat.size, f));
    const placed = new Map(header.entries.map((e) => [e.name, e]));
    const entries = new Map<string, SafetensorsEntry>(header.entries.map((e) => [e.name, {
      name: e.name, fileDtype: e.file, dtype: FILE_DTYPES[e.file]!.to, shape: e.shape, byteLength: e.end - e.begin,
    }]));
    const find = (name: string): Header['entries'][number] => placed.get(name) ?? fail(`no tensor named ${show(name)}`);
    const readBytes = async (name: string, into?: Uint8Array): Promise<Uint8Array> => {
      const e = find(name);
      const size = e.end - e.begin;
      if (into && into.length < size) throw new RangeError(`safetensors: ${path}: tensor ${show(name)} needs ${size} bytes, the buffer has ${into.length}`);
      const bytes = into ? into.subarray(0, size) : new Uint8Array(size);
      await readExactly(file, bytes, header.jsonEnd + e.begin, fail);
      return bytes;
    };
    return {
      path, metadata: header.metadata, entries, readBytes,
      // A fresh buffer at offset 0, which the decoders view whole.
      read: async (name) => {
        const bytes = await readBytes(name);
        return guarded(path, (f) => decode(find(name), bytes, f));
      },
      close: () => file.close(),
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** Reads a checkpoint and its "__metadata__"; tensors are realised on the default device. */
export async function loadWithMetadata(path: string, opts: LoadOptions = {}): Promise<Checkpoint<Tensor>> {
  const file = await openSafetensors(path, opts);
  try {
    const tensors: StateDict = {};
    // One tensor's bytes at a time: no whole-file copy in memory.
    for (const name of file.entries.keys()) {
      const raw = await file.read(name);
      setOwn(tensors, name, fromStorage(raw.data as StorageFor[DType], raw.shape, raw.dtype));
    }
    return { tensors, metadata: file.metadata };
  } finally {
    await file.close();
  }
}

/** Reads a checkpoint's tensors (see loadWithMetadata for its "__metadata__"). */
export async function load(path: string, opts: LoadOptions = {}): Promise<StateDict> {
  return (await loadWithMetadata(path, opts)).tensors;
}
