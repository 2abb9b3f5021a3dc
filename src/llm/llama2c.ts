/**
 * llama2.c checkpoints (`.bin`, the legacy format of Karpathy's run.c / export.py): a 28-byte
 * header of seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means the classifier has its own weights), then
 * float32 weights, each group stacked over the layers: token_embedding [vocab, dim], rms_att
 * [L, dim], wq [L, H·hd, dim], wk and wv [L, Hkv·hd, dim], wo [L, dim, H·hd], rms_ffn [L, dim],
 * w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim], two legacy RoPE
 * tables of seq_len·hd/2 floats each (skipped), and wcls [vocab, dim] when not shared.
 * The file is untrusted: the header is checked against the file's size before anything is read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { LITTLE_ENDIAN, swapBytes } from '../io/bytes.js';
import type { LlamaConfig } from './model.js';

export class Llama2cError extends Error {
  override name = 'Llama2cError';
}

/** A llama2.c header: the model's sizes, and its sequence length (the RoPE tables' rows in the file). */
export interface Llama2cConfig extends Pick<LlamaConfig, 'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'vocabSize' | 'sharedClassifier'> {
  seqLen: number;
}

const HEADER_BYTES = 28;
/** Bounds far above any released model, so that a corrupt header fails here and not in an allocation. */
const MAX_DIM = 1 << 16, MAX_LAYERS = 1024, MAX_VOCAB = 1 << 22, MAX_SEQ = 1 << 22;

/** One weight group: its name in llama2.c's order, its shape per layer, and whether it is stacked over the layers. */
export interface WeightGroup { name: string; shape: number[]; perLayer: boolean; skip?: boolean }

/** The weight groups of a checkpoint in file order (the legacy RoPE tables marked skip). */
export function weightGroups(c: Llama2cConfig): WeightGroup[] {
  const hd = c.dim / c.nHeads, kv = c.nKvHeads * hd;
  const groups: WeightGroup[] = [
    { name: 'token_embedding', shape: [c.vocabSize, c.dim], perLayer: false },
    { name: 'rms_att', shape: [c.dim], perLayer: true },
    { name: 'wq', shape: [c.nHeads * hd, c.dim], perLayer: true },
    { name: 'wk', shape: [kv, c.dim], perLayer: true },
    { name: 'wv', shape: [kv, c.dim], perLayer: true },
    { name: 'wo', shape: [c.dim, c.nHeads * hd], perLayer: true },
    { name: 'rms_ffn', shape: [c.dim], perLayer: true },
    { name: 'w1', shape: [c.hiddenDim, c.dim], perLayer: true },
    { name: 'w2', shape: [c.dim, c.hiddenDim], perLayer: true },
    { name: 'w3', shape: [c.hiddenDim, c.dim], perLayer: true },
    { name: 'rms_final', shape: [c.dim], perLayer: false },
    { name: 'freq_cis', shape: [c.seqLen * hd], perLayer: false, skip: true },
  ];
  if (!c.sharedClassifier) groups.push({ name: 'wcls', shape: [c.vocabSize, c.dim], perLayer: false });
  return groups;
}

const groupFloats = (g: WeightGroup, layers: number): number => g.shape.reduce((a, b) => a * b, 1) * (g.perLayer ? layers : 1);

/** The number of bytes a checkpoint with this header has. */
export function expectedBytes(c: Llama2cConfig): number {
  return HEADER_BYTES + 4 * weightGroups(c).reduce((n, g) => n + groupFloats(g, c.nLayers), 0);
}

