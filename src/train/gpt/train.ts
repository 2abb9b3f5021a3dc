/**
 * The training loop of `born train --model gpt`: a LlamaModel on a text's bytes with AdamW, a
 * linear warm-up into a cosine decay (LambdaLR), gradient clipping by global norm, validation
 * loss every `evalInterval` steps and at the end, and resumable checkpoints. Step-based rather
 * than epoch-based (Trainer.fit), because a language model samples windows, not examples; it
 * shares Trainer's checkpoint layout. bench/gpt/train_gpt.py is the same loop in PyTorch.
 */
import { noGrad } from '../../autodiff/grad.js';
import type { DeviceName } from '../../graph/node.js';
import { readMetadata } from '../../cli/files.js';
import { bornLlmMetadata, saveBornLlm } from '../../llm/born.js';
import { LlamaModel, type LlamaConfig } from '../../llm/model.js';
import { crossEntropy } from '../../nn/losses.js';
import { realize } from '../../scheduler/realize.js';
import { manualSeed } from '../../tensor/creation.js';
import { clipGradNorm } from '../clip.js';
import { AdamW } from '../optim.js';
import { LambdaLR } from '../schedulers.js';
import { loadCheckpoint, saveCheckpoint } from '../trainer.js';
import { validationBatches, WindowSampler, type Batch, type TextData } from './data.js';

export interface GptTrainOptions {
  /** The model; vocabSize is the data's. */
  readonly config: Omit<LlamaConfig, 'vocabSize'>;
  readonly steps: number;
  readonly batchSize: number;
  /** Peak learning rate, reached after `warmup` steps. */
  readonly lr: number;
  readonly warmup: number;
  /** The cosine ends at lr · minLrFactor. */
  readonly minLrFactor: number;
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  /** Max global gradient norm. */
  readonly clip: number;
  readonly evalInterval: number;
  readonly seed: number;
  readonly device?: DeviceName;
  /** Written after every evaluation (model, AdamW state, step, config, vocabulary). */
  readonly checkpoint?: string;
  readonly resume?: string;
  /** Stop after this many steps (default `steps`), evaluating and checkpointing there; the schedule still spans `steps`. */
  readonly stopAt?: number;
  /** Also write the initial weights (what step 1 starts from) here, as a Born LLM file: another framework can start from them. */
  readonly saveInit?: string;
  readonly log?: (line: string) => void;
}

export interface GptEval { readonly step: number; readonly trainLoss: number; readonly valLoss: number; readonly seconds: number }
export interface GptTrainResult { readonly model: LlamaModel; readonly evals: GptEval[]; readonly finalValLoss: number }

/**
 * The learning-rate factor of step s (0-based): (s+1)/warmup during warm-up, then a cosine from 1
 * down to minFactor at the last step.
 */
export function warmupCosine(steps: number, warmup: number, minFactor: number): (s: number) => number {
  return (s) => {
    if (s < warmup) return (s + 1) / warmup;
    const p = Math.min(1, (s - warmup) / Math.max(1, steps - 1 - warmup));
    return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}

/** Mean cross-entropy (nats per token) over the validation windows, in eval mode. */
export async function validationLoss(model: LlamaModel, ids: Int32Array, batchSize: number, device: DeviceName = 'cpu'): Promise<number> {
  const t = model.config.maxSeqLen;
  const wasTraining = model.training;
  model.eval();
  let sum = 0, n = 0;
  try {
    for (const b of validationBatches(ids, t, batchSize)) {
      const l = noGrad(() => tokenLoss(model, b, device, 'sum'));
      sum += await l.item();
      n += b.x.shape[0]! * t;
    }
  } finally {
    model.train(wasTraining);
  }
  if (n === 0) throw new RangeError(`the validation text has ${ids.length} tokens, too few for one window of ${t + 1}`);
  return sum / n;
}

const tokenLoss = (model: LlamaModel, b: Batch, device: DeviceName, reduction: 'mean' | 'sum') => {
  const [n, t] = b.x.shape as [number, number];
  const logits = model.forward(b.x.to(device));
  return crossEntropy(logits.reshape([n * t, model.config.vocabSize]), b.y.to(device).reshape([n * t]), { reduction });
};

export async function trainGpt(data: TextData, o: GptTrainOptions): Promise<GptTrainResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const device = o.device ?? 'cpu';
  const config: LlamaConfig = { ...o.config, vocabSize: data.vocab.length };
  manualSeed(o.seed);
  // Initialised on the CPU and moved: the same seed gives the same starting weights on every device.
  const model = new LlamaModel(config);
  await model.realize();
  if (o.saveInit) await saveBornLlm(model, data.vocab, o.saveInit);
  model.to(device);
  const params = model.parameters();
  const opt = new AdamW(params, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
  const schedule = new LambdaLR(opt, warmupCosine(o.steps, o.warmup, o.minLrFactor));
  const sampler = new WindowSampler(data.train, config.maxSeqLen, o.batchSize, o.seed);
  const meta = (step: number) => bornLlmMetadata({ config, vocab: data.vocab }, { step: String(step), steps: String(o.steps) });
  let start = 0;
  if (o.resume) {
    // Checked from the header before any weight is read, so a mismatch says what differs.
    const m = await readMetadata(o.resume) ?? {};
    start = Number(m.step ?? NaN);
    if (!Number.isSafeInteger(start) || m.steps !== String(o.steps) || m.config !== JSON.stringify(config) || m.vocab !== JSON.stringify(data.vocab)) {
      throw new Error(`--resume ${o.resume}: not a checkpoint of this model and text (its step count, config or vocabulary differ from this run's)`);
    }
    await loadCheckpoint(o.resume, model, opt);
    for (let s = 0; s < start; s++) schedule.step();
    log(`resumed from ${o.resume} after step ${start}`);
  }
  const evals: GptEval[] = [];
  const t0 = performance.now();
  let windowLoss = 0, windowSteps = 0;
  const stop = Math.min(o.stopAt ?? o.steps, o.steps);
  for (let step = start; step < stop; step++) {
    model.train();
    const loss = tokenLoss(model, sampler.batchAt(step), device, 'mean');
    loss.backward();
    const norm = clipGradNorm(params, o.clip);
    // Forward, backward, clipping, every update and the loss: one schedule.
    await opt.step(norm ? [loss, norm] : [loss]);
    opt.zeroGrad();
    schedule.step();
    windowLoss += await loss.item();
    windowSteps++;
    const done = step + 1;
    if (done % o.evalInterval === 0 || done === stop) {
      const valLoss = await validationLoss(model, data.val, o.batchSize, device);
      const ev: GptEval = { step: done, trainLoss: windowLoss / windowSteps, valLoss, seconds: (performance.now() - t0) / 1000 };
      evals.push(ev);
      log(`step ${done}/${o.steps}: train loss ${ev.trainLoss.toFixed(4)}, val loss ${valLoss.toFixed(4)} nats/token, ` +
        `lr ${opt.lr.toExponential(2)}${norm ? `, grad norm ${(await norm.item()).toFixed(3)}` : ''} (${ev.seconds.toFixed(1)} s)`);
      windowLoss = 0; windowSteps = 0;
      if (o.checkpoint) await saveCheckpoint(o.checkpoint, model, opt, meta(done));
    }
  }
  await realize(params.map((p) => p.node));
  const finalValLoss = evals.at(-1)?.valLoss ?? await validationLoss(model, data.val, o.batchSize, device);
  return { model, evals, finalValLoss };
}
