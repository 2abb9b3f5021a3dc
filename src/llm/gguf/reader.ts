/**
 * GGUF files (llama.cpp's model format, versions 2 and 3, little-endian): the magic "GGUF", a
 * u32 version, u64 tensor and metadata counts, the typed metadata key/values, the tensor infos
 * (name, dims innermost first, ggml type, offset into the data section), then the data section,
 * which starts at the next multiple of `general.alignment` (default 32) after the infos.
 * The header is parsed from a window at the file's start that grows until it holds it; tensors are
 * read one at a time with positioned reads, so the file is never in memory whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { LITTLE_ENDIAN } from '../../io/bytes.js';
import { GGML_TYPES, GgufError, dequantize, type GgmlType } from './dequant.js';

/** GGUF's metadata value types (gguf.h's enum gguf_type). */
export const GGUF_VALUE_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** Integer arrays come as typed arrays (64-bit ones as BigInt arrays), strings and bools as plain arrays. */
export type GgufArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array
  | BigUint64Array | BigInt64Array | boolean[] | string[] | GgufArray[];
/** 64-bit integers are numbers when they are safe integers, bigints otherwise. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

export interface GgufTensorInfo {
  readonly name: string;
  /** PyTorch order (outermost first): a [out, in] weight is GGUF dims [in, out]. */
  readonly shape: readonly number[];
  readonly type: GgmlType;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly byteLength: number;
  readonly count: number;
}

export interface GgufHeader {
  readonly version: number;
  readonly metadata: Readonly<Record<string, GgufValue>>;
  /** Each key's stored type ('array' keys also have their element type, e.g. 'array<string>'). */
  readonly metadataTypes: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, GgufTensorInfo>;
  readonly alignment: number;
  /** Where the data section starts. */
  readonly dataOffset: number;
}

class NeedMore extends Error {}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const MAX_DIMS = 4;

