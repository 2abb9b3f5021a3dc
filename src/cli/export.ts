/** `born export`: weights written by born train as an ONNX model (born.onnx.save on the same model). */
import { loadWithMetadata } from '../io/safetensors.js';
import { ExportError } from '../onnx/export/errors.js';
import { save } from '../onnx/export/save.js';
import { randn } from '../tensor/creation.js';
import { checkReadable, checkWritableDir } from './files.js';
import { intFlag, parse, UsageError } from './flags.js';
import { isModelName, MODELS } from './models.js';

const MODEL_LIST = Object.keys(MODELS).join(', ');

export async function exportCommand(argv: string[]): Promise<number> {
  const { values } = parse('export', argv, {
    model: { type: 'string' },
    weights: { type: 'string' },
    out: { type: 'string', default: 'model.onnx' },
    batch: { type: 'string', default: '1' },
    'static-batch': { type: 'boolean', default: false },
    opset: { type: 'string', default: '17' },
  });
  if (values.weights === undefined) throw new UsageError('born export: --weights FILE is required (a .safetensors file written by born train)');
  if (values.model !== undefined && !isModelName(values.model)) throw new UsageError(`born export: --model must be one of ${MODEL_LIST}, got '${values.model}'`);
  const batch = intFlag('export', 'batch', values.batch, 1);
  const opset = intFlag('export', 'opset', values.opset, 17);
  const out = values.out!;
  await checkReadable('export', 'weights', values.weights);
  await checkWritableDir('export', 'out', out);
  const { tensors, metadata } = await loadWithMetadata(values.weights);
  const stored = metadata.model;
  if (stored !== undefined && !isModelName(stored)) {
    throw new UsageError(`born export: ${values.weights} holds a model named '${stored}' in its metadata; born knows ${MODEL_LIST}`);
  }
  if (values.model && stored && values.model !== stored) {
    throw new UsageError(`born export: --model ${values.model}, but ${values.weights} holds the weights of model '${stored}' (leave out --model to use it)`);
  }
  const name = values.model ?? stored;
  if (!name || !isModelName(name)) throw new UsageError(`born export: ${values.weights} names no model in its metadata; pass --model (${MODEL_LIST})`);
  const model = MODELS[name]();
  model.loadStateDict(tensors);
  const dynamicBatch = !values['static-batch'];
  try {
    // Both models read Fashion-MNIST images, [N, 1, 28, 28]; the values of the sample do not matter.
    await save(model, randn([batch, 1, 28, 28]), out, { opset, dynamicBatch, inputNames: ['input'], outputNames: ['logits'] });
  } catch (e) {
    if (e instanceof ExportError && /opset/.test(e.message)) throw new UsageError(`born export: ${e.message}`);
    throw e;
  }
  console.log(`wrote ${out} (model ${name}, input 'input' [${dynamicBatch ? 'batch' : batch}, 1, 28, 28], output 'logits', opset ${opset})`);
  return 0;
}
