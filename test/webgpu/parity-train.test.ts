/**
 * Parity of one training step between the CPU and WebGPU devices (issue 10): the MLP and the CNN
 * of `born train` (src/cli/models.ts), the same initial parameters and batch on each device,
 * forward, cross-entropy, backward and an optimizer update; loss, every gradient and every
 * parameter after the step compared. These run by default, matmuls and all (about 85 s with
 * every shader compiled cold on a software adapter); the per-op matmul cases of the other parity
 * files stay behind BORN_PARITY_MATMUL=1.
 */
import { afterEach, describe, expect } from 'vitest';
import * as born from '../../src/index.js';
import { MODELS, type ModelName } from '../../src/cli/models.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { TOL, expectSame, parityIt, printTally, values } from './parity.js';

type Device = 'cpu' | 'webgpu';
const BATCH = 4;
const pixels = values({ shape: [BATCH, 1, 28, 28], dtype: 'float32', gen: 'prob' }, 'images');
const labels = [3, 7, 0, 9];

interface Step { loss: Tensor; grads: Tensor[]; params: Tensor[] }

/** One step of `model` on `device` with the optimizer `opt` makes; the model starts from seed 7 on the CPU. */
async function step(name: ModelName, device: Device, optimizer: 'adam' | 'sgd'): Promise<Step> {
  born.manualSeed(7);
  const model = MODELS[name]();
  model.to(device);
  const params = model.parameters();
  const opt = optimizer === 'adam' ? new born.optim.Adam(params, { lr: 1e-3 }) : new born.optim.SGD(params, { lr: 0.05, momentum: 0.9 });
  const x = born.tensor(pixels, { device }).reshape([BATCH, 1, 28, 28]);
  const y = born.tensor(labels, { dtype: 'int32', device });
  opt.zeroGrad();
  const loss = born.nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  const grads = params.map((p) => p.grad!.mul(1));
  await born.realize(loss, ...grads);
  opt.step();
  await born.realize(...params);
  return { loss, grads, params };
}

afterEach(async () => { await born.setDefaultDevice('cpu'); });
printTally('parity-train: training steps');

describe('one training step gives the same parameters on webgpu and cpu', () => {
  for (const [name, optimizer] of [['mlp', 'adam'], ['mlp', 'sgd'], ['cnn', 'sgd'], ['cnn', 'adam']] as const) {
    parityIt(`${name} + ${optimizer}: loss, gradients and updated parameters (rtol ${TOL.train})`, 'train', async () => {
      const cpu = await step(name, 'cpu', optimizer);
      const gpu = await step(name, 'webgpu', optimizer);
      expect(gpu.params.every((p) => p.device === 'webgpu')).toBe(true);
      await expectSame(`${name} loss`, [cpu.loss], [gpu.loss], TOL.train);
      await expectSame(`${name} gradients`, cpu.grads, gpu.grads, TOL.train);
      await expectSame(`${name} parameters after ${optimizer}`, cpu.params, gpu.params, TOL.train);
    });
  }
});
