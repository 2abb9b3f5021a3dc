/**
 * Evaluates an ONNX graph as Born ops: each node's builder records lazy tensor ops (or computes
 * host values), in the model's order. Subgraphs (If/Loop/Scan bodies) run through the same code
 * with the enclosing graph's values as an outer scope.
 */
import { isFloat } from '../graph/dtype.js';
import type { DeviceName } from '../graph/node.js';
import { HOST_LIMIT, numel } from './host.js';
import { makeContext, NodeError, type RunEnv } from './context.js';
import './ops/index.js';
import { resolve, type Value } from './ops/registry.js';
import { OnnxError, type GraphProto } from './proto.js';
import { readTensorProto } from './tensor-proto.js';
import { isOptional, OptionalValue, type AnyValue } from './values.js';
import { fromStorage } from '../tensor/creation.js';

/** Names visible in a graph: its own values over its outer scope's. */
class Scope implements ReadonlyMap<string, AnyValue> {
  private readonly own = new Map<string, AnyValue>();
  constructor(private readonly outer: ReadonlyMap<string, AnyValue> | null) {}
  get(k: string): AnyValue | undefined { return this.own.get(k) ?? this.outer?.get(k); }
  has(k: string): boolean { return this.own.has(k) || (this.outer?.has(k) ?? false); }
  set(k: string, v: AnyValue): void { this.own.set(k, v); }
  get size(): number { return this.own.size; }
  forEach(cb: (v: AnyValue, k: string, m: ReadonlyMap<string, AnyValue>) => void): void { this.own.forEach((v, k) => cb(v, k, this)); }
  entries(): MapIterator<[string, AnyValue]> { return this.own.entries(); }
  keys(): MapIterator<string> { return this.own.keys(); }
  values(): MapIterator<AnyValue> { return this.own.values(); }
  [Symbol.iterator](): MapIterator<[string, AnyValue]> { return this.own.entries(); }
}

/**
 * A graph's initializers as values: integer ones small enough stay on the host (shape
 * arithmetic), the rest become realised tensors on `device` (the parameters).
 */
export function readInitializers(g: GraphProto, device: DeviceName | undefined, baseDir: string | undefined): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    const h = readTensorProto(t, { baseDir, what: `initializer ${JSON.stringify(name)}` });
    out.set(name, !isFloat(h.dtype) && numel(h.shape) <= HOST_LIMIT ? h : fromStorage(h.data, h.shape, h.dtype, device));
  }
  if (g.sparse_initializer?.length) throw new OnnxError(`onnx: graph ${JSON.stringify(g.name ?? '')} has sparse initializers, which are not supported`);
  return out;
}

const subgraphInits = new WeakMap<GraphProto, Map<string, Value>>();

export interface GraphRun {
  readonly opsets: ReadonlyMap<string, number>;
  readonly device: DeviceName | undefined;
  readonly baseDir: string | undefined;
}

/**
 * Runs `g` with `inputs` bound to its declared inputs in order (initializers fill the rest), over
 * `outer` (null at the top), and returns its outputs in order.
 */
export async function evaluate(g: GraphProto, inputs: ReadonlyMap<string, AnyValue>, initializers: ReadonlyMap<string, Value>,
  outer: ReadonlyMap<string, AnyValue> | null, run: GraphRun): Promise<AnyValue[]> {
  const scope = new Scope(outer);
  for (const [k, v] of initializers) scope.set(k, v);
  for (const [k, v] of inputs) scope.set(k, v);
  const env: RunEnv = {
    ...run,
    runGraph: (sub, ins, outerScope, what) => {
      let inits = subgraphInits.get(sub);
      if (!inits) subgraphInits.set(sub, (inits = readInitializers(sub, run.device, run.baseDir)));
      const declared = sub.input ?? [];
      if (ins.length > declared.length) throw new OnnxError(`onnx: ${what} takes ${declared.length} inputs, got ${ins.length}`);
      // A tensor or sequence bound to an input declared optional is that optional, holding it (a
      // Loop's optional state after the first iteration).
      const bind = (v: AnyValue, i: number): AnyValue => (declared[i]!.type?.optional_type && !isOptional(v) ? new OptionalValue(v) : v);
      return evaluate(sub, new Map(ins.map((v, i) => [declared[i]!.name ?? '', bind(v, i)])), inits, outerScope, run);
    },
  };
  for (const [index, n] of (g.node ?? []).entries()) {
    const opType = n.op_type ?? '';
    const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
    const name = n.name || `#${index} (${opType})`;
    const opset = run.opsets.get(domain);
    if (opset === undefined) throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}) is in domain ${JSON.stringify(domain)}, which the model does not import`);
    const info = { name, opType, domain, inputs: n.input ?? [], outputs: n.output ?? [] };
    const ins = info.inputs.map((x) => {
      if (x === '') return undefined;
      const v = scope.get(x);
      if (v === undefined) throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}, opset ${opset}): input ${JSON.stringify(x)} is not defined before it (the graph must be topologically sorted)`);
      return v;
    });
    const build = resolve(opType, domain, opset);
    if (typeof build === 'string') throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}, opset ${opset}): ${build}`);
    const ctx = makeContext(info, opset, n.attribute ?? [], ins, env, scope);
    let outs: (AnyValue | undefined)[];
    try {
      outs = await build(ctx, ins);
    } catch (e) {
      if (e instanceof NodeError) throw e;
      throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}, opset ${opset}): ${(e as Error).message}`, { cause: e });
    }
    info.outputs.forEach((o, i) => {
      if (o === '') return;
      const v = outs[i];
      scope.set(o, v ?? ctx.fail(`output ${i} (${JSON.stringify(o)}) was not produced`));
    });
  }
  return (g.output ?? []).map((o) => {
    const v = scope.get(o.name ?? '');
    if (v === undefined) throw new OnnxError(`onnx: graph output ${JSON.stringify(o.name)} is never computed`);
    return v;
  });
}
