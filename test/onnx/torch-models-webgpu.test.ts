/**
 * The PyTorch-exported models of torch-models.test.ts on the WebGPU device: outputs against
 * PyTorch's at both batch sizes, and the loss's gradients against PyTorch's for the MLP. Opt-in
 * (BORN_TORCH_WEBGPU=1): on the software adapter every kernel compiles through LLVM, about 10
 * minutes for the five tests on a busy 2-core machine (the LSTM alone about 3). Skipped, saying
 * so, where no adapter is found.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { parse } from '../../src/io/safetensors.js';

const DIR = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));
const TOL = 1e-5; // relative to PyTorch's largest magnitude; measured at most 8.2e-7 (the CNN)
const wanted = process.env['BORN_TORCH_WEBGPU'] === '1';
const adapter = wanted && await acquireGpu().then(() => true, () => false);

const npy = (name: string, f: string, device?: 'webgpu'): born.Tensor => {
  const a = born.readNpy(readFileSync(join(DIR, name, f)));
  return born.tensor(a.data as Float32Array, { shape: a.shape, dtype: a.dtype, device });
};
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0; let m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return Number.isNaN(d) ? Infinity : d / Math.max(m, 1e-30);
}

describe.skipIf(!adapter)(`PyTorch-exported models on WebGPU${wanted ? (adapter ? '' : ' (no adapter)') : ' (set BORN_TORCH_WEBGPU=1)'}`, () => {
  for (const name of ['mlp', 'cnn', 'transformer', 'lstm']) {
    it(`${name}: PyTorch's outputs at batch 3 and 5`, async () => {
      const model = await born.onnx.load(join(DIR, name, 'model.onnx'), { device: 'webgpu' });
      for (const b of [3, 5]) {
        const y = (await model.run({ x: npy(name, `x_b${b}.npy`, 'webgpu') })).y!;
        expect(y.device).toBe('webgpu');
        expect(relErr(await y.data() as Float32Array, await npy(name, `y_b${b}.npy`).data() as Float32Array), `batch ${b}`).toBeLessThan(TOL);
      }
    }, 600_000);
  }

  it('mlp: PyTorch\'s gradients of the cross-entropy', async () => {
    const model = await born.onnx.load(join(DIR, 'mlp', 'model.onnx'), { device: 'webgpu' });
    const params = model.parameters();
    const names = [...params.keys()];
    const y = (await model.run({ x: npy('mlp', 'x_b3.npy', 'webgpu') })).y!;
    const loss = born.nn.functional.crossEntropy(y, npy('mlp', 'target.npy', 'webgpu').to('int32'));
    const grads = born.grad(loss, names.map((k) => params.get(k)!));
    const want = parse(readFileSync(join(DIR, 'mlp', 'grads.safetensors'))).tensors;
    for (const [i, k] of names.entries()) expect(relErr(await grads[i]!.data() as Float32Array, want[k]!.data as Float32Array), k).toBeLessThan(TOL);
  }, 600_000);
});
