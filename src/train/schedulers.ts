/** Learning-rate schedules: call step() once per epoch (or per iteration), after optimizer.step(). */
import type { Optimizer } from './optim.js';
import { options } from '../tensor/args.js';

abstract class LRScheduler {
  protected epoch = 0;
  protected readonly baseLr: number;
  constructor(protected readonly optimizer: Optimizer<{ lr: number }>) {
    this.baseLr = optimizer.lr;
  }
  protected abstract lrAt(epoch: number): number;
  step(): void {
    this.epoch++;
    this.optimizer.lr = this.lrAt(this.epoch);
  }
  get lastLr(): number { return this.optimizer.lr; }
}

/** lr · gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  constructor(opt: Optimizer<{ lr: number }>, readonly stepSize: number, readonly gamma = 0.1) { super(opt); }
  protected lrAt(e: number): number { return this.baseLr * this.gamma ** Math.floor(e / this.stepSize); }
}

/** Cosine from lr down to etaMin over tMax steps (the closed form of PyTorch's CosineAnnealingLR). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(opt: Optimizer<{ lr: number }>, readonly tMax: number, readonly etaMin = 0) { super(opt); }
  protected lrAt(e: number): number { return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * e) / this.tMax))) / 2; }
}

/** Linear warm-up from startFactor·lr to lr over `warmupSteps`, then constant. */
export class LinearWarmup extends LRScheduler {
  constructor(opt: Optimizer<{ lr: number }>, readonly warmupSteps: number, readonly startFactor = 1 / 3) {
    super(opt);
    opt.lr = this.lrAt(0);
  }
  protected lrAt(e: number): number {
    const f = e >= this.warmupSteps ? 1 : this.startFactor + ((1 - this.startFactor) * e) / this.warmupSteps;
    return this.baseLr * f;
  }
}

type Opt = Optimizer<{ lr: number }>;

