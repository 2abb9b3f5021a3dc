// Adagrad, Adamax, NAdam, RAdam, the new lr schedulers and clipGradValue against PyTorch 1.13
// (test/fixtures/optim_more.json, written by test/fixtures/gen_optim_more.py): parameters after
// each of 8 steps on the fixed problem of optim-golden.test.ts, lr sequences, clipped gradients;
// then PyTorch's defaults, option checks, and that a changing lr compiles no new kernel.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { f32, type Arr } from './reference/golden.js';
import { close, expectNear, problemLossOf, restoredAfterTwoSteps, type OptimProblem } from './reference/optim-problem.js';

const { optim } = born;

type Cls = 'Adagrad' | 'Adamax' | 'NAdam' | 'RAdam' | 'Adam' | 'RMSprop' | 'AdamW';
interface OptimCase {
  name: string; cls: Cls | 'SGD'; opts: Record<string, unknown>; stepLRGamma: number | null;
  oneCycle: ({ maxLr: number } & Record<string, unknown>) | null; steps: { loss: number; W: Arr; b: Arr }[] }
interface SchedCase { name: string; kind: string; args: unknown[]; lr: number; lrs: number[]; metrics?: number[] }
interface ClipCase { name: string; clipValue: number; grads: Arr[]; clipped: Arr[] }
interface Golden { torch: string; problem: OptimProblem; optim: OptimCase[]; schedulers: SchedCase[]; clip: ClipCase[] }

const golden = JSON.parse(readFileSync(new URL('./fixtures/optim_more.json', import.meta.url), 'utf8')) as Golden;

const P = golden.problem;
const problemLoss = problemLossOf(P);

function make(cls: Cls | 'SGD', params: Tensor[], opts: Record<string, unknown>): born.optim.Optimizer<{ lr: number }> {
  const o = opts as never;
  switch (cls) {
    case 'Adagrad': return new optim.Adagrad(params, o);
    case 'Adamax': return new optim.Adamax(params, o);
    case 'NAdam': return new optim.NAdam(params, o);
    case 'RAdam': return new optim.RAdam(params, o);
    case 'Adam': return new optim.Adam(params, o);
    case 'AdamW': return new optim.AdamW(params, o);
    case 'RMSprop': return new optim.RMSprop(params, o);
    case 'SGD': return new optim.SGD(params, o);
  }
}

describe(`optimizers vs torch.optim ${golden.torch} (StepLR, OneCycleLR cycling momentum): parameters after each of 8 steps`, () => {
  for (const c of golden.optim) {
    test(c.name, async () => {
      const W = f32(P.W).requiresGrad_();
      const b = f32(P.b).requiresGrad_();
      const opt = make(c.cls, [W, b], c.opts);
      const oc = c.oneCycle;
      const sched = c.stepLRGamma ? new optim.StepLR(opt, 1, c.stepLRGamma)
        : oc ? new optim.OneCycleLR(opt, oc.maxLr, { ...Object.fromEntries(Object.entries(oc).filter(([k]) => k !== 'maxLr')), totalSteps: c.steps.length })
          : null;
      for (const [i, want] of c.steps.entries()) {
        opt.zeroGrad();
        const loss = problemLoss(W, b);
        loss.backward();
        await opt.step([loss]);
        expect(close(await loss.item(), want.loss), `step ${i + 1} loss ${await loss.item()} vs ${want.loss}`).toBe(true);
        sched?.step();
        await expectNear(W, want.W, `step ${i + 1} W`);
        await expectNear(b, want.b, `step ${i + 1} b`);
      }
    });
  }
});

