// The model files of the inference workloads (and of onnxruntime's matmul), written by
// bench/export_models.py with PyTorch: one set of weights for every peer.
//
// run.ts calls ensureModels() once before the peers that need them, into dist-bench/models/
// (regenerated when export_models.py changes: its hash is kept in a stamp file), and passes the
// directory to the peers as $BORN_BENCH_MODELS.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plan } from './common.js';

export const MODELS_ENV = 'BORN_BENCH_MODELS';
/** Set instead when the files could not be written: why (the peers report it). */
export const MODELS_ERROR_ENV = 'BORN_BENCH_MODELS_ERROR';
/** The batch of io.safetensors; batch 1 is its first sample. */
export const IO_BATCH = 256;
export const INFER_BATCHES = [1, 256] as const;
export type InferModel = 'mlp' | 'cnn';

/** How Born's (and onnxruntime's) outputs must match PyTorch's: |Δ| ≤ RTOL·|ref| + ATOL per logit. */
export const INFER_RTOL = 1e-3;
export const INFER_ATOL = 2e-5;

/** The directory the peers read the model files from. */
export function modelsDir(): string {
  const why = process.env[MODELS_ERROR_ENV];
  if (why) throw new Error(`no model files: ${why}`);
  const d = process.env[MODELS_ENV];
  if (!d) throw new Error(`$${MODELS_ENV} is not set: run the inference workloads through bench/run.ts (it exports the models with bench/export_models.py)`);
  return d;
}

/**
 * Writes the model files into `dir` with `python bench/export_models.py` unless they are there
 * from the same version of the script. Returns null when they are ready, else why not.
 */
export function ensureModels(root: string, dir: string, python: string): string | null {
  const script = path.join(root, 'bench', 'export_models.py');
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  const stamp = path.join(dir, 'stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return null;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(python, [script, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (r.error) return `cannot run ${python}: ${r.error.message}`;
  if (r.status !== 0) {
    const last = `${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`;
    return `bench/export_models.py failed: ${last.slice(0, 200)}`;
  }
  writeFileSync(stamp, hash + '\n');
  return null;
}

/** A float32-only safetensors reader (the files of export_models.py), independent of Born's. */
export function readF32Safetensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, spec] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (spec.dtype !== 'F32') throw new Error(`${file}: tensor ${name} is ${spec.dtype}, expected F32`);
    const [b, e] = spec.data_offsets;
    const bytes = buf.subarray(8 + n + b, 8 + n + e);
    out.set(name, { shape: spec.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

export interface InferIo {
  /** [IO_BATCH, 1, 28, 28] in [0, 1), row-major. */
  input: Float32Array;
  /** PyTorch's logits for `input`, [IO_BATCH, 10]. */
  out: Float32Array;
}

export function readIo(which: InferModel, dir = modelsDir()): InferIo {
  const io = readF32Safetensors(path.join(dir, 'io.safetensors'));
  const input = io.get('input')?.data;
  const out = io.get(`${which}_out`)?.data;
  if (!input || !out) throw new Error(`${dir}/io.safetensors lacks input or ${which}_out`);
  return { input, out };
}

/**
 * The plan of one batch size: batch 1 takes the workload's plan; batch 256 at most 3 warm-up
 * calls, since a slow peer's call (tfjs-cpu's CNN) takes seconds.
 */
export const planFor = (plan: Plan, batch: number): Plan => (batch === 1 ? plan : { ...plan, warmup: Math.min(plan.warmup, 3) });

/** The first `batch` samples of the input. */
export const inputBatch = (io: InferIo, batch: number): Float32Array => io.input.subarray(0, batch * 784);

/** An output of `batch` rows against PyTorch's: 'ok (…)' or what is off. */
export function checkLogits(got: ArrayLike<number>, io: InferIo, batch: number): string {
  const ref = io.out.subarray(0, batch * 10);
  if (got.length !== ref.length) return `WRONG: ${got.length} logits, expected ${ref.length}`;
  let worst = 0;
  let bad = 0;
  let first = '';
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i]! - ref[i]!);
    if (!(err <= INFER_RTOL * Math.abs(ref[i]!) + INFER_ATOL)) {
      if (!bad) first = `[${i}] got ${got[i]} expected ${ref[i]}`;
      bad++;
    }
    worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  const tol = `|Δ| ≤ ${INFER_RTOL}·|ref| + ${INFER_ATOL}`;
  return bad
    ? `WRONG: ${bad}/${ref.length} logits differ from PyTorch's beyond ${tol}, e.g. ${first}`
    : `ok (batch ${batch}: PyTorch's logits within ${tol}; max |Δ| ${worst.toExponential(1)})`;
}
