// What born serve makes of its --model flags and files: names from the file, the kind told by
// extension and safetensors metadata, a language model handed to the LLM routes (the contract of
// src/serve/llm-contract.ts, here with routes of the test's own), and a file it cannot read.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { save } from '../../src/io/safetensors.js';
import { zeros } from '../../src/tensor/creation.js';
import { parseModelFlag, type LlmRoutes, type LlmRoutesOptions } from '../../src/serve/index.js';
import { kindOf } from '../../src/serve/registry.js';
import { start, tempDir, writeMlp, writeTinyOnnx } from './helpers.js';

const tmp = tempDir();
const LLAMA2C = 'test/llm/fixtures/tiny_unshared.bin';
beforeAll(async () => {
  await writeMlp(path.join(tmp.dir, 'mlp.safetensors'));
  await writeTinyOnnx(path.join(tmp.dir, 'tiny.onnx'));
  await save({ w: zeros([2]) }, path.join(tmp.dir, 'plain.safetensors'));
});
afterAll(() => tmp.remove());

describe('--model flags and files', () => {
  it('names a model after its file, or as given', () => {
    expect(parseModelFlag('models/mlp.safetensors')).toEqual({ name: 'mlp', path: 'models/mlp.safetensors' });
    expect(parseModelFlag('scorer=models/a.onnx')).toEqual({ name: 'scorer', path: 'models/a.onnx' });
    expect(parseModelFlag('hf/TinyLlama/')).toEqual({ name: 'TinyLlama', path: 'hf/TinyLlama/' });
  });

  it('tells the kinds apart', async () => {
    expect(await kindOf({ name: 'a', path: path.join(tmp.dir, 'mlp.safetensors') })).toBe('born');
    expect(await kindOf({ name: 'a', path: path.join(tmp.dir, 'tiny.onnx') })).toBe('onnx');
    expect(await kindOf({ name: 'a', path: LLAMA2C })).toBe('llm');
  });

  it('refuses a safetensors file that names no model, saying what it needs', async () => {
    await expect(start({ models: [{ name: 'plain', path: path.join(tmp.dir, 'plain.safetensors') }] })).rejects.toThrow(/names its model in the metadata \(model: mlp or cnn.*says nothing/);
  });
});

it('hands a language model to the LLM routes, beside a tensor model', async () => {
  let given: LlmRoutesOptions | null = null;
  const routes: LlmRoutes = async (app, opts) => {
    given = opts;
    app.get('/test/llms', async () => ({ names: [...opts.models.keys()], vocab: opts.models.get('tiny_unshared')?.vocabSize }));
  };
  const s = await start({ models: [{ name: 'tiny_unshared', path: LLAMA2C }, { name: 'tiny', path: path.join(tmp.dir, 'tiny.onnx') }], maxBatch: 4, queue: 9, llmRoutes: async () => routes });
  try {
    expect(given).toMatchObject({ maxBatch: 4, queue: 9, timeoutMs: 30_000 });
    expect((await (await fetch(`${s.url}/readyz`)).json())).toEqual({ ready: true, models: { tiny_unshared: true, tiny: true } });
    const llms = (await (await fetch(`${s.url}/test/llms`)).json()) as { names: string[]; vocab: number };
    expect(llms.names).toEqual(['tiny_unshared']);
    expect(llms.vocab).toBeGreaterThan(0);
    const predict = await fetch(`${s.url}/v1/models/tiny_unshared:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": [1]}' });
    expect(predict.status).toBe(400);
    expect(((await predict.json()) as { error: { message: string } }).error.message).toMatch(/language model: use POST \/v1\/completions/);
    given!.metrics.tokens('tiny_unshared', 'completion', 5);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toContain('born_llm_tokens_total{model="tiny_unshared",kind="completion"} 5');
  } finally {
    await s.close();
  }
});
