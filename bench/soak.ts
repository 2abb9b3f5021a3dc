// Memory soak: a long training run must keep process memory flat.
//
//   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/soak.js [steps] [batch]
//
// Trains the MLP of `born train` on one random batch for `steps` steps (default 10,000) and
// prints RSS, V8 heap, external memory and the engine's live buffers every 1,000 steps, then
// the growth between the second report and the last (the first absorbs warm-up allocations).
import * as born from '../src/index.js';
import { MODELS } from '../src/cli/models.js';

const steps = Number(process.argv[2] ?? 10_000);
const batch = Number(process.argv[3] ?? 64);
const mib = (b: number): string => (b / 2 ** 20).toFixed(1);

born.manualSeed(0);
const model = MODELS.mlp();
const opt = new born.optim.Adam(model.parameters(), { lr: 1e-3 });
const x = born.rand([batch, 1, 28, 28], { seed: 1 });
const y = born.randint(0, 10, [batch], { seed: 2 });
await born.realize(x, y);

const reports: { step: number; rss: number }[] = [];
const t0 = performance.now();
for (let step = 1; step <= steps; step++) {
  const loss = born.nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  await opt.step([loss]);
  opt.zeroGrad();
  if (step % 1000 === 0 || step === steps) {
    const m = process.memoryUsage();
    const e = born.engine.memory();
    reports.push({ step, rss: m.rss });
    console.log(`step ${step}: loss ${(await loss.item()).toFixed(4)}, rss ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB, ` +
      `external ${mib(m.external)} MiB, live buffers ${e.liveBuffers} (${mib(e.liveBytes)} MiB), ${((performance.now() - t0) / step).toFixed(2)} ms/step`);
  }
}
if (reports.length >= 2) {
  const a = reports[Math.min(1, reports.length - 1)]!, b = reports[reports.length - 1]!;
  console.log(`rss growth from step ${a.step} to ${b.step}: ${mib(b.rss - a.rss)} MiB`);
}
await born.engine.shutdown();
