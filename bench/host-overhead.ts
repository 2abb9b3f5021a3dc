// Host overhead of a training step: how much of an MLP step (src/cli/models.ts 'mlp',
// 784-512-256-10, Adam 1e-3, batch 256, cross-entropy) the main thread spends building the
// graph and scheduling it, against the time the kernels take. Per step:
//   graph build: the forward, backward and optimizer graphs (the synchronous part of the step
//                outside the scheduler);
//   schedule:    walking the graph, finding its cached plan, claiming and binding buffers;
//   run:         the rest of the step (kernels, inline and on the pool, until the step settles).
// Usage: node dist-bench/bench/host-overhead.js [steps=100] [batch=256] [model=mlp]
import { MODELS, isModelName } from '../src/cli/models.js';
import { hostProfile, resetHostProfile } from '../src/scheduler/host-profile.js';
import { engine, nn, optim, rand, randint, realize } from '../src/index.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 100);
  const batch = Number(process.argv[3] ?? 256);
  const which = process.argv[4] ?? 'mlp';
  if (!isModelName(which)) throw new Error(`unknown model ${which} (mlp or cnn)`);
  const model = MODELS[which]();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = rand([batch, 1, 28, 28], { seed: 21 });
  const y = randint(0, 10, [batch], { seed: 22 });
  await realize(x, y, ...model.parameters());
  const warm = 5;
  const rows: { build: number; schedule: number; walk: number; run: number; total: number; nodes: number; schedules: number }[] = [];
  for (let i = 0; i < warm + steps; i++) {
    hostProfile.enabled = true;
    resetHostProfile();
    const t0 = performance.now();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    const pending = opt.step([loss]);
    const tSync = performance.now();
    await pending;
    opt.zeroGrad();
    const t1 = performance.now();
    hostProfile.enabled = false;
    const schedule = hostProfile.walkMs + hostProfile.prepareMs;
    const build = tSync - t0 - schedule - hostProfile.executeSyncMs;
    if (i >= warm) rows.push({ build, schedule, walk: hostProfile.walkMs, run: t1 - t0 - build - schedule, total: t1 - t0, nodes: hostProfile.nodes, schedules: hostProfile.schedules });
  }
  const b = median(rows.map((r) => r.build));
  const s = median(rows.map((r) => r.schedule));
  const wk = median(rows.map((r) => r.walk));
  const r = median(rows.map((r) => r.run));
  const t = median(rows.map((r) => r.total));
  const f = (v: number): string => v.toFixed(3);
  console.log(`${which} batch ${batch}, ${steps} steps (medians), ${rows[0]!.schedules} schedule(s), ${rows[0]!.nodes} nodes walked per step`);
  console.log(`graph build ${f(b)} ms   schedule ${f(s)} ms (walk and plan lookup ${f(wk)})   run ${f(r)} ms   step ${f(t)} ms`);
  console.log(`host overhead (build + schedule): ${(100 * (b + s) / t).toFixed(1)} % of the step`);
  await engine.shutdown();
}

await main();
