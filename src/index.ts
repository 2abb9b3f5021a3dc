/**
 * Born: lazy tensors, a fusing scheduler, and worker-pool / WebGPU devices for Node.js.
 */
import { Tensor } from './tensor/tensor.js';
import { realize as realizeNodes, placementsFor } from './scheduler/realize.js';
import { engine, type DeviceChoice } from './scheduler/engine.js';
import type { DeviceName } from './graph/node.js';

export { Tensor } from './tensor/tensor.js';
export { tensor, scalar, zeros, ones, full, arange, linspace, eye, rand, randn, randint, manualSeed } from './tensor/creation.js';
export type { CreateOptions, RandomOptions, NestedArray } from './tensor/creation.js';
export { where } from './tensor/elementwise.js';
export { oneHot } from './tensor/linalg.js';
export { ShapeError, DTypeError, DeviceError, IndexError } from './graph/errors.js';
export { KernelError } from './devices/cpu-workers/pool.js';
export type { DType } from './graph/dtype.js';
export type { KernelEvent, MemoryStats, EngineStats, CacheLimitOptions } from './scheduler/engine.js';
export type { CacheLimits } from './kernel/lru.js';
export { engine };
export { grad, noGrad } from './autodiff/grad.js';
export * as nn from './nn/index.js';
export * as optim from './train/index.js';
export * as data from './data/index.js';
export { save, load, loadWithMetadata, SafetensorsError } from './io/safetensors.js';
export type { StateDict, SaveOptions, LoadOptions, Checkpoint } from './io/safetensors.js';
export * as safetensors from './io/safetensors.js';
export { loadNpy, saveNpy, readNpy, writeNpy, NpyError } from './io/npy.js';
export type { NpyArray, ReadNpyOptions, LoadNpyOptions } from './io/npy.js';
export * as npy from './io/npy.js';
export * as quant from './quant/index.js';
export type { GradOptions } from './autodiff/grad.js';

import { cat as catImpl, catArgs, stack as stackImpl } from './tensor/join.js';

/** Joins tensors along an existing dim (default 0): `born.cat([a, b], 1)` or `born.cat([a, b], { dim: 1 })`. */
export const cat = (tensors: readonly Tensor[], dim?: number | { dim?: number }): Tensor => catImpl(...catArgs('cat', tensors, dim));
/** Joins tensors along a new dim (default 0): `born.stack([a, b], 1)` or `born.stack([a, b], { dim: 1 })`. */
export const stack = (tensors: readonly Tensor[], dim?: number | { dim?: number }): Tensor => stackImpl(...catArgs('stack', tensors, dim));

/** Computes several tensors in one schedule. */
export async function realize(...tensors: Tensor[]): Promise<void> {
  await realizeNodes(tensors.map((t) => t.node));
}

export interface KernelPlan {
  readonly name: string;
  readonly ops: readonly string[];
  readonly device: string;
  readonly bytes: number;
  readonly flops: number;
  /**
   * Where the device runs it and the kernels it may run beside: 'inline (cost 12k < 350k)',
   * 'pool ×2 (cost 1.2M), concurrent with 3, 4'.
   */
  readonly placement: string;
}
export interface Explanation {
  readonly kernels: readonly KernelPlan[];
  toString(): string;
}

/** The plan that realize() would run, without running it. */
export function explain(...tensors: Tensor[]): Explanation {
  const todo = tensors.filter((t) => !t.node.realized).map((t) => t.node);
  const planned = todo.length ? placementsFor(todo) : null;
  const kernels = planned ? planned.plan.steps.map((s, i) => ({
    name: s.kernel.name, ops: s.kernel.ops, device: planned.device, bytes: s.kernel.bytes, flops: s.kernel.flops, placement: planned.placements[i]!,
  })) : [];
  return {
    kernels,
    toString: () => `${kernels.length} kernel${kernels.length === 1 ? '' : 's'}\n` +
      kernels.map((k, i) => `  ${i}: ${k.name} [${k.ops.join(', ')}] on ${k.device}, ${k.bytes} bytes, ${k.flops} flops, ${k.placement}`).join('\n'),
  };
}

/** Where tensors that name no device are made and computed ('cpu' unless set, or BORN_DEVICE). */
export const defaultDevice = (): DeviceName => engine.defaultDevice;
/**
 * Chooses the default device: 'cpu', 'webgpu', or 'auto' (a hardware GPU through WebGPU if there
 * is one, else the CPU; never a software adapter). Resolves to the device chosen once it is known
 * to work; asking for 'webgpu' where there is none rejects, naming what to install.
 */
