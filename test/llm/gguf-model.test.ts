// born.llm.load on GGUF files against an independent PyTorch forward
// (test/llm/fixtures/gguf/gen_gguf.py: the llama2.c fixtures' forward for LLaMA, Hugging Face's
// Qwen2 forward with biases and rotate_half RoPE). The goldens are computed on the weights as the
// file holds them (quantised files: numpy's dequantisation; q8_0 and q4_0: on matmul inputs
// quantised to q8_0 blocks, as Born's integer dot and llama.cpp read them), so every file must
// match to 1e-4; the quantised files' distance to the f32 model is the quantisation error,
// checked against the figure the generator states. Measured max |Born − PyTorch|: 1.4e-6 (f32,
// f16), 1.2e-6 (q8_0, q4_0), 1.4e-5 (q4_K, dim 256), 9.5e-7 (qwen2); quantisation error, max
// |logit − f32 model's logit|: f16 2.3e-3, q8_0 6.8e-2, q4_0 0.85 (weights and matmul inputs),
// q4_K 3.1 (q4_K model: tied q4_K embedding, logits up to 22).
// Also: LlmMeta and the tokenizer from metadata, config errors. Greedy continuations are checked
// in gguf-llamacpp.test.ts (PyTorch's and llama.cpp's are the same tokens).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { ggufConfig, openGguf, type GgufFile } from '../../src/llm/gguf/index.js';

interface Case {
  file: string;
  config: { dim: number; n_layers: number; n_heads: number; n_kv_heads: number; hidden_dim: number; vocab_size: number; seq_len: number; shared: boolean };
  prompt: number[];
  logits_f32_base64: string;
  greedy: number[];
  f32_logits_max_error?: number;
  f32_logits_f32_base64?: string;
  f32_greedy?: number[];
}

const dir = fileURLToPath(new URL('./fixtures/gguf/', import.meta.url));
const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { models: Record<string, Case> };
const f32s = (b64: string): Float32Array => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const f32Reference = golden.models['tiny-llama-f32.gguf']!;

for (const [name, c] of Object.entries(golden.models)) {
  describe(name, () => {
    let llm: born.Llm;
    test('loads: the config from the metadata', async () => {
      llm = await born.llm.load(join(dir, name));
      const g = c.config, cfg = llm.config;
      expect([cfg.dim, cfg.nLayers, cfg.nHeads, cfg.nKvHeads, cfg.hiddenDim, cfg.vocabSize, cfg.maxSeqLen, cfg.sharedClassifier])
        .toEqual([g.dim, g.n_layers, g.n_heads, g.n_kv_heads, g.hidden_dim, g.vocab_size, g.seq_len, g.shared]);
      expect(cfg.ropePairing).toBe(name.includes('qwen2') ? 'half' : 'interleaved');
    });
    test('logits equal PyTorch\'s on the stored (dequantised) weights to 1e-4', async () => {
      const logits = llm.logits(c.prompt);
      expect(logits.shape).toEqual([c.prompt.length, c.config.vocab_size]);
      const got = await logits.data();
      const err = maxAbsDiff(got, f32s(c.logits_f32_base64));
      expect(err).toBeLessThan(1e-4);
      if (c.f32_logits_max_error !== undefined) {
        // Against the unquantised weights the error is the quantisation error, as PyTorch measured it.
        const ref = c.f32_logits_f32_base64 ? f32s(c.f32_logits_f32_base64) : f32s(f32Reference.logits_f32_base64);
        expect(Math.abs(maxAbsDiff(got, ref) - c.f32_logits_max_error)).toBeLessThan(1e-4);
      }
    });
  });
}

