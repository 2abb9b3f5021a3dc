/**
 * The WGSL forms chosen for larger loops, against the CPU device: an elementwise kernel of at
 * least 2^16 elements (several elements an invocation, the last workgroup partly empty) and a
 * column reduction over many outputs (an invocation per output, not a workgroup tree).
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

const ramp = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919) % 2003) / 1001.5 - 1);

describe('wide forms on webgpu match the CPU', () => {
  it('an elementwise chain over 2^16 + 3 elements', async () => {
    const n = (1 << 16) + 3;
    const run = async (device: 'cpu' | 'webgpu'): Promise<Float32Array> => {
      const x = born.tensor(ramp(n), { device });
      return (await x.mul(1.5).add(0.25).abs().sqrt().data()) as Float32Array;
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(cpu[i]! - gpu[i]!) / (1 + Math.abs(cpu[i]!)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('a column sum of 300 outputs over 256 rows, and a row sum of the same', async () => {
    const run = async (device: 'cpu' | 'webgpu'): Promise<number[][]> => {
      const x = born.tensor(ramp(256 * 300), { device }).reshape([256, 300]);
      return [Array.from(await x.sum(0).data()), Array.from(await x.sum(1).data())];
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    cpu.forEach((want, j) => want.forEach((w, i) => expect(Math.abs(gpu[j]![i]! - w)).toBeLessThan(1e-4 * (1 + Math.abs(w)))));
  });
});