export const setDefaultDevice = (device: DeviceChoice): Promise<DeviceName> => engine.setDefaultDevice(device);
export type { DeviceName, DeviceChoice };

// BORN_DEVICE=auto probes the adapter (asynchronous) before the program makes its first tensor.
if (process.env.BORN_DEVICE === 'auto') await engine.setDefaultDevice('auto');

// ---- functional forms of tensor ops (born.exp, born.matmul, …) ----
export { einsum } from './tensor/contract.js';
export type { SortResult, SortOptions, TopkOptions } from './tensor/sort.js';
export type { NormOptions, NormOrder } from './tensor/scan.js';
export type { ScanOptions } from './tensor/scan.js';
export type { IscloseOptions } from './tensor/math.js';
export type { ClampOptions } from './tensor/inplace.js';
export type { ValuesIndices } from './tensor/reduce.js';
export type { ExtremeForm } from './tensor/functional.js';
import { functionalForms } from './tensor/functional.js';
export type { FunctionalForm, FunctionalForms, TensorMethod } from './tensor/functional.js';
/**
 * Functional forms of Tensor methods: `born.exp(x)` is `x.exp()`, `born.sum(x, …)` is
 * `x.sum(…)`, `born.matmul(a, b)` is `a.matmul(b)` — the same parameters, types and results.
 * Adding a method here is one more name in this list.
 */
export const {
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge,
  neg, abs, sign, exp, log, log1p, sqrt, rsqrt, reciprocal, sin, cos, tanh, erf, floor, logicalNot,
  sigmoid, relu, clamp,
  sum, mean, max, min, amax, amin, argmax, argmin, std, logsumexp, softmax, logSoftmax,
  reshape, flatten, squeeze, unsqueeze, permute, transpose, narrow, flip, chunk, split,
  matmul, gather, indexSelect, scatterAdd, indexAdd, clone, detach,
  tan, asin, acos, atan, atan2, sinh, cosh, log2, log10, expm1, square, round, ceil, trunc, remainder, fmod,
  isnan, isinf, isfinite, logicalAnd, logicalOr, logicalXor, bitwiseAnd, bitwiseOr, bitwiseXor, bitwiseNot,
  lerp, maskedFill, isclose, allclose, equal,
  prod, norm, all, any, cumsum, cumprod, sort, argsort, topk, scatter, mm, bmm, dot, outer,
  triu, tril, roll, movedim, diag, trace, tile,
} = functionalForms;
// `var` is a reserved word: it is exported under its PyTorch name from a renamed binding.
const { var: variance } = functionalForms;
export { variance as var };

// ---- creation: *Like, empty, randperm, multinomial, bernoulli, meshgrid ----
export { zerosLike, onesLike, fullLike, randLike, randnLike, empty } from './tensor/like.js';
export type { LikeOptions, RandomLikeOptions } from './tensor/like.js';
export { randperm, multinomial, bernoulli } from './tensor/sampling.js';
export type { SampleOptions } from './tensor/sampling.js';
/**
 * torch.meshgrid: coordinate grids from 1-D tensors (`const [gx, gy] = born.meshgrid(x, y)`),
 * as zero-copy expanded views; `{ indexing: 'xy' }` swaps the first two output dims as NumPy does.
 */
export { meshgrid } from './tensor/movement-more.js';

// ---- grad modes and threads (setGradEnabled, enableGrad, inferenceMode, setNumThreads) ----
export { setGradEnabled, isGradEnabled, enableGrad, inferenceMode } from './autodiff/modes.js';
export { setNumThreads, getNumThreads } from './devices/threads.js';

// ---- printing (format) ----
export { format } from './tensor/format.js';

