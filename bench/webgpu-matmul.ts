// The WGSL matmul kernel timed directly on the process's WebGPU device (no scheduler): square
// fp32 matmuls, `reps` dispatches in one compute pass and one submit, the median over `runs`
// submits, as GFLOP/s; beside it TensorFlow.js's WebGPU backend on the same adapter.
//
//   node dist-bench/bench/webgpu-matmul.js [--sizes 256,1024,2048] [--runs 5] [--no-tfjs]
//     [--tile wx,wy,tm,tn,bk]   force one tile shape (tuning)
import { performance } from 'node:perf_hooks';
import { acquireGpu, webgpuRoot } from '../src/devices/webgpu/gpu.js';
import { chooseTile, printMatmulWith, type MatmulTile } from '../src/devices/webgpu/wgsl/matmul.js';
import type { WgslOptions } from '../src/devices/webgpu/wgsl/program.js';
import type { Kernel } from '../src/kernel/ir.js';

const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? undefined : process.argv[i + 1]; };
const sizes = (arg('sizes') ?? '256,1024,2048').split(',').map(Number);
const runs = Number(arg('runs') ?? 5);
const forced = arg('tile')?.split(',').map(Number);
const withTfjs = !process.argv.includes('--no-tfjs');

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

function squareKernel(n: number): Kernel {
  return {
    name: `MM_${n}`, out: { dtype: 'float32', shape: [n, n] }, inputs: ['float32', 'float32'], loop: [n, n], reduce: null,
    matmul: { batch: 1, M: n, N: n, K: n, a: { input: 1, offset: 0, sBatch: 0, sRow: n, sCol: 1 }, b: { input: 2, offset: 0, sBatch: 0, sRow: n, sCol: 1 } },
    value: { k: 'acc', dtype: 'float32' }, params: [], outIndex: null, ops: ['matmul'], flops: 2 * n ** 3, bytes: 12 * n * n,
  };
}

/** Dispatches per submit: about a second of work at 5 GFLOP/s on a software adapter, at least 2. */
const repsFor = (n: number): number => Math.max(2, Math.min(50, Math.round(5e9 / (2 * n ** 3))));

async function timeBorn(n: number): Promise<{ gflops: number; tile: MatmulTile }> {
  const gpu = await acquireGpu();
  const { device, limits } = gpu;
  const o: WgslOptions = {
    alias: [], f16: gpu.f16, maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup, maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
  };
  const k = squareKernel(n);
  const tile: MatmulTile = forced ? { wx: forced[0]!, wy: forced[1]!, tm: forced[2]!, tn: forced[3]!, bk: forced[4]! } : chooseTile(k.matmul!, o);
  const p = printMatmulWith(k, o, tile);
  const bufs = [0, 1, 2].map(() => device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
  const x = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
  device.queue.writeBuffer(bufs[1]!, 0, x);
  device.queue.writeBuffer(bufs[2]!, 0, x);
  const module = device.createShaderModule({ code: p.code });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: p.entry } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: p.slots.map((s, b) => ({ binding: b, resource: { buffer: bufs[s]! } })) });
  const submit = async (reps: number): Promise<number> => {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline); pass.setBindGroup(0, group);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(...p.workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await submit(1);
  const reps = repsFor(n);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await submit(reps)) / reps);
  for (const b of bufs) b.destroy();
  return { gflops: (2 * n ** 3) / (median(times) * 1e6), tile };
}

interface Tf {
  setBackend(b: string): Promise<boolean>; ready(): Promise<void>;
  randomUniform(shape: number[]): TfTensor; matMul(a: TfTensor, b: TfTensor): TfTensor;
}
interface TfTensor { data(): Promise<unknown>; dispose(): void }

async function loadTfjs(): Promise<Tf> {
  await acquireGpu();
  // tfjs-backend-webgpu finds WebGPU on navigator.gpu; the device's own GPU object serves it.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpuRoot() }, configurable: true, writable: true });
  const tf = (await import('@tensorflow/tfjs-core')) as unknown as Tf;
  await import('@tensorflow/tfjs-backend-webgpu');
  await tf.setBackend('webgpu');
  await tf.ready();
  return tf;
}

async function timeTfjs(tf: Tf, n: number): Promise<number> {
  const a = tf.randomUniform([n, n]), b = tf.randomUniform([n, n]);
  const once = async (reps: number): Promise<number> => {
    const t0 = performance.now();
    const outs: TfTensor[] = [];
    for (let r = 0; r < reps; r++) outs.push(tf.matMul(a, b));
    await outs[outs.length - 1]!.data();
    for (const o of outs) o.dispose();
    return performance.now() - t0;
  };
  await once(1);
  const reps = repsFor(n);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await once(reps)) / reps);
  a.dispose(); b.dispose();
  return (2 * n ** 3) / (median(times) * 1e6);
}

const gpu = await acquireGpu();
console.log(`adapter: ${gpu.adapterName}; ${runs} submits per size, median`);
const tf = withTfjs ? await loadTfjs() : null;
for (const n of sizes) {
  const born = await timeBorn(n);
  const t = born.tile;
  let line = `matmul fp32 ${n}: born ${born.gflops.toFixed(2)} GFLOP/s (tile ${t.wy * t.tm}x${t.wx * t.tn}, ${t.wx}x${t.wy} invocations of ${t.tm}x${t.tn}, bk ${t.bk})`;
  if (tf) line += `; tfjs-webgpu ${(await timeTfjs(tf, n)).toFixed(2)} GFLOP/s`;
  console.log(line);
}
gpu.device.destroy();
