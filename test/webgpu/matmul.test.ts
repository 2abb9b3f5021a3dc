/**
 * The WGSL matmul printer against the CPU device: kernels taken from real graphs (planFor), run
 * over the same input data with runProgram, compared with the CPU result of the same graph.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { chooseTile, printMatmul, printMatmulWith, type MatmulTile } from '../../src/devices/webgpu/wgsl/matmul.js';
import type { WgslOptions } from '../../src/devices/webgpu/wgsl/program.js';
import type { Kernel } from '../../src/kernel/ir.js';
import { planFor, readNode } from '../../src/scheduler/realize.js';
import { walk } from '../../src/scheduler/plan-key.js';
import { runOnGpu } from './plan-run.js';
import { runProgram } from './run-program.js';

let seed = 1;
/** Small integers and halves: sums of products are exact in f32, so any summation order agrees. */
function data(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) % 2147483648; return ((seed >> 8) % 9) / 2 - 2; });
}

async function leaf(shape: number[], dtype: 'float32' | 'float16' | 'bfloat16' = 'float32'): Promise<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  const t: Tensor = born.tensor(data(n), { shape, dtype });
  await t.data();
  return t;
}

async function options(): Promise<WgslOptions> {
  const { limits, f16 } = await acquireGpu();
  return {
    alias: [], f16, maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup, maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
  };
}

/** Runs y's matmul kernel (its last step) on WebGPU over its inputs' data; returns it with the CPU result. */
async function gpuAndCpu(y: Tensor, tile?: MatmulTile): Promise<{ gpu: number[]; cpu: number[]; kernel: Kernel }> {
  const plan = planFor([y.node]);
  const order = walk([y.node]).order;
  const step = plan.steps[plan.steps.length - 1]!;
  const kernel = step.kernel;
  expect(kernel.matmul, `the last step of ${kernel.ops.join(',')} is a matmul`).not.toBeNull();
  const inputs = await Promise.all(step.inputIdx.map(async (ix, j) => ({ dtype: kernel.inputs[j]!, data: await readNode(order[ix]!) })));
  const o = await options();
  const prog = tile ? printMatmulWith(kernel, o, tile) : printMatmul(kernel, o);
  const n = kernel.out.shape.reduce((a, b) => a * b, 1);
  const [out] = await runProgram(prog, [{ dtype: kernel.out.dtype, count: n }, ...inputs]);
  // Storage as the CPU device holds it (half types as their bits).
  const cpu = Array.from(await readNode(y.node) as ArrayLike<number>, Number);
  return { gpu: Array.from(out as unknown as ArrayLike<number>, Number), cpu, kernel };
}

function close(gpu: readonly number[], cpu: readonly number[], rtol = 1e-4): void {
  expect(gpu.length).toBe(cpu.length);
  const scale = Math.max(1, ...cpu.map(Math.abs));
  const bad = gpu.findIndex((g, i) => !(Math.abs(g - cpu[i]!) <= rtol * scale));
  expect(bad, bad < 0 ? '' : `element ${bad}: gpu ${gpu[bad]} cpu ${cpu[bad]}`).toBe(-1);
}

