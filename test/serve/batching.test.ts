// Dynamic batching and backpressure over real HTTP: concurrent requests merge into one run (the
// batch sizes read back from /metrics), a full queue answers 503 with Retry-After, a deadline
// answers 504 without running the request, a client that goes away leaves the queue.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucket } from '../../src/serve/batcher.js';
import { engine } from '../../src/scheduler/engine.js';
import type { Server } from '../../src/serve/index.js';
import { metric, predict, series, start, tempDir, until, writeTinyOnnx } from './helpers.js';

const tmp = tempDir();
const file = path.join(tmp.dir, 'tiny.onnx');
const servers: Server[] = [];
beforeAll(async () => { await writeTinyOnnx(file); });
afterAll(async () => { await Promise.all(servers.map((s) => s.close())); tmp.remove(); });

const boot = async (opts: { maxBatch: number; maxWaitMs: number; queue?: number; timeoutMs?: number }): Promise<Server> => {
  const s = await start({ models: [{ name: 'tiny', path: file }], ...opts });
  servers.push(s);
  return s;
};
const row = (i: number): number[] => [i, i + 1, -i, 2];

describe('dynamic batching', () => {
  it('gives each batch in flight its share of the worker threads while serving, and restores it on close', async () => {
    const cpu = engine.cpu();
    expect(cpu.chainsInFlight).toBe(1);
    const s = await start({ models: [{ name: 'tiny', path: file }], maxBatch: 8, maxWaitMs: 1, batchesInFlight: 3 });
    expect(cpu.chainsInFlight).toBe(3);
    await s.close();
    expect(cpu.chainsInFlight).toBe(1);
  });

  it('pads to four sizes per power of two, up to maxBatch', () => {
    expect([1, 2, 3, 5, 8, 9, 11, 17, 21, 31, 32, 40].map((n) => bucket(n, 32))).toEqual([1, 2, 3, 5, 8, 10, 12, 20, 24, 32, 32, 40]);
    expect([33, 41, 57, 64, 65].map((n) => bucket(n, 64))).toEqual([40, 48, 64, 64, 65]);
    expect(bucket(5, 6)).toBe(5);
    expect(bucket(27, 26)).toBe(27);
    // Never fewer rows than asked, at most a quarter more, and few sizes: 20 up to 64.
    const sizes = new Set<number>();
    for (let n = 1; n <= 64; n++) {
      const b = bucket(n, 64);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b).toBeLessThanOrEqual(Math.max(n, Math.ceil(n * 1.25)));
      sizes.add(b);
    }
    expect(sizes.size).toBe(20);
  });

  it('merges eight concurrent batch-1 requests into one run and gives each its own row', async () => {
    const s = await boot({ maxBatch: 8, maxWaitMs: 2000 });
    const alone = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async (i) => {
      // Each row's answer on its own, from the same model, for reference.
      const r = await fetch(`${s.url}/v1/models/tiny:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [row(i)] }) });
      return ((await r.json()) as { outputs: { y: number[][] } }).outputs.y[0]!;
    }));
    expect(await metric(s.url, 'born_serve_batch_size_count', { model: 'tiny' })).toBe(1);
    expect(await metric(s.url, 'born_serve_batch_size_sum', { model: 'tiny' })).toBe(8);
    expect(await metric(s.url, 'born_serve_batch_requests_sum', { model: 'tiny' })).toBe(8);
    // Rows 2 and 3 of one request of three rows, merged with five batch-1 requests: the same values.
    const mixed = await Promise.all([
      predict(s.url, 'tiny', { inputs: [row(1), row(2), row(3)] }),
      ...[0, 4, 5, 6, 7].map((i) => predict(s.url, 'tiny', { inputs: [row(i)] })),
    ]);
    const ys = await Promise.all(mixed.map(async (r) => ((await r.json()) as { outputs: { y: number[][] } }).outputs.y));
    expect(await metric(s.url, 'born_serve_batch_size_count', { model: 'tiny' })).toBe(2);
    expect(ys[0]).toEqual([alone[1], alone[2], alone[3]]);
    expect(ys.slice(1).map((y) => y[0])).toEqual([alone[0], alone[4], alone[5], alone[6], alone[7]]);
  });

  it('a full queue answers 503 with Retry-After; the queued requests are still answered', async () => {
    const s = await boot({ maxBatch: 64, maxWaitMs: 20_000, queue: 4 });
    const first = [0, 1, 2, 3].map((i) => predict(s.url, 'tiny', { inputs: [row(i)] }));
    await until(async () => (await metric(s.url, 'born_serve_queue_depth', { model: 'tiny' })) === 4, 'four queued');
    const over = await predict(s.url, 'tiny', { inputs: [row(9)] });
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(((await over.json()) as { error: { kind: string } }).error.kind).toBe('overloaded');
    void s.close(); // draining runs the queued requests at once
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('a request past --timeout-ms gets 504 and never runs', async () => {
    const s = await boot({ maxBatch: 8, maxWaitMs: 400, timeoutMs: 50 });
    const r = await predict(s.url, 'tiny', { inputs: [row(0)] });
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/deadline of 50 ms/);
    await new Promise((res) => setTimeout(res, 450));
    expect(await metric(s.url, 'born_serve_batch_size_count', { model: 'tiny' })).toBe(0);
    expect(await metric(s.url, 'born_serve_errors_total', { model: 'tiny', kind: 'deadline' })).toBe(1);
  });

  it('a client that disconnects leaves the queue, and its request never runs', async () => {
    const s = await boot({ maxBatch: 8, maxWaitMs: 20_000 });
    const abort = new AbortController();
    const gone = predict(s.url, 'tiny', { inputs: [row(0)] }, {}, abort.signal).catch((e: unknown) => e);
    await until(async () => (await metric(s.url, 'born_serve_queue_depth', { model: 'tiny' })) === 1, 'one queued');
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until(async () => (await metric(s.url, 'born_serve_errors_total', { model: 'tiny', kind: 'cancelled' })) === 1, 'the cancel counted');
    expect(await metric(s.url, 'born_serve_queue_depth', { model: 'tiny' })).toBe(0);
    await s.close(); // a drain runs whatever is queued: nothing is
    expect(series(await s.metrics.registry.metrics(), 'born_serve_batch_size_count', { model: 'tiny' })).toBe(0);
  });
});
