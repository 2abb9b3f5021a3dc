/**
 * Born: lazy tensors, a fusing scheduler, and worker-pool / WebGPU devices for Node.js.
 */
import { Tensor } from './tensor/tensor.js';
import { realize as realizeNodes, planFor } from './scheduler/realize.js';
import { engine } from './scheduler/engine.js';

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
export type { GradOptions } from './autodiff/grad.js';

import { cat as catImpl, stack as stackImpl } from './tensor/join.js';

/** Joins tensors along an existing dim (default 0). */
export const cat = (tensors: readonly Tensor[], opts: { dim?: number } = {}): Tensor => catImpl(tensors, opts.dim);
/** Joins tensors along a new dim (default 0). */
export const stack = (tensors: readonly Tensor[], opts: { dim?: number } = {}): Tensor => stackImpl(tensors, opts.dim);

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
}
export interface Explanation {
  readonly kernels: readonly KernelPlan[];
  toString(): string;
}

/** The plan that realize() would run, without running it. */
export function explain(...tensors: Tensor[]): Explanation {
  const todo = tensors.filter((t) => !t.node.realized).map((t) => t.node);
  const kernels = todo.length ? planFor(todo).steps.map((s) => ({
    name: s.kernel.name, ops: s.kernel.ops, device: 'cpu', bytes: s.kernel.bytes, flops: s.kernel.flops,
  })) : [];
  return {
    kernels,
    toString: () => `${kernels.length} kernel${kernels.length === 1 ? '' : 's'}\n` +
      kernels.map((k, i) => `  ${i}: ${k.name} [${k.ops.join(', ')}] on ${k.device}, ${k.bytes} bytes, ${k.flops} flops`).join('\n'),
  };
}

export const defaultDevice = (): 'cpu' => 'cpu';

// ---- functional forms of tensor ops (born.exp, born.matmul, …) ----

// ---- creation: *Like, empty, randperm, multinomial, bernoulli, meshgrid ----
/**
 * torch.meshgrid: coordinate grids from 1-D tensors (`const [gx, gy] = born.meshgrid(x, y)`),
 * as zero-copy expanded views; `{ indexing: 'xy' }` swaps the first two output dims as NumPy does.
 */
export { meshgrid } from './tensor/movement-more.js';

// ---- grad modes and threads (setGradEnabled, enableGrad, inferenceMode, setNumThreads) ----

// ---- printing (format) ----
