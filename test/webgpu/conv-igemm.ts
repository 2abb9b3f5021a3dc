/**
 * Shared by the implicit-GEMM conv2d tests (conv-igemm*.test.ts): a graph built on the CPU and
 * on WebGPU from the same inputs, the outputs of both and the WebGPU plan's kernels.
 */
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

function lcg(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
type Device = 'cpu' | 'webgpu';
const f32 = (shape: number[], seed: number, device: Device = 'cpu'): Tensor =>
  born.tensor(lcg(shape.reduce((a, d) => a * d, 1), seed), { shape, device });

/** Builds the graph on a device; `at` makes its inputs there (leaves of its own, not transfers). */
export type Make = (at: (shape: number[], seed: number) => Tensor) => Tensor[];

/** The outputs of `make` on both devices, and the WebGPU plan's kernels. */
export async function both(make: Make): Promise<{ cpu: number[][]; gpu: number[][]; ops: string[][] }> {
  const cpu = make((shape, seed) => f32(shape, seed)), gpu = make((shape, seed) => f32(shape, seed, 'webgpu'));
  gpu.forEach((t) => expect(t.device).toBe('webgpu'));
  const ops = born.explain(...gpu).kernels.map((k) => [...k.ops]);
  const read = (ts: Tensor[]): Promise<number[][]> => Promise.all(ts.map(async (t) => Array.from(await t.data() as Float32Array, Number)));
  return { cpu: await read(cpu), gpu: await read(gpu), ops };
}

export function within(r: { cpu: number[][]; gpu: number[][] }, rel: number): void {
  r.cpu.forEach((c, i) => {
    const scale = Math.max(1e-30, ...c.map(Math.abs));
    expect(r.gpu[i]!.length).toBe(c.length);
    r.gpu[i]!.forEach((g, j) => {
      if (!(Math.abs(g - c[j]!) <= rel * scale)) expect({ output: i, at: j, gpu: g, cpu: c[j] }).toBe('within tolerance');
    });
  });
}

export const noIm2col = (ops: string[][]): void => {
  expect(ops.some((k) => k.includes('im2col') && k.includes('matmul'))).toBe(true);
  expect(ops.filter((k) => k.includes('im2col') && !k.includes('matmul'))).toEqual([]);
};
