// Shared by every benchmark process: the result protocol, timing loops, statistics.
//
// Protocol: a peer process is started as
//   <peer> --workload <name> [--quick] [--warmup W --reps R --budget-ms B --min-reps M]
// and prints exactly one line `BENCH_RESULT <json>` (a PeerResult) on stdout;
// everything else it prints is ignored by the orchestrator (bench/run.ts).
// The Python peers (bench/peers/*.py) speak the same protocol.

import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const WORKLOADS = ['chain', 'reduce', 'matmul', 'overhead', 'mlp-step', 'train-mlp', 'train-cnn', 'infer-mlp', 'infer-cnn', 'embedding-bwd', 'onnx-mlp', 'onnx-cnn'] as const;
export type Workload = (typeof WORKLOADS)[number];
/** The tensor-op workloads (every peer runs them); the others need autodiff / nn (Born, tfjs, PyTorch). */
export const OP_WORKLOADS = ['chain', 'reduce', 'matmul', 'overhead'] as const satisfies readonly Workload[];
/**
 * ONNX import (issue 11): the MLP and CNN ONNX files through `born.onnx.load`, onnxruntime-node
 * and Born's own nn module on the same weights (bench/workloads/onnx-infer.ts); their own table.
 */
export const ONNX_WORKLOADS = ['onnx-mlp', 'onnx-cnn'] as const satisfies readonly Workload[];
/** Every workload but the ONNX ones (what tfjs and PyTorch run). */
export const SUITE_WORKLOADS: readonly Workload[] = WORKLOADS.filter((w) => !(ONNX_WORKLOADS as readonly string[]).includes(w));
/** The batches of the ONNX workloads: batch 1 is latency, the others throughput. */
export const ONNX_BATCHES = [1, 64, 256] as const;
/** Fresh processes per cold case (library import; load + first inference) of the ONNX workloads. */
export const COLD_RUNS = { full: 7, quick: 3 } as const;

/** Training workloads: batch size and input shape (random data shaped like Fashion-MNIST). */
export const TRAIN_BATCH = 256;
export const MLP_SIZES = [784, 512, 256, 10] as const;

export interface CaseSpec {
  id: string;
  unit: 'ms' | 'us';
  label: string;
  /** Shown as a rate instead of a time: samples/s from `samples` per call (CaseResult.samples). */
  rate?: 'samples/s';
}

/** Every case of every workload, in table order, with its row label. */
export const CASES: Record<Workload, readonly CaseSpec[]> = {
  chain: [{ id: 'chain', unit: 'ms', label: 'chain gelu(x·1.5+0.5)·x, sum dim 1, [4096,4096]' }],
  reduce: [
    { id: 'sum_all', unit: 'ms', label: 'sum [4096,4096] → scalar' },
    { id: 'sum_dim0', unit: 'ms', label: 'sum [4096,4096] dim 0' },
    { id: 'sum_dim1', unit: 'ms', label: 'sum [4096,4096] dim 1' },
  ],
  matmul: [
    { id: 'matmul_256', unit: 'ms', label: 'matmul fp32 256' },
    { id: 'matmul_512', unit: 'ms', label: 'matmul fp32 512' },
    { id: 'matmul_1024', unit: 'ms', label: 'matmul fp32 1024' },
  ],
  overhead: [
    { id: 'overhead_add', unit: 'us', label: 'await data() on a.add(1), a realised (1 elem)' },
    { id: 'overhead_tensor_add', unit: 'us', label: 'await data() on tensor([1]).add(1)' },
  ],
  'mlp-step': [{ id: 'mlp_step', unit: 'ms', label: 'MLP 784-512-256-10 forward+backward (all grads), batch 256' }],
  'train-mlp': [{ id: 'train_mlp', unit: 'ms', rate: 'samples/s', label: 'train MLP 784-512-256-10, Adam, batch 256' }],
  'train-cnn': [{ id: 'train_cnn', unit: 'ms', rate: 'samples/s', label: 'train CNN conv32-pool-conv64-pool-fc128-fc10, Adam, batch 256' }],
  'infer-mlp': [
    { id: 'infer_mlp_1', unit: 'ms', label: 'infer MLP 784-512-256-10, batch 1: latency, input data → output data' },
    { id: 'infer_mlp_256', unit: 'ms', rate: 'samples/s', label: 'infer MLP 784-512-256-10, batch 256' },
  ],
  'infer-cnn': [
    { id: 'infer_cnn_1', unit: 'ms', label: 'infer CNN of born train, batch 1: latency, input data → output data' },
    { id: 'infer_cnn_256', unit: 'ms', rate: 'samples/s', label: 'infer CNN of born train, batch 256' },
  ],
  'embedding-bwd': [{ id: 'embedding_bwd', unit: 'ms', label: 'Embedding(32000, 256) backward, 512 tokens (dense table gradient)' }],
  'onnx-mlp': onnxCases('mlp', 'MLP 784-512-256-10'),
  'onnx-cnn': onnxCases('cnn', 'CNN of born train'),
};

