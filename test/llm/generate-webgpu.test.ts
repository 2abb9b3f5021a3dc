// Generation on WebGPU (Dawn on whatever adapter is here; lavapipe on CPU-only machines): greedy
// tokens of the tiny llama2.c model through the KV cache equal the CPU's (which generate.test.ts
// checks against PyTorch). The
// prompt is one token, so that the prompt's forward and every decoding step run one graph: its
// ~25 kernels compile once — still ~75 s on lavapipe, so it runs only with BORN_LLM_WEBGPU=1
// (as llama-webgpu.test.ts), and skips, saying why, where there is no adapter.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { webgpuSkipReason } from '../webgpu/adapter.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const why = await webgpuSkipReason(process.env.BORN_LLM_WEBGPU === '1' ? '' : 'set BORN_LLM_WEBGPU=1 to run it (~75 s of shader compiles on a software adapter)');

async function greedy(llm: born.Llm, prompt: number[], maxTokens: number): Promise<number[]> {
  const out: number[] = [];
  for await (const id of llm.generate(prompt, { tokens: true, temperature: 0, maxTokens })) out.push(id);
  return out;
}

(why ? describe.skip : describe)(`generation on WebGPU${why ? ` (skipped: ${why})` : ''}`, () => {
  test('greedy tokens of tiny_unshared equal the CPU\'s (one graph for the prompt and each step)', async () => {
    const llm = await born.llm.load(join(fixtures, 'tiny_unshared.bin'));
    const cpu = await greedy(llm, [1], 6);
    llm.model.to('webgpu');
    const compiles = born.engine.stats().kernelCompiles;
    expect(await greedy(llm, [1], 6)).toEqual(cpu);
    expect(born.engine.stats().kernelCompiles - compiles).toBeLessThan(40);
  }, 240_000);
});
