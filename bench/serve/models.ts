// The bench's model files: born train's MLP and CNN (src/cli/models.ts) with seeded random
// weights, as a Born safetensors file whose metadata names the model (what born serve reads) and
// as the same model exported to ONNX with born.onnx.save (what the onnxruntime-node server reads):
// input 'input' [batch, 1, 28, 28], output 'logits' [batch, 10], as `born export` writes them.
import path from 'node:path';
import { MODELS, type ModelName } from '../../src/cli/models.js';
import { save } from '../../src/io/safetensors.js';
import { save as saveOnnx } from '../../src/onnx/export/save.js';
import { manualSeed, randn } from '../../src/tensor/creation.js';
import { copyOnnxSchema } from '../common.js';

export interface ModelFiles { safetensors: string; onnx: string }

export async function writeModels(dir: string, names: readonly ModelName[]): Promise<Record<string, ModelFiles>> {
  copyOnnxSchema();
  const out: Record<string, ModelFiles> = {};
  for (const name of names) {
    manualSeed(0);
    const model = MODELS[name]();
    await model.realize();
    const files = { safetensors: path.join(dir, `${name}.safetensors`), onnx: path.join(dir, `${name}.onnx`) };
    await save(model.stateDict(), files.safetensors, { metadata: { model: name } });
    await saveOnnx(model, randn([1, 1, 28, 28]), files.onnx, { dynamicBatch: true, inputNames: ['input'], outputNames: ['logits'] });
    out[name] = files;
  }
  return out;
}
