// born.optim against PyTorch 1.13 golden values (test/fixtures/nn_golden.json, written by
// test/fixtures/gen_nn_golden.py): parameters after each of 3 steps on a fixed problem
// (loss = mean((tanh(x Wᵀ + b) - t)²)) for SGD / Adam / AdamW / RMSprop variants, lr changes
// between steps (StepLR), the learning-rate sequences of the schedulers, and clipGradNorm
// against torch.nn.utils.clip_grad_norm_.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { f32, type Arr } from './reference/golden.js';
import { close, expectNear, problemLossOf, restoredAfterTwoSteps, type OptimProblem } from './reference/optim-problem.js';

const { optim } = born;

interface OptimCase {
  name: string;
  cls: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  opts: Record<string, unknown> & { lr: number };
  stepLRGamma: number | null;
  steps: { loss: number; W: Arr; b: Arr }[];
}
interface SchedCase { name: string; kind: 'StepLR' | 'CosineAnnealingLR' | 'LinearWarmup'; args: number[]; lr: number; lrs: number[] }
interface ClipCase { name: string; maxNorm: number; grads: Arr[]; total: number; clipped: Arr[] }
interface Golden {
  torch: string;
  optimProblem: OptimProblem;
  optim: OptimCase[];
  schedulers: SchedCase[];
  clip: ClipCase[];
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/nn_golden.json', import.meta.url), 'utf8')) as Golden;

const P = golden.optimProblem;
const problemLoss = problemLossOf(P);

function makeOptimizer(c: OptimCase, params: Tensor[]): InstanceType<typeof optim.Optimizer> {
  const o = c.opts as never;
  switch (c.cls) {
    case 'SGD': return new optim.SGD(params, o);
    case 'Adam': return new optim.Adam(params, o);
    case 'AdamW': return new optim.AdamW(params, o);
    case 'RMSprop': return new optim.RMSprop(params, o);
  }
}

describe(`optimizers vs PyTorch ${golden.torch}: parameters after each of 3 steps`, () => {
  for (const c of golden.optim) {
    test(c.name, async () => {
      const W = f32(P.W).requiresGrad_();
      const b = f32(P.b).requiresGrad_();
      const opt = makeOptimizer(c, [W, b]);
      const sched = c.stepLRGamma ? new optim.StepLR(opt, 1, c.stepLRGamma) : null;
      for (const [i, want] of c.steps.entries()) {
        opt.zeroGrad();
        const loss = problemLoss(W, b);
        loss.backward();
        expect(close(await loss.item(), want.loss), `step ${i + 1} loss ${await loss.item()} vs ${want.loss}`).toBe(true);
        await opt.step();
        sched?.step();
        await expectNear(W, want.W, `step ${i + 1} W`);
        await expectNear(b, want.b, `step ${i + 1} b`);
      }
      expect(opt.stepCount).toBe(3);
    });
  }
});

describe('optimizer behaviour', () => {
  test('a parameter without a gradient is left alone; one without requiresGrad is rejected', async () => {
    const W = f32(P.W).requiresGrad_();
    const b = f32(P.b).requiresGrad_();
    const unused = born.ones([2]).requiresGrad_();
    const opt = new optim.Adam([W, b, unused], { lr: 0.1 });
    problemLoss(W, b).backward();
    await opt.step();
    expect([...(await unused.data())]).toEqual([1, 1]);
    expect(() => new optim.SGD([born.ones([2])], { lr: 0.1 })).toThrow(/requiresGrad/);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/no parameters/);
  });

  test('backward accumulates into .grad until zeroGrad()', async () => {
    const W = f32(P.W).requiresGrad_();
    const b = f32(P.b).requiresGrad_();
    problemLoss(W, b).backward();
    const g1 = await W.grad!.data();
    problemLoss(W, b).backward();
    const g2 = await W.grad!.data();
    g2.forEach((v, i) => expect(close(v, 2 * g1[i]!, { rtol: 1e-6, atol: 1e-7 })).toBe(true));
    const opt = new optim.SGD([W, b], { lr: 0.1 });
    opt.zeroGrad();
    expect(W.grad).toBeNull();
    expect(b.grad).toBeNull();
  });

  test('resuming from stateDict() after 2 steps gives PyTorch\'s third step (SGD momentum, Adam, AdamW, RMSprop momentum)', async () => {
    for (const name of ['SGD momentum 0.9 nesterov', 'Adam betas [0.8, 0.95], eps 1e-6, weightDecay 0.1', 'AdamW weightDecay 0.1', 'RMSprop momentum 0.9']) {
      const c = golden.optim.find((o) => o.name === name)!;
      const { W: W2, b: b2, restored: second } = await restoredAfterTwoSteps(P, (ps) => makeOptimizer(c, ps));
      expect(second.stepCount, name).toBe(2);
      problemLoss(W2, b2).backward();
      await second.step();
      await expectNear(W2, c.steps[2]!.W, `${name}: W after resumed step 3`);
      await expectNear(b2, c.steps[2]!.b, `${name}: b after resumed step 3`);
    }
  });

  test('a model trained with SGD through nn modules matches the functional problem', async () => {
    // Linear(4, 3) holding the problem's W and b: the same 3 SGD-momentum steps as the golden case.
    const c = golden.optim.find((o) => o.name === 'SGD momentum 0.9')!;
    const lin = born.nn.Linear(4, 3);
    lin.loadStateDict({ weight: f32(P.W), bias: f32(P.b) });
    const opt = new optim.SGD(lin.parameters(), c.opts);
    for (const want of c.steps) {
      opt.zeroGrad();
      born.nn.functional.mseLoss(lin.forward(f32(P.x)).tanh(), f32(P.t)).backward();
      await opt.step();
      await expectNear(lin.weight, want.W, 'weight');
      await expectNear(lin.bias!, want.b, 'bias');
    }
  });
});

