/** Learning-rate schedules: call step() once per epoch (or per iteration), after optimizer.step(). */
import type { Optimizer } from './optim.js';

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
