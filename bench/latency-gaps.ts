// Batch-1 latency of the `born train` models by what comes before each call: nothing (calls back
// to back), an idle gap (a timer of `gap` ms), or a forced full collection (`gc()`, what the
// bench's timing loop runs before every sample of every peer). onnxruntime-node is timed the same
// way when bench/run.ts has exported the ONNX files (dist-bench/models, or $BORN_BENCH_MODELS).
// It answers whether the slowdown after a pause is Born's own or the machine's: on this 2-vCPU
// machine both runtimes lose most of their back-to-back speed after a gap of a millisecond or
// more, since the core's caches (shared with the other vCPU and other processes) go cold.
//
//   node --expose-gc dist-bench/bench/latency-gaps.js [model=mlp] [calls=200] [gap=15]
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODELS, isModelName } from '../src/cli/models.js';
import { noGrad, realize, tensor } from '../src/index.js';

type Call = () => Promise<unknown>;
type Before = 'back to back' | 'after a gap' | 'after gc()';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const collect = (globalThis as { gc?: () => void }).gc;

async function time(call: Call, calls: number, before: Before, gap: number): Promise<number> {
  for (let i = 0; i < 20; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    if (before === 'after a gap') await new Promise((r) => setTimeout(r, gap));
    if (before === 'after gc()') collect!();
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function ortCall(which: string, x: Float32Array): Promise<Call | null> {
  const dir = process.env['BORN_BENCH_MODELS'] ?? path.join(process.cwd(), 'dist-bench', 'models');
  const file = path.join(dir, `${which}.onnx`);
  if (!existsSync(file)) return null;
  const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
  const s = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  return async () => (await s.run({ x: new ort.Tensor('float32', x, [1, 1, 28, 28]) }))['y']!.data;
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'mlp';
  const calls = Number(process.argv[3] ?? 200);
  const gap = Number(process.argv[4] ?? 15);
  if (!isModelName(which)) throw new Error(`unknown model ${which} (mlp or cnn)`);
  const model = MODELS[which]();
  model.eval();
  await realize(...model.parameters());
  const x = Float32Array.from({ length: 784 }, (_, i) => ((i * 7919) % 256) / 255);
  const peers: [string, Call][] = [['born', async () => {
    const y = noGrad(() => model.forward(tensor(x, { shape: [1, 1, 28, 28] })));
    const out = await y.data();
    y.dispose();
    return out;
  }]];
  const ort = await ortCall(which, x);
  if (ort) peers.push(['onnxruntime', ort]);
  const befores: Before[] = collect ? ['back to back', 'after a gap', 'after gc()'] : ['back to back', 'after a gap'];
  console.log(`${which} batch 1, median ms per call over ${calls} calls (gap ${gap} ms)${collect ? '' : '; run with --expose-gc for the gc() column'}`);
  console.log(`| peer | ${befores.join(' | ')} |`);
  console.log(`|---|${befores.map(() => '---:|').join('')}`);
  for (const [name, call] of peers) {
    const row: string[] = [];
    for (const b of befores) row.push((await time(call, calls, b, gap)).toFixed(3));
    console.log(`| ${name} | ${row.join(' | ')} |`);
  }
  process.exit(0);
}

await main();
