// Planning a large graph of a new structure happens across event-loop turns: the call that
// realises it returns after the walk, outputs are pending at once, and concurrent schedules of
// the same structure share one plan.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { COLD_PLAN_NODES } from '../src/scheduler/realize.js';

const ROWS = 4, COLS = 6;

/** `steps` rounds of x - amax(x) scaled, then softmax: 7 nodes and 2 kernels a round. */
function chain(x: born.Tensor, steps: number, scale: number): born.Tensor {
  let y = x;
  for (let i = 0; i < steps; i++) y = y.sub(y.amax(-1, true)).mul(scale).softmax({ dim: -1 });
  return y;
}

function chainRef(x: Float32Array, steps: number, scale: number): Float64Array {
  const y = Float64Array.from(x);
  for (let i = 0; i < steps; i++) {
    for (let r = 0; r < ROWS; r++) {
      const row = y.subarray(r * COLS, (r + 1) * COLS);
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      for (let c = 0; c < COLS; c++) row[c] = (row[c]! - m) * scale;
      let mx = -Infinity, s = 0;
      for (const v of row) mx = Math.max(mx, v);
      for (const v of row) s += Math.exp(v - mx);
      for (let c = 0; c < COLS; c++) row[c] = Math.exp(row[c]! - mx) / s;
    }
  }
  return y;
}

async function expectChain(y: born.Tensor, x: Float32Array, steps: number, scale: number): Promise<void> {
  const got = await y.data();
  const want = chainRef(x, steps, scale);
  want.forEach((v, i) => expect(Math.abs(got[i]! - v), `element ${i}`).toBeLessThan(1e-5));
}

describe('cold plans of large graphs', () => {
  test('the call returns before the plan is made; the event loop turns while it is made; values are right', async () => {
    const x = born.randn([ROWS, COLS], { seed: 1 });
    const xs = await x.data();
    const steps = 150; // ~1,000 nodes, 300 kernels
    const y = chain(x, steps, 1.25);
    const plansBefore = born.engine.stats().plansMade;
    const cachedBefore = born.engine.stats().cachedPlans;
    const pending = y.data();
    // The next turn of the event loop comes while the plan is still being made.
    const atTurn = new Promise<number>((r) => setImmediate(() => r(born.engine.stats().cachedPlans)));
    // The tensor is pending at once: a graph built on it now reads its buffer.
    expect(born.explain(y.add(1)).kernels).toHaveLength(1);
    expect(await atTurn).toBe(cachedBefore + 1); // explain's plan of y + 1 only
    await expectChain(y, xs, steps, 1.25);
    await pending;
    expect(born.engine.stats().plansMade).toBe(plansBefore + 2);
    expect(born.engine.stats().cachedPlans).toBe(cachedBefore + 2);
  });

  test('concurrent schedules of one new structure share one plan and each get their own values', async () => {
    const xs = [born.randn([ROWS, COLS], { seed: 2 }), born.randn([ROWS, COLS], { seed: 3 }), born.randn([ROWS, COLS], { seed: 4 })];
    const data = await Promise.all(xs.map((x) => x.data()));
    const plansBefore = born.engine.stats().plansMade;
    const ys = xs.map((x) => chain(x, 60, 0.75));
    await Promise.all(ys.map((y, i) => expectChain(y, data[i]!, 60, 0.75)));
    expect(born.engine.stats().plansMade).toBe(plansBefore + 1);
  });

  test('an output that is a plain reshape gets a buffer of its own; an intermediate read meanwhile is right too', async () => {
    const x = born.randn([ROWS, COLS], { seed: 5 });
    const xs = await x.data();
    const mid = chain(x, 40, 1.5);
    const y = chain(mid, 40, 1.5);
    const flat = y.reshape([ROWS * COLS]);
    const pFlat = flat.data();
    const pMid = mid.data(); // realises part of the graph being planned
    const [vf, vm] = await Promise.all([pFlat, pMid]);
    const want = chainRef(xs, 80, 1.5), wantMid = chainRef(xs, 40, 1.5);
    want.forEach((v, i) => expect(Math.abs(vf[i]! - v)).toBeLessThan(1e-5));
    wantMid.forEach((v, i) => expect(Math.abs(vm[i]! - v)).toBeLessThan(1e-5));
    // Warm: the same structure plans at once (from the cache) and gives the same values.
    const again = chain(chain(x, 40, 1.5), 40, 1.5).reshape([ROWS * COLS]);
    expect(Array.from(await again.data())).toEqual(Array.from(vf));
  });

  test('a failure inside a cold schedule rejects its outputs and the engine stays usable', async () => {
    const x = born.randn([ROWS, COLS], { seed: 6 });
    const bad = born.tensor([[0], [1], [99], [2]], { dtype: 'int32' });
    const y = chain(x, 60, 1).gather(1, bad);
    await expect(y.data()).rejects.toThrow(born.IndexError);
    expect(await born.tensor([1, 2]).add(1).data()).toEqual(new Float32Array([2, 3]));
  });

  test('graphs below the threshold plan at once', () => {
    expect(COLD_PLAN_NODES).toBeGreaterThan(64);
  });
});
