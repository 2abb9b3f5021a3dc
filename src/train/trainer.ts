/**
 * fit() and evaluate(): the training loop with metrics, a progress bar on a TTY and plain log
 * lines elsewhere, events per step and epoch, and checkpoints that resume exactly (model,
 * optimizer state, epoch) in the safetensors format.
 */
import { SingleBar } from 'cli-progress';
import { EventEmitter } from 'eventemitter3';
import type { Batch, DataLoader } from '../data/loader.js';
import { loadWithMetadata, save } from '../io/safetensors.js';
import { noGrad } from '../autodiff/grad.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/losses.js';
import { realize } from '../scheduler/realize.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from './optim.js';
import type { DeviceName } from '../graph/node.js';

export interface StepEvent { epoch: number; step: number; loss: number }
export interface EpochEvent { epoch: number; loss: number; accuracy: number; samplesPerSecond: number; seconds: number; test?: Metrics }
export interface Metrics { loss: number; accuracy: number }
export interface TrainerEvents { step: [StepEvent]; epoch: [EpochEvent] }

export interface FitOptions {
  epochs: number;
  /** Loss of logits and targets; default cross-entropy over class ids. */
  loss?: (logits: Tensor, y: Tensor) => Tensor;
  evalLoader?: DataLoader;
  /** Written after every epoch (atomically); resume with `resume`. */
  checkpoint?: string;
  resume?: string;
  /** 'bar' (default on a TTY), 'lines', or 'none'. */
  progress?: 'bar' | 'lines' | 'none';
  log?: (line: string) => void;
}

/** Where a model computes: its parameters' device (batches from a loader are copied there). */
const deviceOfModel = (model: Module): DeviceName => model.parameters()[0]?.device ?? 'cpu';

const correct = (logits: Tensor, y: Tensor): Tensor => logits.argmax({ dim: 1 }).eq(y).to('int32').sum();

/** Mean loss and accuracy over a loader, in eval mode and without gradients. */
export async function evaluate(model: Module, loader: DataLoader, lossFn = crossEntropy): Promise<Metrics> {
  const wasTraining = model.training;
  model.eval();
  let loss = 0, hits = 0, n = 0;
  const device = deviceOfModel(model);
  try {
    for await (const batch of loader) {
      const x = batch.x.to(device), y = batch.y.to(device);
      const [l, c] = noGrad(() => {
        const logits = model.forward(x);
        return [lossFn(logits, y).mul(x.shape[0]!), correct(logits, y)];
      });
      await realize([l.node, c.node]);
      loss += await l.item();
      hits += await c.item();
      n += x.shape[0]!;
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: loss / Math.max(1, n), accuracy: hits / Math.max(1, n) };
}

/** What a checkpoint holds of a model, whatever its forward takes. */
type StateHolder = Pick<Module, 'stateDict' | 'loadStateDict'>;

/**
 * A resumable checkpoint: the model's state dict under `model.`, the optimizer's under
 * `optimizer.`, written atomically with `metadata` (Trainer's, and born train --model gpt's).
 */
export async function saveCheckpoint(path: string, model: StateHolder, optimizer: Optimizer<{ lr: number }>, metadata: Record<string, string>): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
  for (const [k, t] of Object.entries(optimizer.stateDict())) tensors[`optimizer.${k}`] = t;
  await save(tensors, path, { metadata });
}

/** Loads a checkpoint (or a bare state dict, model only) into model and optimizer; returns its metadata. */
export async function loadCheckpoint(path: string, model: StateHolder, optimizer: Optimizer<{ lr: number }>): Promise<Record<string, string>> {
  const { tensors, metadata } = await loadWithMetadata(path);
  const pick = (prefix: string): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const hasPrefix = Object.keys(tensors).some((k) => k.startsWith('model.'));
  model.loadStateDict(hasPrefix ? pick('model.') : tensors);
  if (hasPrefix) await optimizer.loadStateDict(pick('optimizer.'));
  return metadata;
}

export class Trainer extends EventEmitter<TrainerEvents> {
  constructor(readonly model: Module, readonly optimizer: Optimizer<{ lr: number }>, readonly loader: DataLoader) {
    super();
  }

  async saveCheckpoint(path: string, epoch: number): Promise<void> {
    await saveCheckpoint(path, this.model, this.optimizer, { epoch: String(epoch), format: 'born-checkpoint-1' });
  }

  /** Loads model and optimizer state; returns the number of epochs already done. */
  async loadCheckpoint(path: string): Promise<number> {
    const metadata = await loadCheckpoint(path, this.model, this.optimizer);
    return Number(metadata['epoch'] ?? 0);
  }

  async fit(opts: FitOptions): Promise<EpochEvent[]> {
    const log = opts.log ?? ((l: string) => console.log(l));
    const lossFn = opts.loss ?? crossEntropy;
    const mode = opts.progress ?? (process.stdout.isTTY ? 'bar' : 'lines');
    let start = 0;
    if (opts.resume) {
      start = await this.loadCheckpoint(opts.resume);
      log(`resumed from ${opts.resume} after epoch ${start}`);
    }
    const history: EpochEvent[] = [];
    for (let epoch = start; epoch < opts.epochs; epoch++) {
      this.loader.setEpoch(epoch);
      this.model.train();
      const bar = mode === 'bar' ? new SingleBar({ format: `epoch ${epoch + 1}/${opts.epochs} [{bar}] {value}/{total} loss {loss}`, hideCursor: true }) : null;
      bar?.start(this.loader.length, 0, { loss: '-' });
      const t0 = performance.now();
      let lossSum = 0, hits = 0, n = 0, step = 0;
      const device = deviceOfModel(this.model);
      for await (const batch of this.loader as AsyncIterable<Batch>) {
        const b = batch.x.shape[0]!;
        const x = batch.x.to(device), y = batch.y.to(device);
        const logits = this.model.forward(x);
        const loss = lossFn(logits, y);
        const c = noGrad(() => correct(logits, y));
        loss.backward();
        // Forward, backward, every update, the loss and the hit count: one schedule.
        await this.optimizer.step([loss, c]);
        this.optimizer.zeroGrad();
        const l = await loss.item();
        lossSum += l * b;
        hits += await c.item();
        n += b;
        step++;
        this.emit('step', { epoch: epoch + 1, step, loss: l });
        bar?.increment(1, { loss: l.toFixed(4) });
      }
      bar?.stop();
      const seconds = (performance.now() - t0) / 1000;
      const ev: EpochEvent = { epoch: epoch + 1, loss: lossSum / Math.max(1, n), accuracy: hits / Math.max(1, n), samplesPerSecond: n / seconds, seconds };
      if (opts.evalLoader) ev.test = await evaluate(this.model, opts.evalLoader, lossFn);
      history.push(ev);
      this.emit('epoch', ev);
      if (mode !== 'none') {
        log(`epoch ${ev.epoch}/${opts.epochs}: loss ${ev.loss.toFixed(4)}, accuracy ${(100 * ev.accuracy).toFixed(2)}%` +
          (ev.test ? `, test loss ${ev.test.loss.toFixed(4)}, test accuracy ${(100 * ev.test.accuracy).toFixed(2)}%` : '') +
          `, ${Math.round(ev.samplesPerSecond)} samples/s (${ev.seconds.toFixed(1)} s)`);
      }
      if (opts.checkpoint) await this.saveCheckpoint(opts.checkpoint, epoch + 1);
    }
    return history;
  }
}
