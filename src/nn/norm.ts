/** Normalisation layers. Statistics are biased (÷n) for normalising, as in PyTorch. */
import { ShapeError, fmt } from '../graph/errors.js';
import { noGrad } from '../autodiff/grad.js';
import { assignLater } from '../tensor/assign.js';
import { ones, zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, parameter } from './module.js';
import { pyFloat } from './repr.js';

/**
 * BatchNorm over the channel dim 1: [N, C] (1d) or [N, C, H, W] (2d). Training normalises with
 * the batch statistics and updates running_mean / running_var (unbiased) with `momentum`; eval
 * normalises with the running statistics.
 */
class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(readonly numFeatures: number, private readonly rank: 2 | 4, readonly opts: { eps?: number; momentum?: number } = {}) {
    super();
    this.weight = parameter(ones([numFeatures]));
    this.bias = parameter(zeros([numFeatures]));
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
  }
  get runningMean(): Tensor { return this.buffers.get('running_mean')!; }
  get runningVar(): Tensor { return this.buffers.get('running_var')!; }

  forward(x: Tensor): Tensor {
    // BatchNorm1d takes [N, C] or [N, C, L], as PyTorch's does; BatchNorm2d takes [N, C, H, W].
    const ranks = this.rank === 2 ? [2, 3] : [4];
    if (!ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm${this.rank === 2 ? '1d' : '2d'}(${this.numFeatures}): expected input ${this.rank === 2 ? `[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]` : `[N, ${this.numFeatures}, H, W]`}, got ${fmt(x.shape)}`);
    }
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
    if (this.training && axes.reduce((n, a) => n * x.shape[a]!, 1) < 2) {
      throw new ShapeError(`BatchNorm: expected more than 1 value per channel when training, got input of shape ${fmt(x.shape)}`);
    }
    const eps = this.opts.eps ?? 1e-5;
    let mean: Tensor, variance: Tensor;
    if (this.training) {
      mean = x.mean({ dim: axes, keepdim: true });
      variance = x.sub(mean).pow(2).mean({ dim: axes, keepdim: true });
      const n = axes.reduce((s, a) => s * x.shape[a]!, 1);
      const m = this.opts.momentum ?? 0.1;
      // The running statistics are written in place by the next schedule — the training step
      // that computes this forward — rather than by a small schedule of their own per layer
      // (assignLater). A read of them, or a schedule that reads them, runs the writes first.
      noGrad(() => {
        const rm = this.runningMean.mul(1 - m).add(mean.reshape([this.numFeatures]).mul(m));
        const rv = this.runningVar.mul(1 - m).add(variance.reshape([this.numFeatures]).mul(m * n / Math.max(1, n - 1)));
        const nb = this.buffers.get('num_batches_tracked')!.add(1);
        assignLater(this.runningMean, rm);
        assignLater(this.runningVar, rv);
        assignLater(this.buffers.get('num_batches_tracked')!, nb);
      });
    } else {
      mean = this.runningMean.reshape(bshape);
      variance = this.runningVar.reshape(bshape);
    }
    return x.sub(mean).mul(variance.add(eps).rsqrt()).mul(this.weight.reshape(bshape)).add(this.bias.reshape(bshape));
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.opts.eps ?? 1e-5)}, momentum=${pyFloat(this.opts.momentum ?? 0.1)}, affine=True, track_running_stats=True`;
  }
}

export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number } = {}) { super(numFeatures, 2, opts); }
}
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number } = {}) { super(numFeatures, 4, opts); }
}

const lastDims = (shape: number | readonly number[]): number[] => (typeof shape === 'number' ? [shape] : [...shape]);

function checkTail(name: string, x: Tensor, shape: readonly number[]): number[] {
  const tail = x.shape.slice(x.ndim - shape.length);
  if (tail.length !== shape.length || tail.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${name}(${fmt(shape)}): input of shape ${fmt(x.shape)} should end in ${fmt(shape)}`);
  }
  return shape.map((_, i) => x.ndim - shape.length + i);
}

/** Normalises over the trailing `normalizedShape` dims, then scales and shifts elementwise. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | readonly number[], readonly opts: { eps?: number } = {}) {
    super();
    this.normalizedShape = lastDims(normalizedShape);
    this.weight = parameter(ones(this.normalizedShape));
    this.bias = parameter(zeros(this.normalizedShape));
  }
  forward(x: Tensor): Tensor {
    const dim = checkTail('LayerNorm', x, this.normalizedShape);
    const mean = x.mean({ dim, keepdim: true });
    const centered = x.sub(mean);
    const variance = centered.pow(2).mean({ dim, keepdim: true });
    return centered.mul(variance.add(this.opts.eps ?? 1e-5).rsqrt()).mul(this.weight).add(this.bias);
  }
  override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')}${this.normalizedShape.length === 1 ? ',' : ''}), eps=${pyFloat(this.opts.eps ?? 1e-5)}, elementwise_affine=True`;
  }
}

/** x / √(mean(x²) + eps) · weight over the trailing dims. */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | readonly number[], readonly opts: { eps?: number } = {}) {
    super();
    this.normalizedShape = lastDims(normalizedShape);
    this.weight = parameter(ones(this.normalizedShape));
  }
  forward(x: Tensor): Tensor {
    const dim = checkTail('RMSNorm', x, this.normalizedShape);
    const eps = this.opts.eps ?? 1.1920928955078125e-7; // torch.finfo(float32).eps, PyTorch's default
    return x.mul(x.pow(2).mean({ dim, keepdim: true }).add(eps).rsqrt()).mul(this.weight);
  }
}
