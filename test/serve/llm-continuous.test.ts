// Continuous batching (src/llm/generate/continuous.ts) on the tiny llama2.c checkpoints: rows
// that join a running batch at different steps, leave it early or are cancelled give exactly the
// tokens llm.generate gives for each prompt alone (greedy, and sampled with a seed), across the
// cache's rebuilds (a longer prompt joining moves the batch's rows; a full cache drops the
// padding its rows share).
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { ContinuousBatcher, type ContinuousPiece, type ContinuousSequence } from '../../src/llm/generate/continuous.js';

const FIXTURES = fileURLToPath(new URL('../llm/fixtures/', import.meta.url));

async function alone(llm: born.Llm, prompt: number[], opts: born.llm.GenerateOptions): Promise<number[]> {
  const ids: number[] = [];
  for await (const id of llm.generate(prompt, { ...opts, tokens: true })) ids.push(id);
  return ids;
}

/** Reads a sequence to its end: its tokens and finish reason; `at(n)` runs after the n-th token. */
async function drain(seq: ContinuousSequence, at: Record<number, () => void> = {}): Promise<{ ids: number[]; finish?: string }> {
  const ids: number[] = [];
  let finish: string | undefined;
  for await (const p of seq as AsyncIterable<ContinuousPiece>) {
    if (p.token >= 0) ids.push(p.token);
    if (p.finishReason) finish = p.finishReason;
    at[ids.length]?.();
  }
  return { ids, finish };
}

let llm: born.Llm;
beforeAll(async () => { llm = await born.llm.load(`${FIXTURES}tiny_unshared.bin`); });

describe('ContinuousBatcher', () => {
  test('rows joining at different steps give what each prompt gives alone (greedy), through rebuilds', async () => {
    const sizes: number[] = [];
    const b = new ContinuousBatcher(llm, { maxBatch: 4, onStep: (s) => sizes.push(s.sequences) });
    const greedy = { temperature: 0 };
    const jobs = [
      { prompt: [1, 4], maxTokens: 31 }, // to the context's end: the full cache drops shared padding
      { prompt: [1, 5, 9, 30, 2, 17, 8, 11], maxTokens: 12 }, // longer than the batch's position: the rows move
      { prompt: [3], maxTokens: 25 },
    ];
    const results: Promise<{ ids: number[]; finish?: string }>[] = [];
    const start = (i: number): void => { results[i] = drain(b.generate(jobs[i]!.prompt, { ...greedy, maxTokens: jobs[i]!.maxTokens }), i + 1 < jobs.length ? { 3: () => start(i + 1) } : {}); };
    start(0);
    await results[0];
    const got = await Promise.all(results);
    for (const [i, j] of jobs.entries()) {
      expect(got[i]!.ids, `sequence ${i}`).toEqual(await alone(llm, j.prompt, { ...greedy, maxTokens: j.maxTokens }));
    }
    expect(Math.max(...sizes)).toBe(3);
    expect(b.stats.rebuilds).toBeGreaterThan(0);
  });

  test('sampled rows (seeded) match llm.generate; cancelled rows leave the batch and the others go on', async () => {
    const sizes: number[] = [];
    const b = new ContinuousBatcher(llm, { maxBatch: 8, onStep: (s) => sizes.push(s.sequences) });
    const sampled = (seed: number): born.llm.GenerateOptions => ({ temperature: 0.9, topK: 0, topP: 0.95, minP: 0, seed, maxTokens: 16, eosIds: [] });
    const abort = new AbortController();
    const kept = [b.generate([1, 7, 3], sampled(11)), b.generate([2], sampled(12))];
    const aborted = b.generate([5, 6], { ...sampled(13), signal: abort.signal });
    const left = b.generate([9, 9, 9, 9], sampled(14));
    const runs = kept.map((s) => drain(s));
    // The aborted one ends after 3 tokens with the signal's reason; the other leaves by breaking out.
    const gone = drain(aborted, { 3: () => abort.abort() });
    const broke = (async () => { let n = 0; for await (const p of left) if (p.token >= 0 && ++n === 5) break; return n; })();
    await expect(gone).rejects.toThrow(/abort/i);
    expect(await broke).toBe(5);
    const got = await Promise.all(runs);
    expect(got[0]!.ids).toEqual(await alone(llm, [1, 7, 3], sampled(11)));
    expect(got[1]!.ids).toEqual(await alone(llm, [2], sampled(12)));
    expect(got.map((g) => g.finish)).toEqual(['length', 'length']);
    expect(sizes[0]).toBe(4);
    expect(sizes.at(-1)).toBe(2);
    expect(b.stats).toMatchObject({ active: 0, waiting: 0 });
  });
});
