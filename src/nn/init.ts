/** PyTorch's default initialisations, drawn from Born's seeded random stream (manualSeed). */
import { rand, randn } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { parameter } from './module.js';

/** U(-bound, bound), as a parameter. */
export function uniformParam(shape: readonly number[], bound: number): Tensor {
  return parameter(rand(shape).mul(2 * bound).sub(bound));
}

export function normalParam(shape: readonly number[], std = 1): Tensor {
  return parameter(randn(shape).mul(std));
}

/** kaiming_uniform_(a=√5), PyTorch's default for Linear and Conv weights: U(±1/√fan_in). */
export const defaultWeight = (shape: readonly number[], fanIn: number): Tensor => uniformParam(shape, 1 / Math.sqrt(fanIn));
