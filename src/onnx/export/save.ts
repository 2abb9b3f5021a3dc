/**
 * ONNX export: `born.onnx.save(model, sampleInputs, path, options)` and `born.onnx.toBytes(...)`.
 * One forward pass is recorded (trace.ts), each primitive node becomes ONNX ops (emit.ts), and
 * the graph is written as a standard ModelProto: opset 17 by default, the IR version that opset
 * belongs to, parameters and buffers as initializers under their state-dict names.
 */
import { writeFile } from 'node:fs/promises';
import type { DType } from '../../graph/dtype.js';
import type { LazyNode } from '../../graph/node.js';
import { Module } from '../../nn/module.js';
import { readNode, realize } from '../../scheduler/realize.js';
import { Tensor } from '../../tensor/tensor.js';
import { encodeModel, type ModelProto, type ValueInfo } from '../proto.js';
import { onnxTypeOf, type HostArray } from '../tensor-proto.js';
import { GraphBuilder } from './builder.js';
import { mergeDynamic, traceBatches, withBatch, type Dim, type Emitted, type ValueSpec } from './dynamic.js';
import { sources } from './conv.js';
import { emitNode } from './emit.js';
import { ExportError } from './errors.js';
import { trace, type Exportable, type Trace } from './trace.js';

export interface SaveOptions {
  /** The default-domain opset the graph declares (default 17, at least 17). */
  readonly opset?: number;
  /** Graph input names, one per sample input (default 'input', or input_0, input_1, …). */
  readonly inputNames?: readonly string[];
  /** Graph output names (default: an object result's keys, else 'output', or output_0, …). */
  readonly outputNames?: readonly string[];
  /**
   * Dim 0 of every input (and of each output that follows it) becomes the symbolic dim 'batch',
   * so the file runs for any batch size (default false: the sample's shapes are fixed).
   */
  readonly dynamicBatch?: boolean;
  /** The graph's name (default 'born'). */
  readonly graphName?: string;
}

export type SampleInputs = Tensor | readonly Tensor[];

