/** The OpContext a builder sees for one node: inputs, typed attributes, errors naming the node. */
import type { DeviceName } from '../graph/node.js';
import { Tensor } from '../tensor/tensor.js';
import { isHost, numbers, toHost, toTensor } from './host.js';
import type { Attrs, NodeInfo, OpContext, Value } from './ops/registry.js';
import { OnnxError, type AttributeProto, type GraphProto, type TensorProto } from './proto.js';
import { readTensorProto, type HostArray } from './tensor-proto.js';
import { isOptional, isSequence, isTensorValue, kindOf, type AnyValue, type OptionalValue, type SequenceValue } from './values.js';

/** Where a node runs: what every node of one model run shares. */
export interface RunEnv {
  readonly opsets: ReadonlyMap<string, number>;
  readonly device: DeviceName | undefined;
  readonly baseDir: string | undefined;
  runGraph(g: GraphProto, inputs: readonly AnyValue[], outer: ReadonlyMap<string, AnyValue>, what: string): Promise<AnyValue[]>;
}

const decoder = new TextDecoder();

export class NodeError extends OnnxError {
  override name = 'NodeError';
}

/** What a node's context holds across runs: its error helper and typed attributes (graph.ts keeps one per node). */
export interface NodeStatics {
  readonly node: NodeInfo;
  readonly opset: number;
  readonly attr: Attrs;
  fail(msg: string): never;
  readTensor(t: TensorProto): HostArray;
}

/** `attrs`: the node's attributes by name. Built once per node of a model, not once per run. */
export function nodeStatics(node: NodeInfo, opset: number, attrs: ReadonlyMap<string, AttributeProto>, baseDir: string | undefined): NodeStatics {
  const fail = (msg: string): never => {
    throw new NodeError(`onnx: node ${JSON.stringify(node.name)} (${node.opType}, opset ${opset}): ${msg}`);
  };
  const byName = attrs;
  const need = <T>(name: string, dflt: T | undefined, kind: string, get: (a: AttributeProto) => T | undefined): T => {
    const a = byName.get(name);
    const v = a === undefined ? undefined : get(a);
    if (v !== undefined) return v;
    if (dflt !== undefined) return dflt;
    return fail(a === undefined ? `attribute ${name} (${kind}) is required` : `attribute ${name} is not ${kind === 'int' || kind === 'float' ? `an ${kind}` : `a ${kind}`}`);
  };
  const readTensor = (t: TensorProto): HostArray => readTensorProto(t, { baseDir, what: `node ${JSON.stringify(node.name)}'s tensor` });
  const attr: Attrs = {
    has: (name) => byName.has(name),
    int: (name, d) => need(name, d, 'int', (a) => (a.i !== undefined ? Number(a.i) : a.type === 2 ? 0 : undefined)),
    ints: (name, d) => need(name, d === undefined ? undefined : [...d], 'list of ints', (a) => (a.ints?.length || a.type === 7 ? (a.ints ?? []).map(Number) : undefined)),
    float: (name, d) => need(name, d, 'float', (a) => (a.f !== undefined ? a.f : a.type === 1 ? 0 : undefined)),
    floats: (name, d) => need(name, d === undefined ? undefined : [...d], 'list of floats', (a) => (a.floats?.length || a.type === 6 ? a.floats ?? [] : undefined)),
    string: (name, d) => need(name, d, 'string', (a) => (a.s !== undefined ? decoder.decode(a.s) : a.type === 3 ? '' : undefined)),
    strings: (name, d) => need(name, d === undefined ? undefined : [...d], 'list of strings', (a) => (a.strings?.length || a.type === 8 ? (a.strings ?? []).map((s) => decoder.decode(s)) : undefined)),
    tensor: ((name: string, ...d: [HostArray | undefined] | []) => {
      const a = byName.get(name);
      if (a?.t) return readTensor(a.t);
      if (d.length) return d[0];
      return fail(`attribute ${name} (tensor) is required`);
    }) as Attrs['tensor'],
    graph: (name) => need(name, undefined, 'graph', (a) => a.g),
    raw: (name) => {
      const a = byName.get(name);
      return a && (a.sparse_tensor ?? a.tp ?? a.tensors ?? a.graphs ?? a.t ?? a.g ?? a.s ?? a.i ?? a.f ?? a.ints ?? a.floats ?? a.strings);
    },
  };
  return { node, opset, attr, fail, readTensor };
}

/** One node's context in one run: the statics plus this run's inputs (a class: no closures made per node and run). */
class RunContext implements OpContext {
  readonly node: NodeInfo;
  readonly opset: number;
  readonly attr: Attrs;
  readonly device: DeviceName | undefined;
  readonly fail: (msg: string) => never;
  readonly readTensor: (t: TensorProto) => HostArray;
  constructor(s: NodeStatics, private readonly inputs: readonly (AnyValue | undefined)[], private readonly env: RunEnv, private readonly scope: ReadonlyMap<string, AnyValue>) {
    this.node = s.node;
    this.opset = s.opset;
    this.attr = s.attr;
    this.fail = s.fail;
    this.readTensor = s.readTensor;
    this.device = env.device;
  }
  value(i: number): AnyValue {
    return this.inputs[i] ?? this.fail(`input ${i} (${JSON.stringify(this.node.inputs[i] ?? '')}) is required`);
  }
  private expected(i: number, v: AnyValue, kind: string): never {
    return this.fail(`input ${i} (${JSON.stringify(this.node.inputs[i] ?? '')}) is ${kindOf(v)}, expected ${kind}`);
  }
  private input(i: number): Value { const v = this.value(i); return isTensorValue(v) ? v : this.expected(i, v, 'a tensor'); }
  sequence(i: number): SequenceValue { const v = this.value(i); return isSequence(v) ? v : this.expected(i, v, 'a sequence'); }
  optional(i: number): OptionalValue { const v = this.value(i); return isOptional(v) ? v : this.expected(i, v, 'an optional'); }
  has(i: number): boolean { return this.inputs[i] !== undefined; }
  tensor(i: number): Tensor { return this.tensorOf(this.input(i), i); }
  tensorOf(v: Value, what: number | string = 'value'): Tensor {
    if (v === undefined) this.fail(`input ${what} is required`);
    return isHost(v) ? toTensor(v, this.env.device) : v;
  }
  async host(i: number): Promise<HostArray> { const v = this.input(i); return isHost(v) ? v : toHost(v); }
  hostNow(i: number): HostArray | undefined { const v = this.inputs[i]; return v !== undefined && isTensorValue(v) && isHost(v) ? v : undefined; }
  async ints(i: number): Promise<number[]> { return numbers(await this.host(i)); }
  runGraph(g: GraphProto, ins: readonly AnyValue[], what: string): Promise<AnyValue[]> { return this.env.runGraph(g, ins, this.scope, what); }
}

export function makeContext(statics: NodeStatics, inputs: readonly (AnyValue | undefined)[], env: RunEnv, scope: ReadonlyMap<string, AnyValue>): OpContext {
  return new RunContext(statics, inputs, env, scope);
}

export { Tensor };
