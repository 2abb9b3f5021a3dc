/**
 * Adagrad, Adamax, NAdam and RAdam with PyTorch 1.13's update rules and defaults. Like the
 * optimizers in optim.ts, every update is lazy graph written in place in one schedule, and every
 * step-dependent factor (learning rate, bias corrections, NAdam's momentum products, RAdam's
 * rectification) is a runtime scalar: the kernels compiled at the first steps serve every later
 * step, whatever the learning rate does.
 */
import { full, rounded } from '../tensor/make.js';
import type { Tensor } from '../tensor/tensor.js';
import { beta1, firstMoment, momentState, Optimizer, optimizerOptions, result, secondMoment, type AdamOptions, type ParamState, type Update } from './optim.js';

type Scalars = Record<string, Tensor>;
const withDecay = (p: Tensor, g: Tensor, weightDecay: number): Tensor => (weightDecay ? g.add(p.mul(weightDecay)) : g);

/** The start of every Adam-family update: the weight-decayed gradient g, the new first moment m,
 * and β₂ and eps with PyTorch's defaults. */
function momentStep(o: AdamOptions, p: Tensor, grad: Tensor, state: ParamState, s: Scalars): { g: Tensor; m: Tensor; b2: number; eps: number } {
  const [, b2] = o.betas ?? [0.9, 0.999];
  const { eps = 1e-8, weightDecay = 0 } = o;
  const g = withDecay(p, grad, weightDecay);
  return { g, m: firstMoment(state['exp_avg']!, g, s), b2, eps };
}

export interface AdagradOptions { lr?: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number }

/**
 * Adagrad (torch.optim.Adagrad): lr / (1 + (t - 1)·lrDecay) · g / (√(Σ g²) + eps).
 * Defaults as PyTorch: lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0, eps 1e-10.
 */
