/**
 * GroupNorm and InstanceNorm: normalisation over groups of channels of each sample (biased
 * variance, as PyTorch normalises), composed from mean and elementwise ops. InstanceNorm is
 * GroupNorm with one channel per group, plus optional running statistics.
 */
import { noGrad } from '../autodiff/grad.js';
import { ShapeError, fmt } from '../graph/errors.js';
import { describeArg, isPlainObject, options } from '../tensor/args.js';
import { assignLater } from '../tensor/assign.js';
import { ones, zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, parameter } from './module.js';
import { spatialArgs } from './spatial-args.js';

export interface GroupNormOptions { weight?: Tensor | null; bias?: Tensor | null; eps?: number }

/** weight / bias of [C] applied along dim 1 of x. */
function affine(x: Tensor, weight: Tensor | null | undefined, bias: Tensor | null | undefined): Tensor {
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let y = x;
  if (weight) y = y.mul(weight.reshape(shape));
  if (bias) y = y.add(bias.reshape(shape));
  return y;
}

/** x [N, C, *] normalised over each of G groups of C/G channels (and all of *), before any affine. */
function normalizeGroups(x: Tensor, groups: number, eps: number): Tensor {
  const g = x.reshape([x.shape[0]!, groups, -1]);
  const mean = g.mean({ dim: 2, keepdim: true });
  const centered = g.sub(mean);
  const variance = centered.pow(2).mean({ dim: 2, keepdim: true });
  return centered.mul(variance.add(eps).rsqrt()).reshape(x.shape);
}

/**
 * torch.nn.functional.group_norm: `groupNorm(x, numGroups, weight?, bias?, eps?)` or
 * `groupNorm(x, numGroups, { weight, bias, eps })`. Shapes: x [N, C, *], weight and bias [C].
 */