describe('what the metadata says besides the weights', () => {
  test('llama: SentencePiece tokenizer, BOS/EOS, name', async () => {
    const llm = await born.llm.load(join(dir, 'tiny-llama-q4_0.gguf'));
    expect(llm.meta.name).toBe('tiny-llama-q4_0');
    expect(llm.meta.bosId).toBe(1);
    expect(llm.meta.eosIds).toEqual([2]);
    expect(llm.meta.chatTemplate).toBeUndefined();
    const tok = llm.tokenizer!;
    // Merges by score ("▁the" from "▁t" + "he"), characters outside the pieces by their bytes.
    const ids = tok.encode('the cat');
    expect(ids[0]).toBe(1);
    expect(tok.decode(ids)).toBe('the cat');
    expect(tok.encode('é', { bos: false }).slice(-2)).toEqual([0xc3 + 3, 0xa9 + 3]); // <0xC3> <0xA9>: byte fallback
  });
  test('qwen2: byte-level BPE tokenizer, chat template, EOS', async () => {
    const llm = await born.llm.load(join(dir, 'tiny-qwen2-f16.gguf'));
    expect(llm.config.qkvBias).toBe(true);
    expect(llm.meta.chatTemplate).toContain('<|im_start|>');
    const v = llm.vocabSize;
    expect(llm.meta.eosIds).toEqual([v - 1]);
    const tok = llm.tokenizer!;
    expect(tok.decode(tok.encode('Once upon a time, héllo'))).toBe('Once upon a time, héllo');
    expect(tok.encode('<|im_start|>user', { specials: true })[0]).toBe(v - 2);
  });
  test('an architecture not read, and a file whose tensors do not fit its metadata', async () => {
    await expect(born.llm.load(join(dir, 'quants.gguf'))).rejects.toThrow(/architecture "none" is not read; llama, mistral, qwen2 are/);
    // feed_forward_length 64 → 48: the ffn tensors no longer have the shapes the config implies.
    const bytes = new Uint8Array(readFileSync(join(dir, 'tiny-llama-f32.gguf')));
    const key = Buffer.from('llama.feed_forward_length');
    const at = Buffer.from(bytes).indexOf(key) + key.length + 4; // the key, then its u32 type, then the value
    new DataView(bytes.buffer).setUint32(at, 48, true);
    const tmp = await mkdtemp(join(tmpdir(), 'born-gguf-'));
    try {
      await writeFile(join(tmp, 'bad.gguf'), bytes);
      await expect(born.llm.load(join(tmp, 'bad.gguf'))).rejects.toThrow(/tensor blk\.0\.ffn_gate\.weight is \[64, 64\], the model \(from the metadata\) expects \[48, 64\]/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
  test('maxSeqLen: defaults to context_length, can be lowered, not raised', async () => {
    const p = join(dir, 'tiny-llama-f16.gguf');
    expect((await born.llm.load(p, { maxSeqLen: 16 })).config.maxSeqLen).toBe(16);
    await expect(born.llm.load(p, { maxSeqLen: 65 })).rejects.toThrow(/maxSeqLen 65 is outside 1\.\.64/);
  });
});

describe('ggufConfig: the metadata of other architectures and features', () => {
  // The tiny llama's header with its keys renamed to another architecture, plus extra keys.
  async function as(arch: string, extra: Record<string, unknown>): Promise<GgufFile> {
    const f = await openGguf(join(dir, 'tiny-llama-f16.gguf'));
    await f.close();
    const metadata = Object.fromEntries(Object.entries(f.metadata).map(([k, v]) => [k.replace(/^llama\./, `${arch}.`), v]));
    return { ...f, metadata: { ...metadata, 'general.architecture': arch, ...extra } as GgufFile['metadata'] };
  }
  test('mistral: llama\'s layout; a sliding window caps the sequence length (full attention is exact within it)', async () => {
    const f = await as('mistral', { 'mistral.attention.sliding_window': 16 });
    const c = ggufConfig(f);
    expect([c.maxSeqLen, c.ropePairing, c.qkvBias, c.nKvHeads, c.dim]).toEqual([16, 'interleaved', false, 2, 64]);
    expect(() => ggufConfig(f, { maxSeqLen: 32 })).toThrow(/maxSeqLen 32 is outside 1\.\.16 .*capped by its sliding window/);
  });
  test('linear RoPE scaling is read; other scalings, partial rotary and missing keys are errors', async () => {
    expect(ggufConfig(await as('llama', { 'llama.rope.scaling.type': 'linear', 'llama.rope.scaling.factor': 4 })).ropeScalingFactor).toBe(4);
    const yarn = await as('llama', { 'llama.rope.scaling.type': 'yarn' });
    expect(() => ggufConfig(yarn)).toThrow(/RoPE scaling "yarn" is not supported \('linear' is\)/);
    const partial = await as('llama', { 'llama.rope.dimension_count': 8 });
    expect(() => ggufConfig(partial)).toThrow(/RoPE on 8 of each head's 16 features \(partial rotary\) is not supported/);
    const missing = await as('llama', { 'llama.block_count': undefined });
    expect(() => ggufConfig(missing)).toThrow(/metadata llama\.block_count is missing/);
  });
});
