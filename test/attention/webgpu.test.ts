// WebGPU parity of the transformer blocks: the fused attention kernel (WGSL) against the naive
// reference and the CPU's kernel, and rotary embeddings (both pairings, one fused kernel each)
// against the CPU: a handful of pipelines, ~7 s with a cold shader cache on lavapipe. A small
// LlamaDecoderLayer (grouped-query attention, SwiGLU, RMSNorm) against the CPU compiles a dozen
// shaders, its matmuls slowly (~60 s cold on lavapipe), so it runs with BORN_LLM_WEBGPU=1, as the
// tiny-model test does. Skips, saying why, without an adapter.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { webgpuSkipReason } from '../webgpu/adapter.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { maxAbsDiff, naiveAttention, type RefCase } from './reference.js';

const why = await webgpuSkipReason();

const F = born.nn.functional;
const gpu = (t: Tensor): Tensor => t.to('webgpu');

(why ? describe.skip : describe)(`attention, RoPE and a decoder layer on WebGPU${why ? ` (skipped: ${why})` : ''}`, () => {
  test('fused attention: grouped-query, causal, a bool mask and a runtime kvLength', async () => {
    const c: RefCase = { B: 1, H: 4, Hkv: 2, L: 7, S: 13, E: 8, Ev: 5 };
    const q = born.randn([1, 4, 7, 8], { seed: 1 }), k = born.randn([1, 2, 13, 8], { seed: 2 }), v = born.randn([1, 2, 13, 5], { seed: 3 });
    const [qd, kd, vd] = [await q.data(), await k.data(), await v.data()];
    // Every query keeps key 0 visible, so no row is empty.
    const mask = born.randn([7, 13], { seed: 4 }).gt(-0.6).logicalOr(born.arange(13).eq(0));
    const maskData = await mask.to('int32').data();
    const causal = F.scaledDotProductAttention(gpu(q), gpu(k), gpu(v), { isCausal: true, enableGqa: true });
    expect(causal.device).toBe('webgpu');
    const got = await causal.data();
    expect(maxAbsDiff(got, naiveAttention({ ...c, causal: true }, qd, kd, vd))).toBeLessThan(2e-6);
    expect(maxAbsDiff(got, await F.scaledDotProductAttention(q, k, v, { isCausal: true, enableGqa: true }).data())).toBeLessThan(2e-6);
    const run = (n: number): Promise<Float32Array> => F.scaledDotProductAttention(gpu(q), gpu(k), gpu(v), {
      attnMask: gpu(mask), enableGqa: true, isCausal: false, kvLength: born.scalar(n, { dtype: 'int32' }),
    }).data() as Promise<Float32Array>;
    expect(maxAbsDiff(await run(9), naiveAttention({ ...c, boolMask: maskData, kvLength: 9 }, qd, kd, vd))).toBeLessThan(2e-6);
    const compiles = born.engine.stats().kernelCompiles;
    expect(maxAbsDiff(await run(13), naiveAttention({ ...c, boolMask: maskData, kvLength: 13 }, qd, kd, vd))).toBeLessThan(2e-6);
    expect(born.engine.stats().kernelCompiles).toBe(compiles);
  }, 60_000);

  test('RotaryEmbedding (interleaved and half pairings) equals the CPU', async () => {
    const x = born.randn([2, 3, 5, 8], { seed: 7 });
    for (const pairing of ['interleaved', 'half'] as const) {
      const rope = born.nn.RotaryEmbedding(8, 16, { pairing });
      const cpu = await rope.forward(x, 3).data();
      rope.to('webgpu');
      expect(maxAbsDiff(await rope.forward(gpu(x), 3).data(), cpu)).toBeLessThan(1e-5);
    }
  }, 60_000);

  const layerWhy = process.env.BORN_LLM_WEBGPU === '1' ? '' : ' (skipped: set BORN_LLM_WEBGPU=1, ~60 s of shader compiles on a software adapter)';
  (layerWhy ? test.skip : test)(`LlamaDecoderLayer (GQA, SwiGLU, RMSNorm, RoPE) equals the CPU${layerWhy}`, async () => {
    born.manualSeed(5);
    const layer = born.nn.LlamaDecoderLayer(16, 4, 24, { numKvHeads: 2, maxPositions: 16 });
    const x = born.randn([1, 6, 16], { seed: 8 });
    const cpu = await layer.forward(x).data();
    layer.to('webgpu');
    const y = layer.forward(gpu(x));
    expect(y.device).toBe('webgpu');
    expect(maxAbsDiff(await y.data(), cpu)).toBeLessThan(1e-5);
  }, 240_000);
});
