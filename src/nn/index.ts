/**
 * The nn namespace. Every layer, activations included, can be made with or without `new`
 * (`nn.Linear(784, 256)` as in API.md, or `new nn.Linear(784, 256)`); Module is a plain
 * (abstract) class to extend.
 */
import * as activations from './activations.js';
import * as conv from './conv.js';
import * as layers from './layers.js';
import * as norm from './norm.js';
import * as losses from './losses.js';
import * as containers from './containers.js';
import * as basic from './basic.js';
import * as lossModules from './loss-modules.js';
import * as parameterModule from './parameter.js';
import * as fb from './functional-basic.js';
import * as conv1d from './conv1d.js';
import * as pool from './pool.js';
import * as resample from './resample.js';
import * as groupnorm from './groupnorm.js';
import * as quantLinearModule from '../quant/linear.js';
import type { AnyModule, Module } from './module.js';

/** A class that can also be called like a function to construct an instance. */
export type Callable<C extends new (...args: never[]) => unknown> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

function callable<C extends new (...args: never[]) => unknown>(cls: C): Callable<C> {
  return new Proxy(cls, { apply: (target, _self, args) => new (target as unknown as new (...a: unknown[]) => unknown)(...args) }) as Callable<C>;
}

export { Module, parameter } from './module.js';
export const Linear = callable(layers.Linear);
export const QuantizedLinear = callable(quantLinearModule.QuantizedLinear);
export const Embedding = callable(layers.Embedding);
export const Dropout = callable(layers.Dropout);
export const Flatten = callable(layers.Flatten);
export const Sequential = callable(containers.Sequential);
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
export const LeakyReLU = callable(activations.LeakyReLU);
export const ELU = callable(activations.ELU);
export const PReLU = callable(activations.PReLU);
export const Mish = callable(activations.Mish);
export const Hardswish = callable(activations.Hardswish);
export const Hardsigmoid = callable(activations.Hardsigmoid);
export const Hardtanh = callable(activations.Hardtanh);
export const LogSigmoid = callable(activations.LogSigmoid);
export const ReLU6 = callable(activations.ReLU6);
export const Softmax = callable(activations.Softmax);
export const LogSoftmax = callable(activations.LogSoftmax);
export const SELU = callable(activations.SELU);
export const CELU = callable(activations.CELU);

// ---- containers, Parameter, init, loss modules ----
// Generic containers keep their item type when called without `new` too (Callable's
// InstanceType would fall back to the constraint, any module).
// Lists of one-tensor layers are lists of Module, so that any layer can be appended later.
export const ModuleList = callable(containers.ModuleList) as typeof containers.ModuleList & {
  (modules?: Iterable<Module>): containers.ModuleList;
  <M extends AnyModule>(modules: Iterable<M>): containers.ModuleList<M>;
};
export const ModuleDict = callable(containers.ModuleDict) as typeof containers.ModuleDict & {
  (modules?: Record<string, Module> | Iterable<readonly [string, Module]>): containers.ModuleDict;
  <M extends AnyModule>(modules: Record<string, M> | Iterable<readonly [string, M]>): containers.ModuleDict<M>;
};
export const Parameter = callable(parameterModule.Parameter);
/**
 * torch.nn.utils.skip_init: `nn.skipInit(() => model())` builds a module without drawing its random
 * initial values, for a model that loadStateDict fills next (a server's cold start skips the work).
 */
export const skipInit = parameterModule.skipInit;
export const Identity = callable(basic.Identity);
export const Unflatten = callable(basic.Unflatten);
export const CrossEntropyLoss = callable(lossModules.CrossEntropyLoss);
export const NLLLoss = callable(lossModules.NLLLoss);
export const MSELoss = callable(lossModules.MSELoss);
export const L1Loss = callable(lossModules.L1Loss);
export const SmoothL1Loss = callable(lossModules.SmoothL1Loss);
export const HuberLoss = callable(lossModules.HuberLoss);
export const BCELoss = callable(lossModules.BCELoss);
export const BCEWithLogitsLoss = callable(lossModules.BCEWithLogitsLoss);
export const KLDivLoss = callable(lossModules.KLDivLoss);
/** PyTorch's torch.nn.init: in-place initialisers (kaimingUniform_, xavierNormal_, truncNormal_, …) and calculateGain. */
export * as init from './init-public.js';
export type { AnyModule, LoadResult } from './module.js';

// ---- recurrent and attention modules (RNN, LSTM, GRU, MultiheadAttention, Transformer…) ----
import * as rnn from './rnn.js';
import * as attention from './attention.js';
import * as transformer from './transformer.js';
export const RNN = callable(rnn.RNN);
export const LSTM = callable(rnn.LSTM);
export const GRU = callable(rnn.GRU);
export const MultiheadAttention = callable(attention.MultiheadAttention);
export const TransformerEncoderLayer = callable(transformer.TransformerEncoderLayer);
export const TransformerDecoderLayer = callable(transformer.TransformerDecoderLayer);
export type { RNNOptions, RNNBaseOptions, LSTMOptions } from './rnn.js';
export type { MultiheadAttentionOptions, MultiheadAttentionForwardOptions, SDPAOptions } from './attention.js';
export type { TransformerLayerOptions, EncoderLayerForwardOptions, DecoderLayerForwardOptions } from './transformer.js';

// ---- LLaMA-style blocks: rotary embeddings, grouped-query attention, SwiGLU, the decoder layer ----
import * as rope from './rope.js';
import * as llama from './llama.js';
export const RotaryEmbedding = callable(rope.RotaryEmbedding);
export const GroupedQueryAttention = callable(llama.GroupedQueryAttention);
export const SwiGLU = callable(llama.SwiGLU);
export const LlamaDecoderLayer = callable(llama.LlamaDecoderLayer);
export type { RopePairing, RopeTableOptions, RotaryEmbeddingOptions } from './rope.js';
export type { GroupedQueryAttentionOptions, AttentionForwardOptions, LlamaDecoderLayerOptions } from './llama.js';

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
  ...activations.functional,
  // ---- functional: losses, linear, embedding, normalize, … ----
  // (the losses — crossEntropy, nllLoss, mseLoss, l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy,
  // binaryCrossEntropyWithLogits, klDiv — come from ...losses above)
  dropout: fb.dropout,
  linear: fb.linear,
  embedding: fb.embedding,
  layerNorm: fb.layerNorm,
  normalize: fb.normalize,
  cosineSimilarity: fb.cosineSimilarity,
  oneHot: fb.oneHot,
  // ---- functional: attention ----
  scaledDotProductAttention: attention.scaledDotProductAttention,
  applyRotaryEmb: rope.applyRotaryEmb,
  ropeTables: rope.ropeTables,
  repeatKv: llama.repeatKv,
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
export type { Reduction, CrossEntropyOptions, NllOptions, ReductionOptions, SmoothL1Options, HuberOptions, BceOptions, BceWithLogitsOptions, KlDivOptions } from './losses.js';
export type { DropoutOptions, NormalizeOptions, CosineSimilarityOptions } from './functional-basic.js';
export type { Conv2dOptions, Pair } from './conv.js';
