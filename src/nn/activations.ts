/**
 * Activation modules beyond those in layers.ts, and the functional forms of every activation
 * (nn.functional.relu, …). Shapes: any → same, except Softmax/LogSoftmax, which normalise along
 * their dim, and PReLU, whose weights follow the channel dim (1).
 */
import { full } from '../tensor/creation.js';
import * as AC from '../tensor/activations.js';
import { dimArg, int } from '../tensor/args.js';
import { scalarParams } from '../tensor/math.js';
import * as R from '../tensor/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { Activation } from './layers.js';
import { Module, parameter } from './module.js';

type Slope = [negativeSlope?: number] | [opts: { negativeSlope?: number }];
type Alpha = [alpha?: number] | [opts: { alpha?: number }];
type Bounds = [minVal?: number, maxVal?: number] | [opts: { minVal?: number; maxVal?: number }];

/**
 * softmax's dim is required: PyTorch's implicit choice when it is missing (dim 0 for 1-D and
 * 3-D inputs, 1 otherwise) is deprecated and differs from Born's default of -1.
 */
function requiredDim(op: string, dim: unknown): number {
  const d = dimArg(op, dim);
  if (d === undefined) throw new TypeError(`${op}: give the dim to normalise over, e.g. ${op}(x, -1) or ${op}(x, { dim: -1 })`);
  return d;
}

/** LeakyReLU(negativeSlope = 0.01). */
export class LeakyReLU extends Activation {
  readonly negativeSlope: number;
  constructor(...args: Slope) {
    const { negativeSlope } = scalarParams('LeakyReLU', args, { negativeSlope: 0.01 });
    super((x) => AC.leakyRelu(x, negativeSlope));
    this.negativeSlope = negativeSlope;
  }
}

/** ELU(alpha = 1). */
export class ELU extends Activation {
  readonly alpha: number;
  constructor(...args: Alpha) {
    const { alpha } = scalarParams('ELU', args, { alpha: 1 });
    super((x) => AC.elu(x, alpha));
    this.alpha = alpha;
  }
}

/** CELU(alpha = 1). */
export class CELU extends Activation {
  readonly alpha: number;
  constructor(...args: Alpha) {
    const { alpha } = scalarParams('CELU', args, { alpha: 1 });
    if (alpha === 0) throw new RangeError('CELU: alpha must not be 0');
    super((x) => AC.celu(x, alpha));
    this.alpha = alpha;
  }
}

export class SELU extends Activation { constructor() { super(AC.selu); } }
export class Mish extends Activation { constructor() { super(AC.mish); } }
export class Hardswish extends Activation { constructor() { super(AC.hardswish); } }
export class Hardsigmoid extends Activation { constructor() { super(AC.hardsigmoid); } }
export class LogSigmoid extends Activation { constructor() { super(AC.logSigmoid); } }
/** min(max(x, 0), 6). */
export class ReLU6 extends Activation { constructor() { super((x) => AC.hardtanh(x, 0, 6)); } }

/** Hardtanh(minVal = -1, maxVal = 1). */
export class Hardtanh extends Activation {
  readonly minVal: number;
  readonly maxVal: number;
  constructor(...args: Bounds) {
    const { minVal, maxVal } = scalarParams('Hardtanh', args, { minVal: -1, maxVal: 1 });
    if (minVal > maxVal) throw new RangeError(`Hardtanh: minVal (${minVal}) must not be greater than maxVal (${maxVal})`);
    super((x) => AC.hardtanh(x, minVal, maxVal));
    this.minVal = minVal;
    this.maxVal = maxVal;
  }
}

/** Softmax(dim): exp(x) normalised to sum 1 along dim. */
export class Softmax extends Activation {
  readonly dim: number;
  constructor(dim: number | { dim: number }) {
    const d = requiredDim('Softmax', dim);
    super((x) => R.softmax(x, d));
    this.dim = d;
  }
}

/** LogSoftmax(dim): log of Softmax(dim), computed without forming the softmax. */
export class LogSoftmax extends Activation {
  readonly dim: number;
  constructor(dim: number | { dim: number }) {
    const d = requiredDim('LogSoftmax', dim);
    super((x) => R.logSoftmax(x, d));
    this.dim = d;
  }
}

/**
 * PReLU(numParameters = 1, init = 0.25): leaky ReLU with a learnable slope, one per channel
 * (dim 1 of the input) or one shared. State-dict key 'weight', shape [numParameters], as PyTorch.
 */
export class PReLU extends Module {
  readonly weight: Tensor;
  readonly numParameters: number;
  constructor(...args: [numParameters?: number, init?: number] | [opts: { numParameters?: number; init?: number }]) {
    super();
    const p = scalarParams('PReLU', args, { numParameters: 1, init: 0.25 });
    this.numParameters = int('PReLU', 'numParameters', p.numParameters);
    if (this.numParameters < 1) throw new RangeError(`PReLU: numParameters must be at least 1, got ${this.numParameters}`);
    this.weight = parameter(full([this.numParameters], p.init));
  }
  forward(x: Tensor): Tensor { return AC.prelu(x, this.weight); }
}

/** nn.functional's activations: PyTorch's functions, with scalar parameters positional or as options. */
export const functional = {
  relu: (x: Tensor): Tensor => x.relu(),
  relu6: (x: Tensor): Tensor => AC.hardtanh(x, 0, 6),
  gelu: (x: Tensor, ...args: Parameters<Tensor['gelu']>): Tensor => x.gelu(...args),
  silu: (x: Tensor): Tensor => x.silu(),
  sigmoid: (x: Tensor): Tensor => x.sigmoid(),
  tanh: (x: Tensor): Tensor => x.tanh(),
  softplus: (x: Tensor, ...args: Parameters<Tensor['softplus']>): Tensor => x.softplus(...args),
  softmax: (x: Tensor, dim: number | { dim: number }): Tensor => R.softmax(x, requiredDim('softmax', dim)),
  logSoftmax: (x: Tensor, dim: number | { dim: number }): Tensor => R.logSoftmax(x, requiredDim('logSoftmax', dim)),
  leakyRelu: (x: Tensor, ...args: Slope): Tensor => AC.leakyRelu(x, scalarParams('leakyRelu', args, { negativeSlope: 0.01 }).negativeSlope),
  elu: (x: Tensor, ...args: Alpha): Tensor => AC.elu(x, scalarParams('elu', args, { alpha: 1 }).alpha),
  celu: (x: Tensor, ...args: Alpha): Tensor => AC.celu(x, scalarParams('celu', args, { alpha: 1 }).alpha),
  selu: (x: Tensor): Tensor => AC.selu(x),
  hardtanh: (x: Tensor, ...args: Bounds): Tensor => {
    const p = scalarParams('hardtanh', args, { minVal: -1, maxVal: 1 });
    return AC.hardtanh(x, p.minVal, p.maxVal);
  },
  logSigmoid: (x: Tensor): Tensor => AC.logSigmoid(x),
  mish: (x: Tensor): Tensor => AC.mish(x),
  hardswish: (x: Tensor): Tensor => AC.hardswish(x),
  hardsigmoid: (x: Tensor): Tensor => AC.hardsigmoid(x),
  prelu: (x: Tensor, weight: Tensor): Tensor => AC.prelu(x, weight),
};
