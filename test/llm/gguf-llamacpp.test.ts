// Born against llama.cpp on the same GGUF files (fixtures/gguf/llamacpp.json, written by
// gen_llamacpp.mjs through node-llama-cpp 3 on the CPU with an f32 KV cache): greedy tokens equal,
// llama.cpp's tokenization of a few texts equal, and logits close. llama.cpp's arithmetic is not
// Born's: its f16 matmuls round the activations to f16, and its q4_K matmuls quantise the
// activations to q8_K blocks, so the logit tolerance follows the file's type. On q8_0 and q4_0
// files both quantise the activations to q8_0 blocks, and on f32 files neither rounds them, so
// those agree to float32 rounding. Measured max |Born − llama.cpp| over the prompt's logits:
// f32 2.0e-6, f16 8.5e-4, qwen2 f16 1.2e-3, q8_0 4.8e-7, q4_0 2.4e-7 (4.6e-2 and 5.5e-2 when
// Born's matmuls read float activations), q4_K 0.33 (logits up to 22) — far below each quantised
// file's distance to the f32 weights (gguf-model.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';

interface LlamaCppCase { prompt: number[]; logits_f32_base64: string; greedy: number[]; tokenize: Record<string, number[]> }

const dir = fileURLToPath(new URL('./fixtures/gguf/', import.meta.url));
const ref = JSON.parse(readFileSync(join(dir, 'llamacpp.json'), 'utf8')) as { llamaCpp: string; models: Record<string, LlamaCppCase> };
const pytorch = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { models: Record<string, { greedy: number[] }> };
const TOLERANCE: Record<string, number> = {
  'tiny-llama-f32.gguf': 1e-4, 'tiny-llama-f16.gguf': 5e-3, 'tiny-qwen2-f16.gguf': 5e-3,
  'tiny-llama-q8_0.gguf': 1e-4, 'tiny-llama-q4_0.gguf': 1e-4, 'tiny-llama-q4_K.gguf': 0.5,
};
const f32s = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

describe(`against ${ref.llamaCpp}`, () => {
  for (const [name, c] of Object.entries(ref.models)) {
    test(`${name}: greedy tokens equal llama.cpp's (and PyTorch's), logits within ${TOLERANCE[name]}`, async () => {
      expect(pytorch.models[name]!.greedy).toEqual(c.greedy);
      const llm = await born.llm.load(join(dir, name));
      // One forward over the prompt and llama.cpp's continuation: with causal attention, row t is
      // what a greedy decoder sees after token t, so its argmax must be llama.cpp's next token.
      const p = c.prompt.length, ids = [...c.prompt, ...c.greedy.slice(0, -1)];
      const logits = llm.logits(ids);
      const got = await logits.narrow(0, 0, p).data(), want = f32s(c.logits_f32_base64);
      expect(got.length).toBe(want.length);
      let err = 0;
      for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err).toBeLessThan(TOLERANCE[name]!);
      const next = await logits.narrow(0, p - 1, c.greedy.length).argmax({ dim: -1 }).data();
      expect(Array.from(next)).toEqual(c.greedy);
    });
  }
  for (const name of ['tiny-llama-f32.gguf', 'tiny-qwen2-f16.gguf']) {
    test(`${name}: the tokenizer from the metadata encodes as llama.cpp does`, async () => {
      const llm = await born.llm.load(join(dir, name), { maxSeqLen: 8 });
      for (const [text, ids] of Object.entries(ref.models[name]!.tokenize)) {
        expect(llm.tokenizer!.encode(text, { bos: false }), text).toEqual(ids);
      }
    });
  }
});
