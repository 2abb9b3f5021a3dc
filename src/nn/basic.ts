/** Parameter-free modules that pass or reshape their input: Identity and Unflatten. */
import { ShapeError, fmt } from '../graph/errors.js';
import { int } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * Returns its input unchanged; any constructor arguments are accepted and ignored, as PyTorch's
 * (handy to switch a layer off: `model.head = nn.Identity()`). Shapes: any → same.
 */
export class Identity extends Module {
  constructor(..._args: unknown[]) { super(); }
  forward(x: Tensor): Tensor { return x; }
}

/**
 * Splits dim `dim` into `sizes` (one entry may be -1, inferred), the inverse of Flatten.
 * Shapes: [..., S, ...] → [..., ...sizes, ...] with prod(sizes) = S.
 *
 * @example nn.Unflatten(1, [2, 5]).forward(x)  // [N, 10] → [N, 2, 5]
 */
export class Unflatten extends Module {
  readonly dim: number;
  readonly sizes: readonly number[];
  constructor(dim: number, sizes: readonly number[]) {
    super();
    this.dim = int('Unflatten', 'dim', dim);
    if (!Array.isArray(sizes) || !sizes.length) throw new TypeError(`Unflatten: sizes must be a non-empty list of integers, got ${JSON.stringify(sizes)}`);
    this.sizes = sizes.map((s) => int('Unflatten', 'size', s));
    if (this.sizes.filter((s) => s === -1).length > 1 || this.sizes.some((s) => s < -1)) {
      throw new ShapeError(`Unflatten: sizes ${fmt(this.sizes)} may hold one -1 (inferred) and otherwise sizes >= 0`);
    }
  }
  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (d < 0 || d >= x.ndim) throw new ShapeError(`Unflatten(${this.dim}, ${fmt(this.sizes)}): dim ${this.dim} is out of range for input of shape ${fmt(x.shape)}`);
    const size = x.shape[d]!;
    const known = this.sizes.reduce((n, s) => (s === -1 ? n : n * s), 1);
    const sizes = this.sizes.map((s) => (s === -1 ? (known ? size / known : 0) : s));
    if (sizes.reduce((n, s) => n * s, 1) !== size || sizes.some((s) => !Number.isInteger(s))) {
      throw new ShapeError(`Unflatten(${this.dim}, ${fmt(this.sizes)}): dim ${this.dim} of input ${fmt(x.shape)} has size ${size}, which sizes ${fmt(this.sizes)} do not multiply to`);
    }
    return x.reshape([...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
  }
  override extraRepr(): string { return `dim=${this.dim}, unflattened_size=(${this.sizes.join(', ')}${this.sizes.length === 1 ? ',' : ''})`; }
}
