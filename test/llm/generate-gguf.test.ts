// llm.generate on the GGUF fixtures of gguf-llamacpp.test.ts: greedy tokens through the KV cache
// equal llama.cpp's (node-llama-cpp, fixtures/gguf/llamacpp.json) for the LLaMA model (f32) and
// the Qwen2 one (q/k/v biases, NeoX rotary pairs, byte-level tokenizer from the metadata), and a
// text prompt continues with the text of those tokens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import * as born from '../../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/gguf/', import.meta.url));
const ref = JSON.parse(readFileSync(join(dir, 'llamacpp.json'), 'utf8')) as { models: Record<string, { prompt: number[]; greedy: number[] }> };

for (const name of ['tiny-llama-f32.gguf', 'tiny-qwen2-f16.gguf']) {
  test(`${name}: greedy generation equals llama.cpp's tokens; the text is theirs decoded`, async () => {
    const llm = await born.llm.load(join(dir, name), { maxSeqLen: 32 });
    const c = ref.models[name]!;
    const ids: number[] = [];
    for await (const id of llm.generate(c.prompt, { tokens: true, temperature: 0, maxTokens: c.greedy.length, eosIds: [] })) ids.push(id);
    expect(ids).toEqual(c.greedy);
    let text = '';
    for await (const piece of llm.generate(c.prompt, { temperature: 0, maxTokens: c.greedy.length, eosIds: [] })) text += piece;
    const tok = llm.tokenizer!;
    expect(text).toBe(tok.decode([...c.prompt, ...c.greedy]).slice(tok.decode(c.prompt).length));
  });
}