describe('PyTorch defaults and option checks', () => {
  const param = (): Tensor => born.zeros([2]).requiresGrad_();
  test('default learning rates are PyTorch 1.13\'s; SGD requires one', () => {
    expect(new optim.Adam([param()]).lr).toBe(1e-3);
    expect(new optim.AdamW([param()]).lr).toBe(1e-3);
    expect(new optim.AdamW([param()]).options.weightDecay).toBe(0.01);
    expect(new optim.RMSprop([param()]).lr).toBe(1e-2);
    expect(new optim.Adagrad([param()]).lr).toBe(1e-2);
    expect(new optim.Adamax([param()]).lr).toBe(2e-3);
    expect(new optim.NAdam([param()]).lr).toBe(2e-3);
    expect(new optim.RAdam([param()]).lr).toBe(1e-3);
    // @ts-expect-error: SGD has no default lr, as in PyTorch 1.13
    expect(() => new optim.SGD([param()])).toThrow(/SGD: lr is required/);
    // @ts-expect-error: lr is required
    expect(() => new optim.SGD([param()], { momentum: 0.9 })).toThrow(/SGD: lr is required/);
  });
  test('a misspelt option is a TypeError naming the valid ones; an out-of-range one a RangeError', () => {
    // @ts-expect-error: weight_decay is spelt weightDecay
    expect(() => new optim.Adam([param()], { weight_decay: 0.1 })).toThrow(/Adam: unknown option 'weight_decay' \(valid options: lr, betas, eps, weightDecay\)/);
    // @ts-expect-error: not an Adagrad option
    expect(() => new optim.Adagrad([param()], { momentum: 0.9 })).toThrow(/Adagrad: unknown option 'momentum'.*lrDecay/);
    expect(() => new optim.NAdam([param()], { betas: [0.9, 1] })).toThrow(/NAdam: betas must be two numbers in \[0, 1\)/);
    expect(() => new optim.RAdam([param()], { eps: -1 })).toThrow(/RAdam: invalid eps -1/);
    expect(() => new optim.Adagrad([param()], { lrDecay: -0.1 })).toThrow(/Adagrad: invalid lrDecay/);
    expect(() => new optim.Adamax([param()], { lr: -1 })).toThrow(/Adamax: invalid learning rate \(lr\) -1/);
    expect(() => new optim.SGD([param()], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
  });
});

describe('momentum and resuming', () => {
  test('momentum is SGD\'s / RMSprop\'s momentum and the Adam family\'s β₁; Adagrad has none', () => {
    const p = born.zeros([2]).requiresGrad_();
    const sgd = new optim.SGD([p], { lr: 0.1 });
    expect(sgd.momentum).toBe(0);
    sgd.momentum = 0.9;
    expect(sgd.options.momentum).toBe(0.9);
    const adam = new optim.NAdam([p], { betas: [0.8, 0.99] });
    expect(adam.momentum).toBe(0.8);
    adam.momentum = 0.7;
    expect(adam.options.betas).toEqual([0.7, 0.99]);
    const ada = new optim.Adagrad([p]);
    expect(ada.momentum).toBeUndefined();
    expect(() => { ada.momentum = 0.9; }).toThrow(/Adagrad: has no momentum/);
  });
  test('resuming from stateDict() after 2 steps gives PyTorch\'s third step (NAdam\'s μ product, Adagrad\'s sum, RAdam)', async () => {
    for (const name of ['NAdam lr 0.05, betas [0.8, 0.95], weightDecay 0.1, momentumDecay 0.01', 'Adagrad defaults', 'RAdam defaults (crosses rho_t > 5 at step 6)', 'Adamax defaults']) {
      const c = golden.optim.find((o) => o.name === name)!;
      const { W: W2, b: b2, restored: second } = await restoredAfterTwoSteps(P, (ps) => make(c.cls, ps, c.opts));
      problemLoss(W2, b2).backward();
      await second.step();
      await expectNear(W2, c.steps[2]!.W, `${name}: W after resumed step 3`);
      await expectNear(b2, c.steps[2]!.b, `${name}: b after resumed step 3`);
    }
  });
});

describe('step-dependent factors are runtime scalars', () => {
  for (const cls of ['Adagrad', 'Adamax', 'NAdam', 'RAdam', 'Adam', 'SGD', 'RMSprop'] as const) {
    test(`${cls}: once warm, changing lr (and momentum) every step (through 10 steps, past RAdam's switch at ρ > 5) compiles no kernel`, async () => {
      const W = f32(P.W).requiresGrad_();
      const b = f32(P.b).requiresGrad_();
      const opt = cls === 'SGD' ? new optim.SGD([W, b], { lr: 0.1, momentum: 0.9 }) : make(cls, [W, b], cls === 'RMSprop' ? { momentum: 0.5 } : {});
      const sched = new optim.ExponentialLR(opt, 0.9);
      const cycling = opt.momentumOption !== null;
      const step = async (): Promise<void> => {
        opt.zeroGrad();
        const loss = problemLoss(W, b);
        loss.backward();
        await opt.step([loss]);
        sched.step();
        if (cycling) opt.momentum = opt.momentum! * 0.99;
      };
      const lr0 = opt.lr;
      for (let i = 0; i < 3; i++) await step();
      const before = born.engine.stats().kernelCompiles;
      for (let i = 0; i < 10; i++) await step();
      expect(born.engine.stats().kernelCompiles - before).toBe(0);
      expect(opt.lr).toBeCloseTo(lr0 * 0.9 ** 13, 12);
    });
  }
});

function makeScheduler(c: SchedCase, opt: born.optim.Optimizer<{ lr: number }>): { step(metric?: number): void; lastLr: number } {
  const a = c.args as never[];
  switch (c.kind) {
    case 'LambdaLR': return new optim.LambdaLR(opt, a[0] === 'inv' ? (e) => 1 / (e + 1) : (e) => 0.9 ** e);
    case 'ExponentialLR': return new optim.ExponentialLR(opt, a[0]!);
    case 'MultiStepLR': return new optim.MultiStepLR(opt, a[0]!, a[1]);
    case 'OneCycleLR': return new optim.OneCycleLR(opt, a[0]!, a[1]);
    case 'CosineAnnealingWarmRestarts': return new optim.CosineAnnealingWarmRestarts(opt, a[0]!, a[1], a[2]);
    case 'ReduceLROnPlateau': {
      const s = new optim.ReduceLROnPlateau(opt, a[0]);
      return { step: (m) => s.step(m!), get lastLr() { return s.lastLr; } };
    }
  }
  throw new Error(`unknown scheduler ${c.kind}`);
}

describe(`lr schedulers vs torch.optim.lr_scheduler ${golden.torch}`, () => {
  for (const c of golden.schedulers) {
    test(c.name, () => {
      const opt = new optim.SGD([born.zeros([1]).requiresGrad_()], { lr: c.lr });
      const s = makeScheduler(c, opt);
      const lrs = [opt.lr];
      for (let i = 1; i < c.lrs.length; i++) {
        s.step(c.metrics?.[i - 1]);
        lrs.push(opt.lr);
        expect(s.lastLr).toBe(opt.lr);
      }
      lrs.forEach((lr, i) => expect(close(lr, c.lrs[i]!, { rtol: 1e-9, atol: 1e-12 }), `epoch ${i}: got ${lr}, want ${c.lrs[i]}`).toBe(true));
    });
  }

  test('bad arguments name the scheduler and what is valid', () => {
    const opt = new optim.SGD([born.zeros([1]).requiresGrad_()], { lr: 0.1 });
    expect(() => new optim.OneCycleLR(opt, 1)).toThrow(/OneCycleLR: give totalSteps, or epochs and stepsPerEpoch/);
    // @ts-expect-error: total_steps is spelt totalSteps
    expect(() => new optim.OneCycleLR(opt, 1, { total_steps: 10 })).toThrow(/unknown option 'total_steps'/);
    // @ts-expect-error: only 'cos' and 'linear'
    expect(() => new optim.OneCycleLR(opt, 1, { totalSteps: 10, annealStrategy: 'exp' })).toThrow(/'cos' or 'linear'/);
    const one = new optim.OneCycleLR(opt, 1, { totalSteps: 2 });
    one.step(); one.step();
    expect(() => one.step()).toThrow(/OneCycleLR: tried to step 4 times; totalSteps is 2/);
    expect(() => new optim.ReduceLROnPlateau(opt, { factor: 1 })).toThrow(/factor must be < 1/);
    // @ts-expect-error: not an option
    expect(() => new optim.ReduceLROnPlateau(opt, { min_lr: 0.1 })).toThrow(/unknown option 'min_lr'.*minLr/);
    // @ts-expect-error: the metric is a number
    expect(() => new optim.ReduceLROnPlateau(opt).step(born.tensor([1]))).toThrow(/await loss.item\(\)/);
    expect(() => new optim.OneCycleLR(new optim.Adagrad([born.zeros([1]).requiresGrad_()]), 1, { totalSteps: 5 }))
      .toThrow(/OneCycleLR: Adagrad has no momentum to cycle: pass \{ cycleMomentum: false \}/);
    expect(() => new optim.CosineAnnealingWarmRestarts(opt, 0)).toThrow(/T0 must be a positive integer/);
    expect(() => new optim.CosineAnnealingWarmRestarts(opt, 2, 1.5)).toThrow(/TMult must be a positive integer/);
    expect(() => new optim.MultiStepLR(opt, [1.5])).toThrow(/milestones must be integers/);
  });
});

describe(`clipGradValue vs torch.nn.utils.clip_grad_value_ (${golden.torch})`, () => {
  for (const c of golden.clip) {
    test(c.name, async () => {
      const ps = c.grads.map((g) => born.zeros(g.shape).requiresGrad_());
      ps.forEach((p, i) => { p.grad = f32(c.grads[i]!); });
      optim.clipGradValue(ps, c.clipValue);
      for (const [i, p] of ps.entries()) await expectNear(p.grad!, c.clipped[i]!, `grad ${i}`);
    });
  }
  test('parameters without gradients are skipped; a negative clipValue is refused', () => {
    const p = born.zeros([2]).requiresGrad_();
    optim.clipGradValue([p], 1);
    expect(p.grad).toBeNull();
    expect(() => optim.clipGradValue([p], -1)).toThrow(/clipGradValue: clipValue must be a number >= 0/);
  });
});
