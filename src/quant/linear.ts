/**
 * nn.QuantizedLinear: y = x Wᵀ + b with W packed in a ggml block format (weight.ts), where a
 * model has a Linear. Its weight is frozen (no parameter, no gradient); the bias, if any, is a
 * plain float tensor, frozen too.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { quantize, type QuantFormat } from './blocks.js';
import { quantizedWeight, quantLinear, type QuantizedWeight } from './weight.js';

export class QuantizedLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(readonly weight: QuantizedWeight, readonly bias?: Tensor) {
    super();
    [this.outFeatures, this.inFeatures] = weight.shape;
    if (bias && (bias.ndim !== 1 || bias.shape[0] !== this.outFeatures)) {
      throw new ShapeError(`QuantizedLinear: bias of shape ${fmt(bias.shape)} should be [${this.outFeatures}]`);
    }
    // Buffers, not parameters: the state dict holds them (the blocks as uint8 'qweight') and
    // module.to(device) moves them, the packed weight's bytes in place.
    this.registerBuffer('qweight', weight.bytes);
    if (bias) this.registerBuffer('bias', bias);
  }

  /** A Linear's weight quantised into `format` with ggml's reference rounding (the bias stays float). */
  static async fromLinear(linear: { weight: Tensor; bias?: Tensor }, format: QuantFormat): Promise<QuantizedLinear> {
    const w = linear.weight;
    const shape = w.shape as [number, number];
    const values = (await w.to('float32').data()) as Float32Array;
    return new QuantizedLinear(quantizedWeight(quantize(values, format, shape), format, shape, { device: w.device }), linear.bias?.detach());
  }

  forward(x: Tensor): Tensor {
    return quantLinear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, format=${this.weight.format}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
