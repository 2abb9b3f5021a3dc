// The CNN of born train (src/cli/models.ts) forward, kernel by kernel: the median time of each
// kernel (engine 'kernel' events: wall time, the pool's round trip included) and of the whole
// forward, input data in hand to the logits read back, over the last two thirds of the calls.
// This is what `born serve` runs per batch; the serving figures in RESULTS.md cite it. With
// --serve the calling thread is marked busy as the server marks it, so the kernels go to the
// workers; the first figure is then the forward as one chain (no listener: kernel events turn
// chains off), the kernel list one pool round trip per kernel.
// Usage: node dist-bench/bench/cnn-kernels.js [batch=64] [calls=60] [--serve]
import { MODELS } from '../src/cli/models.js';
import { engine, manualSeed, noGrad, randn, tensor, type KernelEvent } from '../src/index.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
};

async function main(): Promise<void> {
  const serving = process.argv.includes('--serve');
  const args = process.argv.slice(2).filter((a) => a !== '--serve');
  const batch = Number(args[0] ?? 64), calls = Number(args[1] ?? 60);
  if (serving) engine.cpu().callerBusy++;
  manualSeed(0);
  const model = MODELS.cnn();
  model.eval();
  await model.realize();
  const x = (await randn([batch, 1, 28, 28]).data()) as Float32Array;
  const run = (): Promise<unknown> => noGrad(() => model.forward(tensor(x, { shape: [batch, 1, 28, 28] }))).data();
  if (serving) {
    const chained: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await run();
      if (i >= calls / 3) chained.push(performance.now() - t0);
    }
    console.log(`CNN forward at batch ${batch} in chains on the workers: ${median(chained).toFixed(2)} ms (median of ${chained.length})`);
  }
  let events: KernelEvent[] = [];
  engine.on('kernel', (e) => events.push(e));
  const forward: number[] = [];
  const perKernel = new Map<string, { ms: number[]; flops: number }>();
  for (let i = 0; i < calls; i++) {
    events = [];
    const t0 = performance.now();
    await run();
    if (i < calls / 3) continue;
    forward.push(performance.now() - t0);
    events.forEach((e, j) => {
      const key = `${j} ${e.name}`;
      const entry = perKernel.get(key) ?? { ms: [], flops: e.flops };
      entry.ms.push(e.ms);
      perKernel.set(key, entry);
    });
  }
  const mode = serving ? ', caller busy as in born serve' : '';
  console.log(`CNN forward at batch ${batch}${mode}: ${median(forward).toFixed(2)} ms (median of ${forward.length})`);
  let sum = 0;
  for (const [key, { ms, flops }] of perKernel) {
    const m = median(ms);
    sum += m;
    console.log(`${m.toFixed(2).padStart(8)} ms ${(flops / m / 1e6).toFixed(1).padStart(7)} GFLOP/s  ${key}`);
  }
  console.log(`${sum.toFixed(2).padStart(8)} ms in kernels`);
}

await main();
process.exit(0);