/** A cursor over the header bytes; running off the end throws NeedMore (the caller reads a larger window). */
class Cursor {
  private readonly v: DataView;
  private readonly text = new TextDecoder('utf-8');
  pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly atEof: boolean, private readonly where: string) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): number {
    if (this.pos + n > this.bytes.length) {
      if (this.atEof) throw new GgufError(`GGUF ${this.where}: truncated file: ${n} more bytes needed at byte ${this.pos}, the file ends at ${this.bytes.length}`);
      throw new NeedMore();
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }
  u8(): number { return this.v.getUint8(this.need(1)); }
  u32(): number { return this.v.getUint32(this.need(4), true); }
  u64(): number {
    const p = this.need(8), lo = this.v.getUint32(p, true), hi = this.v.getUint32(p + 4, true);
    if (hi >= 1 << 21) throw new GgufError(`GGUF ${this.where}: a size of ${BigInt(hi) << 32n | BigInt(lo)} at byte ${p} is beyond what a file can hold (corrupt header?)`);
    return hi * 2 ** 32 + lo;
  }
  string(): string {
    const n = this.u64();
    if (n > 1 << 30) throw new GgufError(`GGUF ${this.where}: a string of ${n} bytes at byte ${this.pos - 8} (corrupt header?)`);
    const p = this.need(n);
    return this.text.decode(this.bytes.subarray(p, p + n));
  }
  /** n elements of `size` bytes, copied out (aligned for a typed array). */
  block(n: number, size: number): ArrayBuffer {
    const p = this.need(n * size);
    return this.bytes.slice(p, p + n * size).buffer;
  }
  big(signed: boolean): number | bigint {
    const p = this.need(8), b = signed ? this.v.getBigInt64(p, true) : this.v.getBigUint64(p, true);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  scalar(type: number): GgufValue {
    switch (type) {
      case 0: return this.u8();
      case 1: return this.v.getInt8(this.need(1));
      case 2: return this.v.getUint16(this.need(2), true);
      case 3: return this.v.getInt16(this.need(2), true);
      case 4: return this.u32();
      case 5: return this.v.getInt32(this.need(4), true);
      case 6: return this.v.getFloat32(this.need(4), true);
      case 7: return this.u8() !== 0;
      case 8: return this.string();
      case 10: return this.big(false);
      case 11: return this.big(true);
      case 12: return this.v.getFloat64(this.need(8), true);
      default: return this.badType(type);
    }
  }
  badType(type: number): never {
    throw new GgufError(`GGUF ${this.where}: metadata value type ${type} at byte ${this.pos - 4} is not a GGUF type (0..12: ${GGUF_VALUE_TYPES.join(', ')})`);
  }
  array(): { value: GgufArray; type: string } {
    const et = this.u32(), n = this.u64();
    const typed: Partial<Record<number, [number, (b: ArrayBuffer) => GgufArray]>> = {
      0: [1, (b) => new Uint8Array(b)], 1: [1, (b) => new Int8Array(b)], 2: [2, (b) => new Uint16Array(b)],
      3: [2, (b) => new Int16Array(b)], 4: [4, (b) => new Uint32Array(b)], 5: [4, (b) => new Int32Array(b)],
      6: [4, (b) => new Float32Array(b)], 10: [8, (b) => new BigUint64Array(b)], 11: [8, (b) => new BigInt64Array(b)],
      12: [8, (b) => new Float64Array(b)],
    };
    const name = GGUF_VALUE_TYPES[et];
    if (name === undefined) this.badType(et);
    const t = typed[et];
    if (t) return { value: t[1](this.block(n, t[0])), type: `array<${name}>` };
    if (n > this.bytes.length) throw this.atEof ? new GgufError(`GGUF ${this.where}: an array of ${n} elements at byte ${this.pos} is longer than the file`) : new NeedMore();
    if (et === 7) return { value: Array.from({ length: n }, () => this.u8() !== 0), type: 'array<bool>' };
    if (et === 8) return { value: Array.from({ length: n }, () => this.string()), type: 'array<string>' };
    return { value: Array.from({ length: n }, () => this.array().value), type: 'array<array>' };
  }
}

function parse(bytes: Uint8Array, fileSize: number, where: string): GgufHeader {
  const c = new Cursor(bytes, bytes.length >= fileSize, where);
  const fail = (why: string): never => { throw new GgufError(`GGUF ${where}: ${why}`); };
  const magic = c.u32();
  if (magic !== MAGIC) fail(`not a GGUF file: it starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}, GGUF files with "GGUF" (47 47 55 46)`);
  const version = c.u32();
  if (version === 1) fail('GGUF version 1 (32-bit counts, 2023\'s first files) is not read; versions 2 and 3 are: convert the model again with a current llama.cpp');
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 | version >>> 24) >>> 0;
    fail(swapped === 2 || swapped === 3 ? `a big-endian GGUF file (version ${swapped}); only little-endian files are read` : `GGUF version ${version} is not known; versions 2 and 3 are read`);
  }
  const nTensors = c.u64(), nKv = c.u64();
  const metadata: Record<string, GgufValue> = {}, metadataTypes: Record<string, string> = {};
  for (let i = 0; i < nKv; i++) {
    const k = c.string(), type = c.u32();
    if (type === 9) {
      const { value, type: t } = c.array();
      metadata[k] = value;
      metadataTypes[k] = t;
    } else {
      metadata[k] = c.scalar(type);
      metadataTypes[k] = GGUF_VALUE_TYPES[type]!;
    }
  }
  const a = metadata['general.alignment'] ?? 32;
  const alignment = typeof a === 'number' && Number.isInteger(a) && a >= 1 && (a & (a - 1)) === 0 ? a : fail(`general.alignment is ${String(a)}; it must be a power of two`);
  const infos: { name: string; dims: number[]; type: GgmlType; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(), nd = c.u32();
    if (nd < 1 || nd > MAX_DIMS) fail(`tensor ${name} has ${nd} dims; GGUF tensors have 1..${MAX_DIMS}`);
    const dims = Array.from({ length: nd }, () => c.u64());
    const id = c.u32(), rel = c.u64();
    const type = GGML_TYPES.get(id);
    if (!type) fail(`tensor ${name} has ggml type ${id}, which is not known; known types: ${[...GGML_TYPES.values()].map((t) => `${t.name} (${t.id})`).join(', ')}`);
    infos.push({ name, dims, type: type!, rel });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const { name, dims, type, rel } of infos) {
    const count = dims.reduce((a, b) => a * b, 1);
    if (dims[0]! % type.blockSize !== 0) fail(`tensor ${name} (${type.name}) has rows of ${dims[0]} values, not a multiple of its block of ${type.blockSize}`);
    if (rel % alignment !== 0) fail(`tensor ${name} starts at data offset ${rel}, not a multiple of the alignment ${alignment}`);
    const byteLength = (count / type.blockSize) * type.bytesPerBlock, offset = dataOffset + rel;
    if (offset + byteLength > fileSize) fail(`truncated file: tensor ${name} (${type.name} [${dims.join(', ')}]) needs bytes ${offset}..${offset + byteLength}, the file has ${fileSize}`);
    if (tensors.has(name)) fail(`tensor ${name} is listed twice`);
    tensors.set(name, { name, shape: [...dims].reverse(), type, offset, byteLength, count });
  }
  return { version, metadata, metadataTypes, tensors, alignment, dataOffset };
}