describe(`lr schedulers vs PyTorch ${golden.torch}`, () => {
  for (const c of golden.schedulers) {
    test(c.name, () => {
      const opt = new optim.SGD([born.zeros([1]).requiresGrad_()], { lr: c.lr });
      const [a0, a1] = c.args;
      const s = c.kind === 'StepLR' ? new optim.StepLR(opt, a0!, a1)
        : c.kind === 'CosineAnnealingLR' ? new optim.CosineAnnealingLR(opt, a0!, a1)
          : new optim.LinearWarmup(opt, a0!, a1);
      const lrs = [opt.lr];
      for (let i = 1; i < c.lrs.length; i++) {
        s.step();
        lrs.push(opt.lr);
        expect(s.lastLr).toBe(opt.lr);
      }
      lrs.forEach((lr, i) => expect(close(lr, c.lrs[i]!, { rtol: 1e-9, atol: 1e-12 }), `epoch ${i}: got ${lr}, want ${c.lrs[i]}`).toBe(true));
    });
  }
});

describe(`clipGradNorm vs torch.nn.utils.clip_grad_norm_ (${golden.torch})`, () => {
  for (const c of golden.clip) {
    test(c.name, async () => {
      const ps = c.grads.map((g) => born.zeros(g.shape).requiresGrad_());
      ps.forEach((p, i) => { p.grad = f32(c.grads[i]!); });
      const total = optim.clipGradNorm(ps, c.maxNorm)!;
      expect(close(await total.item(), c.total), `total norm ${await total.item()} vs ${c.total}`).toBe(true);
      for (const [i, p] of ps.entries()) await expectNear(p.grad!, c.clipped[i]!, `grad ${i}`);
    });
  }
  test('no gradients: null, nothing changed', () => {
    expect(optim.clipGradNorm([born.zeros([2]).requiresGrad_()], 1)).toBeNull();
  });
});
