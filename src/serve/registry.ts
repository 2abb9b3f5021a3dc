/**
 * The models a server holds: each loaded from its source (a file, bytes, or a Servable built in
 * code), warmed up at every batch size it will run at, and replaced whole on a hot reload — the
 * new one is loaded and warmed beside the old, then swapped in; a batch already running keeps
 * the model it started with, so no request is dropped.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { newArray } from '../graph/dtype.js';
import type { NpyArray } from '../io/npy.js';
import type { Llm } from '../llm/load.js';
import { readMetadata } from '../cli/files.js';
import { bucket } from './batcher.js';
import { bornServable, onnxServable, type Servable } from './servable.js';

/** A model to serve: a file (its kind told by its extension and contents), its bytes, or a Servable. */
export type ModelSource =
  | { readonly name: string; readonly path: string }
  | { readonly name: string; readonly bytes: Uint8Array; readonly format: 'born' | 'onnx' }
  | { readonly name: string; readonly servable: Servable };

export type Loaded = { readonly kind: 'tensor'; readonly servable: Servable } | { readonly kind: 'llm'; readonly llm: Llm };

/** Metadata format of Born LLM files (src/llm/born.ts). */
const BORN_LLM = 'born-llm-1';

/** `--model FILE` or `--model name=FILE`: the name defaults to the file's base name without its extension. */
export function parseModelFlag(value: string): { name: string; path: string } {
  const eq = value.indexOf('=');
  if (eq > 0 && /^[\w.-]+$/.test(value.slice(0, eq))) return { name: value.slice(0, eq), path: value.slice(eq + 1) };
  const base = path.basename(value.replace(/[/\\]+$/, ''));
  const ext = path.extname(base);
  return { name: ext ? base.slice(0, -ext.length) : base, path: value };
}

export type ModelKind = 'born' | 'onnx' | 'llm';

/** What kind of model a source holds (cheap: a stat and a safetensors header at most). */
export async function kindOf(src: ModelSource): Promise<ModelKind> {
  if ('servable' in src) return src.servable.kind;
  if ('bytes' in src) return src.format;
  return kindOfFile(src.path);
}

async function kindOfFile(file: string): Promise<ModelKind> {
  const s = await stat(file).catch(() => null);
  if (!s) throw new Error(`${file}: no such file or directory`);
  if (s.isDirectory()) return 'llm'; // a Hugging Face folder
  const ext = path.extname(file).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.gguf' || ext === '.bin') return 'llm';
  if (ext === '.safetensors') {
    const meta = await readMetadata(file);
    if (meta?.format === BORN_LLM) return 'llm';
    if (meta !== null) return 'born';
  }
  throw new Error(`${file}: born serve reads Born weights (.safetensors written by born train), ONNX models (.onnx) and language models (.gguf, llama2.c .bin, Born LLM .safetensors, a Hugging Face folder)`);
}

export async function loadSource(src: ModelSource): Promise<Loaded> {
  if ('servable' in src) return { kind: 'tensor', servable: src.servable };
  if ('bytes' in src) return { kind: 'tensor', servable: await tensorModel(src.format, src.bytes, `model '${src.name}'`) };
  const kind = await kindOfFile(src.path);
  if (kind === 'llm') {
    const { load } = await import('../llm/load.js');
    return { kind: 'llm', llm: await load(src.path) };
  }
  return { kind: 'tensor', servable: await tensorModel(kind, await readFile(src.path), src.path) };
}

async function tensorModel(format: 'born' | 'onnx', bytes: Uint8Array, source: string): Promise<Servable> {
  if (format === 'born') return bornServable(bytes, source);
  const { load } = await import('../onnx/model.js');
  return onnxServable(await load(bytes));
}

/** Zeros of every input, `rows` rows (unknown dims are 1). */
function zerosFor(model: Servable, rows: number): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const s of model.inputs) {
    const shape = (s.shape ?? [1]).map((d, i) => (i === 0 && model.batched ? rows : d ?? 1));
    out[s.name] = { dtype: s.dtype, shape, data: newArray(s.dtype, shape.reduce((a, d) => a * d, 1)) };
  }
  return out;
}

/** Runs the model once at every batch size the batcher pads to, so that no request pays for compiling. */
export async function warmUp(loaded: Loaded, maxBatch: number): Promise<void> {
  if (loaded.kind === 'llm') {
    await loaded.llm.logits([loaded.llm.meta.bosId ?? 0]).data();
    return;
  }
  const m = loaded.servable;
  const sizes = m.batched ? [...new Set(Array.from({ length: maxBatch }, (_, i) => bucket(i + 1, maxBatch)))] : [1];
  for (const n of sizes) await m.run(zerosFor(m, n));
}