describe('WGSL matmul printer', () => {
  it.each([
    [[1, 64], [64, 10]], [[7, 13], [13, 5]], [[128, 256], [256, 64]], [[3, 17, 9], [3, 9, 11]], [[130, 40], [40, 133]],
  ])('%j x %j matches the CPU', async (sa, sb) => {
    const a = await leaf(sa), b = await leaf(sb);
    const { gpu, cpu } = await gpuAndCpu(a.matmul(b));
    close(gpu, cpu);
  });

  it('reads transposed operands through their strides', async () => {
    const a = await leaf([13, 7]), b = await leaf([5, 13]);
    const { gpu, cpu, kernel } = await gpuAndCpu(a.T.matmul(b.T));
    expect(kernel.matmul!.a.sRow).toBe(1);
    expect(kernel.matmul!.b.sCol).toBe(13);
    close(gpu, cpu);
  });

  it('broadcasts a batch (stride 0)', async () => {
    const a = await leaf([4, 6, 9]), b = await leaf([9, 11]);
    const { gpu, cpu, kernel } = await gpuAndCpu(a.matmul(b));
    expect(kernel.matmul!.b.sBatch).toBe(0);
    close(gpu, cpu);
  });

  it('handles edge tiles of every tile shape for odd M, N, K', async () => {
    const a = await leaf([2, 37, 21]), b = await leaf([2, 21, 45]);
    const tiles: MatmulTile[] = [{ wx: 8, wy: 8, tm: 16, tn: 16, bk: 8 }, { wx: 4, wy: 2, tm: 3, tn: 8, bk: 5 }, { wx: 16, wy: 1, tm: 2, tn: 4, bk: 16 }];
    for (const t of tiles) {
      const { gpu, cpu } = await gpuAndCpu(a.matmul(b), t);
      close(gpu, cpu);
    }
  });

  it('fuses an epilogue (bias add, relu) and an operand prologue', async () => {
    const a = await leaf([9, 12]), b = await leaf([12, 10]), bias = await leaf([10]);
    const { gpu, cpu, kernel } = await gpuAndCpu(a.mul(2).sub(1).matmul(b).add(bias).relu());
    expect(kernel.ops).toEqual(expect.arrayContaining(['matmul', 'add', 'relu']));
    expect(kernel.matmul!.a.prologue).toBeDefined();
    expect(gpu.some((x) => x === 0) && gpu.some((x) => x > 0)).toBe(true);
    close(gpu, cpu);
  });

  it('reads vec4 words of transposed operands and runs batched epilogues over 3-D outputs', async () => {
    const a = await leaf([2, 20, 12]), b = await leaf([2, 16, 20]), bias = await leaf([2, 12, 1]);
    const y = a.transpose(1, 2).matmul(b.transpose(1, 2)).mul(bias).neg();
    const { gpu, cpu, kernel } = await gpuAndCpu(y);
    expect(kernel.matmul!.a.sRow).toBe(1);
    const code = printMatmul(kernel, await options()).code;
    expect(code).toContain('array<vec4<u32>>');
    close(gpu, cpu);
  });

  it('computes float16 and bfloat16 operands in f32 and rounds the output to the same bits', async () => {
    for (const d of ['float16', 'bfloat16'] as const) {
      const a = await leaf([5, 24], d), b = await leaf([24, 7], d), bias = await leaf([7], d);
      const { gpu, cpu, kernel } = await gpuAndCpu(a.matmul(b).mul(bias.add(0.3)));
      expect(kernel.out.dtype).toBe(d);
      expect(gpu).toEqual(cpu);
    }
  });

  it('runs whole graphs: a two-layer MLP with runtime scalars, plan step by step', async () => {
    const x = await leaf([3, 16]), w1 = await leaf([16, 32]), w2 = await leaf([32, 4]);
    const h = x.matmul(w1).mul(born.scalar(0.5)).relu();
    const { gpu, cpu, kernels } = await runOnGpu([h.matmul(w2).softmax(-1)]);
    expect(kernels.filter((k) => k.matmul).length).toBe(2);
    close(Array.from(gpu[0]!, Number), Array.from(cpu[0]!, Number));
  });

  it('chooses a one-row tile for a single row and a 128x128 tile for large squares', () => {
    const o = { maxInvocationsPerWorkgroup: 256, maxWorkgroupStorageBytes: 16384 };
    expect(chooseTile({ M: 1, N: 4096, K: 4096 }, o)).toMatchObject({ wy: 1, tm: 1 });
    const big = chooseTile({ M: 1024, N: 1024, K: 1024 }, o);
    expect([big.wy * big.tm, big.wx * big.tn]).toEqual([128, 128]);
  });
});
