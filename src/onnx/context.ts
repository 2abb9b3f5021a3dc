/** The OpContext a builder sees for one node: inputs, typed attributes, errors naming the node. */
import type { DeviceName } from '../graph/node.js';
import { Tensor } from '../tensor/tensor.js';
import { isHost, numbers, toHost, toTensor } from './host.js';
import type { Attrs, NodeInfo, OpContext, Value } from './ops/registry.js';
import { OnnxError, type AttributeProto, type GraphProto, type TensorProto } from './proto.js';
import { readTensorProto, type HostArray } from './tensor-proto.js';
import { isOptional, isSequence, isTensorValue, kindOf, type AnyValue } from './values.js';

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

export function makeContext(node: NodeInfo, opset: number, attrs: readonly AttributeProto[], inputs: readonly (AnyValue | undefined)[],
  env: RunEnv, scope: ReadonlyMap<string, AnyValue>): OpContext {
  const fail = (msg: string): never => {
    throw new NodeError(`onnx: node ${JSON.stringify(node.name)} (${node.opType}, opset ${opset}): ${msg}`);
  };
  const byName = new Map(attrs.map((a) => [a.name ?? '', a]));
  const need = <T>(name: string, dflt: T | undefined, kind: string, get: (a: AttributeProto) => T | undefined): T => {
    const a = byName.get(name);
    const v = a === undefined ? undefined : get(a);
    if (v !== undefined) return v;
    if (dflt !== undefined) return dflt;
    return fail(a === undefined ? `attribute ${name} (${kind}) is required` : `attribute ${name} is not ${kind === 'int' || kind === 'float' ? `an ${kind}` : `a ${kind}`}`);
  };
  const readTensor = (t: TensorProto): HostArray => readTensorProto(t, { baseDir: env.baseDir, what: `node ${JSON.stringify(node.name)}'s tensor` });
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
  const value = (i: number): AnyValue => inputs[i] ?? fail(`input ${i} (${JSON.stringify(node.inputs[i] ?? '')}) is required`);
  const expected = (i: number, v: AnyValue, kind: string): never => fail(`input ${i} (${JSON.stringify(node.inputs[i] ?? '')}) is ${kindOf(v)}, expected ${kind}`);
  const input = (i: number): Value => { const v = value(i); return isTensorValue(v) ? v : expected(i, v, 'a tensor'); };
  const tensorOf = (v: Value, what: number | string = 'value'): Tensor => {
    if (v === undefined) fail(`input ${what} is required`);
    return isHost(v) ? toTensor(v, env.device) : v;
  };
  const host = async (i: number): Promise<HostArray> => { const v = input(i); return isHost(v) ? v : toHost(v); };
  return {
    node, opset, device: env.device, attr, fail, readTensor,
    has: (i) => inputs[i] !== undefined,
    tensor: (i) => tensorOf(input(i), i),
    tensorOf,
    host,
    hostNow: (i) => { const v = inputs[i]; return v !== undefined && isTensorValue(v) && isHost(v) ? v : undefined; },
    ints: async (i) => numbers(await host(i)),
    value,
    sequence: (i) => { const v = value(i); return isSequence(v) ? v : expected(i, v, 'a sequence'); },
    optional: (i) => { const v = value(i); return isOptional(v) ? v : expected(i, v, 'an optional'); },
    runGraph: (g, ins, what) => env.runGraph(g, ins, scope, what),
  };
}

export { Tensor };