export class Adagrad extends Optimizer<AdagradOptions & { lr: number }> {
  constructor(params: Iterable<Tensor>, options: AdagradOptions = {}) {
    super(params, optimizerOptions('Adagrad', options, { lr: 1e-2 }, ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps']));
  }
  protected scalars(t: number): Record<string, number> {
    const { lr, lrDecay = 0 } = this.options;
    return { clr: lr / (1 + (t - 1) * lrDecay) };
  }
  protected initState(p: Tensor): ParamState {
    // A filled tensor without a buffer: the first step computes it fused into the update.
    return { sum: full(p.shape, this.options.initialAccumulatorValue ?? 0, p.dtype) };
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Scalars): Update {
    const { weightDecay = 0, eps = 1e-10 } = this.options;
    const g = withDecay(p, grad, weightDecay);
    const sum = state['sum']!.add(g.mul(g));
    return result(p.sub(g.mul(s['clr']!).div(rounded(sum).sqrt().add(eps))), { sum });
  }
}

/** Adamax's options are Adam's. */
export type AdamaxOptions = AdamOptions;

/**
 * Adamax (torch.optim.Adamax): Adam with the infinity norm, u = max(β₂·u, |g| + eps).
 * Defaults as PyTorch: lr 2e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export class Adamax extends Optimizer<AdamaxOptions & { lr: number }> {
  override readonly momentumOption = 'betas' as const;
  constructor(params: Iterable<Tensor>, options: AdamaxOptions = {}) {
    super(params, optimizerOptions('Adamax', options, { lr: 2e-3 }, ['lr', 'betas', 'eps', 'weightDecay']));
  }
  protected scalars(t: number): Record<string, number> {
    const [b1] = this.options.betas ?? [0.9, 0.999];
    return { clr: this.options.lr / (1 - b1 ** t), ...beta1(b1) };
  }
  protected initState(p: Tensor): ParamState {
    return momentState(p, 'exp_inf');
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Scalars): Update {
    const { g, m, b2, eps } = momentStep(this.options, p, grad, state, s);
    // PyTorch stores β₂·u first (rounded), then takes the max with |g| + eps.
    const u = rounded(state['exp_inf']!.mul(b2)).maximum(g.abs().add(eps));
    return result(p.sub(rounded(m).mul(s['clr']!).div(rounded(u))), { exp_avg: m, exp_inf: u });
  }
}

export interface NAdamOptions extends AdamOptions { momentumDecay?: number }

/**
 * NAdam (torch.optim.NAdam): Adam with Nesterov momentum and a momentum schedule
 * μₜ = β₁(1 - ½·0.96^(t·momentumDecay)). Defaults as PyTorch: lr 2e-3, betas [0.9, 0.999],
 * eps 1e-8, weightDecay 0, momentumDecay 4e-3. The product of the μ is a function of the step
 * count (PyTorch keeps it per parameter, in float32: so does this, on the host).
 */
export class NAdam extends Optimizer<NAdamOptions & { lr: number }> {
  override readonly momentumOption = 'betas' as const;
  /** The product of the μ so far, at step muStep (PyTorch's per-parameter mu_product). */
  private muProduct = 1;
  private muStep = 0;
  constructor(params: Iterable<Tensor>, options: NAdamOptions = {}) {
    super(params, optimizerOptions('NAdam', options, { lr: 2e-3 }, ['lr', 'betas', 'eps', 'weightDecay', 'momentumDecay']));
  }
  protected scalars(t: number): Record<string, number> {
    const [b1, b2] = this.options.betas ?? [0.9, 0.999];
    const { lr, momentumDecay = 4e-3 } = this.options;
    const mu = (k: number): number => b1 * (1 - 0.5 * 0.96 ** (k * momentumDecay));
    // Accumulated step by step, as PyTorch does, so a β₁ that changes (OneCycleLR) counts with the
    // value it had at each step; recomputed from the start after a resume (loadStateDict).
    if (t !== this.muStep + 1) {
      this.muProduct = 1;
      for (let k = 1; k < t; k++) this.muProduct = Math.fround(this.muProduct * mu(k));
    }
    const product = (this.muProduct = Math.fround(this.muProduct * mu(t)));
    this.muStep = t;
    // PyTorch 1.13 computes the next product as product·μₜ·μₜ₊₁ (μₜ counted twice); kept, to
    // follow its trajectories exactly.
    const next = Math.fround(Math.fround(product * mu(t)) * mu(t + 1));
    return {
      gradCoef: (lr * (1 - mu(t))) / (1 - product),
      avgCoef: (lr * mu(t + 1)) / (1 - next),
      rootCorrection: 1 / Math.sqrt(1 - b2 ** t),
      ...beta1(b1),
    };
  }
  protected initState(p: Tensor): ParamState {
    return momentState(p, 'exp_avg_sq');
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Scalars): Update {
    const { g, m, b2, eps } = momentStep(this.options, p, grad, state, s);
    const v = secondMoment(state['exp_avg_sq']!, g, b2);
    const denom = rounded(v).sqrt().mul(s['rootCorrection']!).add(eps);
    const value = p.sub(g.mul(s['gradCoef']!).div(denom)).sub(rounded(m).mul(s['avgCoef']!).div(denom));
    return result(value, { exp_avg: m, exp_avg_sq: v });
  }
}

/** RAdam's options are Adam's. */
export type RAdamOptions = AdamOptions;

/**
 * RAdam (torch.optim.RAdam): Adam with the variance rectification of Liu et al.; while the
 * approximated SMA length ρₜ is at most 5, the step is plain bias-corrected momentum. Defaults as
 * PyTorch: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export class RAdam extends Optimizer<RAdamOptions & { lr: number }> {
  override readonly momentumOption = 'betas' as const;
  constructor(params: Iterable<Tensor>, options: RAdamOptions = {}) {
    super(params, optimizerOptions('RAdam', options, { lr: 1e-3 }, ['lr', 'betas', 'eps', 'weightDecay']));
  }
  protected scalars(t: number): Record<string, number> {
    const [b1, b2] = this.options.betas ?? [0.9, 0.999];
    const { lr } = this.options;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    const rhoInf = 2 / (1 - b2) - 1;
    const rho = rhoInf - (2 * t * b2 ** t) / bc2;
    // Both branches are one kernel, m·(plain + rectified / (√v + eps)), with one of the two
    // factors zero: the switch at ρₜ = 5 compiles nothing new.
    if (rho > 5) {
      const rect = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      return { plain: 0, rectified: (lr * rect * Math.sqrt(bc2)) / bc1, ...beta1(b1) };
    }
    return { plain: lr / bc1, rectified: 0, ...beta1(b1) };
  }
  protected initState(p: Tensor): ParamState {
    return momentState(p, 'exp_avg_sq');
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Scalars): Update {
    const { g, m, b2, eps } = momentStep(this.options, p, grad, state, s);
    const v = secondMoment(state['exp_avg_sq']!, g, b2);
    const factor = s['rectified']!.div(rounded(v).sqrt().add(eps)).add(s['plain']!);
    return result(p.sub(rounded(m).mul(factor)), { exp_avg: m, exp_avg_sq: v });
  }
}