function onnxCases(which: string, what: string): CaseSpec[] {
  return [
    ...ONNX_BATCHES.map((b): CaseSpec => (b === 1
      ? { id: `onnx_${which}_1`, unit: 'ms', label: `${what}.onnx, batch 1: latency, input data → output data` }
      : { id: `onnx_${which}_${b}`, unit: 'ms', rate: 'samples/s', label: `${what}.onnx, batch ${b}` })),
    { id: `onnx_${which}_import`, unit: 'ms', label: `${what}.onnx: library import, fresh process` },
    { id: `onnx_${which}_load`, unit: 'ms', label: `${what}.onnx: load + first inference (batch 1), fresh process` },
  ];
}

/** The result of a peer that could not run a workload at all: every case carries the error. */
export function failAll(workload: Workload, e: unknown): CaseResult[] {
  const error = errorText(e);
  return CASES[workload].map((c) => ({ id: c.id, unit: c.unit, error }));
}

/** One measured case, e.g. `matmul_512`. Times are per call. */
export interface CaseResult {
  id: string;
  /** 'ms' or 'us': the unit of median/min. */
  unit: 'ms' | 'us';
  median?: number;
  min?: number;
  /** Number of timed repetitions. */
  n?: number;
  /** Floating-point operations per call, for a GFLOP/s column. */
  flops?: number;
  /** How this peer computed the case, when it differs from the others (a footnote). */
  note?: string;
  /** Correctness check of the result (Born only): 'ok …' or a failure text. */
  check?: string;
  /** Samples per call (training steps): the table shows samples/s = samples / time. */
  samples?: number;
  /** Kernels one call ran (Born: 'kernel' events during one step) and what explain() planned. */
  kernels?: number;
  explainKernels?: number;
  /** The case could not be run. */
  error?: string;
  /** With `error`: the peer cannot do this at all (a missing op), rather than a failed run. */
  cannot?: boolean;
}

export interface PeerResult {
  peer: string;
  workload: string;
  /** Library version(s) and thread setup, for the machine section. */
  version?: string;
  /** CPU seconds (user + system, all threads) this process used, for the noise estimate. */
  cpuS?: number;
  cases: CaseResult[];
}

export interface Plan {
  warmup: number;
  reps: number;
  /** Repetitions stop early once this much time went into timed runs (at least minReps). */
  budgetMs: number;
  minReps: number;
}