/** An integer of at least `min` (1: positive, 0: non-negative), else a RangeError naming the op. */
function intAtLeast(op: string, name: string, v: unknown, min: 0 | 1 = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${op}: ${name} must be a ${min ? 'positive' : 'non-negative'} integer, got ${String(v)}`);
  }
  return v;
}
function finite(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/**
 * lr = initial lr · lrLambda(epoch) (torch.optim.lr_scheduler.LambdaLR); applied at construction
 * too, as PyTorch does: `new optim.LambdaLR(opt, (e) => 0.95 ** e)`.
 */
export class LambdaLR extends LRScheduler {
  constructor(opt: Opt, readonly lrLambda: (epoch: number) => number) {
    super(opt);
    if (typeof lrLambda !== 'function') throw new TypeError(`LambdaLR: lrLambda must be a function of the epoch, got ${typeof lrLambda}`);
    opt.lr = this.lrAt(0);
  }
  protected lrAt(e: number): number { return this.baseLr * finite('LambdaLR', 'lrLambda(epoch)', this.lrLambda(e)); }
}

/** lr · gamma every step (torch.optim.lr_scheduler.ExponentialLR); multiplies the current lr, as PyTorch does. */
export class ExponentialLR extends LRScheduler {
  constructor(opt: Opt, readonly gamma: number) {
    super(opt);
    finite('ExponentialLR', 'gamma', gamma);
  }
  protected lrAt(): number { return this.optimizer.lr * this.gamma; }
}

/**
 * lr · gamma at each epoch listed in milestones (torch.optim.lr_scheduler.MultiStepLR; a
 * milestone listed twice applies gamma twice): `new optim.MultiStepLR(opt, [30, 80], 0.1)`.
 */
export class MultiStepLR extends LRScheduler {
  private readonly counts = new Map<number, number>();
  constructor(opt: Opt, readonly milestones: readonly number[], readonly gamma = 0.1) {
    super(opt);
    if (!Array.isArray(milestones)) throw new TypeError(`MultiStepLR: milestones must be a list of epochs, got ${String(milestones)}`);
    for (const m of milestones) {
      if (!Number.isInteger(m)) throw new TypeError(`MultiStepLR: milestones must be integers, got ${JSON.stringify(milestones)}`);
      this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    }
    finite('MultiStepLR', 'gamma', gamma);
  }
  protected lrAt(e: number): number { return this.optimizer.lr * this.gamma ** (this.counts.get(e) ?? 0); }
}

export interface OneCycleOptions {
  /** The number of steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, down to the min lr) instead of two (default false). */
  threePhase?: boolean;
  /**
   * Cycle the momentum inversely to the lr, between maxMomentum and baseMomentum (default true,
   * as PyTorch: SGD's / RMSprop's momentum, the Adam family's β₁).
   */
  cycleMomentum?: boolean;
  /** The lowest momentum, reached at maxLr (default 0.85). */
  baseMomentum?: number;
  /** The highest momentum, at the start and end of the cycle (default 0.95). */
  maxMomentum?: number;
}

/**
 * The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR): from maxLr/divFactor up to maxLr over
 * pctStart of the cycle, then annealed down to initial/finalDivFactor; call step() after every
 * batch. Sets the initial lr at construction. Like PyTorch, it also cycles the momentum (β₁ for
 * the Adam family) from maxMomentum down to baseMomentum and back, unless `cycleMomentum: false`;
 * an optimizer without momentum (Adagrad) then needs `cycleMomentum: false`.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly phases: { end: number; from: number; to: number; mFrom: number; mTo: number }[];
  private readonly cycleMomentum: boolean;
  private readonly anneal: (from: number, to: number, pct: number) => number;
  constructor(opt: Opt, readonly maxLr: number, opts: OneCycleOptions = {}) {
    super(opt);
    const o = options<OneCycleOptions>('OneCycleLR', opts, ['totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'threePhase', 'cycleMomentum', 'baseMomentum', 'maxMomentum']);
    finite('OneCycleLR', 'maxLr', maxLr);
    if (o.totalSteps !== undefined) this.totalSteps = intAtLeast('OneCycleLR', 'totalSteps', o.totalSteps);
    else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      this.totalSteps = intAtLeast('OneCycleLR', 'epochs', o.epochs) * intAtLeast('OneCycleLR', 'stepsPerEpoch', o.stepsPerEpoch);
    } else throw new TypeError('OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
    const { pctStart = 0.3, annealStrategy = 'cos', divFactor = 25, finalDivFactor = 1e4, threePhase = false } = o;
    const { cycleMomentum = true, baseMomentum = 0.85, maxMomentum = 0.95 } = o;
    if (typeof cycleMomentum !== 'boolean') throw new TypeError(`OneCycleLR: cycleMomentum must be true or false, got ${String(cycleMomentum)}`);
    if (cycleMomentum && opt.momentumOption === null) {
      throw new TypeError(`OneCycleLR: ${opt.constructor.name} has no momentum to cycle: pass { cycleMomentum: false }`);
    }
    this.cycleMomentum = cycleMomentum;
    const [hi, lo] = [finite('OneCycleLR', 'maxMomentum', maxMomentum), finite('OneCycleLR', 'baseMomentum', baseMomentum)];
    if (!(pctStart >= 0 && pctStart <= 1)) throw new RangeError(`OneCycleLR: pctStart must be between 0 and 1, got ${pctStart}`);
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') throw new RangeError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${String(annealStrategy)}`);
    this.anneal = annealStrategy === 'cos'
      ? (a, b, pct) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (a, b, pct) => (b - a) * pct + a;
    const initial = maxLr / finite('OneCycleLR', 'divFactor', divFactor);
    const min = initial / finite('OneCycleLR', 'finalDivFactor', finalDivFactor);
    const n = this.totalSteps;
    this.phases = threePhase
      ? [
        { end: pctStart * n - 1, from: initial, to: maxLr, mFrom: hi, mTo: lo },
        { end: 2 * pctStart * n - 2, from: maxLr, to: initial, mFrom: lo, mTo: hi },
        { end: n - 1, from: initial, to: min, mFrom: hi, mTo: hi },
      ]
      : [{ end: pctStart * n - 1, from: initial, to: maxLr, mFrom: hi, mTo: lo }, { end: n - 1, from: maxLr, to: min, mFrom: lo, mTo: hi }];
    if (cycleMomentum) opt.momentum = hi;
    opt.lr = this.lrAt(0);
  }
  protected lrAt(step: number): number {
    if (step > this.totalSteps) throw new RangeError(`OneCycleLR: tried to step ${step + 1} times; totalSteps is ${this.totalSteps}`);
    let start = 0;
    for (const [i, ph] of this.phases.entries()) {
      if (step <= ph.end || i === this.phases.length - 1) {
        const pct = (step - start) / (ph.end - start);
        if (this.cycleMomentum) this.optimizer.momentum = this.anneal(ph.mFrom, ph.mTo, pct);
        return this.anneal(ph.from, ph.to, pct);
      }
      start = ph.end;
    }
    throw new Error('internal: OneCycleLR has no phases');
  }
}