/**
 * Parses a GGUF header from the first bytes of a file of `fileSize` bytes (`bytes` may be the
 * whole file). Throws GgufError saying what is wrong, including when `bytes` is too short.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize = bytes.length, where = 'file'): GgufHeader {
  try {
    return parse(bytes, fileSize, where);
  } catch (e) {
    if (e instanceof NeedMore) throw new GgufError(`GGUF ${where}: the header runs past the ${bytes.length} bytes given`);
    throw e;
  }
}

export interface GgufFile extends GgufHeader {
  readonly path: string;
  /** The tensor's bytes as stored (whole ggml blocks, for packed-weight kernels). */
  readRaw(name: string): Promise<Uint8Array>;
  /** The tensor's values as float32 (dequantized on the host), in PyTorch order of `shape`. */
  read(name: string): Promise<Float32Array>;
  tensor(name: string): GgufTensorInfo;
  close(): Promise<void>;
}

async function readAt(file: FileHandle, into: Uint8Array, at: number, path: string): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await file.read(into, done, into.length - done, at + done);
    if (bytesRead === 0) throw new GgufError(`GGUF ${path}: unexpected end of file at byte ${at + done} (the file changed while it was read?)`);
    done += bytesRead;
  }
  return done;
}

/** Opens a GGUF file and parses its header; tensors are read later, one at a time. */
export async function openGguf(path: string): Promise<GgufFile> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    let header: GgufHeader | undefined;
    for (let window = Math.min(size, 1 << 20); !header; window = Math.min(size, window * 4)) {
      const head = new Uint8Array(window);
      await readAt(file, head, 0, path);
      try {
        header = parse(head, size, path);
      } catch (e) {
        if (!(e instanceof NeedMore)) throw e;
      }
    }
    const h = header;
    const tensor = (name: string): GgufTensorInfo => {
      const t = h.tensors.get(name);
      if (!t) throw new GgufError(`GGUF ${path}: no tensor named ${name} (the file has ${h.tensors.size}: ${[...h.tensors.keys()].slice(0, 8).join(', ')}${h.tensors.size > 8 ? ', …' : ''})`);
      return t;
    };
    const readRaw = async (name: string): Promise<Uint8Array> => {
      const t = tensor(name), out = new Uint8Array(t.byteLength);
      await readAt(file, out, t.offset, path);
      return out;
    };
    const read = async (name: string): Promise<Float32Array> => {
      const t = tensor(name);
      if (t.type.name !== 'f32' || !LITTLE_ENDIAN) return dequantize(t.type, await readRaw(name), t.count, `${path}: tensor ${name}`);
      const out = new Float32Array(t.count); // float32 is read straight into the array's bytes: no second copy
      await readAt(file, new Uint8Array(out.buffer), t.offset, path);
      return out;
    };
    return {
      ...h, path, tensor, readRaw, read,
      close: () => file.close(),
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}
