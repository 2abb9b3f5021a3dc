// In-process lifecycle: a worker thread killed mid-batch fails that batch only (500, a clear
// error) and the server keeps serving on the replaced worker; a model file rewritten under load
// is reloaded (--watch) with no request dropped; close() turns /readyz unready first and answers
// every request it accepted.
import { renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerPool } from '../../src/devices/cpu-workers/pool.js';
import { load } from '../../src/onnx/model.js';
import { onnxServable, type Servable } from '../../src/serve/servable.js';
import { engine } from '../../src/scheduler/engine.js';
import { metric, predict, start, tempDir, until, writeTinyOnnx } from './helpers.js';

const tmp = tempDir();
const file = path.join(tmp.dir, 'tiny.onnx');
beforeAll(async () => { await writeTinyOnnx(file, 0); });
afterAll(() => tmp.remove());

const row = [1, 2, 3, 4];
const y = async (r: Response): Promise<number[]> => ((await r.json()) as { outputs: { y: number[][] } }).outputs.y[0]!;

describe('a worker that dies mid-batch', () => {
  it('fails that batch with 500, and the next batches are answered on the replaced worker', async () => {
    // The CPU device's worker pool, reached through its private accessor: the test's way to end a
    // thread in the middle of a batch, as a crash in a kernel would.
    const pool = (engine.cpu() as unknown as { workers(): WorkerPool }).workers();
    const real = onnxServable(await load(file));
    // The real model, and for a batch holding the marker value 666, a kernel whose thread exits before the batch ends.
    const dying: Servable = {
      ...real,
      async run(inputs) {
        const out = await real.run(inputs);
        if ((inputs.x!.data as Float32Array).includes(666)) await pool.run('serve-test/exit', '() => { process.exit(7); }', [], 2);
        return out;
      },
    };
    const s = await start({ models: [{ name: 'tiny', servable: dying }], maxBatch: 2, maxWaitMs: 20_000 }); // two rows fill a batch
    try {
      const before = await y(await predict(s.url, 'tiny', { inputs: [row, row] }));
      const batch = await Promise.all([predict(s.url, 'tiny', { inputs: [[666, 0, 0, 0]] }), predict(s.url, 'tiny', { inputs: [row] })]);
      expect(batch.map((r) => r.status)).toEqual([500, 500]);
      const err = ((await batch[0]!.json()) as { error: { kind: string; message: string } }).error;
      expect(err.kind).toBe('worker');
      expect(err.message).toMatch(/a worker thread died while running this batch of 2 requests.*code: 7/);
      const after = await Promise.all([predict(s.url, 'tiny', { inputs: [row] }), predict(s.url, 'tiny', { inputs: [row] })]);
      expect(after.map((r) => r.status)).toEqual([200, 200]);
      expect(await y(after[0]!)).toEqual(before);
      expect(await metric(s.url, 'born_serve_errors_total', { model: 'tiny', kind: 'worker' })).toBe(2);
      // The pool has all its threads again: a run over every thread completes.
      await pool.run('serve-test/noop', '() => {}', [], pool.threads);
    } finally {
      await s.close();
    }
  });
});

describe('hot reload and drain', () => {
  it('--watch swaps a rewritten model file under load without dropping a request', async () => {
    const s = await start({ models: [{ name: 'tiny', path: file }], maxBatch: 4, maxWaitMs: 1, watch: true, watchIntervalMs: 50 });
    try {
      const old = await y(await predict(s.url, 'tiny', { inputs: [row] }));
      const next = path.join(tmp.dir, 'next.onnx');
      await writeTinyOnnx(next, 1);
      const statuses: number[] = [];
      const seen = new Set<string>();
      let stop = false;
      const load = Promise.all(Array.from({ length: 4 }, async () => {
        while (!stop) {
          const r = await predict(s.url, 'tiny', { inputs: [row] });
          statuses.push(r.status);
          if (r.status === 200) seen.add(JSON.stringify(await y(r))); else await r.arrayBuffer();
        }
      }));
      await until(() => statuses.length >= 8, 'requests before the swap');
      renameSync(next, file); // an atomic replace, as born.onnx.save and born.save write
      await until(() => seen.size === 2, 'answers of the new model', 8000);
      const n = statuses.length;
      await until(() => statuses.length >= n + 8, 'requests after the swap');
      stop = true;
      await load;
      expect(statuses.every((st) => st === 200)).toBe(true);
      expect(seen.has(JSON.stringify(old))).toBe(true);
      expect(s.models.get('tiny')!.version).toBe(2);
      expect(await metric(s.url, 'born_serve_model_reloads_total', { model: 'tiny', result: 'ok' })).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('close(): /readyz unready at once, queued requests still answered, then the port is closed', async () => {
    const s = await start({ models: [{ name: 'tiny', path: file }], maxBatch: 64, maxWaitMs: 10_000, drainDelayMs: 200 });
    const queued = Array.from({ length: 5 }, () => predict(s.url, 'tiny', { inputs: [row] }));
    await until(async () => (await metric(s.url, 'born_serve_queue_depth', { model: 'tiny' })) === 5, 'five queued');
    const closing = s.close();
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { kind: string } }).error.kind).toBe('draining');
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await closing;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});
