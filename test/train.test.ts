// The training loop end to end on the committed Fashion-MNIST subset: it learns, it repeats
// exactly for a seed, and a run resumed from a checkpoint matches an uninterrupted one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { MODELS } from '../src/cli/models.js';

const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'fashion-mnist');

async function setup(seed: number, shuffleSeed = seed) {
  born.manualSeed(seed);
  const { train, test } = await born.data.loadFashionMnist({ dir, systemDirs: [] });
  const model = MODELS.mlp();
  const opt = new born.optim.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new born.data.DataLoader(train.dataset(), { batchSize: 16, shuffle: true, seed: shuffleSeed });
  const evalLoader = new born.data.DataLoader(test.dataset(), { batchSize: 32 });
  return { trainer: new born.optim.Trainer(model, opt, loader), evalLoader, model };
}

describe('training', () => {
  test('same seed, same losses; the loss falls', async () => {
    const runs: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const { trainer } = await setup(5);
      const losses: number[] = [];
      trainer.on('step', (e) => losses.push(e.loss));
      await trainer.fit({ epochs: 3, progress: 'none' });
      runs.push(losses);
    }
    expect(runs[0]).toHaveLength(12);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]![11]!).toBeLessThan(runs[0]![0]!);
  });

  test('resuming from the epoch-1 checkpoint gives the same epoch 2 as an uninterrupted run', async () => {
    const ckpt = path.join(mkdtempSync(path.join(tmpdir(), 'born-')), 'ckpt.safetensors');
    const full = await setup(9);
    const uninterrupted = await full.trainer.fit({ epochs: 2, progress: 'none' });

    const first = await setup(9);
    await first.trainer.fit({ epochs: 1, progress: 'none', checkpoint: ckpt });
    // Other initial weights (the data order is configuration, as in PyTorch): model and optimizer
    // state must come from the checkpoint.
    const resumed = await setup(123, 9);
    const rest = await resumed.trainer.fit({ epochs: 2, progress: 'none', resume: ckpt, log: () => {} });
    expect(rest).toHaveLength(1);
    expect(rest[0]!.epoch).toBe(2);
    expect(rest[0]!.loss).toBe(uninterrupted[1]!.loss);
    expect(rest[0]!.accuracy).toBe(uninterrupted[1]!.accuracy);
  });

  test('evaluate reports loss and accuracy in [0, 1] and leaves the model in its mode', async () => {
    const { model, evalLoader } = await setup(1);
    model.train();
    const m = await born.optim.evaluate(model, evalLoader);
    expect(m.accuracy).toBeGreaterThanOrEqual(0);
    expect(m.accuracy).toBeLessThanOrEqual(1);
    expect(m.loss).toBeGreaterThan(0);
    expect(model.training).toBe(true);
  });

  test.each([1, 7, 10, 63, 64])('evaluate with batch size %i is crossEntropy over the whole set in one batch', async (batchSize) => {
    // 64 examples: batches of 7 and of 63 end with one of 1, of 10 with one of 4. A mean of the
    // batch means (not weighted by batch size), or a dropped last batch, gives another number.
    born.manualSeed(3);
    const n = 64, features = 5, classes = 4;
    const x = born.randn([n, features], { seed: 11 }).mul(2);
    const y = born.randint(0, classes, [n], { seed: 12 });
    const model = born.nn.Linear(features, classes);
    const loader = new born.data.DataLoader(await born.data.TensorDataset.fromTensors(x, y), { batchSize });
    const m = await born.optim.evaluate(model, loader);
    const logits = model.forward(x);
    const whole = await born.nn.functional.crossEntropy(logits, y).item();
    const hits = await logits.argmax({ dim: 1 }).eq(y).to('int32').sum().item();
    expect(Math.abs(m.loss - whole), `loss ${m.loss} vs ${whole}`).toBeLessThan(1e-6 * Math.max(1, whole));
    expect(m.accuracy).toBe(hits / n);
  });

  test("fit's epoch loss is the mean of its step losses weighted by batch size", async () => {
    born.manualSeed(4);
    const x = born.randn([64, 5], { seed: 13 });
    const y = born.randint(0, 3, [64], { seed: 14 });
    const model = born.nn.Linear(5, 3);
    const loader = new born.data.DataLoader(await born.data.TensorDataset.fromTensors(x, y), { batchSize: 10 });
    const trainer = new born.optim.Trainer(model, new born.optim.SGD(model.parameters(), { lr: 0.5 }), loader);
    const steps: number[] = [];
    trainer.on('step', (e) => steps.push(e.loss));
    const [epoch] = await trainer.fit({ epochs: 1, progress: 'none' });
    const sizes = [10, 10, 10, 10, 10, 10, 4];
    expect(steps).toHaveLength(sizes.length);
    const weighted = steps.reduce((acc, l, i) => acc + l * sizes[i]!, 0) / 64;
    expect(epoch!.loss).toBeCloseTo(weighted, 12);
    expect(Math.abs(epoch!.loss - steps.reduce((a, l) => a + l, 0) / steps.length)).toBeGreaterThan(1e-6);
  });
});