/** Repetition plans per workload; `--quick` takes the second one. */
export const PLANS: Record<Workload, { full: Plan; quick: Plan }> = {
  chain: {
    full: { warmup: 2, reps: 10, budgetMs: 20_000, minReps: 3 },
    quick: { warmup: 1, reps: 3, budgetMs: 6_000, minReps: 2 },
  },
  reduce: {
    full: { warmup: 3, reps: 20, budgetMs: 10_000, minReps: 5 },
    quick: { warmup: 1, reps: 5, budgetMs: 3_000, minReps: 3 },
  },
  matmul: {
    full: { warmup: 3, reps: 20, budgetMs: 15_000, minReps: 3 },
    quick: { warmup: 1, reps: 5, budgetMs: 4_000, minReps: 2 },
  },
  // reps = number of timed calls, each timed on its own (per-call overhead)
  overhead: {
    full: { warmup: 1_000, reps: 10_000, budgetMs: 60_000, minReps: 1_000 },
    quick: { warmup: 200, reps: 2_000, budgetMs: 20_000, minReps: 200 },
  },
  // reps = steps; each step timed on its own. Slow peers stop at the budget (see timeMs),
  // and a peer whose warm-up step alone exceeds the budget reports that step (see timeSteps).
  'mlp-step': {
    full: { warmup: 3, reps: 20, budgetMs: 10_000, minReps: 3 },
    quick: { warmup: 2, reps: 5, budgetMs: 4_000, minReps: 2 },
  },
  'train-mlp': {
    full: { warmup: 3, reps: 30, budgetMs: 10_000, minReps: 3 },
    quick: { warmup: 2, reps: 8, budgetMs: 4_000, minReps: 2 },
  },
  'train-cnn': {
    full: { warmup: 2, reps: 20, budgetMs: 15_000, minReps: 2 },
    quick: { warmup: 1, reps: 4, budgetMs: 6_000, minReps: 1 },
  },
  // Both batch sizes of a model under one plan: batch 1 stops at reps, batch 256 at the budget.
  'infer-mlp': {
    full: { warmup: 10, reps: 200, budgetMs: 5_000, minReps: 5 },
    quick: { warmup: 3, reps: 20, budgetMs: 1_500, minReps: 3 },
  },
  'infer-cnn': {
    full: { warmup: 10, reps: 200, budgetMs: 8_000, minReps: 5 },
    quick: { warmup: 3, reps: 20, budgetMs: 2_000, minReps: 3 },
  },
  'embedding-bwd': {
    full: { warmup: 3, reps: 20, budgetMs: 10_000, minReps: 3 },
    quick: { warmup: 2, reps: 5, budgetMs: 4_000, minReps: 2 },
  },
  // As infer-*: batch 1 stops at reps, batches 64 and 256 at the budget (each).
  'onnx-mlp': {
    full: { warmup: 10, reps: 200, budgetMs: 4_000, minReps: 5 },
    quick: { warmup: 3, reps: 20, budgetMs: 1_500, minReps: 3 },
  },
  'onnx-cnn': {
    full: { warmup: 10, reps: 200, budgetMs: 6_000, minReps: 5 },
    quick: { warmup: 3, reps: 20, budgetMs: 2_000, minReps: 3 },
  },
};

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(id: string, unit: 'ms' | 'us', samples: readonly number[], extra: Partial<CaseResult> = {}): CaseResult {
  return { id, unit, median: median(samples), min: Math.min(...samples), n: samples.length, ...extra };
}

const maybeGc = (globalThis as { gc?: () => void }).gc;

/**
 * Warm up, then time `fn` repeatedly (each call on its own, in ms).
 * Between repetitions (outside the timed region) the GC runs when node was
 * started with --expose-gc, so one run's garbage is not billed to the next.
 */
export async function timeMs(fn: () => unknown, plan: Plan): Promise<number[]> {
  for (let i = 0; i < plan.warmup; i++) await fn();
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < plan.reps && (samples.length < plan.minReps || spent < plan.budgetMs)) {
    maybeGc?.();
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    samples.push(dt);
    spent += dt;
  }
  return samples;
}

/**
 * Training steps: like timeMs, but for peers so slow that one step takes a large part of the
 * budget (tfjs-cpu's CNN: about two minutes a step). If the first warm-up step alone takes
 * longer than `slowMs` (default: the whole budget), it is not repeated: that step is the only
 * sample, and `slow` says so (a footnote). Otherwise it is timeMs.
 */
export async function timeSteps(fn: () => unknown, plan: Plan, slowMs = plan.budgetMs): Promise<{ samples: number[]; slow?: string }> {
  if (plan.warmup > 0) {
    maybeGc?.();
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    if (dt > slowMs) {
      return { samples: [dt], slow: `one step of ${(dt / 1000).toFixed(1)} s, timed cold (no separate warm-up, no repetition: too slow for this budget)` };
    }
  }
  return { samples: await timeMs(fn, { ...plan, warmup: Math.max(0, plan.warmup - 1) }) };
}

/** Per-call latency in microseconds, each call timed on its own (no GC between calls). */
export async function timeUs(fn: () => unknown, plan: Plan, after?: () => void): Promise<number[]> {
  for (let i = 0; i < plan.warmup; i++) {
    await fn();
    after?.();
  }
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < plan.reps && (samples.length < plan.minReps || spent < plan.budgetMs * 1000)) {
    const t0 = process.hrtime.bigint();
    await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    after?.();
    samples.push(dt);
    spent += dt;
  }
  return samples;
}

/** Run one case; any exception becomes an `error` entry instead of killing the process. */
export async function runCase(id: string, unit: 'ms' | 'us', body: () => Promise<CaseResult>): Promise<CaseResult> {
  try {
    return await body();
  } catch (e) {
    return { id, unit, error: errorText(e) };
  }
}

export function errorText(e: unknown): string {
  const msg = e instanceof Error ? `${e.name === 'Error' ? '' : e.name + ': '}${e.message}` : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}

