/**
 * Loss modules (PyTorch's nn.CrossEntropyLoss, …): the options of the functional loss, fixed at
 * construction; forward(input, target) returns the loss. Class weights are buffers, as in
 * PyTorch, so they are saved in the state dict ('weight', 'pos_weight'); loadStateDict writes
 * into those same tensors, so the loss uses the loaded values.
 */
import { options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import * as L from './losses.js';
import { Module } from './module.js';

abstract class Loss<O extends object> extends Module {
  protected readonly lossOpts: O;
  constructor(name: string, opts: O, keys: readonly (keyof O & string)[], buffers: Partial<Record<keyof O & string, string>> = {}) {
    super();
    this.lossOpts = { ...options<O>(name, opts, keys) };
    for (const [key, bufName] of Object.entries(buffers) as [keyof O & string, string][]) {
      const t = this.lossOpts[key] as Tensor | undefined;
      if (t) this.registerBuffer(bufName, t);
    }
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  /** As PyTorch prints losses: no settings. */
  override extraRepr(): string { return ''; }
}

/** logSoftmax + NLL; input [N, C, ...] logits, target int32 [N, ...] indices or probabilities like the input. */
export class CrossEntropyLoss extends Loss<L.CrossEntropyOptions> {
  constructor(opts: L.CrossEntropyOptions = {}) { super('CrossEntropyLoss', opts, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing'], { weight: 'weight' }); }
  forward(input: Tensor, target: Tensor): Tensor { return L.crossEntropy(input, target, this.lossOpts); }
}

/** Negative log-likelihood; input [N, C, ...] log-probabilities, target int32 [N, ...]. */
export class NLLLoss extends Loss<L.NllOptions> {
  constructor(opts: L.NllOptions = {}) { super('NLLLoss', opts, ['weight', 'ignoreIndex', 'reduction'], { weight: 'weight' }); }
  forward(input: Tensor, target: Tensor): Tensor { return L.nllLoss(input, target, this.lossOpts); }
}

/** Mean squared error; input and target of one shape. */
export class MSELoss extends Loss<L.ReductionOptions> {
  constructor(opts: L.ReductionOptions = {}) { super('MSELoss', opts, ['reduction']); }
  forward(input: Tensor, target: Tensor): Tensor { return L.mseLoss(input, target, this.lossOpts); }
}

/** Mean absolute error; input and target of one shape. */
export class L1Loss extends Loss<L.ReductionOptions> {
  constructor(opts: L.ReductionOptions = {}) { super('L1Loss', opts, ['reduction']); }
  forward(input: Tensor, target: Tensor): Tensor { return L.l1Loss(input, target, this.lossOpts); }
}

/** Quadratic below beta (default 1), linear above. */
export class SmoothL1Loss extends Loss<L.SmoothL1Options> {
  constructor(opts: L.SmoothL1Options = {}) { super('SmoothL1Loss', opts, ['reduction', 'beta']); }
  forward(input: Tensor, target: Tensor): Tensor { return L.smoothL1Loss(input, target, this.lossOpts); }
}

/** Quadratic up to delta (default 1), linear with slope delta above. */
export class HuberLoss extends Loss<L.HuberOptions> {
  constructor(opts: L.HuberOptions = {}) { super('HuberLoss', opts, ['reduction', 'delta']); }
  forward(input: Tensor, target: Tensor): Tensor { return L.huberLoss(input, target, this.lossOpts); }
}

/** Binary cross-entropy on probabilities in [0, 1]. */
export class BCELoss extends Loss<L.BceOptions> {
  constructor(opts: L.BceOptions = {}) { super('BCELoss', opts, ['weight', 'reduction'], { weight: 'weight' }); }
  forward(input: Tensor, target: Tensor): Tensor { return L.binaryCrossEntropy(input, target, this.lossOpts); }
}

/** Sigmoid + binary cross-entropy on logits, stable; posWeight weighs positives per class. */
export class BCEWithLogitsLoss extends Loss<L.BceWithLogitsOptions> {
  constructor(opts: L.BceWithLogitsOptions = {}) { super('BCEWithLogitsLoss', opts, ['weight', 'reduction', 'posWeight'], { weight: 'weight', posWeight: 'pos_weight' }); }
  forward(input: Tensor, target: Tensor): Tensor { return L.binaryCrossEntropyWithLogits(input, target, this.lossOpts); }
}

/** KL divergence; input holds log-probabilities; reduction 'batchmean' for the true per-sample KL. */
export class KLDivLoss extends Loss<L.KlDivOptions> {
  constructor(opts: L.KlDivOptions = {}) { super('KLDivLoss', opts, ['reduction', 'logTarget']); }
  forward(input: Tensor, target: Tensor): Tensor { return L.klDiv(input, target, this.lossOpts); }
}
