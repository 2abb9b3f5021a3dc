// born.llm.load on llama2.c checkpoints against an independent PyTorch forward
// (test/llm/fixtures/gen_llama.py: model.py's complex-number RoPE, repeat_kv, SwiGLU, RMSNorm eps
// 1e-5). Two tiny random checkpoints are committed (shared and separate classifier, 2 of 4 heads
// as kv heads); the real stories260K.bin is read from ../shared/models beside the checkout (or
// one level further up, or $BORN_MODELS) and its tests skip, saying so, where it is absent.
// Tolerance: 1e-4 absolute on every logit (measured: under 6e-6 on the tiny models, 4e-5 on
// stories260K). Also: greedy continuations, header validation, and the state-dict names.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { Llama2cError, expectedBytes, parseHeader } from '../../src/llm/index.js';
import { storiesCandidates, storiesPath } from './stories.js';

interface Golden {
  config: { dim: number; vocab_size: number; shared: boolean };
  cases: { ids: number[]; logits: number[] }[];
  greedy: { prompt: number[]; tokens: number[] };
}

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const golden = (name: string): Golden => JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as Golden;

const stories = storiesPath;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

async function greedy(llm: born.Llm, prompt: number[], steps: number): Promise<number[]> {
  const ids = [...prompt];
  for (let s = 0; s < steps; s++) {
    const last = llm.logits(ids).narrow(0, ids.length - 1, 1).argmax({ dim: -1 });
    ids.push(await last.item());
  }
  return ids.slice(prompt.length);
}

function checkpointSuite(name: string, path: string | undefined, steps: number): void {
  const g = golden(name);
  const d = path ? describe : describe.skip;
  d(`${name}${path ? '' : ` (skipped: stories260K.bin not found at ${storiesCandidates.join(' or ')})`}`, () => {
    let llm: born.Llm;
    test('loads: the config from the header, the classifier shared or not', async () => {
      llm = await born.llm.load(path!);
      expect(llm.config.dim).toBe(g.config.dim);
      expect(llm.vocabSize).toBe(g.config.vocab_size);
      expect(llm.config.sharedClassifier).toBe(g.config.shared);
      expect(llm.model.output === undefined).toBe(g.config.shared);
    });
    test('logits equal PyTorch\'s to 1e-4 for each id sequence', async () => {
      for (const c of g.cases) {
        const logits = llm.logits(c.ids);
        expect(logits.shape).toEqual([c.ids.length, g.config.vocab_size]);
        expect(logits.dtype).toBe('float32');
        expect(maxAbsDiff(await logits.data(), c.logits)).toBeLessThan(1e-4);
      }
    });
    test(`greedy argmax continuation for ${steps} steps equals PyTorch's`, async () => {
      expect(await greedy(llm, g.greedy.prompt, steps)).toEqual(g.greedy.tokens.slice(0, steps));
    });
  });
}

checkpointSuite('tiny_shared', join(fixtures, 'tiny_shared.bin'), 12);
checkpointSuite('tiny_unshared', join(fixtures, 'tiny_unshared.bin'), 12);
checkpointSuite('stories260K', stories, 20);

describe('the model', () => {
  test('state-dict keys are model.py\'s; a token id outside the vocabulary is refused', async () => {
    const llm = await born.llm.load(join(fixtures, 'tiny_unshared.bin'));
    const keys = Object.keys(llm.model.stateDict());
    expect(keys).toContain('tok_embeddings.weight');
    expect(keys).toContain('layers.1.attention.wk.weight');
    expect(keys).toContain('layers.0.feed_forward.w3.weight');
    expect(keys).toContain('norm.weight');
    expect(keys).toContain('output.weight');
    expect(() => llm.logits([1, 32])).toThrow(/token id 32 at 1 is outside 0\.\.31/);
    expect(() => llm.logits([])).toThrow(/no tokens/);
  });
});

describe('header validation', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
  const tiny = readFileSync(join(fixtures, 'tiny_shared.bin'));
  const withHeader = (patch: (v: DataView) => void): Buffer => {
    const b = Buffer.from(tiny);
    patch(new DataView(b.buffer, b.byteOffset, 28));
    return b;
  };
  async function loadBytes(bytes: Uint8Array): Promise<unknown> {
    const dir = await mkdtemp(join(tmpdir(), 'born-llama2c-'));
    dirs.push(dir);
    const p = join(dir, 'model.bin');
    await writeFile(p, bytes);
    return born.llm.load(p);
  }

  test('the committed tiny checkpoint has exactly the size its header implies', () => {
    const c = parseHeader(tiny.subarray(0, 28), tiny.length);
    expect(c).toEqual({ dim: 16, hiddenDim: 40, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 32, seqLen: 32, sharedClassifier: true });
    expect(expectedBytes(c)).toBe(tiny.length);
  });

  test('truncated, padded, empty and corrupt files fail with what is wrong', async () => {
    await expect(loadBytes(tiny.subarray(0, tiny.length - 4))).rejects.toThrow(/needs 24412 bytes, the file has 24408: it is truncated/);
    await expect(loadBytes(Buffer.concat([tiny, Buffer.alloc(8)]))).rejects.toThrow(/the file has 24420 \(8 more\)/);
    await expect(loadBytes(tiny.subarray(0, 10))).rejects.toThrow(/shorter than the 28-byte header/);
    await expect(loadBytes(withHeader((v) => v.setInt32(16, 3, true)))).rejects.toThrow(/n_kv_heads must divide n_heads/);
    await expect(loadBytes(withHeader((v) => v.setInt32(0, 0, true)))).rejects.toThrow(/sizes must be positive/);
    await expect(loadBytes(withHeader((v) => v.setInt32(12, 16, true)))).rejects.toThrow(/heads of even size/);
    await expect(loadBytes(withHeader((v) => v.setInt32(20, 0, true)))).rejects.toThrow(/vocab_size must be a non-zero/);
    await expect(loadBytes(withHeader((v) => v.setUint32(0, 0x616b3432, true)))).rejects.toThrow(/versioned llama2.c export/);
    // A flipped sign makes it the unshared layout, which needs 512 more floats than the file has.
    await expect(loadBytes(withHeader((v) => v.setInt32(20, -32, true)))).rejects.toThrow(Llama2cError);
  });

  test('a folder, or a file of no known format, is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'born-llama2c-'));
    dirs.push(dir);
    await mkdir(join(dir, 'x.bin'));
    await expect(born.llm.load(join(dir, 'x.bin'))).rejects.toThrow(/not a regular file/);
    await writeFile(join(dir, 'model.onnx'), new Uint8Array(8));
    await expect(born.llm.load(join(dir, 'model.onnx'))).rejects.toThrow(/cannot tell the format/);
    await expect(born.llm.load(join(dir, 'absent.gguf'))).rejects.toThrow(/no file or folder at .*absent\.gguf/);
  });
});
