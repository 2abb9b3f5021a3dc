// The worker pool's start-up path (issue 13, cold start): with inlineWhileStarting, kernels run
// on the calling thread until every thread has answered its first task, then on the threads; the
// two paths give the same values. Needs the worker build (npm run build).
import { afterEach, describe, expect, test } from 'vitest';
import { viewOf, type KernelBinding } from '../src/devices/cpu-workers/compile.js';
import { KernelError, WorkerPool } from '../src/devices/cpu-workers/pool.js';

function binding(kind: KernelBinding['kind'], length: number): KernelBinding {
  return { sab: new SharedArrayBuffer(length * (kind === 'float64' ? 8 : 4)), kind, length };
}

// b[0][i] = exp(b[1][i]) * p[0] + i; b[2][start] = 1 where the range ran on the thread that set
// globalThis.__bornColdMark (this test's thread), 2 elsewhere.
const KERNEL = `(b, s, e, p) => {
  for (let i = s; i < e; i++) b[0][i] = Math.exp(b[1][i]) * p[0] + i;
  b[2][s] = globalThis.__bornColdMark === 1 ? 1 : 2;
}`;
const N = 5003;

function inputs(): { x: KernelBinding; out: () => KernelBinding; where: () => KernelBinding } {
  const x = binding('float32', N);
  const xv = viewOf(x);
  for (let i = 0; i < N; i++) xv[i] = Math.sin(i) * 3;
  return { x, out: () => binding('float32', N), where: () => binding('int32', N) };
}

/** The distinct places (1: calling thread, 2: a worker) the ranges of a run used. */
const places = (where: KernelBinding): number[] => [...new Set([...viewOf(where) as Int32Array].filter((v) => v !== 0))].sort();

describe('WorkerPool inlineWhileStarting', () => {
  const pools: WorkerPool[] = [];
  afterEach(async () => { await Promise.all(pools.splice(0).map((p) => p.destroy())); });
  (globalThis as { __bornColdMark?: number }).__bornColdMark = 1;

  test('the first run goes inline while the threads start; later runs go to the threads, with the same values', async () => {
    const pool = new WorkerPool({ threads: 2, inlineWhileStarting: true });
    pools.push(pool);
    const { x, out, where } = inputs();
    expect(pool.ready).toBe(false);
    const [o1, w1] = [out(), where()];
    await pool.run('cold', KERNEL, [o1, x, w1], N, { args: [2] });
    expect(places(w1)).toEqual([1]);
    // Both ranges of a two-thread split were run, on this thread.
    expect((viewOf(w1) as Int32Array).filter((v) => v === 1).length).toBe(2);

    await pool.whenReady();
    expect(pool.ready).toBe(true);
    const [o2, w2] = [out(), where()];
    await pool.run('cold', KERNEL, [o2, x, w2], N, { args: [2] });
    expect(places(w2)).toEqual([2]);
    expect(viewOf(o1)).toEqual(viewOf(o2));
    expect(viewOf(o2)[7]).toBeCloseTo(Math.exp(Math.fround(Math.sin(7) * 3)) * 2 + 7, 3);
  });

  test('without the option every run waits for the threads (a kernel that must not run on the caller)', async () => {
    const pool = new WorkerPool({ threads: 2 });
    pools.push(pool);
    const { x, out, where } = inputs();
    const w = where();
    await pool.run('cold', KERNEL, [out(), x, w], N, { args: [2] });
    expect(places(w)).toEqual([2]);
  });

  test('with startDelayMs the threads spawn only after the delay or at whenReady(); runs before that go inline', async () => {
    const pool = new WorkerPool({ threads: 2, inlineWhileStarting: true, startDelayMs: 60_000 });
    pools.push(pool);
    const { x, out, where } = inputs();
    const w1 = where();
    await pool.run('cold', KERNEL, [out(), x, w1], N, { args: [3] });
    await new Promise((r) => setTimeout(r, 50)); // threads spawned at once would be up by now or soon after
    const w2 = where();
    await pool.run('cold', KERNEL, [out(), x, w2], N, { args: [3] });
    expect([places(w1), places(w2), pool.ready]).toEqual([[1], [1], false]);
    await pool.whenReady();
    const w3 = where();
    await pool.run('cold', KERNEL, [out(), x, w3], N, { args: [3] });
    expect(places(w3)).toEqual([2]);
  });

  test('a pool destroyed before its delayed start never spawns threads and refuses work', async () => {
    const pool = new WorkerPool({ threads: 2, inlineWhileStarting: true, startDelayMs: 60_000 });
    await pool.destroy();
    await expect(pool.run('cold', KERNEL, [binding('float32', 4), binding('float32', 4), binding('int32', 4)], 4, { args: [1] }))
      .rejects.toThrow(/destroyed/);
  });

  test('a kernel that throws on the inline path rejects with a KernelError naming the key', async () => {
    const pool = new WorkerPool({ threads: 2, inlineWhileStarting: true });
    pools.push(pool);
    const err = await pool.run('cold/throws', '() => { throw new RangeError("boom"); }', [binding('float32', 4)], 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toMatch(/cold\/throws.*RangeError: boom/);
    await pool.whenReady();
    // The threads still start and serve.
    const w = binding('int32', N);
    const { x } = inputs();
    await pool.run('cold', KERNEL, [binding('float32', N), x, w], N, { args: [1] });
    expect(places(w)).toEqual([2]);
  });
});
