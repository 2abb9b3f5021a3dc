/**
 * A model as the server sees it: its declared inputs and outputs and one call that runs a batch of
 * host arrays. Born models (the architectures of src/cli/models.ts, named in a safetensors file's
 * metadata) and ONNX models (born.onnx.load) both become one.
 */
import { noGrad } from '../autodiff/grad.js';
import type { DType } from '../graph/dtype.js';
import { toNpyArray, type NpyArray } from '../io/npy.js';
import { parse as parseSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { OnnxModel } from '../onnx/model.js';
import { engine } from '../scheduler/engine.js';
import { fromStorage } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { isModelName, MODELS } from '../cli/models.js';

/** A declared input or output; `shape[0]` is the batch dimension when `batched` (null: any size). */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  /** null entries are any size (symbolic ONNX dims); null for any shape. */
  readonly shape: readonly (number | null)[] | null;
}

export interface Servable {
  readonly kind: 'born' | 'onnx';
  /** What the file says the model is ('mlp', an ONNX producer name). */
  readonly description: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Whether dim 0 of every input and output is a batch dim requests can be merged along. */
  readonly batched: boolean;
  run(inputs: Readonly<Record<string, NpyArray>>): Promise<Record<string, NpyArray>>;
}

const tensorOf = (a: NpyArray): Tensor => fromStorage(a.data as never, a.shape, a.dtype);

/**
 * Runs a batch with the calling thread marked busy (CpuDevice.callerBusy): it is the server's, for
 * HTTP and JSON, so kernels that can split go to the worker pool unless they are small.
 */
async function asServer<T>(work: () => Promise<T>): Promise<T> {
  const cpu = engine.cpu();
  cpu.callerBusy++;
  try {
    return await work();
  } finally {
    cpu.callerBusy--;
  }
}

/** Fashion-MNIST images in, ten logits out: what born train's models take (and born export declares). */
const IMAGE_IO = {
  inputs: [{ name: 'input', dtype: 'float32', shape: [null, 1, 28, 28] }],
  outputs: [{ name: 'logits', dtype: 'float32', shape: [null, 10] }],
} as const satisfies { inputs: TensorSpec[]; outputs: TensorSpec[] };

/** A model built in code (or by bornServable), served under IMAGE_IO-like specs of its own. */
export function moduleServable(module: Module, io: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }, description = 'module'): Servable {
  module.eval();
  const [input] = io.inputs, [output] = io.outputs;
  if (io.inputs.length !== 1 || io.outputs.length !== 1 || !input || !output) throw new TypeError('serve: a module is served with one input and one output');
  return {
    kind: 'born', description, inputs: io.inputs, outputs: io.outputs, batched: true,
    run: (inputs) => asServer(async () => {
      const y = noGrad(() => (module.forward as (x: Tensor) => Tensor)(tensorOf(inputs[input.name]!)));
      try {
        return { [output.name]: await toNpyArray(y) };
      } finally {
        y.dispose();
      }
    }),
  };
}

/** A born train weights file: the architecture from its metadata, the weights from its tensors. */
export async function bornServable(bytes: Uint8Array, source: string): Promise<Servable> {
  const { tensors, metadata } = parseSafetensors(bytes, { source });
  const name = metadata.model;
  if (name === undefined || !isModelName(name)) {
    throw new TypeError(`${source}: a safetensors file born serve reads names its model in the metadata (model: ${Object.keys(MODELS).join(' or ')}; born train writes it), ` +
      `this one says ${name === undefined ? 'nothing' : `'${name}'`}`);
  }
  const module = MODELS[name]();
  module.loadStateDict(Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, tensorOf(t)])));
  await module.realize();
  return moduleServable(module, IMAGE_IO, name);
}

/** ONNX symbolic or unknown dims become null; a batched model has a non-fixed dim 0 on every input. */
export function onnxServable(model: OnnxModel): Servable {
  const specOf = (v: OnnxModel['inputs'][number]): TensorSpec => ({
    name: v.name, dtype: v.dtype, shape: v.shape === null ? null : v.shape.map((d) => (typeof d === 'number' ? d : null)),
  });
  const unsupported = [...model.inputs, ...model.outputs].find((v) => v.kind !== 'tensor');
  if (unsupported) throw new TypeError(`onnx model: '${unsupported.name}' is a ${unsupported.kind}; born serve serves tensor inputs and outputs only`);
  const inputs = model.inputs.map(specOf), outputs = model.outputs.map(specOf);
  const batched = inputs.length > 0 && inputs.every((s) => s.shape !== null && s.shape.length > 0 && s.shape[0] === null);
  return {
    kind: 'onnx', description: model.producer || 'onnx', inputs, outputs, batched,
    run: (given) => asServer(async () => {
      const out = await model.run(Object.fromEntries(Object.entries(given).map(([k, a]) => [k, tensorOf(a)])));
      const result: Record<string, NpyArray> = {};
      for (const [k, t] of Object.entries(out)) {
        result[k] = await toNpyArray(t);
        t.dispose();
      }
      return result;
    }),
  };
}