// ---- ONNX import: the namespace is tiny; src/onnx (protobufjs, the schema, the op table) loads on
// the first call, so `import born` pays nothing for it ----
import type * as OnnxModule from './onnx/index.js';
export type {
  OnnxModel, LoadOptions as OnnxLoadOptions, RunInput as OnnxRunInput, ValueSpec as OnnxValueSpec,
  RunOutput as OnnxRunOutput, RunValue as OnnxRunValue, ValueKind as OnnxValueKind,
  SaveOptions as OnnxSaveOptions, SampleInputs as OnnxSampleInputs, Exportable as OnnxExportable,
} from './onnx/index.js';
export const onnx = {
  /** `born.onnx.load(pathOrBytes, { device })`: an ONNX model as a lazy Born graph. */
  load: async (source: string | Uint8Array, opts?: OnnxModule.LoadOptions): Promise<OnnxModule.OnnxModel> =>
    (await import('./onnx/index.js')).load(source, opts),
  /**
   * `born.onnx.save(moduleOrFn, sampleInputs, path, { opset, inputNames, outputNames, dynamicBatch })`:
   * records one forward pass (a module in eval mode, under noGrad) and writes it as an ONNX model.
   */
  save: async (model: OnnxModule.Exportable, sampleInputs: OnnxModule.SampleInputs, path: string, opts?: OnnxModule.SaveOptions): Promise<void> =>
    (await import('./onnx/index.js')).save(model, sampleInputs, path, opts),
  /** As save, returning the ONNX file's bytes instead of writing them. */
  toBytes: async (model: OnnxModule.Exportable, sampleInputs: OnnxModule.SampleInputs, opts?: OnnxModule.SaveOptions): Promise<Uint8Array> =>
    (await import('./onnx/index.js')).toBytes(model, sampleInputs, opts),
};

// ---- language models: born.llm, loaded on first use (src/lazy-llm.ts: the async entry points load
// src/llm; the tokenizers are eager; the rest is there once it has loaded or after born.llm.ready()) ----
export type { Llm, LlmLoadOptions, LlamaConfig } from './llm/index.js';
import type * as L from './llm/index.js';
import { llm as lazyLlm } from './lazy-llm.js';
export type { LlmNamespace } from './lazy-llm.js';
/** `born.llm`: language models (src/llm/index.ts), its modules loaded on first use. */
export const llm = lazyLlm;
// The types of the namespace, so that `born.llm.Tokenizer` and the like stay usable as types.
/* eslint-disable @typescript-eslint/no-namespace */
export declare namespace llm {
  export type Tokenizer = L.Tokenizer;
  export type StreamDecoder = L.StreamDecoder;
  export type Llm = L.Llm;
  export type LlmLoadOptions = L.LlmLoadOptions;
  export type LlmMeta = L.LlmMeta;
  export type LlamaModel = L.LlamaModel;
  export type LlamaConfig = L.LlamaConfig;
  export type Llama2cError = L.Llama2cError;
  export type Llama2cConfig = L.Llama2cConfig;
  export type Llama2cFile = L.Llama2cFile;
  export type KvCache = L.KvCache;
  export type GenerateOptions = L.GenerateOptions;
  export type Prompt = L.Prompt;
  export type BatchText = L.BatchText;
  export type BatchToken = L.BatchToken;
  export type ChatMessage = L.ChatMessage;
  export type ChatTemplateOptions = L.ChatTemplateOptions;
  export type ChatTemplateError = L.ChatTemplateError;
  export type GgufFile = L.GgufFile;
  export type GgufLoadOptions = L.GgufLoadOptions;
  export type GgufError = L.GgufError;
  export type ChatOptions = L.ChatOptions;
  export type HfError = L.HfError;
  export type HfModelConfig = L.HfModelConfig;
  export namespace tokenizers {
    export type Tokenizer = L.tokenizers.Tokenizer;
    export type EncodeOptions = L.tokenizers.EncodeOptions;
    export type DecodeOptions = L.tokenizers.DecodeOptions;
    export type TokenModel = L.tokenizers.TokenModel;
    export type TokenizerSpec = L.tokenizers.TokenizerSpec;
    export type AddedToken = L.tokenizers.AddedToken;
    export type SentencePieceVocab = L.tokenizers.SentencePieceVocab;
    export type HfTokenizerJson = L.tokenizers.HfTokenizerJson;
    export type HfTokenizerConfig = L.tokenizers.HfTokenizerConfig;
    export type TiktokenOptions = L.tokenizers.TiktokenOptions;
    export type GgufMetadata = L.tokenizers.GgufMetadata;
    export type Llama2cOptions = L.tokenizers.Llama2cOptions;
  }
  export namespace gguf {
    export type GgmlType = L.gguf.GgmlType;
    export type GgufFile = L.gguf.GgufFile;
    export type GgufHeader = L.gguf.GgufHeader;
    export type GgufTensorInfo = L.gguf.GgufTensorInfo;
    export type GgufValue = L.gguf.GgufValue;
    export type GgufValueType = L.gguf.GgufValueType;
    export type GgufArray = L.gguf.GgufArray;
    export type GgufLoadOptions = L.gguf.GgufLoadOptions;
  }
}
/* eslint-enable @typescript-eslint/no-namespace */
