/**
 * Evaluates an ONNX graph as Born ops: each node's builder records lazy tensor ops (or computes
 * host values), in the model's order. Subgraphs (If/Loop/Scan bodies) run through the same code
 * with the enclosing graph's values as an outer scope.
 */
import { isFloat } from '../graph/dtype.js';
import type { DeviceName } from '../graph/node.js';
import { HOST_LIMIT, numel } from './host.js';
import { makeContext, NodeError, nodeStatics, type NodeStatics, type RunEnv } from './context.js';
import './ops/index.js';
import { resolve, type AnyBuild, type NodeInfo, type Value } from './ops/registry.js';
import { OnnxError, type AttributeProto, type GraphProto } from './proto.js';
import { readTensorProto } from './tensor-proto.js';
import { isOptional, OptionalValue, type AnyValue } from './values.js';
import { fromStorage } from '../tensor/creation.js';

/**
 * Names visible in a graph: its own values (inputs, node outputs) over its initializers over its
 * outer scope's. The initializers are looked up, not copied in, so a run costs nothing per parameter.
 */
class Scope implements ReadonlyMap<string, AnyValue> {
  private readonly own = new Map<string, AnyValue>();
  constructor(private readonly outer: ReadonlyMap<string, AnyValue> | null, private readonly base: ReadonlyMap<string, Value> = new Map()) {}
  get(k: string): AnyValue | undefined { return this.own.get(k) ?? this.base.get(k) ?? this.outer?.get(k); }
  has(k: string): boolean { return this.own.has(k) || this.base.has(k) || (this.outer?.has(k) ?? false); }
  set(k: string, v: AnyValue): void { this.own.set(k, v); }
  /** This graph's values (initializers included), not the outer scope's. */
  private mine(): Map<string, AnyValue> { return new Map([...this.base, ...this.own]); }
  get size(): number { return this.mine().size; }
  forEach(cb: (v: AnyValue, k: string, m: ReadonlyMap<string, AnyValue>) => void): void { this.mine().forEach((v, k) => cb(v, k, this)); }
  entries(): MapIterator<[string, AnyValue]> { return this.mine().entries(); }
  keys(): MapIterator<string> { return this.mine().keys(); }
  values(): MapIterator<AnyValue> { return this.mine().values(); }
  [Symbol.iterator](): MapIterator<[string, AnyValue]> { return this.mine().entries(); }
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

/** One node as every run of its graph sees it: names, its builder (or why there is none), attributes by name. */
interface PlannedNode {
  readonly info: NodeInfo;
  /** The model's opset for the node's domain; undefined when the model does not import it. */
  readonly opset: number | undefined;
  readonly build: AnyBuild | string;
  readonly attrs: ReadonlyMap<string, AttributeProto>;
  /** Its context's run-independent part, made on the first run (it needs the model's baseDir). */
  statics?: NodeStatics;
}

const plans = new WeakMap<GraphProto, { opsets: ReadonlyMap<string, number>; nodes: PlannedNode[] }>();

/**
 * The graph's nodes resolved once per model, not once per run: a run then only binds values and
 * calls builders. Errors stay where they were: a node without a builder fails when it is reached.
 */
function planOf(g: GraphProto, opsets: ReadonlyMap<string, number>): PlannedNode[] {
  const cached = plans.get(g);
  if (cached?.opsets === opsets) return cached.nodes;
  const nodes = (g.node ?? []).map((n, index): PlannedNode => {
    const opType = n.op_type ?? '';
    const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
    const info: NodeInfo = { name: n.name || `#${index} (${opType})`, opType, domain, inputs: n.input ?? [], outputs: n.output ?? [] };
    const opset = opsets.get(domain);
    return { info, opset, build: opset === undefined ? '' : resolve(opType, domain, opset), attrs: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])) };
  });
  plans.set(g, { opsets, nodes });
  return nodes;
}

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
  const scope = new Scope(outer, initializers);
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
  for (const p of planOf(g, run.opsets)) {
    const { info, opset, build } = p;
    const { name, opType, domain } = info;
    if (opset === undefined) throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}) is in domain ${JSON.stringify(domain)}, which the model does not import`);
    const ins = info.inputs.map((x) => {
      if (x === '') return undefined;
      const v = scope.get(x);
      if (v === undefined) throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}, opset ${opset}): input ${JSON.stringify(x)} is not defined before it (the graph must be topologically sorted)`);
      return v;
    });
    if (typeof build === 'string') throw new NodeError(`onnx: node ${JSON.stringify(name)} (${opType}, opset ${opset}): ${build}`);
    const ctx = makeContext(p.statics ??= nodeStatics(info, opset, p.attrs, run.baseDir), ins, env, scope);
    let outs: (AnyValue | undefined)[];
    try {
      const r = build(ctx, ins);
      // Most builders are synchronous: awaiting only the promises spares a microtask turn per node.
      outs = r instanceof Promise ? await r : r;
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
