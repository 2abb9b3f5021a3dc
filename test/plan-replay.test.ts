// Replaying cached plans: a graph of the same structure reuses its plan (found by a structural
// hash, checked field by field), and any change planning reads must miss; a hash collision costs
// a miss, never a wrong plan.
import { afterEach, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { planKeys } from '../src/scheduler/realize.js';
import { sameStructure, templateOf, walk } from '../src/scheduler/plan-key.js';

const made = (): number => born.engine.stats().plansMade;

/** Plans made while computing `f()`, and its values. */
async function plansFor(f: () => born.Tensor): Promise<{ plans: number; values: number[] }> {
  const before = made();
  const values = Array.from(await f().data(), Number);
  return { plans: made() - before, values };
}

const vec = (xs: number[], dtype: born.DType = 'float32'): born.Tensor => born.tensor(xs, { dtype });

describe('plan replay', () => {
  const realKey = planKeys.of;
  afterEach(() => { planKeys.of = realKey; });

  test('the same structure with other values replays the plan and computes the new values', async () => {
    const f = (a: number[], b: number[], s: number) => () => vec(a).mul(vec(b)).add(born.scalar(s)).exp().sum();
    const first = await plansFor(f([1, 2, 3], [4, 5, 6], 0.5));
    expect(first.plans).toBe(1);
    const again = await plansFor(f([0.1, -2, 0.3], [1, 1, -1], -0.25));
    expect(again.plans).toBe(0);
    const want = [0.1 * 1, -2 * 1, 0.3 * -1].reduce((acc, v) => acc + Math.exp(v - 0.25), 0);
    expect(again.values[0]).toBeCloseTo(want, 5);
  });

  test('a change planning reads misses: dtype, shape, a constant, a realised leaf against a lazy one', async () => {
    const base = (): born.Tensor => vec([1, 2, 3]).mul(2).add(1);
    await plansFor(base);
    expect((await plansFor(base)).plans).toBe(0);
    // dtype
    const f64 = await plansFor(() => vec([1, 2, 3], 'float64').mul(2).add(1));
    expect(f64.plans).toBe(1);
    expect(f64.values).toEqual([3, 5, 7]);
    // shape
    const longer = await plansFor(() => vec([1, 2, 3, 4]).mul(2).add(1));
    expect(longer.plans).toBe(1);
    expect(longer.values).toEqual([3, 5, 7, 9]);
    // a constant baked into the kernel
    const three = await plansFor(() => vec([1, 2, 3]).mul(3).add(1));
    expect(three.plans).toBe(1);
    expect(three.values).toEqual([4, 7, 10]);
    // the input computed in the same schedule instead of read from a buffer
    const lazy = await plansFor(() => vec([0, 1, 2]).add(1).mul(2).add(1));
    expect(lazy.plans).toBe(1);
    expect(lazy.values).toEqual([3, 5, 7]);
  });

  test('leaves that share one buffer plan apart from distinct leaves', async () => {
    const x = vec([1, 2, 3]);
    const y = vec([10, 20, 30]);
    await born.realize(x, y);
    const distinct = await plansFor(() => x.add(y));
    expect(distinct.values).toEqual([11, 22, 33]);
    // The same buffer read twice, through two nodes.
    const alias = x.reshape([3]);
    await born.realize(alias);
    const shared = await plansFor(() => x.add(alias));
    expect(shared.plans).toBe(1);
    expect(shared.values).toEqual([2, 4, 6]);
  });

  test('requiresGrad is part of the structure', async () => {
    const run = (grad: boolean) => () => {
      const w = vec([1, -2, 3]);
      if (grad) w.requiresGrad_();
      return w.mul(w).sum();
    };
    await plansFor(run(false));
    expect((await plansFor(run(false))).plans).toBe(0);
    const g = await plansFor(run(true));
    expect(g.plans).toBe(1);
    expect(g.values).toEqual([14]);
  });

  test('a forced hash collision falls back to planning, and each structure gets its own values', async () => {
    planKeys.of = () => 'every walk collides';
    const a = (): born.Tensor => vec([1, 2, 3]).mul(2);
    const b = (): born.Tensor => vec([1, 2, 3]).add(2).sum();
    const c = (): born.Tensor => vec([1, 2, 3], 'int32').mul(2);
    expect((await plansFor(a)).values).toEqual([2, 4, 6]);
    const rb = await plansFor(b);
    expect(rb.plans).toBe(1);
    expect(rb.values).toEqual([12]);
    const rc = await plansFor(c);
    expect(rc.plans).toBe(1);
    expect(rc.values).toEqual([2, 4, 6]);
    const ra = await plansFor(a);
    expect(ra.plans).toBe(1); // b and c took the one slot: a miss, never b's or c's plan
    expect(ra.values).toEqual([2, 4, 6]);
    expect((await plansFor(a)).plans).toBe(0);
  });

  test('sameStructure tells structures apart that a weaker key would merge', () => {
    const x = vec([1, 2, 3, 4]);
    const shared = x.exp();
    // One node read twice against two equal nodes: equal trees, different graphs.
    const once = walk([shared.add(shared).node]);
    const twice = walk([x.exp().add(x.exp()).node]);
    expect(sameStructure(templateOf(once), twice)).toBe(false);
    // Views with equal shapes and other strides.
    const m = vec([1, 2, 3, 4]).reshape([2, 2]);
    const plain = walk([m.add(1).node]);
    const transposed = walk([m.permute([1, 0]).add(1).node]);
    expect(sameStructure(templateOf(plain), transposed)).toBe(false);
    // A runtime scalar's value is not structure.
    const p1 = walk([x.mul(born.scalar(2)).node]);
    const p2 = walk([x.mul(born.scalar(3)).node]);
    expect(p1.key).toBe(p2.key);
    expect(sameStructure(templateOf(p1), p2)).toBe(true);
    // -0 and 0 are different constants.
    expect(sameStructure(templateOf(walk([x.mul(0).node])), walk([x.mul(-0).node]))).toBe(false);
  });
});
