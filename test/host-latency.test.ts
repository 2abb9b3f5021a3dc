// Batch-1 calls pay as little host work as they can: kernels that run inline run one after the
// other within the call that starts the schedule (no promise hop per kernel), and time the
// engine did not spend (the caller's own work, a gc()) does not make the next call wait a turn.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { BUDGET_MS, turnStats } from '../src/scheduler/turns.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const spin = (ms: number): void => { const t = performance.now(); while (performance.now() - t < ms); };

describe('host latency of small schedules', () => {
  const w1 = born.randn([16, 32], { seed: 1 });
  const w2 = born.randn([32, 8], { seed: 2 });
  const x = born.randn([2, 16], { seed: 3 });
  // Three inline kernels: two matmuls (the first with its relu fused) and a row sum.
  const graph = (): born.Tensor => x.matmul(w1).relu().matmul(w2).exp().sum({ dim: 1 });

  test('every inline kernel of a schedule has run when data() returns its promise', async () => {
    await born.realize(w1, w2, x);
    const want = await graph().data(); // plan and kernels compiled
    let kernels = 0;
    const count = (): void => { kernels++; };
    born.engine.on('kernel', count);
    try {
      await nextTurn(); // a fresh budget
      const y = graph();
      const expected = born.explain(y).kernels.length;
      expect(expected).toBeGreaterThanOrEqual(2);
      const read = y.data();
      expect(kernels).toBe(expected);
      expect([...(await read)]).toEqual([...want]);
    } finally {
      born.engine.off('kernel', count);
    }
  });

  test('the values match a float64 reference', async () => {
    const [xs, a, b] = await Promise.all([x.data(), w1.data(), w2.data()]);
    const got = await graph().data();
    for (let i = 0; i < 2; i++) {
      const h = new Float64Array(32);
      for (let j = 0; j < 32; j++) { let s = 0; for (let k = 0; k < 16; k++) s += xs[i * 16 + k]! * a[k * 32 + j]!; h[j] = Math.max(0, s); }
      let sum = 0;
      for (let j = 0; j < 8; j++) { let s = 0; for (let k = 0; k < 32; k++) s += h[k]! * b[k * 8 + j]!; sum += Math.exp(s); }
      expect(Math.abs(got[i]! - sum)).toBeLessThanOrEqual(1e-4 * Math.abs(sum));
    }
  });

  test('a call after the caller kept the thread for longer than a budget does not wait a turn', async () => {
    // One tiny kernel a call, so that the engine's own time stays far below a budget even on a
    // loaded machine; before, every one of these calls waited a turn.
    const small = (): born.Tensor => x.add(1);
    await small().data();
    await nextTurn();
    await small().data(); // the engine's clock runs from here until the next turn
    const waits = turnStats.waits;
    for (let i = 0; i < 8; i++) {
      spin(BUDGET_MS + 2); // the caller's own work (a gc(), parsing a request), not the engine's
      await small().data();
    }
    expect(turnStats.waits - waits).toBeLessThanOrEqual(2);
  });

  test('the engine still yields once its own work has taken a budget', async () => {
    await graph().data();
    await nextTurn();
    const waits = turnStats.waits;
    const t0 = performance.now();
    // Back to back, no turn in between: the engine's own time adds up past the budget.
    while (performance.now() - t0 < 4 * BUDGET_MS) await graph().data();
    expect(turnStats.waits).toBeGreaterThan(waits);
  });
});