export function emit(result: PeerResult): void {
  const u = process.cpuUsage();
  result.cpuS ??= (u.user + u.system) / 1e6 + childrenCpuS();
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

/** CPU seconds of the child processes this one waited for (the cold runs), from /proc; 0 elsewhere. */
function childrenCpuS(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: field 3 is the state, so cutime and cstime (fields 16, 17) are f[13], f[14].
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

export interface PeerArgs {
  workload: Workload;
  quick: boolean;
  plan: Plan;
  rest: Map<string, string>;
}

/** Parses `--workload NAME [--quick] [--key value]…` for a peer process. */
export function parsePeerArgs(argv: readonly string[] = process.argv.slice(2)): PeerArgs {
  const rest = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a.startsWith('--')) {
      const [k, v] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), argv[++i] ?? ''];
      rest.set(k, v);
    }
  }
  const w = rest.get('workload');
  if (!w || !(WORKLOADS as readonly string[]).includes(w)) {
    throw new Error(`--workload must be one of ${WORKLOADS.join(', ')} (got ${w ?? 'nothing'})`);
  }
  const workload = w as Workload;
  const plan = { ...PLANS[workload][quick ? 'quick' : 'full'] };
  // The orchestrator passes the plan explicitly (the Python peers take the same flags).
  const num = (k: string): number | undefined => (rest.has(k) ? Number(rest.get(k)) : undefined);
  plan.warmup = num('warmup') ?? plan.warmup;
  plan.reps = num('reps') ?? plan.reps;
  plan.budgetMs = num('budget-ms') ?? plan.budgetMs;
  plan.minReps = num('min-reps') ?? plan.minReps;
  return { workload, quick, plan, rest };
}

// ---------------------------------------------------------------------------
// Deterministic data and float64 references for the plain-JS peer and for
// checking Born's answers.

/** mulberry32: small seeded PRNG, good enough for benchmark inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) into a Float32Array. */
export function randnArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7: below float32 resolution of gelu's output). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const SQRT1_2 = Math.SQRT1_2;

/**
 * The chain `sum(gelu(x*1.5+0.5) * x, dim 1)` row by row in float64 with the exact-erf gelu,
 * and each row's sum of |terms| (the scale for an error tolerance).
 */
export function chainReference(x: ArrayLike<number>, rows: number, cols: number): { ref: Float64Array; scale: Float64Array } {
  const ref = new Float64Array(rows);
  const scale = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    let abs = 0;
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const xv = x[base + j]!;
      const v = xv * 1.5 + 0.5;
      const term = 0.5 * v * (1 + erf(v * SQRT1_2)) * xv;
      acc += term;
      abs += Math.abs(term);
    }
    ref[i] = acc;
    scale[i] = abs;
  }
  return { ref, scale };
}

/**
 * Compares `got` with a float64 reference: |got - ref| <= rtol * scale + atol per element.
 * Returns 'ok (max err …)' or a description of the first mismatches.
 */
export function compare(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  scale: ArrayLike<number> | number,
  rtol: number,
  atol = 1e-6,
): string {
  if (got.length !== ref.length) return `WRONG: ${got.length} values, expected ${ref.length}`;
  let worst = 0;
  let bad = 0;
  let first = '';
  for (let i = 0; i < ref.length; i++) {
    const s = typeof scale === 'number' ? scale : scale[i]!;
    const err = Math.abs(got[i]! - ref[i]!);
    const rel = err / (s || 1);
    if (!(err <= rtol * s + atol)) {
      if (!bad) first = `[${i}] got ${got[i]} expected ${ref[i]!.toPrecision(7)}`;
      bad++;
    }
    if (rel > worst || Number.isNaN(rel)) worst = Number.isNaN(rel) ? Infinity : rel;
  }
  return bad ? `WRONG: ${bad}/${ref.length} values off, e.g. ${first}` : `ok (max rel err ${worst.toExponential(1)})`;
}

/** A figure for a table: a few significant digits, thousands grouped. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/**
 * tsc copies no schema: the ONNX reader and writer compiled into dist-bench/ read onnx.proto beside
 * them, as the package build puts it beside dist/onnx (scripts/copy-onnx-assets.mjs). A no-op when
 * this runs from the TypeScript sources.
 */
export function copyOnnxSchema(): void {
  const here = path.dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
  const compiled = path.join(here, '..', 'src', 'onnx');
  const source = path.join(here, '..', '..', 'src', 'onnx');
  if (path.basename(path.dirname(here)) !== 'dist-bench' || !existsSync(compiled)) return;
  for (const f of ['onnx.proto', 'onnx-data.proto']) copyFileSync(path.join(source, f), path.join(compiled, f));
}