/** Parses and checks the 28-byte header against the file's size; throws Llama2cError saying what is wrong. */
export function parseHeader(bytes: Uint8Array, fileSize: number, path = 'checkpoint'): Llama2cConfig {
  const fail = (why: string): never => { throw new Llama2cError(`llama2.c checkpoint ${path}: ${why}`); };
  if (bytes.length < HEADER_BYTES || fileSize < HEADER_BYTES) fail(`file is ${fileSize} bytes, shorter than the 28-byte header (7 int32)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = Array.from({ length: 7 }, (_, i) => v.getInt32(4 * i, true)) as
    [number, number, number, number, number, number, number];
  const header = `header (dim ${dim}, hidden_dim ${hiddenDim}, n_layers ${nLayers}, n_heads ${nHeads}, n_kv_heads ${nKvHeads}, vocab_size ${vocab}, seq_len ${seqLen})`;
  const bad = (why: string): never => fail(`${header}: ${why}; is this a llama2.c legacy checkpoint (version 1+ files start with the magic "ak42")?`);
  if (v.getUint32(0, true) === 0x616b3432) fail('this is a versioned llama2.c export (magic "ak42"); only the legacy format is read so far');
  const inRange = (x: number, max: number): boolean => x >= 1 && x <= max;
  if (!inRange(dim, MAX_DIM) || !inRange(hiddenDim, MAX_DIM * 8) || !inRange(nLayers, MAX_LAYERS) || !inRange(seqLen, MAX_SEQ)) bad('sizes must be positive and plausible');
  if (!inRange(Math.abs(vocab), MAX_VOCAB)) bad('vocab_size must be a non-zero size');
  if (!inRange(nHeads, dim) || dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) bad('n_heads must divide dim into heads of even size');
  if (!inRange(nKvHeads, nHeads) || nHeads % nKvHeads !== 0) bad('n_kv_heads must divide n_heads');
  const config: Llama2cConfig = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, sharedClassifier: vocab > 0 };
  const want = expectedBytes(config);
  if (fileSize < want) fail(`${header} needs ${want} bytes, the file has ${fileSize}: it is truncated or not this model's file`);
  if (fileSize > want) fail(`${header} needs ${want} bytes, the file has ${fileSize} (${fileSize - want} more): not a legacy checkpoint of this header, or corrupt`);
  return config;
}

/** An open checkpoint: its config, and a reader of each group's float32 values, one layer at a time. */
export interface Llama2cFile {
  readonly path: string;
  readonly config: Llama2cConfig;
  /**
   * Reads group `name`'s values for one layer (or the whole group if it is not per layer) into
   * `into` (at least that long; the filled prefix is returned) or a new Float32Array.
   */
  read(name: string, layer?: number, into?: Float32Array): Promise<Float32Array>;
  close(): Promise<void>;
}

async function readExactly(file: FileHandle, into: Uint8Array, at: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await file.read(into, done, into.length - done, at + done);
    if (bytesRead === 0) throw new Llama2cError(`llama2.c checkpoint ${path}: unexpected end of file at byte ${at + done} (the file changed while it was read?)`);
    done += bytesRead;
  }
}

/** Opens a llama2.c checkpoint and checks its header; weights are read later, group by group. */
export async function openLlama2c(path: string): Promise<Llama2cFile> {
  const file = await open(path, 'r');
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new Llama2cError(`llama2.c checkpoint ${path}: not a regular file`);
    const head = new Uint8Array(Math.min(HEADER_BYTES, stat.size));
    await readExactly(file, head, 0, path);
    const config = parseHeader(head, stat.size, path);
    const offsets = new Map<string, { at: number; group: WeightGroup }>();
    let at = HEADER_BYTES;
    for (const g of weightGroups(config)) {
      offsets.set(g.name, { at, group: g });
      at += 4 * groupFloats(g, config.nLayers);
    }
    return {
      path,
      config,
      async read(name: string, layer = 0, into?: Float32Array): Promise<Float32Array> {
        const e = offsets.get(name);
        if (!e || e.group.skip) throw new Llama2cError(`llama2.c checkpoint: no weight group '${name}'`);
        const n = groupFloats(e.group, 1);
        if (!e.group.perLayer && layer !== 0) throw new RangeError(`llama2.c checkpoint: '${name}' is not per layer`);
        if (!(layer >= 0 && layer < config.nLayers)) throw new RangeError(`llama2.c checkpoint: layer ${layer} outside 0..${config.nLayers - 1}`);
        // Read straight into the array's own bytes: the file's bytes are the array (no second copy).
        if (into && into.length < n) throw new RangeError(`llama2.c checkpoint: '${name}' has ${n} values per layer, the buffer holds ${into.length}`);
        const out = into ? into.subarray(0, n) : new Float32Array(n);
        const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        await readExactly(file, bytes, e.at + 4 * n * layer, path);
        if (!LITTLE_ENDIAN) swapBytes(bytes, 4);
        return out;
      },
      close: () => file.close(),
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}
