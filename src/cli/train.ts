/** `born train` and `born eval` on Fashion-MNIST. */
import { parseArgs } from 'node:util';
import { DataLoader } from '../data/loader.js';
import { Subset, type Example, type TensorDataset } from '../data/dataset.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { manualSeed } from '../tensor/creation.js';
import { Adam } from '../train/optim.js';
import { evaluate, Trainer } from '../train/trainer.js';
import { load, save } from '../io/safetensors.js';
import { isModelName, MODELS, type ModelName } from './models.js';

const common = {
  model: { type: 'string', default: 'mlp' },
  data: { type: 'string' },
  'batch-size': { type: 'string', default: '256' },
  seed: { type: 'string', default: '0' },
  'no-install': { type: 'boolean', default: false },
} as const;

function modelName(s: string | undefined): ModelName {
  if (!s || !isModelName(s)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got '${s}'`);
  return s;
}

function int(name: string, s: string | undefined): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got '${s}'`);
  return v;
}

async function data(dir: string | undefined, install: boolean) {
  // Installing Debian's package needs root and apt; otherwise the error says where to put the files.
  return loadFashionMnist({ ...(dir ? { dir } : {}), install: install && process.getuid?.() === 0 });
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...common,
      epochs: { type: 'string', default: '2' },
      lr: { type: 'string', default: '0.001' },
      out: { type: 'string', default: 'model.safetensors' },
      checkpoint: { type: 'string' },
      resume: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const name = modelName(values.model);
  const seed = int('seed', values.seed);
  manualSeed(seed);
  const { train, test, files } = await data(values.data, !values['no-install']);
  console.log(`data: ${files.dir} (${train.n} train, ${test.n} test); model: ${name}; seed ${seed}`);
  const limit = values.limit ? int('limit', values.limit) : undefined;
  const trainSet = train.dataset(), testSet = test.dataset();
  const batchSize = int('batch-size', values['batch-size']);
  const loader = new DataLoader(limit ? subset(trainSet, limit) : trainSet, { batchSize, shuffle: true, seed });
  const evalLoader = new DataLoader(limit ? subset(testSet, limit) : testSet, { batchSize: 1000 });
  const model = MODELS[name]();
  await model.realize();
  const opt = new Adam(model.parameters(), { lr: Number(values.lr) });
  const trainer = new Trainer(model, opt, loader);
  await trainer.fit({
    epochs: int('epochs', values.epochs), evalLoader,
    ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
    ...(values.resume ? { resume: values.resume } : {}),
  });
  await save(model.stateDict(), values.out!, { metadata: { model: name } });
  console.log(`wrote ${values.out}`);
  return 0;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...common, weights: { type: 'string' } } });
  if (!values.weights) throw new Error('--weights FILE is required (a .safetensors file written by born train)');
  const name = modelName(values.model);
  const { test } = await data(values.data, !values['no-install']);
  const model = MODELS[name]();
  model.loadStateDict(await load(values.weights));
  const m = await evaluate(model, new DataLoader(test.dataset(), { batchSize: int('batch-size', values['batch-size']) }));
  console.log(`test loss ${m.loss.toFixed(4)}, test accuracy ${(100 * m.accuracy).toFixed(2)}% (${test.n} examples)`);
  return 0;
}

/** The first n examples (for quick runs). */
const subset = (ds: TensorDataset, n: number): Subset<Example> =>
  new Subset(ds, Array.from({ length: Math.min(n, ds.length) }, (_, i) => i));
