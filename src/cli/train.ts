/** `born train` and `born eval` on Fashion-MNIST. */
import { DataLoader } from '../data/loader.js';
import { Subset, type Example, type TensorDataset } from '../data/dataset.js';
import { loadFashionMnist, readFashionMnistFiles, type FashionMnistFiles } from '../data/fashion-mnist.js';
import { manualSeed } from '../tensor/creation.js';
import { Adam } from '../train/optim.js';
import { evaluate, Trainer } from '../train/trainer.js';
import { loadWithMetadata, save } from '../io/safetensors.js';
import { isModelName, MODELS, type ModelName } from './models.js';
import { intFlag, parse, positiveFlag, UsageError } from './flags.js';
import { checkOut, checkReadable, checkWritableDir, dataIn } from './files.js';
import { engine } from '../scheduler/engine.js';
import type { DeviceName } from '../graph/node.js';

const common = {
  model: { type: 'string' },
  data: { type: 'string' },
  'batch-size': { type: 'string', default: '256' },
  seed: { type: 'string', default: '0' },
  'no-install': { type: 'boolean', default: false },
  device: { type: 'string', default: 'cpu' },
} as const;

/** --device: where the model computes ('auto': a hardware GPU if there is one). */
export async function deviceFlag(command: string, s: string): Promise<DeviceName> {
  if (s !== 'cpu' && s !== 'webgpu' && s !== 'auto') throw new UsageError(`born ${command}: --device must be cpu, webgpu or auto, got '${s}'`);
  return engine.setDefaultDevice(s);
}

const MODEL_LIST = Object.keys(MODELS).join(', ');

function modelName(command: string, s: string): ModelName {
  if (!isModelName(s)) throw new UsageError(`born ${command}: --model must be one of ${MODEL_LIST}, got '${s}'`);
  return s;
}

/**
 * Both splits: from --data DIR only (never another directory), or, without it, from Debian's
 * directory, which root may install. Installing needs root and apt; otherwise the error says
 * where to put the files.
 */
async function data(files: FashionMnistFiles | undefined, install: boolean) {
  return files ? readFashionMnistFiles(files) : loadFashionMnist({ install: install && process.getuid?.() === 0 });
}

/** `born train`; `values` are checked (numbers, paths, --out's contents) before any work. */
export async function trainCommand(argv: string[]): Promise<number> {
  // --model gpt trains on a text file and takes flags of its own (src/cli/train-gpt.ts).
  if (argv.some((a, i) => a === '--model=gpt' || (a === '--model' && argv[i + 1] === 'gpt'))) {
    return (await import('./train-gpt.js')).trainGptCommand(argv);
  }
  const { values } = parse('train', argv, {
    ...common,
    epochs: { type: 'string', default: '2' },
    lr: { type: 'string', default: '0.001' },
    out: { type: 'string', default: 'model.safetensors' },
    force: { type: 'boolean', default: false },
    checkpoint: { type: 'string' },
    resume: { type: 'string' },
    limit: { type: 'string' },
  });
  const name = modelName('train', values.model ?? 'mlp');
  const seed = intFlag('train', 'seed', values.seed, 0);
  const epochs = intFlag('train', 'epochs', values.epochs, 1);
  const batchSize = intFlag('train', 'batch-size', values['batch-size'], 1);
  const lr = positiveFlag('train', 'lr', values.lr);
  const limit = values.limit === undefined ? undefined : intFlag('train', 'limit', values.limit, 1);
  const out = values.out!;
  await checkOut(out, name, values.force!);
  if (values.checkpoint !== undefined) await checkWritableDir('train', 'checkpoint', values.checkpoint);
  if (values.resume !== undefined) await checkReadable('train', 'resume', values.resume);
  const dataFiles = values.data === undefined ? undefined : dataIn('train', values.data);

  manualSeed(seed);
  const { train, test, files } = await data(dataFiles, !values['no-install']);
  console.log(`data: ${files.dir} (${train.n} train, ${test.n} test); model: ${name}; seed ${seed}`);
  const trainSet = train.dataset(), testSet = test.dataset();
  const loader = new DataLoader(limit ? subset(trainSet, limit) : trainSet, { batchSize, shuffle: true, seed });
  const evalLoader = new DataLoader(limit ? subset(testSet, limit) : testSet, { batchSize: 1000 });
  const device = await deviceFlag('train', values.device!);
  // Initialised on the CPU and moved: the same seed gives the same starting weights on every device.
  const model = MODELS[name]();
  await model.realize();
  model.to(device);
  console.log(`device: ${device}`);
  const opt = new Adam(model.parameters(), { lr });
  const trainer = new Trainer(model, opt, loader);
  await trainer.fit({
    epochs, evalLoader,
    ...(values.checkpoint ? { checkpoint: values.checkpoint } : {}),
    ...(values.resume ? { resume: values.resume } : {}),
  });
  await save(model.stateDict(), out, { metadata: { model: name } });
  console.log(`wrote ${out} (model ${name})`);
  return 0;
}

/** `born eval`: the model comes from --model or from the weights file's metadata. */
export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parse('eval', argv, { ...common, weights: { type: 'string' } });
  if (values.weights === undefined) throw new UsageError('born eval: --weights FILE is required (a .safetensors file written by born train)');
  const given = values.model === undefined ? undefined : modelName('eval', values.model);
  const batchSize = intFlag('eval', 'batch-size', values['batch-size'], 1);
  intFlag('eval', 'seed', values.seed, 0);
  await checkReadable('eval', 'weights', values.weights);
  const dataFiles = values.data === undefined ? undefined : dataIn('eval', values.data);
  const { tensors, metadata } = await loadWithMetadata(values.weights);
  const stored = metadata.model;
  if (stored !== undefined && !isModelName(stored)) {
    throw new UsageError(`born eval: ${values.weights} holds a model named '${stored}' in its metadata; born knows ${MODEL_LIST}`);
  }
  if (given && stored && given !== stored) {
    throw new UsageError(`born eval: --model ${given}, but ${values.weights} holds the weights of model '${stored}' (leave out --model to use it)`);
  }
  const name = given ?? stored;
  if (!name) throw new UsageError(`born eval: ${values.weights} names no model in its metadata; pass --model (${MODEL_LIST})`);
  const device = await deviceFlag('eval', values.device!);
  const model = MODELS[name]();
  model.loadStateDict(tensors);
  await model.realize();
  model.to(device);
  const { test } = await data(dataFiles, !values['no-install']);
  const m = await evaluate(model, new DataLoader(test.dataset(), { batchSize }));
  console.log(`model ${name}: test loss ${m.loss.toFixed(4)}, test accuracy ${(100 * m.accuracy).toFixed(2)}% (${test.n} examples)`);
  return 0;
}

/** The first n examples (for quick runs). */
const subset = (ds: TensorDataset, n: number): Subset<Example> =>
  new Subset(ds, Array.from({ length: Math.min(n, ds.length) }, (_, i) => i));