/**
 * Cosine annealing with warm restarts (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts):
 * the cosine from lr to etaMin over T0 steps, restarting with a period TMult times longer each
 * time. `new optim.CosineAnnealingWarmRestarts(opt, 10, 2)`.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  private tCur = 0;
  private tI: number;
  constructor(opt: Opt, readonly T0: number, readonly TMult = 1, readonly etaMin = 0) {
    super(opt);
    intAtLeast('CosineAnnealingWarmRestarts', 'T0', T0);
    intAtLeast('CosineAnnealingWarmRestarts', 'TMult', TMult);
    finite('CosineAnnealingWarmRestarts', 'etaMin', etaMin);
    this.tI = T0;
  }
  protected lrAt(): number {
    this.tCur++;
    if (this.tCur >= this.tI) { this.tCur -= this.tI; this.tI *= this.TMult; }
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2;
  }
}

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): a lower metric is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** new lr = lr · factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before the lr is reduced (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The lr never goes below this (default 0). */
  minLr?: number;
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the lr when a metric stops improving (torch.optim.lr_scheduler.ReduceLROnPlateau):
 * call `step(validationLoss)` once per epoch with the metric as a number
 * (`sched.step(await loss.item())`).
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  constructor(protected readonly optimizer: Opt, opts: ReduceLROnPlateauOptions = {}) {
    const op = 'ReduceLROnPlateau';
    const o = options<ReduceLROnPlateauOptions>(op, opts, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.mode = o.mode ?? 'min';
    this.thresholdMode = o.thresholdMode ?? 'rel';
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`${op}: mode must be 'min' or 'max', got ${String(this.mode)}`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new RangeError(`${op}: thresholdMode must be 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    this.factor = finite(op, 'factor', o.factor ?? 0.1);
    if (this.factor >= 1) throw new RangeError(`${op}: factor must be < 1, got ${this.factor}`);
    this.patience = intAtLeast(op, 'patience', o.patience ?? 10, 0);
    this.cooldown = intAtLeast(op, 'cooldown', o.cooldown ?? 0, 0);
    this.threshold = finite(op, 'threshold', o.threshold ?? 1e-4);
    this.minLr = finite(op, 'minLr', o.minLr ?? 0);
    this.eps = finite(op, 'eps', o.eps ?? 1e-8);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
  /** Records the epoch's metric (a number), reducing the lr after `patience` epochs without improvement. */
  step(metric: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) {
      throw new TypeError(`ReduceLROnPlateau.step: expected the metric as a number (await loss.item()), got ${typeof metric === 'number' ? 'NaN' : typeof metric}`);
    }
    this.lastEpoch++;
    if (this.isBetter(metric)) { this.best = metric; this.numBadEpochs = 0; } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.numBadEpochs = 0; }
    if (this.numBadEpochs > this.patience) {
      const old = this.optimizer.lr;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }
  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }
  get lastLr(): number { return this.optimizer.lr; }
}
