// llm.generate and the KV cache on the llama2.c checkpoints of llama2c.test.ts. References: the
// greedy continuations of test/llm/fixtures/gen_llama.py (PyTorch, full recompute each step),
// and an argmax loop over llm.logits here (no cache: the whole sequence each step).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { KvCache } from '../../src/llm/index.js';
import { fromStorage } from '../../src/tensor/creation.js';
import { storiesPath } from './stories.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const golden = (name: string): { greedy: { prompt: number[]; tokens: number[] } } => JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8'));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const greedyIds = (llm: born.Llm, prompt: number[] | number[][], maxTokens: number, extra: born.llm.GenerateOptions = {}): Promise<number[]> =>
  collect(llm.generate(prompt as number[], { ...extra, tokens: true, temperature: 0, maxTokens }));

/** A 32-token SentencePiece vocabulary for the tiny models: <unk> <s> </s> ▁ a…z ▁the . */
function tinyTokenizer(): born.llm.Tokenizer {
  const tokens = ['<unk>', '<s>', '</s>', '▁', ...Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i)), '▁the', '.'];
  return born.llm.tokenizers.fromSentencePiece({ tokens, scores: tokens.map(() => 0) });
}

let shared: born.Llm, unshared: born.Llm;
beforeAll(async () => {
  shared = await born.llm.load(join(fixtures, 'tiny_shared.bin'));
  unshared = await born.llm.load(join(fixtures, 'tiny_unshared.bin'));
});

describe('greedy generation', () => {
  test('equals the PyTorch greedy continuations of both tiny models', async () => {
    for (const [name, llm] of [['tiny_shared', shared], ['tiny_unshared', unshared]] as const) {
      const g = golden(name).greedy;
      expect(await greedyIds(llm, g.prompt, g.tokens.length)).toEqual(g.tokens);
    }
  });

  test('equals an argmax loop over llm.logits (the whole sequence each step, no cache)', async () => {
    const prompt = [3, 17, 8, 12, 1];
    const ids = [...prompt];
    for (let s = 0; s < 5; s++) ids.push(await unshared.logits(ids).narrow(0, ids.length - 1, 1).argmax({ dim: -1 }).item());
    expect(await greedyIds(unshared, prompt, 5)).toEqual(ids.slice(prompt.length));
  });

  test.skipIf(!storiesPath)('stories260K from BOS at temperature 0 equals PyTorch (20 tokens)', async () => {
    const llm = await born.llm.load(storiesPath!);
    const g = golden('stories260K').greedy;
    expect(await greedyIds(llm, g.prompt, 20)).toEqual(g.tokens.slice(0, 20));
  });

  test('a batch of prompts of different lengths gives each row what it gives alone', async () => {
    const prompts = [[1, 4], [1, 5, 9, 30, 2, 17], [3]];
    const rows: number[][] = prompts.map(() => []);
    for await (const p of unshared.generate(prompts, { tokens: true, temperature: 0, maxTokens: 10 })) rows[p.index]!.push(p.token);
    for (const [i, p] of prompts.entries()) expect(rows[i]).toEqual(await greedyIds(unshared, p, 10));
    expect(rows[0]).toEqual(golden('tiny_unshared').greedy.tokens.slice(0, 10));
  });
});

