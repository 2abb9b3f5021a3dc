// A responsive event loop: the engine shares the main thread with the service around it, so a
// long schedule of inline kernels, or many concurrent ones, lets macrotasks (timers, I/O,
// finalizers) run every few milliseconds, and concurrent schedules take turns.
import { describe, expect, test, vi } from 'vitest';
import * as born from '../src/index.js';
import { BUDGET_MS, turnStats } from '../src/scheduler/turns.js';

/** Counts macrotask turns (setImmediate callbacks) while `work` runs. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let spinning = true;
  const spin = (): void => { turns++; if (spinning) setImmediate(spin); };
  setImmediate(spin);
  turns = 0;
  try {
    return { result: await work(), turns };
  } finally {
    spinning = false;
  }
}

/** `steps` matmul+tanh kernels, each small enough to run inline (32x64 by 64x64). */
function chain(x: born.Tensor, w: born.Tensor, steps: number): born.Tensor {
  for (let i = 0; i < steps; i++) x = x.matmul(w).tanh();
  return x;
}

describe('event loop', () => {
  const w = born.randn([64, 64], { seed: 1 }).mul(0.125);
  const x0 = born.randn([32, 64], { seed: 2 });

  test('a 200-kernel schedule of inline kernels lets the event loop turn while it runs', async () => {
    await born.realize(w, x0);
    await chain(x0, w, 200).data(); // compile the plan and its kernels first
    let kernels = 0;
    const count = (): void => { kernels++; };
    born.engine.on('kernel', count);
    const waits = turnStats.waits;
    const { result, turns } = await turnsDuring(() => chain(x0, w, 200).data());
    born.engine.off('kernel', count);
    expect(kernels).toBe(200);
    // 200 kernels of ~65k multiply-adds take well over a budget of 3 ms: today none of it yields.
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(turnStats.waits).toBeGreaterThan(waits);
    // The same values as the chain realised in pieces, when every piece is short.
    let y: born.Tensor = x0;
    for (let i = 0; i < 10; i++) { y = chain(y, w, 20); await born.realize(y); }
    expect([...result]).toEqual([...(await y.data())]);
  });

  test('concurrent schedules take turns: each one progresses before any finishes', async () => {
    // Different row counts give each schedule its own kernel names, so the events say whose kernel ran.
    const n = 12;
    const xs = Array.from({ length: n }, (_, i) => born.randn([24 + i, 64], { seed: 10 + i }));
    await born.realize(...xs);
    // Each schedule must outlast the turn budget, or one runs to its end before the next starts
    // (on a quiet, fast machine 120 of these kernels fit in one budget): longer chains until it does.
    const warmTime = async (s: number): Promise<number> => {
      await chain(xs[0]!, w, s).data();
      const t0 = performance.now();
      await chain(xs[0]!, w, s).data();
      return performance.now() - t0;
    };
    let steps = 120;
    while (steps < 3840 && (await warmTime(steps)) < 4 * BUDGET_MS) steps *= 2;
    await Promise.all(xs.map((x) => chain(x, w, steps).data()));
    const done = new Array<number>(n).fill(0);
    let firstFinished: number[] | null = null;
    const count = (e: born.KernelEvent): void => {
      const i = Number(/^MM_1_(\d+)_/.exec(e.name)?.[1]) - 24;
      if (i >= 0 && i < n && ++done[i]! === steps && !firstFinished) firstFinished = [...done];
    };
    born.engine.on('kernel', count);
    const { turns } = await turnsDuring(() => Promise.all(xs.map((x) => chain(x, w, steps).data())));
    born.engine.off('kernel', count);
    expect(done).toEqual(new Array<number>(n).fill(steps));
    expect(turns).toBeGreaterThanOrEqual(3);
    // No schedule waits for another to finish: when the first is done, every one has run a part.
    expect(Math.min(...firstFinished!)).toBeGreaterThan(0);
  });

  test('a caller that fakes timers and the clock still gets its results', async () => {
    await born.realize(w, x0);
    const want = [...(await chain(x0, w, 200).data())];
    vi.useFakeTimers();
    try {
      expect([...(await chain(x0, w, 200).data())]).toEqual(want);
      // 40 MB of device memory each: past the memory budget, so the engine waits for turns here.
      for (let i = 0; i < 3; i++) {
        const big = await born.tensor(new Float32Array(5_000_000)).add(i).data();
        expect(big[4_999_999]).toBe(i);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  test('a timer set before a long schedule fires while it runs, not after', async () => {
    await born.realize(w, x0);
    await chain(x0, w, 200).data();
    let finished = false;
    let firedBeforeEnd = false;
    const timer = new Promise<void>((r) => setTimeout(() => { firedBeforeEnd = !finished; r(); }, 0));
    await chain(x0, w, 400).data();
    finished = true;
    await timer;
    expect(firedBeforeEnd).toBe(true);
  });
});
