// Parameters' initial values are computed by the first schedule that reads them, not by their
// constructor (issue 13, cold start): a model whose weights are loaded before anything reads them
// never draws the random values it overwrites, and one used as built holds the values it would
// have held computed at once.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

const { nn } = born;

/** Schedules and allocations that `work` causes. */
async function cost(work: () => Promise<void>): Promise<{ schedules: number; allocations: number }> {
  const before = born.engine.stats();
  await work();
  const after = born.engine.stats();
  return { schedules: after.schedules - before.schedules, allocations: after.allocations - before.allocations };
}

/** Build a 37-29-5 MLP (shapes of its own: no kernel of another test is reused), fill it, run it. */
async function buildLoadRun(build: (make: () => born.nn.Module) => born.nn.Module): Promise<number[]> {
  const model = build(() => nn.Sequential(nn.Linear(37, 29), nn.ReLU(), nn.Linear(29, 5)));
  const sd = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, born.full(t.shape, 0.01)]));
  model.loadStateDict(sd);
  const y = born.noGrad(() => model.forward(born.ones([2, 37])));
  return [...(await y.data() as Float32Array)];
}

describe('deferred parameter initialisation', () => {
  test('a model filled by loadStateDict before anything runs costs what it costs built under skipInit', async () => {
    // Warm both paths once so that neither pays for a kernel the other compiled.
    await buildLoadRun((make) => make());
    await buildLoadRun((make) => nn.skipInit(make));
    let plain: number[] = [], skipped: number[] = [];
    const a = await cost(async () => { plain = await buildLoadRun((make) => make()); });
    const b = await cost(async () => { skipped = await buildLoadRun((make) => nn.skipInit(make)); });
    expect(a).toEqual(b);
    // 37 inputs of 1 times 0.01, plus 0.01, relu, times 29 by 0.01, plus 0.01.
    const hidden = 37 * 0.01 + 0.01;
    for (const v of plain) expect(v).toBeCloseTo(29 * hidden * 0.01 + 0.01, 5);
    expect(skipped).toEqual(plain);
  });

  test('nn.init on a new parameter replaces its initial value without computing it', async () => {
    const fill = async (make: () => { weight: born.Tensor; bias?: born.Tensor }): Promise<void> => {
      const lin = make();
      nn.init.constant_(lin.weight, 0.5);
      nn.init.zeros_(lin.bias!);
      await lin.weight.data();
    };
    await fill(() => nn.Linear(23, 19));
    await fill(() => nn.skipInit(() => nn.Linear(23, 19)));
    const a = await cost(() => fill(() => nn.Linear(23, 19)));
    const b = await cost(() => fill(() => nn.skipInit(() => nn.Linear(23, 19))));
    expect(a).toEqual(b);
  });

  test('a new parameter is computed by the first schedule that reads it, not by others', async () => {
    const lin = nn.Linear(6, 4);
    expect(lin.weight.node.realized).toBeNull();
    await born.tensor([1, 2]).add(1).data();
    expect(lin.weight.node.realized).toBeNull();
    await lin.weight.sum().data();
    expect(lin.weight.node.realized).not.toBeNull();
    expect(lin.bias!.node.realized).toBeNull();
    await lin.realize();
    expect(lin.bias!.node.realized).not.toBeNull();
  });

  test('the values do not depend on when they are computed: the draw is fixed at construction', async () => {
    born.manualSeed(41);
    const first = nn.Linear(8, 3);
    await first.realize();
    const now = [...(await first.weight.data() as Float32Array)];

    born.manualSeed(41);
    const second = nn.Linear(8, 3);
    // Random draws made and computed after construction, before the parameter is read.
    await born.rand([100]).data();
    await born.randn([7, 7]).sum().data();
    const later = [...(await second.weight.data() as Float32Array)];
    expect(later).toEqual(now);
    // kaiming_uniform(a=√5): U(±1/√fan_in), and not all equal.
    for (const v of later) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(new Set(later).size).toBe(later.length);
  });

  test('a parameter read before any other schedule gives the values of an eager computation', async () => {
    born.manualSeed(9);
    const eager = nn.Linear(5, 5);
    await eager.realize();
    born.manualSeed(9);
    const lazy = nn.Linear(5, 5);
    const x = born.eye(5);
    // The forward's graph reads the parameters' initialisers; the schedule before it computes them.
    const y = born.noGrad(() => lazy.forward(x));
    const want = born.noGrad(() => eager.forward(x));
    expect([...(await y.data() as Float32Array)]).toEqual([...(await want.data() as Float32Array)]);
  });
});
