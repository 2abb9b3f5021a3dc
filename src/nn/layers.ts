/** Dense layers, embeddings, dropout and reshaping. */
import { ShapeError, fmt } from '../graph/errors.js';
import { full, rand } from '../tensor/creation.js';
import { indexSelect } from '../tensor/linalg.js';
import type { Tensor } from '../tensor/tensor.js';
import { defaultWeight, normalParam, uniformParam } from './init.js';
import { Module, parameter } from './module.js';

/**
 * y = x Wᵀ + b. Shapes: [..., inFeatures] → [..., outFeatures].
 * Init as PyTorch: W, b ~ U(-1/√in, 1/√in).
 */
export class Linear extends Module {
  readonly weight: Tensor; // [outFeatures, inFeatures], PyTorch's layout
  readonly bias?: Tensor;  // [outFeatures]
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    this.weight = defaultWeight([outFeatures, inFeatures], inFeatures);
    if (opts.bias ?? true) this.bias = uniformParam([outFeatures], 1 / Math.sqrt(inFeatures));
  }
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear(${this.inFeatures}, ${this.outFeatures}): input of shape ${fmt(x.shape)} should end in ${this.inFeatures}`);
    }
    const y = x.matmul(this.weight.T);
    return this.bias ? y.add(this.bias) : y;
  }
  override extraRepr(): string { return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`; }
}

/** Looks up rows of a [numEmbeddings, dim] table. Input: int32 indices of any shape → [..., dim]. Init N(0, 1). */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    this.weight = normalParam([numEmbeddings, embeddingDim]);
  }
  forward(idx: Tensor): Tensor {
    return indexSelect(this.weight, 0, idx.flatten(), 'embedding').reshape([...idx.shape, this.embeddingDim]);
  }
  override extraRepr(): string { return `${this.numEmbeddings}, ${this.embeddingDim}`; }
}

/** Zeroes elements with probability p while training, scaling the rest by 1/(1-p); identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return x.mul(full(x.shape, 0));
    return x.mul(rand(x.shape).ge(this.p).to(x.dtype)).mul(1 / (1 - this.p));
  }
  override extraRepr(): string { return `p=${this.p}, inplace=False`; }
}

/** [N, ...] → [N, prod(...)] (startDim 1 to endDim -1, as PyTorch). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
  override extraRepr(): string { return `start_dim=${this.startDim}, end_dim=${this.endDim}`; }
}

// Sequential lives with the other containers; re-exported here for existing imports.
export { Sequential } from './containers.js';

/** A module wrapping an elementwise function of its input (shape-preserving). */
export class Activation extends Module {
  constructor(private readonly fn: (x: Tensor) => Tensor) { super(); }
  forward(x: Tensor): Tensor { return this.fn(x); }
  override extraRepr(): string { return ''; }
}

// Each activation is its own class, so `new nn.ReLU()`, `nn.ReLU()` and `instanceof nn.ReLU` work
// as they do for every other layer. Shapes: any → same.
export class ReLU extends Activation { constructor() { super((x) => x.relu()); } }
export class GELU extends Activation {
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) { super((x) => x.gelu(opts)); }
}
export class SiLU extends Activation { constructor() { super((x) => x.silu()); } }
export class Tanh extends Activation { constructor() { super((x) => x.tanh()); } }
export class Sigmoid extends Activation { constructor() { super((x) => x.sigmoid()); } }
export class Softplus extends Activation { constructor() { super((x) => x.softplus()); } }
export { parameter };
