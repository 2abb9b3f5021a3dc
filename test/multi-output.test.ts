// The multi-output pass (src/scheduler/multi-output.ts): which in-place stores it merges into one
// kernel and which it must leave apart, and that merged kernels give the values of the plan
// without the pass (bitwise) and of float64 references of the optimizers.
import { afterEach, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { partsOf, type ExprRef, type Kernel } from '../src/kernel/ir.js';
import { multiOutput } from '../src/scheduler/multi-output.js';
import { planFor } from '../src/scheduler/realize.js';
import type { Plan } from '../src/scheduler/schedule.js';
import { assignAll, storeNode } from '../src/tensor/assign.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { kernelsRun } from './reference/golden.js';

const { nn, optim } = born;

/** Runs `f` with the pass on or off; plans made meanwhile are dropped, so each setting plans afresh. */
async function withPass<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  born.engine.planCache?.clear();
  multiOutput.enabled = on;
  try { return await f(); } finally { multiOutput.enabled = true; born.engine.planCache?.clear(); }
}
afterEach(() => { multiOutput.enabled = true; });

const seq = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));
const t = (shape: number[], f: (i: number) => number): Tensor => born.tensor(seq(shape.reduce((a, b) => a * b, 1), f), { shape });

async function realized(...ts: Tensor[]): Promise<Tensor[]> {
  await born.realize(...ts);
  return ts;
}

/** The plan of writing each value into its target in one schedule. */
const storePlan = (pairs: readonly (readonly [Tensor, Tensor])[]): Plan => planFor(pairs.map(([a, v]) => storeNode(a, v)));
const outputsPerStep = (p: Plan): number[] => p.steps.map((s) => 1 + (s.extraOutputs?.length ?? 0));

/** Distinct load expressions of a kernel's values: how many element reads one iteration makes. */
function loads(k: Kernel): number {
  const seen = new Set<object>();
  let n = 0;
  const visit = (e: ExprRef): void => {
    const o = 'scalar' in e ? e.scalar : e.index;
    if (seen.has(o)) return;
    seen.add(o);
    if ('scalar' in e && e.scalar.k === 'load') n++;
    const { scalars, indices } = partsOf(e);
    for (const s of scalars) visit({ scalar: s });
    for (const i of indices) visit({ index: i });
  };
  for (const v of [k.value, ...(k.extraOutputs ?? []).map((x) => x.value)]) visit({ scalar: v });
  return n;
}

