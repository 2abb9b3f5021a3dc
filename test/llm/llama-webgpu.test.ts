// The tiny llama2.c model on WebGPU (Dawn on whatever adapter is here, lavapipe on CPU-only
// machines) against the PyTorch goldens and the CPU: rotary embeddings, grouped-query attention,
// SwiGLU and RMSNorm through the WGSL printer. Compiling its ~40 shaders takes ~110 s on lavapipe,
// so it runs only with BORN_LLM_WEBGPU=1 (and skips, saying why, where there is no adapter).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { webgpuSkipReason } from '../webgpu/adapter.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const why = await webgpuSkipReason(process.env.BORN_LLM_WEBGPU === '1' ? '' : 'set BORN_LLM_WEBGPU=1 to run it (~110 s of shader compiles on a software adapter)');

(why ? describe.skip : describe)(`llama2.c tiny model on WebGPU${why ? ` (skipped: ${why})` : ''}`, () => {
  test('logits equal PyTorch\'s to 1e-4 and the CPU\'s after model.to(\'webgpu\')', async () => {
    const g = JSON.parse(readFileSync(join(fixtures, 'tiny_unshared.json'), 'utf8')) as { cases: { ids: number[]; logits: number[] }[] };
    const llm = await born.llm.load(join(fixtures, 'tiny_unshared.bin'));
    const c = g.cases[0]!;
    const cpu = await llm.logits(c.ids).data();
    llm.model.to('webgpu');
    const ids = born.tensor(Int32Array.from(c.ids), { device: 'webgpu' });
    const logits = llm.logits(ids);
    expect(logits.device).toBe('webgpu');
    const gpu = await logits.data();
    let vsTorch = 0, vsCpu = 0;
    for (let i = 0; i < gpu.length; i++) {
      vsTorch = Math.max(vsTorch, Math.abs(gpu[i]! - c.logits[i]!));
      vsCpu = Math.max(vsCpu, Math.abs(gpu[i]! - cpu[i]!));
    }
    expect(vsTorch).toBeLessThan(1e-4);
    expect(vsCpu).toBeLessThan(1e-4);
  }, 240_000);
});
