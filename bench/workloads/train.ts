// Workloads 6 and 7 (issue 4): training throughput, samples/s, of the `born train` models
// (src/cli/models.ts, rebuilt here from the loaded Born's `nn` so that BORN_BENCH_MODULE
// builds work too) on random data shaped like Fashion-MNIST: x [256, 1, 28, 28] float32 in
// [0, 1), y int32 0..9; Adam, lr 1e-3. One step, as src/train/trainer.ts does it:
//   const loss = crossEntropy(model.forward(x), y); loss.backward(); await opt.step([loss]); opt.zeroGrad();
// The same batch every step (no data loading in the timed region). Each step is timed on its
// own; the table shows 256 / (median step time). Check: the loss falls on the repeated batch.

import type { Born, BornModule, BornNN, BornTensor } from '../born-api.js';
import { need } from '../born-api.js';
import { runCase, summarize, timeSteps, TRAIN_BATCH, type CaseResult, type Plan } from '../common.js';

export const BATCH = TRAIN_BATCH;
export const LR = 1e-3;
export type ModelName = 'mlp' | 'cnn';

/** As MODELS in src/cli/models.ts. */
export function bornModel(nn: BornNN, which: ModelName): BornModule {
  return which === 'mlp'
    ? nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    : nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
      );
}

/** Loss falls over the steps taken on one repeated batch: 'ok (…)', else a failure text. */
export function lossCheck(first: number, last: number, steps: number): string {
  if (steps < 2) return Number.isFinite(first) ? `ok (one step only: loss ${first.toFixed(3)})` : `WRONG: loss ${first}`;
  const what = `loss ${first.toFixed(3)} → ${last.toFixed(3)} over ${steps} steps on one batch`;
  return Number.isFinite(first) && Number.isFinite(last) && last < first ? `ok (${what})` : `WRONG: ${what}`;
}

async function train(b0: Born, plan: Plan, which: ModelName): Promise<CaseResult> {
  const id = `train_${which}`;
  return runCase(id, 'ms', async () => {
    const b = need(b0, 'rand', 'randint', 'nn', 'optim');
    b.manualSeed?.(1);
    const model = bornModel(b.nn, which);
    const opt = new b.optim.Adam(model.parameters(), { lr: LR });
    const x = b.rand([BATCH, 1, 28, 28], { seed: 21 });
    const y = b.randint(0, 10, [BATCH], { seed: 22 });
    await b.realize(x, y, ...model.parameters());
    let first: BornTensor | undefined;
    let last: BornTensor | undefined;
    let steps = 0;
    const { samples, slow } = await timeSteps(async () => {
      const loss = b.nn.functional.crossEntropy(model.forward(x), y);
      loss.backward!();
      await opt.step([loss]);
      opt.zeroGrad();
      first ??= loss;
      last = loss;
      steps++;
    }, plan);
    const check = lossCheck((await first!.data())[0]!, (await last!.data())[0]!, steps);
    return summarize(id, 'ms', samples, { samples: BATCH, check, ...(slow ? { note: slow } : {}) });
  });
}

export const bornMlp = async (b: Born, plan: Plan): Promise<CaseResult[]> => [await train(b, plan, 'mlp')];
export const bornCnn = async (b: Born, plan: Plan): Promise<CaseResult[]> => [await train(b, plan, 'cnn')];