describe('multi-output pass: what it merges', () => {
  test('stores over the same loop that share an input become one kernel with one output each', async () => {
    const [a, b, x] = await realized(t([4, 5], (i) => i), t([4, 5], (i) => -i), t([4, 5], (i) => i * 0.5));
    const p = storePlan([[a!, a!.add(x!)], [b!, b!.mul(x!)]]);
    expect(outputsPerStep(p)).toEqual([2]);
    expect(p.steps[0]!.kernel.inputs).toHaveLength(3); // a, b, x: x read once
    await assignAll([[a!, a!.add(x!)], [b!, b!.mul(x!)]]);
    expect([...await a!.data()]).toEqual([...seq(20, (i) => i + i * 0.5)]);
    expect([...await b!.data()]).toEqual([...seq(20, (i) => -i * i * 0.5)]);
  });

  test('a swap (each store reads the other target at the element it writes) is one kernel, and exact', async () => {
    const [a, b] = await realized(t([3, 7], (i) => i), t([3, 7], (i) => 100 + i));
    expect(outputsPerStep(storePlan([[a!, b!], [b!, a!]]))).toEqual([2]);
    const ks = await kernelsRun(() => assignAll([[a!, b!], [b!, a!]]));
    expect(ks).toHaveLength(1);
    expect([...await a!.data()]).toEqual([...seq(21, (i) => 100 + i)]);
    expect([...await b!.data()]).toEqual([...seq(21, (i) => i)]);
  });

  test('not merged: stores that share no input', async () => {
    const [a, b] = await realized(t([4, 5], (i) => i), t([4, 5], (i) => i));
    expect(outputsPerStep(storePlan([[a!, a!.mul(2)], [b!, b!.mul(3)]]))).toEqual([1, 1]);
  });

  test('not merged: different loops, even over one shared buffer', async () => {
    const [a, b, x] = await realized(t([4, 5], (i) => i), t([20], (i) => i), t([4, 5], (i) => i));
    expect(outputsPerStep(storePlan([[a!, a!.add(x!)], [b!, b!.add(x!.reshape([20]))]]))).toEqual([1, 1]);
  });

  test('not merged: a store that reads another store\'s target at other elements (a transpose); values as ordered apart', async () => {
    const [a, b] = await realized(t([4, 4], (i) => i), t([4, 4], (i) => 10 * i));
    const p = storePlan([[a!, a!.add(b!.transpose(0, 1))], [b!, b!.mul(2)]]);
    expect(outputsPerStep(p)).toEqual([1, 1]);
    await assignAll([[a!, a!.add(b!.transpose(0, 1))], [b!, b!.mul(2)]]);
    // a reads b's old contents (the store of a runs first).
    expect([...await a!.data()]).toEqual([...seq(16, (i) => i + 10 * ((i % 4) * 4 + Math.floor(i / 4)))]);
    expect([...await b!.data()]).toEqual([...seq(16, (i) => 20 * i)]);
  });

  test('not merged: a store computed by a reduction (its loop is not the other store\'s)', async () => {
    const [a, b, x] = await realized(t([4], (i) => i), t([4], (i) => i), t([4, 3], (i) => i));
    const p = storePlan([[a!, a!.add(x!.sum({ dim: 1 }))], [b!, b!.add(a!)]]);
    expect(p.steps.every((s) => !s.extraOutputs?.length)).toBe(true);
    await assignAll([[a!, a!.add(x!.sum({ dim: 1 }))], [b!, b!.add(a!)]]);
    expect([...await a!.data()]).toEqual([0, 1, 2, 3].map((i) => i + 9 * i + 3));
    expect([...await b!.data()]).toEqual([0, 2, 4, 6]);
  });

  test('not merged: stores that share only a small buffer read broadcast (a clipping coefficient)', async () => {
    const [a, b, s] = await realized(t([4, 5], (i) => i), t([4, 5], (i) => -i), born.tensor([0.5]));
    expect(outputsPerStep(storePlan([[a!, a!.mul(s!)], [b!, b!.mul(s!)]]))).toEqual([1, 1]);
    await assignAll([[a!, a!.mul(s!)], [b!, b!.mul(s!)]]);
    expect([...await b!.data()]).toEqual([...seq(20, (i) => -i * 0.5)]);
  });

  test('the merged Adam kernel reads g, m, v and p once each and computes the moments once', async () => {
    const p = t([6, 5], (i) => Math.sin(i)).requiresGrad_();
    await born.realize(p);
    const opt = new optim.Adam([p], { lr: 0.01 });
    for (let i = 0; i < 2; i++) {
      p.mul(p).sum().backward();
      await opt.step();
      opt.zeroGrad();
    }
    p.mul(p).sum().backward();
    await born.realize(p.grad!);
    const ks = await kernelsRun(() => opt.step());
    expect(ks.map((k) => k.name)).toEqual(['SE3_6_5']);
    expect(ks[0]!.ops.filter((o) => o === 'store')).toHaveLength(3);
    const st = opt.state.get(p)!;
    const plan = storePlan([[p, p.sub(st['exp_avg']!)], [st['exp_avg']!, st['exp_avg']!.mul(0.5).add(p.grad!)], [st['exp_avg_sq']!, st['exp_avg_sq']!.add(p.grad!)]]);
    expect(outputsPerStep(plan)).toEqual([3]);
    expect(loads(plan.steps[0]!.kernel)).toBe(4);
  });
});

/** A small MLP and batch, the same for every run (fixed seeds). */
function mlp(): { model: born.nn.Module; x: Tensor; y: Tensor } {
  born.manualSeed(7);
  const model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3));
  return { model, x: born.randn([10, 12], { seed: 3 }), y: born.randint(0, 3, [10], { seed: 4 }) };
}

type Which = 'Adam' | 'AdamW' | 'SGD';
const makeOpt = (which: Which, params: Tensor[]): born.optim.Optimizer<{ lr: number }> =>
  which === 'Adam' ? new optim.Adam(params, { lr: 0.01 })
    : which === 'AdamW' ? new optim.AdamW(params, { lr: 0.01, weightDecay: 0.1 })
      : new optim.SGD(params, { lr: 0.05, momentum: 0.9 });

