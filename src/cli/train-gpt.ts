/** `born train --model gpt`: flags checked before any work, then src/train/gpt's loop, the model file and a sample. */
import { readFile } from 'node:fs/promises';
import { saveBornLlm } from '../llm/born.js';
import { Llm } from '../llm/load.js';
import { fromBytes } from '../llm/tokenizer/bytes.js';
import { textData } from '../train/gpt/data.js';
import { sampleText } from '../train/gpt/sample.js';
import { trainGpt } from '../train/gpt/train.js';
import { checkOut, checkReadable, checkWritableDir } from './files.js';
import { intFlag, parse, positiveFlag, UsageError } from './flags.js';
import { deviceFlag } from './train.js';

const FLAGS = {
  model: { type: 'string' },
  data: { type: 'string' },
  steps: { type: 'string', default: '300' },
  'batch-size': { type: 'string', default: '16' },
  context: { type: 'string', default: '64' },
  dim: { type: 'string', default: '128' },
  layers: { type: 'string', default: '4' },
  heads: { type: 'string', default: '4' },
  'kv-heads': { type: 'string', default: '2' },
  'hidden-dim': { type: 'string' },
  lr: { type: 'string', default: '0.003' },
  warmup: { type: 'string', default: '30' },
  'min-lr-factor': { type: 'string', default: '0.1' },
  'weight-decay': { type: 'string', default: '0.1' },
  clip: { type: 'string', default: '1' },
  'eval-interval': { type: 'string', default: '50' },
  sample: { type: 'string', default: '300' },
  prompt: { type: 'string', default: 'This License' },
  temperature: { type: 'string', default: '0.8' },
  seed: { type: 'string', default: '0' },
  device: { type: 'string', default: 'cpu' },
  out: { type: 'string', default: 'model.safetensors' },
  force: { type: 'boolean', default: false },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
  'save-init': { type: 'string' },
} as const;

/** AdamW's betas (nanoGPT's for small character models); not a flag. */
const BETAS = [0.9, 0.99] as const;

/** A number flag in [min, max]. */
function rangeFlag(name: string, s: string, min: number, max: number): number {
  const v = s.trim() === '' ? NaN : Number(s);
  if (!(v >= min && v <= max)) throw new UsageError(`born train: --${name} must be a number in [${min}, ${max}], got '${s}'`);
  return v;
}

export async function trainGptCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('train', argv, FLAGS);
  const int = (name: keyof typeof FLAGS, min: number): number => intFlag('train', name, v[name] as string, min);
  if (v.data === undefined) throw new UsageError('born train: --model gpt needs --data FILE (a text file to train on)');
  const steps = int('steps', 1), batchSize = int('batch-size', 1), context = int('context', 2);
  const dim = int('dim', 1), layers = int('layers', 1), heads = int('heads', 1), kvHeads = int('kv-heads', 1);
  const hiddenDim = v['hidden-dim'] === undefined ? 3 * dim : int('hidden-dim', 1);
  if (dim % heads !== 0 || (dim / heads) % 2 !== 0) throw new UsageError(`born train: --dim ${dim} must be a multiple of 2 x --heads ${heads} (rotary embeddings pair the dims of a head)`);
  if (heads % kvHeads !== 0) throw new UsageError(`born train: --kv-heads ${kvHeads} must divide --heads ${heads}`);
  const lr = positiveFlag('train', 'lr', v.lr), clip = positiveFlag('train', 'clip', v.clip);
  const warmup = int('warmup', 0), evalInterval = int('eval-interval', 1), sample = int('sample', 0), seed = int('seed', 0);
  const minLrFactor = rangeFlag('min-lr-factor', v['min-lr-factor']!, 0, 1);
  const weightDecay = rangeFlag('weight-decay', v['weight-decay']!, 0, 1e6);
  const temperature = rangeFlag('temperature', v.temperature!, 0, 1e6);
  if (sample > 0 && v.prompt === '') throw new UsageError('born train: --prompt must not be empty (the model has no BOS token to start from)');
  const out = v.out!;
  await checkReadable('train', 'data', v.data);
  await checkOut(out, 'gpt', v.force!);
  if (v.checkpoint !== undefined) await checkWritableDir('train', 'checkpoint', v.checkpoint);
  if (v.resume !== undefined) await checkReadable('train', 'resume', v.resume);
  if (v['save-init'] !== undefined) await checkOut(v['save-init'], 'gpt', v.force!, 'save-init');
  const text = new Uint8Array(await readFile(v.data));
  const data = textData(text);
  if (data.val.length < context + 1) {
    throw new UsageError(`born train: --data ${v.data}: ${text.length} bytes leave ${data.val.length} for validation, fewer than one window of --context ${context} + 1 (give a longer text or a shorter --context)`);
  }
  if (data.train.length - context < batchSize) {
    throw new UsageError(`born train: --data ${v.data}: ${data.train.length} training bytes are too few for --batch-size ${batchSize} windows of --context ${context} + 1`);
  }
  if (sample > 0) {
    try { fromBytes(data.vocab).encode(v.prompt!); } catch (e) { throw new UsageError(`born train: --prompt: ${(e as Error).message}`); }
  }
  const device = await deviceFlag('train', v.device!);
  const config = { dim, hiddenDim, nLayers: layers, nHeads: heads, nKvHeads: kvHeads, maxSeqLen: context, sharedClassifier: false, normEps: 1e-5, ropeTheta: 10000 };
  console.log(`data: ${v.data} (${text.length} bytes, vocabulary of ${data.vocab.length} bytes; ${data.train.length} train, ${data.val.length} validation); device ${device}; seed ${seed}`);
  console.log(`model: gpt (LlamaModel dim ${dim}, ${layers} layers, ${heads} heads, ${kvHeads} kv heads, hidden ${hiddenDim}, context ${context}); ` +
    `${steps} steps of ${batchSize} x ${context} tokens, AdamW lr ${lr} (warm-up ${warmup}, cosine to x${minLrFactor}), weight decay ${weightDecay}, clip ${clip}`);
  const { model, finalValLoss } = await trainGpt(data, {
    config, steps, batchSize, lr, warmup, minLrFactor, weightDecay, betas: BETAS, clip, evalInterval, seed, device,
    ...(v.checkpoint ? { checkpoint: v.checkpoint } : {}), ...(v.resume ? { resume: v.resume } : {}),
    ...(v['save-init'] ? { saveInit: v['save-init'] } : {}),
  });
  console.log(`final validation loss: ${finalValLoss.toFixed(4)} nats/token`);
  await saveBornLlm(model, data.vocab, out);
  console.log(`wrote ${out} (model gpt; born.llm.load reads it)`);
  if (sample > 0) {
    const llm = new Llm(model, model.config, { tokenizer: fromBytes(data.vocab), name: 'gpt' });
    model.eval();
    const textOut = await sampleText(llm, v.prompt!, sample, { temperature, seed });
    console.log(`--- sample (${sample} bytes, temperature ${temperature}, seed ${seed}) ---\n${v.prompt}${textOut}\n--- end of sample ---`);
  }
  return 0;
}
