// The slice of Born's public API (shared/API.md) that the benchmarks use.
//
// Born is imported dynamically, through a specifier TypeScript does not
// resolve, so that bench/ compiles and the peers run even while src/index.ts
// is missing or incomplete: Born's cells then read "n/a: <error>".
// By default this loads the copy of src/ compiled next to bench/ into
// dist-bench/ (tsconfig.bench.json); BORN_BENCH_MODULE=<path or URL> loads
// another build, e.g. BORN_BENCH_MODULE=dist/index.js for the package build.

import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type Shape = readonly number[];

export interface BornTensor {
  readonly shape: Shape;
  add(other: BornTensor | number): BornTensor;
  mul(other: BornTensor | number): BornTensor;
  gelu(): BornTensor;
  sum(opts?: { dim?: number | number[]; keepdim?: boolean }): BornTensor;
  matmul(other: BornTensor): BornTensor;
  data(): Promise<ArrayLike<number>>;
  dispose?(): void;
  // autodiff and training (the mlp-step / train-* workloads)
  backward?(): void;
  item?(): Promise<number>;
}

/** What the training workloads use of `born.nn` (modules are built from these, as src/cli/models.ts does). */
export interface BornModule {
  forward(x: BornTensor): BornTensor;
  parameters(): BornTensor[];
  // the infer-* workloads
  loadStateDict?(sd: Record<string, BornTensor>): unknown;
  eval?(): unknown;
}

export interface BornNN {
  Sequential(...layers: unknown[]): BornModule;
  Linear(inFeatures: number, outFeatures: number): unknown;
  Conv2d(inChannels: number, outChannels: number, kernelSize: number): unknown;
  MaxPool2d(kernel: number): unknown;
  ReLU(): unknown;
  Flatten(): unknown;
  functional: { crossEntropy(logits: BornTensor, target: BornTensor): BornTensor };
  Embedding?(numEmbeddings: number, dim: number): { weight: BornTensor; forward(x: BornTensor): BornTensor };
}

/** What the onnx-* workloads use of `born.onnx.load`'s model. */
export interface BornOnnxModel {
  run(inputs: Record<string, BornTensor>): Promise<Record<string, BornTensor>>;
}

export interface BornOptimizer {
  step(alongside?: readonly BornTensor[]): Promise<void>;
  zeroGrad(): void;
}

export interface Born {
  tensor(data: number[] | Float32Array, opts?: { shape?: Shape }): BornTensor;
  randn(shape: Shape, opts?: { seed?: number }): BornTensor;
  realize(...ts: BornTensor[]): Promise<unknown>;
  defaultDevice?(): unknown;
  /** The WebGPU workloads (bench/webgpu.ts): where tensors that name no device are made and computed. */
  setDefaultDevice?(device: 'cpu' | 'webgpu'): Promise<string>;
  // used by the mlp-step / train-* workloads only (checked there, with a clear error)
  rand?(shape: Shape, opts?: { seed?: number }): BornTensor;
  randint?(low: number, high: number, shape: Shape, opts?: { seed?: number }): BornTensor;
  manualSeed?(seed: number): void;
  grad?(output: BornTensor, inputs: readonly BornTensor[], opts?: { gradOutput?: BornTensor }): BornTensor[];
  explain?(...ts: BornTensor[]): { kernels: readonly unknown[] };
  engine?: {
    /** The device of that name; WebGPU's names its adapter once open (`adapterName`). */
    device?(name: string): { adapterName?: string | null; ready?(): Promise<unknown> };
    on(event: 'kernel', fn: (e: { name: string; ms: number }) => void): unknown;
    off(event: 'kernel', fn: (e: { name: string; ms: number }) => void): unknown;
  };
  nn?: BornNN;
  // the infer-* workloads
  load?(file: string): Promise<Record<string, BornTensor>>;
  noGrad?<T>(fn: () => T): T;
  // the onnx-* workloads
  onnx?: { load(source: string): Promise<BornOnnxModel> };
  optim?: { Adam: new (params: Iterable<BornTensor>, opts: { lr: number }) => BornOptimizer };
}

/** The Born members a workload needs, or an error naming the missing ones. */
export function need<K extends keyof Born>(b: Born, ...keys: K[]): Born & Required<Pick<Born, K>> {
  const missing = keys.filter((k) => b[k] === undefined);
  if (missing.length) throw new Error(`Born's index does not export ${missing.join(', ')}`);
  return b as Born & Required<Pick<Born, K>>;
}

export async function loadBorn(): Promise<Born> {
  const env = process.env['BORN_BENCH_MODULE'];
  const spec = env
    ? /^[a-z]+:/.test(env)
      ? env
      : pathToFileURL(path.resolve(env)).href
    : new URL('../src/index.js', import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(spec.replace(/^file:\/\//, ''))) {
      throw new Error(`Born not built: ${spec.replace(/^file:\/\//, '')} does not exist (src/index.ts missing?)`);
    }
    throw e;
  }
  for (const name of ['tensor', 'randn', 'realize'] as const) {
    if (typeof mod[name] !== 'function') throw new Error(`Born's index does not export ${name}()`);
  }
  return mod as unknown as Born;
}

/** Frees a tensor when the API has dispose(); Born also frees by GC, so this is a courtesy. */
export function free(...ts: (BornTensor | undefined)[]): void {
  for (const t of ts) t?.dispose?.();
}
