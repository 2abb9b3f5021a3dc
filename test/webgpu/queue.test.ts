/**
 * The command stream of the WebGPU device (queue.ts): the dispatches of one schedule share one
 * uniform buffer, each at its own offset, and each still reads its own runtime scalars, in order,
 * also when a schedule's uniforms outgrow one buffer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { WebGpuDevice } from '../../src/devices/webgpu/device.js';

const gpuDevice = (): WebGpuDevice => born.engine.device('webgpu') as WebGpuDevice;

/** `steps` reductions in a chain, each scaling by its own runtime scalar: t ← sum(expand(t) · v). */
function chain(start: born.Tensor, factors: readonly number[]): born.Tensor {
  let t = start;
  for (const v of factors) t = t.reshape([1]).expand([4]).mul(born.scalar(v)).sum();
  return t;
}

afterEach(async () => { await born.setDefaultDevice('cpu'); });

describe('webgpu command queue', () => {
  it('one schedule: one uniform buffer, each dispatch reading its own scalars', async () => {
    const x = born.tensor([1, 2, 3, 4], { device: 'webgpu' });
    await born.realize(x);
    // Warm: the pipelines exist, so the counted schedule only encodes.
    const factors = [0.25, 0.5, 0.125, 1];
    await chain(x.sum(), factors).data();
    const before = gpuDevice().commandStats();
    const out = await chain(x.sum(), factors).data();
    const after = gpuDevice().commandStats();
    // 10 · 4·0.25 · 4·0.5 · 4·0.125 · 4·1: exact in float32.
    expect(Array.from(out)).toEqual([10 * 1 * 2 * 0.5 * 4]);
    expect(after.dispatches - before.dispatches).toBeGreaterThanOrEqual(factors.length);
    expect(after.uniformBuffers - before.uniformBuffers).toBe(1);
  });

  it('a schedule whose uniforms outgrow one buffer gets another, and every scalar lands where it belongs', async () => {
    const x = born.tensor([0.25, 0.25, 0.25, 0.25], { device: 'webgpu' });
    // Factors of 4·v ∈ {1, 2}: the exact result is 2^(number of 0.5s).
    const factors = Array.from({ length: 70 }, (_, i) => (i % 7 === 0 ? 0.5 : 0.25));
    const halves = factors.filter((v) => v === 0.5).length;
    await chain(x.sum(), factors.slice(0, 2)).data();
    const before = gpuDevice().commandStats();
    const out = await chain(x.sum(), factors).data();
    const after = gpuDevice().commandStats();
    expect(Array.from(out)).toEqual([2 ** halves]);
    expect(after.dispatches - before.dispatches).toBeGreaterThan(64);
    expect(after.uniformBuffers - before.uniformBuffers).toBe(2);
  });
});
