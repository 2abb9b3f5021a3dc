// The CNN of `born train --model cnn` (src/cli/models.ts): its forward pass on the WebGPU device,
// with and without implicit GEMM (scheduler/window-operand.ts), one batch size per process so
// that the device's memory counters start from nothing. Prints one JSON line: the median and
// every time of `reps` forwards (each `await y.data()`, after one warm-up forward that compiles
// the pipelines), the GPU memory the device holds (live buffers and its free list, which keeps
// every size it has freed: after the runs, the most it ever held) before and after the forwards,
// and the kernels of the plan.
//
//   node dist-bench/bench/webgpu-conv.js [--batch 64] [--reps 3] [--no-igemm] [--train]
//     --no-igemm   the device reports no window operands: im2col writes the patches (the CPU's plan)
//     --train      a training step (forward, cross-entropy, backward, SGD) instead of a forward
//
// Measured on lavapipe (Mesa 25, 2 shared cores under a load of 10-18, so the times are noisy),
// with / without implicit GEMM: forward batch 64 261 / 509 ms (medians of 5), GPU memory held
// 10.0 / 21.3 MiB; batch 256 3062 / 3944 ms, 37.3 / 82.5 MiB; a training step at batch 64
// 2600 / 5620 ms (medians of 3), 53.3 / 84.2 MiB.
import { performance } from 'node:perf_hooks';
import * as born from '../src/index.js';
import { MODELS } from '../src/cli/models.js';
import type { Device, DeviceLimits } from '../src/devices/device.js';
import type { WebGpuDevice } from '../src/devices/webgpu/device.js';

const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? undefined : process.argv[i + 1]; };
const batch = Number(arg('batch') ?? 64);
const reps = Number(arg('reps') ?? 3);
const igemm = !process.argv.includes('--no-igemm');
const train = process.argv.includes('--train');

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

await born.setDefaultDevice('webgpu');
const device = born.engine.device('webgpu') as Device & WebGpuDevice;
if (!igemm) {
  // The limits without the capability: what a device that does not set it gets planned.
  const limits = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(device), 'limits')!.get!;
  Object.defineProperty(device, 'limits', { get: (): DeviceLimits => ({ ...(limits.call(device) as DeviceLimits), windowOperands: false }) });
}
born.manualSeed(7);
const model = MODELS.cnn();
model.to('webgpu');
const params = model.parameters();
const opt = new born.optim.SGD(params, { lr: 0.01 });
const x = born.rand([batch, 1, 28, 28], { seed: 1 });
const labels = born.randint(0, 10, [batch], { seed: 2 });
const [xg, yg] = [x.to('webgpu'), labels.to('webgpu')];
await born.realize(xg, yg, ...params);

async function once(): Promise<void> {
  if (!train) {
    const y = born.noGrad(() => model.forward(xg));
    await y.data();
    y.dispose();
    return;
  }
  opt.zeroGrad();
  const loss = born.nn.functional.crossEntropy(model.forward(xg), yg);
  loss.backward();
  opt.step();
  await loss.item();
}

const kernels = train ? [] : born.noGrad(() => born.explain(model.forward(xg)).kernels.map((k) => `${k.name} [${k.ops.join(', ')}]`));
const heldBefore = device.memory().heldBytes;
await once();
const times: number[] = [];
for (let i = 0; i < reps; i++) {
  const t0 = performance.now();
  await once();
  times.push(performance.now() - t0);
}
const mem = device.memory();
console.log(JSON.stringify({
  batch, igemm, train, medianMs: Math.round(median(times)), timesMs: times.map(Math.round),
  heldBeforeMiB: +(heldBefore / 2 ** 20).toFixed(1), heldAfterMiB: +(mem.heldBytes / 2 ** 20).toFixed(1), kernels,
}));
await born.engine.shutdown();
