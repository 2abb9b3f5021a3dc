// One cold-start measurement (bench/cold-start.ts), in a fresh process: the clock starts just
// before the library's `await import(...)` and stops with the first batch-1 logits in hand.
// Only Node built-ins (and bench helpers made of them) are imported statically, so nothing of a
// library loads before the clock.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { readF32Safetensors } from './models.js';
import { setTfjsBackend, tfjsWasmDir } from './peers/tfjs-backend.js';

type Born = typeof import('../src/index.js');
type Ort = typeof import('onnxruntime-node');
type Tf = typeof import('@tensorflow/tfjs');

export const PEERS = ['born', 'born-skipinit', 'ort', 'tfjs-cpu', 'tfjs-wasm'] as const;
export type PeerName = (typeof PEERS)[number];

export interface ChildResult {
  importMs: number;
  loadMs: number;
  firstMs: number;
  totalMs: number;
  /** CPU time (user + system, all threads) over the same interval: less swayed by a busy machine than wall time. */
  cpuMs: number;
  logits: number[];
  /** Finer phases where the peer reports them (Born: its engine's counters). */
  detail?: Record<string, number>;
}

/** The one batch-1 input, [1, 1, 28, 28] in [0, 1): deterministic, the same in every process. */
export function input(): Float32Array {
  const x = new Float32Array(784);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 37) % 101) / 101;
  return x;
}

/** `skip`: the model is built under nn.skipInit (no random initial values drawn before the load). */
async function born(dir: string, entry: string, t0: number, skip: boolean): Promise<Timed> {
  const b = (await import(pathToFileURL(entry).href)) as Born;
  const t1 = performance.now();
  const { nn } = b;
  const make = (): ReturnType<typeof nn.Sequential> =>
    nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10));
  const model = skip ? nn.skipInit(make) : make();
  const tBuilt = performance.now();
  model.loadStateDict(await b.load(path.join(dir, 'mlp.safetensors')));
  model.eval();
  const t2 = performance.now();
  const x = b.tensor(input(), { shape: [1, 1, 28, 28] });
  const y = await b.noGrad(() => model.forward(x)).data();
  const t3 = performance.now();
  const stats = b.engine.stats();
  return {
    importMs: t1 - t0, loadMs: t2 - t1, firstMs: t3 - t2, totalMs: t3 - t0, logits: [...y],
    detail: { build: tBuilt - t1, load: t2 - tBuilt, kernelCompiles: stats.kernelCompiles, schedules: stats.schedules },
  };
}

async function ort(dir: string, t0: number): Promise<Timed> {
  const o = (await import('onnxruntime-node')) as Ort;
  const t1 = performance.now();
  const session = await o.InferenceSession.create(path.join(dir, 'mlp.onnx'), {
    executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const t2 = performance.now();
  const out = await session.run({ x: new o.Tensor('float32', input(), [1, 1, 28, 28]) });
  const y = out['y']!.data as Float32Array;
  const t3 = performance.now();
  return { importMs: t1 - t0, loadMs: t2 - t1, firstMs: t3 - t2, totalMs: t3 - t0, logits: [...y] };
}

async function tfjs(dir: string, backend: 'cpu' | 'wasm', t0: number): Promise<Timed> {
  const tf = (await import('@tensorflow/tfjs')) as Tf;
  if (backend === 'wasm') (await import('@tensorflow/tfjs-backend-wasm')).setWasmPaths(tfjsWasmDir());
  await setTfjsBackend(tf, backend);
  const t1 = performance.now();
  const sd = readF32Safetensors(path.join(dir, 'mlp.safetensors'));
  const get = (name: string): { shape: number[]; data: Float32Array } => {
    const t = sd.get(name);
    if (!t) throw new Error(`mlp.safetensors has no ${name}`);
    return t;
  };
  // Linear weights are [out, in]: kept transposed once, as a deployed tfjs model would hold them.
  const layers = [1, 3, 5].map((i) => {
    const w = get(`${i}.weight`);
    const wt = tf.tidy(() => tf.transpose(tf.tensor2d(w.data, w.shape as [number, number])));
    return { w: wt, b: tf.tensor1d(get(`${i}.bias`).data) };
  });
  const t2 = performance.now();
  const y = tf.tidy(() => {
    let h: import('@tensorflow/tfjs').Tensor = tf.tensor2d(input(), [1, 784]);
    layers.forEach((l, i) => {
      h = tf.add(tf.matMul(h, l.w), l.b);
      if (i < layers.length - 1) h = tf.relu(h);
    });
    return h;
  });
  const data = await y.data();
  const t3 = performance.now();
  return { importMs: t1 - t0, loadMs: t2 - t1, firstMs: t3 - t2, totalMs: t3 - t0, logits: [...data] };
}

type Timed = Omit<ChildResult, 'cpuMs'>;

export async function childMain(peer: PeerName, dir: string, bornEntry: string): Promise<ChildResult> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const run = (): Promise<Timed> => {
    switch (peer) {
      case 'born': return born(dir, bornEntry, t0, false);
      case 'born-skipinit': return born(dir, bornEntry, t0, true);
      case 'ort': return ort(dir, t0);
      case 'tfjs-cpu': return tfjs(dir, 'cpu', t0);
      case 'tfjs-wasm': return tfjs(dir, 'wasm', t0);
    }
  };
  const r = await run();
  const c = process.cpuUsage(c0);
  return { ...r, cpuMs: (c.user + c.system) / 1000 };
}