export function groupNorm(x: Tensor, numGroups: number, weightOrOpts?: Tensor | null | GroupNormOptions, bias?: Tensor | null, eps?: number): Tensor {
  const op = 'groupNorm';
  const o: GroupNormOptions = isPlainObject(weightOrOpts)
    ? options<GroupNormOptions>(op, weightOrOpts, ['weight', 'bias', 'eps'])
    : { weight: weightOrOpts as Tensor | null | undefined, bias, eps };
  const C = x.shape[1];
  if (x.ndim < 2 || !Number.isInteger(numGroups) || numGroups < 1 || C! % numGroups !== 0) {
    throw new ShapeError(`${op}: expected input [N, C, *] with C divisible by numGroups, got ${fmt(x.shape)} and numGroups ${describeArg(numGroups)}`);
  }
  for (const [name, t] of [['weight', o.weight], ['bias', o.bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new ShapeError(`${op}: ${name} must have shape [${C}] (one per channel), got ${fmt(t.shape)}`);
  }
  return affine(normalizeGroups(x, numGroups, o.eps ?? 1e-5), o.weight, o.bias);
}

export interface InstanceNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  useInputStats?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * torch.nn.functional.instance_norm: each channel of each sample normalised over its spatial
 * dims. x [N, C, *]. With useInputStats (the default) and running statistics given, these are
 * updated in place (by the next schedule) with the mean over the batch of the instance means and
 * unbiased variances; with useInputStats false, x is normalised by the running statistics.
 * Options, or PyTorch's positional order (runningMean, runningVar, weight, bias, useInputStats, momentum, eps).
 */
export function instanceNorm(x: Tensor, ...args: [opts?: InstanceNormOptions] | [runningMean?: Tensor | null, runningVar?: Tensor | null,
  weight?: Tensor | null, bias?: Tensor | null, useInputStats?: boolean, momentum?: number, eps?: number]): Tensor {
  const op = 'instanceNorm';
  const o = spatialArgs<InstanceNormOptions>(op, args.map((a) => (a === null ? undefined : a)),
    ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps']);
  if (x.ndim < 3) throw new ShapeError(`${op}: expected input [N, C, *] with at least one spatial dim, got ${fmt(x.shape)}`);
  const [N, C] = x.shape as [number, number];
  for (const [name, t] of [['weight', o.weight], ['bias', o.bias], ['runningMean', o.runningMean], ['runningVar', o.runningVar]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new ShapeError(`${op}: ${name} must have shape [${C}] (one per channel), got ${fmt(t.shape)}`);
  }
  const eps = o.eps ?? 1e-5;
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  if (!(o.useInputStats ?? true)) {
    if (!o.runningMean || !o.runningVar) throw new ShapeError(`${op}: useInputStats false needs runningMean and runningVar`);
    const y = x.sub(o.runningMean.reshape(bshape)).mul(o.runningVar.reshape(bshape).add(eps).rsqrt());
    return affine(y, o.weight, o.bias);
  }
  if (o.runningMean || o.runningVar) {
    const rm = o.runningMean, rv = o.runningVar, m = o.momentum ?? 0.1;
    const L = x.numel() / (N * C);
    noGrad(() => {
      const flat = x.reshape([N, C, -1]);
      const mean = flat.mean({ dim: 2 });
      if (rm) assignLater(rm, rm.mul(1 - m).add(mean.mean({ dim: 0 }).mul(m)));
      if (rv) {
        const unbiased = flat.sub(mean.unsqueeze(2)).pow(2).sum({ dim: 2 }).div(Math.max(1, L - 1));
        assignLater(rv, rv.mul(1 - m).add(unbiased.mean({ dim: 0 }).mul(m)));
      }
    });
  }
  return affine(normalizeGroups(x, C, eps), o.weight, o.bias);
}

/** nn.GroupNorm(numGroups, numChannels, { eps = 1e-5, affine = true }): weight ones, bias zeros [numChannels]. */
export class GroupNorm extends Module {
  readonly weight?: Tensor;
  readonly bias?: Tensor;
  readonly eps: number;
  constructor(readonly numGroups: number, readonly numChannels: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    const o = options<{ eps?: number; affine?: boolean }>('GroupNorm', opts, ['eps', 'affine']);
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      throw new ShapeError(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    }
    this.eps = o.eps ?? 1e-5;
    if (o.affine ?? true) {
      this.weight = parameter(ones([numChannels]));
      this.bias = parameter(zeros([numChannels]));
    }
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) throw new ShapeError(`GroupNorm(${this.numGroups}, ${this.numChannels}): expected input [N, ${this.numChannels}, *], got ${fmt(x.shape)}`);
    return groupNorm(x, this.numGroups, { weight: this.weight ?? null, bias: this.bias ?? null, eps: this.eps });
  }
}

export interface InstanceNormModuleOptions { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean }

/**
 * InstanceNorm over [N, C, L] (1d) or [N, C, H, W] (2d), unbatched inputs too. affine adds weight
 * and bias [C]; trackRunningStats adds running_mean, running_var and num_batches_tracked buffers,
 * updated in training and used in eval (as PyTorch; num_batches_tracked stays 0 there too).
 */
class InstanceNorm extends Module {
  readonly weight?: Tensor;
  readonly bias?: Tensor;
  readonly opts: InstanceNormModuleOptions;
  constructor(private readonly kind: '1d' | '2d', readonly numFeatures: number, opts: InstanceNormModuleOptions = {}) {
    super();
    this.opts = options<InstanceNormModuleOptions>(`InstanceNorm${kind}`, opts, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    if (this.opts.affine) {
      this.weight = parameter(ones([numFeatures]));
      this.bias = parameter(zeros([numFeatures]));
    }
    if (this.opts.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
  }
  forward(x: Tensor): Tensor {
    const rank = this.kind === '1d' ? 3 : 4;
    const name = `InstanceNorm${this.kind}(${this.numFeatures})`;
    if (x.ndim === rank - 1) return this.forward(x.unsqueeze(0)).squeeze(0);
    const spatial = this.kind === '1d' ? 'L' : 'H, W';
    if (x.ndim !== rank || ((this.opts.affine || this.opts.trackRunningStats) && x.shape[1] !== this.numFeatures)) {
      throw new ShapeError(`${name}: expected input [N, ${this.numFeatures}, ${spatial}] or [${this.numFeatures}, ${spatial}], got ${fmt(x.shape)}`);
    }
    const track = this.opts.trackRunningStats ?? false;
    return instanceNorm(x, {
      runningMean: track ? this.buffers.get('running_mean')! : null,
      runningVar: track ? this.buffers.get('running_var')! : null,
      weight: this.weight ?? null, bias: this.bias ?? null,
      useInputStats: this.training || !track, momentum: this.opts.momentum ?? 0.1, eps: this.opts.eps ?? 1e-5,
    });
  }
}

export class InstanceNorm1d extends InstanceNorm {
  constructor(numFeatures: number, opts: InstanceNormModuleOptions = {}) { super('1d', numFeatures, opts); }
}
export class InstanceNorm2d extends InstanceNorm {
  constructor(numFeatures: number, opts: InstanceNormModuleOptions = {}) { super('2d', numFeatures, opts); }
}