describe('the KV cache', () => {
  test('logits through the cache (prefill, then one token a step, rows padded) equal llm.logits to 1e-5', async () => {
    const prompts = [[1, 5, 9, 30, 2], [7, 3]];
    const fed = [[4, 27, 18, 2], [11, 12, 13, 14]];
    const t0 = 5, cache = await KvCache.create(unshared.model, prompts.map((p) => t0 - p.length), 16);
    let worst = 0;
    for (let s = 0; s <= fed[0]!.length; s++) {
      const t = s === 0 ? t0 : 1;
      const flat = s === 0 ? Int32Array.from([...prompts[0]!, 0, 0, 0, ...prompts[1]!]) : Int32Array.from(fed.map((f) => f[s - 1]!));
      const step = cache.begin(t);
      const out = born.noGrad(() => unshared.model.forward(fromStorage(flat, [2, t], 'int32'), { ...step.options, lastOnly: true }));
      await cache.commit(step, t, [out]);
      const got = await out.data();
      for (const [i, p] of prompts.entries()) {
        const seq = [...p, ...fed[i]!.slice(0, s)];
        const ref = await unshared.logits(seq).narrow(0, seq.length - 1, 1).data();
        for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(ref[j]! - got[i * 32 + j]!));
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect(cache.position).toBe(9);
    expect(() => cache.begin(8)).toThrow(/do not fit in the cache's 16 positions/);
    cache.dispose();
  });

  test('decoding compiles, allocates and keeps alive nothing new after the first decoded token', async () => {
    const stats: born.EngineStats[] = [];
    for await (const _ of shared.generate([1, 4, 9], { tokens: true, temperature: 0, maxTokens: 12 })) stats.push(born.engine.stats());
    expect(stats).toHaveLength(12);
    const pick = (s: born.EngineStats) => ({ kernelCompiles: s.kernelCompiles, allocations: s.allocations, liveBuffers: s.liveBuffers, cachedPlans: s.cachedPlans });
    for (const s of stats.slice(2)) expect(pick(s)).toEqual(pick(stats[1]!));
    expect(stats[1]!.kernelCompiles).toBeGreaterThanOrEqual(stats[0]!.kernelCompiles); // (the test can see compiles)
  });
});

describe('sampling', () => {
  test('the same seed gives the same tokens; topK 1 is greedy at any temperature', async () => {
    const opts = { tokens: true, temperature: 1.5, topK: 0, topP: 1, minP: 0, maxTokens: 10 } as const;
    const a = await collect(unshared.generate([1, 4], { ...opts, seed: 7 }));
    expect(await collect(unshared.generate([1, 4], { ...opts, seed: 7 }))).toEqual(a);
    const others = await Promise.all([8, 9].map(async (seed) => (await collect(unshared.generate([1, 4], { ...opts, seed }))).join()));
    expect(others.some((o) => o !== a.join())).toBe(true);
    expect(await collect(unshared.generate([1, 4], { ...opts, topK: 1, seed: 3 }))).toEqual(await greedyIds(unshared, [1, 4], 10));
  });

  test('a repetition penalty changes the greedy loop of tiny_unshared (27 4 18 2 …)', async () => {
    const plain = await greedyIds(unshared, [1, 4], 12);
    const penalised = await greedyIds(unshared, [1, 4], 12, { repetitionPenalty: 5 });
    expect(penalised).not.toEqual(plain);
    expect(penalised.slice(0, 1)).toEqual(plain.slice(0, 1)); // 27 is not in the prompt [1, 4]
  });
});

describe('text, stop strings, EOS, cancellation', () => {
  let llm: born.Llm;
  beforeAll(() => { llm = new born.llm.Llm(unshared.model, unshared.config, { tokenizer: tinyTokenizer(), eosIds: [2] }); });

  test('text pieces join to the decoded greedy ids; EOS (id 2) ends the generation', async () => {
    const ids = await greedyIds(unshared, [1, 4], 12); // 27 4 18 2 27 …
    const text = (await collect(llm.generate([1, 4], { temperature: 0, maxTokens: 12 }))).join('');
    expect(text).toBe(llm.tokenizer!.decode(ids.slice(0, 3)));
    expect(text).toBe('xao');
    expect(await greedyIds(llm, [1, 4], 12)).toEqual([27, 4, 18]);
  });

  test('a stop string ends the text before it, across token boundaries', async () => {
    const noEos = { temperature: 0, maxTokens: 12, eosIds: [] };
    expect((await collect(llm.generate([1, 4], noEos))).join('')).toBe('xaoxaoxao');
    expect((await collect(llm.generate([1, 4], { ...noEos, stop: ['oxa', 'zz'] }))).join('')).toBe('xa');
    expect(await collect(llm.generate([1, 4], { ...noEos, stop: 'ox', tokens: true }))).toEqual([27, 4, 18, 2, 27]);
    const rows = ['', ''];
    for await (const p of llm.generate([[1, 4], [1, 5, 9, 30, 2, 17]], { ...noEos, stop: 'oxa' })) rows[p.index] += p.text;
    expect(rows[0]).toBe('xa');
    expect(rows[1]).toBe(llm.tokenizer!.decode(await greedyIds(unshared, [1, 5, 9, 30, 2, 17], 12)).split('oxa')[0]);
  });

  test('an AbortSignal rejects the iterator with an AbortError, and the model keeps working', async () => {
    const ac = new AbortController();
    const got: number[] = [];
    const run = async (): Promise<void> => {
      for await (const id of unshared.generate([1, 4], { tokens: true, temperature: 0, maxTokens: 20, signal: ac.signal })) {
        got.push(id);
        if (got.length === 3) ac.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(got).toEqual([27, 4, 18]);
    await expect(collect(unshared.generate([1, 4], { tokens: true, signal: AbortSignal.abort() }))).rejects.toMatchObject({ name: 'AbortError' });
    expect(await greedyIds(unshared, [1, 4], 12)).toEqual(golden('tiny_unshared').greedy.tokens);
  });

  test('bad options and prompts give errors that say what is wrong', async () => {
    const bad = (prompt: unknown, opts: unknown): Promise<unknown> => collect(unshared.generate(prompt as number[], opts as born.llm.GenerateOptions & { tokens: true }));
    await expect(bad([1], { maxTokns: 3 })).rejects.toThrow(/unknown option 'maxTokns'/);
    await expect(bad([1], { maxTokens: 0 })).rejects.toThrow(/maxTokens must be at least 1/);
    await expect(bad([1], { temperature: -1 })).rejects.toThrow(/temperature must be a number ≥ 0/);
    await expect(bad([1], { topP: 0 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(bad([1], { seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
    await expect(bad([1], { stop: '' })).rejects.toThrow(/stop must be a non-empty string/);
    await expect(bad([1], { eosIds: [99] })).rejects.toThrow(/eosIds must be a list of token ids in 0..31/);
    await expect(bad([1, 40], { tokens: true })).rejects.toThrow(/token id 40 at 1 is outside 0..31/);
    await expect(bad('hello', { tokens: true })).rejects.toThrow(/no tokenizer, so a text prompt cannot be encoded/);
    await expect(bad([1], {})).rejects.toThrow(/no tokenizer to turn tokens into text; pass \{ tokens: true \}/);
    await expect(bad([1], { tokens: true, stop: 'x' })).rejects.toThrow(/stop strings need a tokenizer/);
    await expect(bad([], { tokens: true })).rejects.toThrow(/the prompt has no tokens/);
    await expect(bad(Array(32).fill(1), { tokens: true })).rejects.toThrow(/leaves no room in the model's context of 32/);
  });
});