/** Trains `steps` steps; returns every parameter's values and the kernels the last step ran. */
async function train(which: Which, steps: number): Promise<{ params: number[][]; kernels: number }> {
  const { model, x, y } = mlp();
  const params = model.parameters();
  await born.realize(x, y, ...params);
  const opt = makeOpt(which, params);
  let kernels = 0;
  for (let i = 0; i < steps; i++) {
    const run = async (): Promise<void> => {
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      await opt.step([loss]);
      opt.zeroGrad();
      await loss.data();
    };
    if (i === steps - 1) kernels = (await kernelsRun(run)).length;
    else await run();
  }
  return { params: await Promise.all(params.map(async (p) => [...await p.data()])), kernels };
}

describe('multi-output pass: training', () => {
  test.each(['Adam', 'AdamW', 'SGD'] as const)('%s on an MLP: the same parameters bit for bit as without the pass, fewer kernels', async (which) => {
    const off = await withPass(false, () => train(which, 4));
    const on = await withPass(true, () => train(which, 4));
    expect(on.params).toEqual(off.params);
    // 6 parameters: Adam and AdamW store p, m and v (3 kernels -> 1), SGD with momentum p and its buffer (2 -> 1).
    const saved = which === 'SGD' ? 6 : 12;
    expect(off.kernels - on.kernels).toBe(saved);
    expect(on.kernels).toBe(which === 'SGD' ? STEP_KERNELS_SGD : STEP_KERNELS_ADAM);
  });

  test('an MLP training step at batch 256 (the benchmark\'s model) with Adam: 38 kernels without the pass, 26 with it', async () => {
    const count = async (): Promise<number> => {
      born.manualSeed(1);
      const model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10));
      const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
      const x = born.rand([256, 1, 28, 28], { seed: 21 });
      const y = born.randint(0, 10, [256], { seed: 22 });
      await born.realize(x, y, ...model.parameters());
      let n = 0;
      for (let i = 0; i < 3; i++) {
        const ks = await kernelsRun(async () => {
          const loss = nn.functional.crossEntropy(model.forward(x), y);
          loss.backward();
          await opt.step([loss]);
          opt.zeroGrad();
          await loss.data();
        });
        n = ks.length;
      }
      return n;
    };
    expect(await withPass(false, count)).toBe(38);
    expect(await withPass(true, count)).toBe(26);
  }, 60_000);
});

const STEP_KERNELS_ADAM = 26;
const STEP_KERNELS_SGD = 26;

describe('multi-output pass: float64 references', () => {
  // loss = sum(c * p) + 0.5 * sum(p^2), so the gradient is c + p.
  const SHAPE = [3, 4];
  const c = seq(12, (i) => Math.cos(i * 1.3));
  const p0 = seq(12, (i) => Math.sin(i * 0.7) * 2);

  async function run(which: Which, steps: number): Promise<Float32Array> {
    const p = born.tensor(p0.slice(), { shape: SHAPE }).requiresGrad_();
    const ct = born.tensor(c, { shape: SHAPE });
    await born.realize(p, ct);
    const opt = makeOpt(which, [p]);
    for (let i = 0; i < steps; i++) {
      ct.mul(p).sum().add(p.mul(p).sum().mul(0.5)).backward();
      await opt.step();
      opt.zeroGrad();
    }
    return (await p.data()) as Float32Array;
  }

  function reference(which: Which, steps: number): number[] {
    const p = [...p0], m = p.map(() => 0), v = p.map(() => 0);
    const [lr, b1, b2, eps, wd] = which === 'SGD' ? [0.05, 0.9, 0, 0, 0] : [0.01, 0.9, 0.999, 1e-8, which === 'AdamW' ? 0.1 : 0];
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < p.length; i++) {
        const g = c[i]! + p[i]!;
        if (which === 'SGD') {
          m[i] = t === 1 ? g : b1 * m[i]! + g;
          p[i] = p[i]! - lr * m[i]!;
          continue;
        }
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mh = m[i]! / (1 - b1 ** t), vh = v[i]! / (1 - b2 ** t);
        p[i] = p[i]! * (1 - lr * wd) - lr * mh / (Math.sqrt(vh) + eps);
      }
    }
    return p;
  }

  test.each(['Adam', 'AdamW', 'SGD'] as const)('%s, 6 steps of merged updates, matches float64 JS', async (which) => {
    const got = await run(which, 6);
    const want = reference(which, 6);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(2e-5 * (1 + Math.abs(want[i]!)));
  });
});