/** The newest opset onnxruntime-node 1.30 runs; opset 17 is the newest Debian's onnx 1.12 checks. */
const MAX_OPSET = 21;
/** The IR version each opset came with (onnx's VERSION_TABLE). */
const irVersion = (opset: number): number => (opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

const defaultNames = (base: string, n: number): string[] => (n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}_${i}`));

function checkNames(what: string, names: readonly string[] | undefined, n: number): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || names.length !== n || names.some((s) => typeof s !== 'string' || !s)) {
    throw new ExportError(`onnx.save: ${what} must be ${n} non-empty string${n === 1 ? '' : 's'} (one per ${what === 'inputNames' ? 'sample input' : 'output'}), got ${JSON.stringify(names)}`);
  }
  if (new Set(names).size !== names.length) throw new ExportError(`onnx.save: ${what} has a name twice: ${JSON.stringify(names)}`);
}

/** The ONNX graph of one trace. */
function emitTrace(t: Trace, opset: number, data: ReadonlyMap<LazyNode, HostArray>, names: ReadonlyMap<LazyNode, string>,
  inputNames: readonly string[], outputNames: readonly string[]): Emitted {
  const b = new GraphBuilder(opset);
  const value = new Map<LazyNode, string>();
  t.inputs.forEach((n, i) => { if (!value.has(n)) value.set(n, inputNames[i]!); });
  const leaves = new Set(t.leaves);
  for (const n of t.order) {
    if (value.has(n)) continue;
    value.set(n, leaves.has(n) ? b.tensor(data.get(n)!, names.get(n)) : emitNode(b, n, sources(n).map((s) => value.get(s)!)));
  }
  t.outputs.forEach((n, i) => {
    b.nodes.push({ op_type: 'Identity', input: [value.get(n)!], output: [outputNames[i]!], name: outputNames[i]! });
  });
  const spec = (n: LazyNode, name: string): ValueSpec => ({ name, dtype: n.dtype, shape: [...n.shape] });
  return { b, inputs: t.inputs.map((n, i) => spec(n, inputNames[i]!)), outputs: t.outputs.map((n, i) => spec(n, outputNames[i]!)) };
}

function valueInfo(s: ValueSpec): ValueInfo {
  const dim = (d: Dim) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {});
  return { name: s.name, type: { tensor_type: { elem_type: onnxTypeOf(s.dtype as DType), shape: { dim: s.shape.map(dim) } } } };
}

/** The model's ModelProto bytes. */
export async function toBytes(model: Exportable, sampleInputs: SampleInputs, options: SaveOptions = {}): Promise<Uint8Array> {
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 17 || opset > MAX_OPSET) {
    throw new ExportError(`onnx.save: opset must be an integer from 17 to ${MAX_OPSET}, got ${String(opset)}`);
  }
  const samples: readonly Tensor[] = sampleInputs instanceof Tensor ? [sampleInputs] : sampleInputs;
  if (!Array.isArray(samples) || !samples.length || samples.some((t) => !(t instanceof Tensor))) {
    throw new ExportError('onnx.save: sampleInputs must be a tensor or a non-empty array of tensors (the forward pass\'s arguments)');
  }
  checkNames('inputNames', options.inputNames, samples.length);
  const inputNames = options.inputNames ?? defaultNames('input', samples.length);
  const dynamic = options.dynamicBatch ?? false;
  if (dynamic) {
    const n = samples[0]!.shape[0];
    const bad = samples.findIndex((t) => t.ndim === 0 || t.shape[0] !== n);
    if (bad >= 0) throw new ExportError(`onnx.save: dynamicBatch needs every input to have the batch as dim 0; input ${bad} has shape [${samples[bad]!.shape.join(', ')}], input 0 [${samples[0]!.shape.join(', ')}]`);
  }

  const names = new Map<LazyNode, string>();
  if (model instanceof Module) {
    await model.realize();
    for (const [k, t] of Object.entries(model.stateDict())) if (!names.has(t.node)) names.set(t.node, k);
  }
  const batches = dynamic ? traceBatches(samples[0]!.shape[0]!) : [];
  const inputSets: Tensor[][] = dynamic ? batches.map((r) => samples.map((x) => withBatch(x, r))) : [[...samples]];
  await realize(inputSets.flat().map((t) => t.node));
  const traces = inputSets.map((xs) => trace(model, xs));

  const data = new Map<LazyNode, HostArray>();
  const inputNodes = new Set(inputSets.flat().map((t) => t.node));
  const leaves = [...new Set(traces.flatMap((t) => t.leaves))].filter((n) => !inputNodes.has(n));
  await realize(leaves);
  await Promise.all(leaves.map(async (n) => {
    data.set(n, { dtype: n.dtype, shape: n.shape, data: await readNode(n) as HostArray['data'] });
  }));
  const outCount = traces[0]!.outputs.length;
  checkNames('outputNames', options.outputNames, outCount);
  const outputNames = options.outputNames ?? traces[0]!.outputKeys ?? defaultNames('output', outCount);
  if (new Set(outputNames).size !== outputNames.length) throw new ExportError(`onnx.save: the outputs need distinct names, got ${JSON.stringify(outputNames)}`);
  const clash = inputNames.find((s) => outputNames.includes(s) || [...names.values()].includes(s));
  if (clash) throw new ExportError(`onnx.save: the input name ${JSON.stringify(clash)} is also an output's or a parameter's; pick another`);

  const graphs = traces.map((t) => emitTrace(t, opset, data, names, inputNames, outputNames));
  const g = dynamic ? mergeDynamic(graphs, batches) : graphs[0]!;
  const proto: ModelProto = {
    ir_version: irVersion(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'born',
    graph: {
      name: options.graphName ?? 'born',
      node: g.b.nodes,
      initializer: g.b.initializers,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  };
  return encodeModel(proto);
}

/** Writes the model to `path` as ONNX (see toBytes). */
export async function save(model: Exportable, sampleInputs: SampleInputs, path: string, options: SaveOptions = {}): Promise<void> {
  if (typeof path !== 'string' || !path) throw new ExportError(`onnx.save: path must be a file path, got ${JSON.stringify(path)} (born.onnx.toBytes returns the bytes instead)`);
  await writeFile(path, await toBytes(model, sampleInputs, options));
}
