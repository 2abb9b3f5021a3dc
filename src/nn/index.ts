/**
 * The nn namespace. Every layer, activations included, can be made with or without `new`
 * (`nn.Linear(784, 256)` as in API.md, or `new nn.Linear(784, 256)`); Module is a plain
 * (abstract) class to extend.
 */
import * as conv from './conv.js';
import * as layers from './layers.js';
import * as norm from './norm.js';
import * as losses from './losses.js';
import * as conv1d from './conv1d.js';
import * as pool from './pool.js';
import * as resample from './resample.js';
import * as groupnorm from './groupnorm.js';

/** A class that can also be called like a function to construct an instance. */
export type Callable<C extends new (...args: never[]) => unknown> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

function callable<C extends new (...args: never[]) => unknown>(cls: C): Callable<C> {
  return new Proxy(cls, { apply: (target, _self, args) => new (target as unknown as new (...a: unknown[]) => unknown)(...args) }) as Callable<C>;
}

export { Module, parameter } from './module.js';
export const Linear = callable(layers.Linear);
export const Embedding = callable(layers.Embedding);
export const Dropout = callable(layers.Dropout);
export const Flatten = callable(layers.Flatten);
export const Sequential = callable(layers.Sequential);
export const Conv2d = callable(conv.Conv2d);
export const MaxPool2d = callable(conv.MaxPool2d);
export const AvgPool2d = callable(conv.AvgPool2d);
export const AdaptiveAvgPool2d = callable(conv.AdaptiveAvgPool2d);
export const BatchNorm1d = callable(norm.BatchNorm1d);
export const BatchNorm2d = callable(norm.BatchNorm2d);
export const LayerNorm = callable(norm.LayerNorm);
export const RMSNorm = callable(norm.RMSNorm);
export const Activation = callable(layers.Activation);
export const ReLU = callable(layers.ReLU);
export const GELU = callable(layers.GELU);
export const SiLU = callable(layers.SiLU);
export const Tanh = callable(layers.Tanh);
export const Sigmoid = callable(layers.Sigmoid);
export const Softplus = callable(layers.Softplus);

// ---- activation modules (LeakyReLU, ELU, PReLU, Mish, Hardswish, Softmax, …) ----

// ---- containers, Parameter, init, loss modules ----

// ---- recurrent and attention modules (RNN, LSTM, GRU, MultiheadAttention, Transformer…) ----

// ---- convolution, pooling, normalisation and resampling modules ----
export const Conv1d = callable(conv1d.Conv1d);
export const ConvTranspose1d = callable(conv1d.ConvTranspose1d);
export const ConvTranspose2d = callable(conv1d.ConvTranspose2d);
export const MaxPool1d = callable(pool.MaxPool1d);
export const AvgPool1d = callable(pool.AvgPool1d);
export const AdaptiveAvgPool1d = callable(pool.AdaptiveAvgPool1d);
export const AdaptiveMaxPool2d = callable(pool.AdaptiveMaxPool2d);
export const Upsample = callable(resample.Upsample);
export const GroupNorm = callable(groupnorm.GroupNorm);
export const InstanceNorm1d = callable(groupnorm.InstanceNorm1d);
export const InstanceNorm2d = callable(groupnorm.InstanceNorm2d);
export type { Conv1dOptions, ConvTransposeOptions, PaddingMode } from './conv1d.js';
export type { MaxPool1dOptions, AvgPool1dOptions, AdaptiveSize1, AdaptiveSize2 } from './pool.js';
export type { PadMode, PadOptions, InterpolateMode, InterpolateOptions } from './resample.js';
export type { GroupNormOptions, InstanceNormOptions, InstanceNormModuleOptions } from './groupnorm.js';

export const functional = {
  ...losses,
  conv2d: conv.conv2d,
  maxPool2d: conv.maxPool2d,
  avgPool2d: conv.avgPool2d,
  adaptiveAvgPool2d: conv.adaptiveAvgPool2d,
  // ---- functional: activations ----
  // ---- functional: losses, linear, embedding, normalize, … ----
  // ---- functional: attention ----
  // ---- functional: convolution, pooling, pad, interpolate ----
  conv1d: conv1d.conv1d,
  convTranspose1d: conv1d.convTranspose1d,
  convTranspose2d: conv1d.convTranspose2d,
  maxPool1d: pool.maxPool1d,
  avgPool1d: pool.avgPool1d,
  adaptiveAvgPool1d: pool.adaptiveAvgPool1d,
  adaptiveMaxPool2d: pool.adaptiveMaxPool2d,
  groupNorm: groupnorm.groupNorm,
  instanceNorm: groupnorm.instanceNorm,
  pad: resample.pad,
  interpolate: resample.interpolate,
};
export type { Reduction, CrossEntropyOptions, NllOptions } from './losses.js';
export type { Conv2dOptions, Pair } from './conv.js';
