/**
 * The weights of a Hugging Face folder: `model.safetensors`, or shards named by
 * `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Every file's header is
 * read and checked up front; tensor data is read later, one tensor at a time, with positioned
 * reads into an array the caller reuses, widened to float32 where the file stores a half type.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fmt } from '../../graph/errors.js';
import { widenHalf } from '../../graph/dtype.js';
import { LITTLE_ENDIAN, swapBytes } from '../../io/bytes.js';
import { openSafetensors, type SafetensorsEntry, type SafetensorsFile } from '../../io/safetensors.js';
import { HfError, readJson } from './config.js';

export interface HfWeights {
  /** The safetensors files read, relative to the folder. */
  readonly files: readonly string[];
  /** Every tensor name, in file order. */
  names(): IterableIterator<string>;
  /** The tensor's header entry, or undefined when no file has it. */
  entry(name: string): SafetensorsEntry | undefined;
  /**
   * The tensor's values as float32 in the first numel elements of `into` (returned as that
   * prefix); F32, F16, BF16 and F64 are read. Throws HfError if no file has it.
   */
  read(name: string, into: Float32Array): Promise<Float32Array>;
  close(): Promise<void>;
}

const INDEX = 'model.safetensors.index.json', SINGLE = 'model.safetensors';

/** Which safetensors files hold the weights, and which tensor each name is in (by index or by header). */
async function shardList(dir: string): Promise<{ files: string[]; map?: Map<string, string> }> {
  const index = await readJson(dir, INDEX);
  if (index) {
    const wm = index.weight_map;
    if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new HfError(`Hugging Face folder ${dir}: ${INDEX} has no "weight_map" object`);
    const map = new Map<string, string>();
    for (const [name, file] of Object.entries(wm)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file.startsWith('..')) {
        throw new HfError(`Hugging Face folder ${dir}: ${INDEX} maps ${JSON.stringify(name)} to ${JSON.stringify(file)}, not a file name in the folder`);
      }
      map.set(name, file);
    }
    return { files: [...new Set(map.values())], map };
  }
  let listing: string[];
  try { listing = await readdir(dir); } catch (e) { throw new HfError(`Hugging Face folder ${dir}: cannot list it (${(e as Error).message})`); }
  if (listing.includes(SINGLE)) return { files: [SINGLE] };
  const shards = listing.filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
  const others = listing.filter((f) => /\.(bin|pt|pth|gguf)$/.test(f));
  throw new HfError(`Hugging Face folder ${dir}: no ${SINGLE} and no ${INDEX}${shards.length ? ` (found shards ${shards.join(', ')} but no index naming them)` : ''}`
    + `${others.length ? `; ${others.join(', ')} ${others.length > 1 ? 'are' : 'is'} not read (only safetensors are)` : ''}`);
}

/** Opens the folder's safetensors files and checks the index against their headers. */
export async function openHfWeights(dir: string): Promise<HfWeights> {
  const { files, map } = await shardList(dir);
  const open = new Map<string, SafetensorsFile>();
  const where = new Map<string, SafetensorsFile>();
  try {
    for (const f of files) {
      let st: SafetensorsFile;
      try {
        st = await openSafetensors(join(dir, f), { maxBytes: Number.MAX_SAFE_INTEGER });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HfError(`Hugging Face folder ${dir}: ${map ? `${INDEX} names ${f}, which is missing` : `${f} is missing`}`);
        throw e;
      }
      open.set(f, st);
    }
    if (map) {
      for (const [name, f] of map) {
        const st = open.get(f)!;
        if (!st.entries.has(name)) throw new HfError(`Hugging Face folder ${dir}: ${INDEX} puts ${JSON.stringify(name)} in ${f}, whose header has no such tensor`);
        where.set(name, st);
      }
    } else {
      for (const st of open.values()) for (const name of st.entries.keys()) where.set(name, st);
    }
  } catch (e) {
    await Promise.all([...open.values()].map((st) => st.close()));
    throw e;
  }
  let halves: Uint8Array | undefined; // the raw bytes of half-type tensors, reused (grown as needed)
  return {
    files,
    names: () => where.keys(),
    entry: (name) => where.get(name)?.entries.get(name),
    async read(name: string, into: Float32Array): Promise<Float32Array> {
      const st = where.get(name);
      if (!st) throw new HfError(`Hugging Face folder ${dir}: no tensor ${JSON.stringify(name)} in ${files.join(', ')}`);
      const e = st.entries.get(name)!;
      const n = e.shape.reduce((a, b) => a * b, 1);
      if (into.length < n) throw new RangeError(`internal: ${name} needs ${n} floats, the buffer has ${into.length}`);
      const out = into.subarray(0, n);
      if (e.dtype === 'float32') {
        const bytes = await st.readBytes(name, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
        if (!LITTLE_ENDIAN) swapBytes(bytes, 4);
        return out;
      }
      if (e.dtype !== 'float16' && e.dtype !== 'bfloat16' && e.dtype !== 'float64') {
        throw new HfError(`${st.path}: tensor ${JSON.stringify(name)} ${fmt(e.shape)} is ${e.fileDtype}; weights must be F32, F16, BF16 or F64`);
      }
      if (!halves || halves.length < e.byteLength) halves = new Uint8Array(e.byteLength);
      const bytes = await st.readBytes(name, halves);
      const size = e.dtype === 'float64' ? 8 : 2;
      if (!LITTLE_ENDIAN) swapBytes(bytes, size);
      if (e.dtype === 'float64') {
        const f64 = new Float64Array(bytes.buffer, 0, n);
        for (let i = 0; i < n; i++) out[i] = f64[i]!;
        return out;
      }
      return widenHalf(e.dtype, new Uint16Array(bytes.buffer, 0, n), out);
    },
    close: async () => { await Promise.all([...open.values()].map((st) => st.close())); },
  };
}
