// Packed ggml weights on WebGPU (the WGSL matmul dequantising its tile as it copies it) against
// the same naive dequantise-then-matmul as the CPU tests: one product per format (q8_0 batch 1,
// q4_0 batch 8 with a byte count that is no multiple of 4, q4_K batch 2), three pipelines (~15 s
// on lavapipe). Skips where there is no adapter.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { quantizedWeight, quantLinear } from '../../src/quant/index.js';
import { dequantize, matmulT, randomBlocks, randomInput, relError, type Format } from './reference.js';

let why = '';
try {
  await born.setDefaultDevice('webgpu');
  await born.setDefaultDevice('cpu');
} catch (e) {
  why = (e as Error).message.split('\n')[0]!;
}

(why ? describe.skip : describe)(`packed weights on WebGPU${why ? ` (skipped: ${why})` : ''}`, () => {
  const cases: [Format, number, number, number][] = [['q8_0', 1, 37, 64], ['q4_0', 8, 5, 96], ['q4_K', 2, 3, 256]];
  test.each(cases)('%s: x [%i, in] · W [%i, %i]ᵀ', async (format, m, n, k) => {
    const bytes = randomBlocks(format, n, k, n + k);
    const x = randomInput(m * k, m);
    const w = quantizedWeight(bytes, format, [n, k], { device: 'webgpu' });
    const y = quantLinear(born.tensor(x, { shape: [m, k], device: 'webgpu' }), w);
    expect(y.device).toBe('webgpu');
    expect(born.explain(y).kernels).toHaveLength(1);
    expect(relError(await y.data() as Float32Array, matmulT(x, dequantize(bytes, format, n, k), m, n, k))).toBeLessThan(2e-6);
  });
});
