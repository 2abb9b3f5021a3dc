// The Batcher's in-flight bound (src/serve/batcher.ts): at most `inFlight` batches of a model run
// at once; what arrives while they run waits, merges, and runs when one finishes.
import { describe, expect, test } from 'vitest';
import { Batcher, type BatchOptions } from '../../src/serve/batcher.js';
import type { NpyArray } from '../../src/io/npy.js';
import type { Servable } from '../../src/serve/servable.js';

/** A model that echoes its input, each run held until the test releases it. */
function heldModel(): { model: Servable; runs: { rows: number; release: () => void }[] } {
  const runs: { rows: number; release: () => void }[] = [];
  const model: Servable = {
    kind: 'born', description: 'held', batched: true,
    inputs: [{ name: 'x', dtype: 'float32', shape: [null, 1] }], outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }],
    run: (inputs) => new Promise((resolve) => {
      const x = inputs['x']!;
      runs.push({ rows: x.shape[0]!, release: () => resolve({ y: x }) });
    }),
  };
  return { model, runs };
}

const row = (v: number): Record<string, NpyArray> => ({ x: { dtype: 'float32', shape: [1, 1], data: Float32Array.of(v) } });
const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

async function run(inFlight: number): Promise<{ sizes: number[]; answers: number[] }> {
  const { model, runs } = heldModel();
  const sizes: number[] = [];
  const opts: BatchOptions = { maxBatch: 4, maxWaitMs: 0, queue: 100, timeoutMs: 10_000, inFlight };
  const b = new Batcher('held', () => model, opts, { queueDepth: () => {}, batch: (rows) => { sizes.push(rows); } });
  const answers = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((v) => b.submit(row(v)).then((o) => Number(o['y']!.data[0]!)));
  await turn();
  // Nine requests in one turn, no waiting for others (maxWaitMs 0): each free slot takes the
  // queue's head at once; the rest merge while those run.
  expect(runs.length).toBe(inFlight);
  runs[0]!.release();
  await turn();
  expect(runs.length).toBe(inFlight + 1);
  while (runs.some((r) => r.release !== noop)) {
    for (const r of runs) { r.release(); r.release = noop; }
    await turn();
  }
  await b.idle();
  return { sizes, answers: await Promise.all(answers) };
}
const noop = (): void => {};

describe('Batcher in flight', () => {
  test('one at a time: the first request runs alone, the eight queued behind it run as two batches of 4', async () => {
    const { sizes, answers } = await run(1);
    expect(answers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sizes).toEqual([1, 4, 4]);
  });

  test('two at a time: a second batch starts beside the first; a third waits for one of them', async () => {
    const { sizes, answers } = await run(2);
    expect(answers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sizes).toEqual([1, 1, 4, 3]);
  });
});
