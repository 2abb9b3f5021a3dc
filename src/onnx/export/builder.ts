/**
 * An ONNX graph under construction: nodes in topological order, initializers, and the constants
 * the export emits (int64 vectors: reshape targets, slice bounds, pads; scalars). Every such
 * constant is recorded with the values it holds, so the dynamic-batch pass (dynamic.ts) can
 * compare traces at several batch sizes and compute the ones that follow the batch at run time.
 * Value names come from a counter in emission order: two traces of one structure name their
 * values alike.
 */
import { storageFrom, type DType } from '../../graph/dtype.js';
import type { AttributeProto, NodeProto, TensorProto } from '../proto.js';
import { writeTensorProto, type HostArray } from '../tensor-proto.js';

export type AttrValue = number | readonly number[] | string | { readonly float: number } | { readonly tensor: TensorProto };
export type Attrs = Readonly<Record<string, AttrValue>>;

/** An int64 vector constant (recorded so a batch-dependent one can become a run-time value). */
export interface IntsConst { readonly name: string; readonly values: readonly number[] }
/** A scalar constant of some dtype (recorded so one that depends on the batch is refused). */
export interface ScalarConst { readonly name: string; readonly dtype: DType; readonly value: number }

// AttributeProto.AttributeType numbers.
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_INTS = 7;

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') return { name, type: A_INT, i: v };
  if (typeof v === 'string') return { name, type: A_STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A_INTS, ints: [...(v as readonly number[])] };
  if ('float' in (v as object)) return { name, type: A_FLOAT, f: (v as { float: number }).float };
  return { name, type: A_TENSOR, t: (v as { tensor: TensorProto }).tensor };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly ints: IntsConst[] = [];
  readonly scalars: ScalarConst[] = [];
  /** The opset the graph targets: emitters pick each op's form by it. */
  constructor(readonly opset: number) {}
  private count = 0;
  private readonly scalarCache = new Map<string, string>();

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** Appends one node; returns its output names (`outputs` of them). */
  node(op: string, inputs: readonly string[], attrs: Attrs = {}, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()));
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ op_type: op, input: [...inputs], output: out, name: out[0]!, ...(attribute_.length ? { attribute: attribute_ } : {}) });
    return out;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }

  /** An initializer holding `a`, named `name` (a state-dict key) or a fresh one. */
  tensor(a: HostArray, name?: string): string {
    const n = name ?? this.fresh('const');
    this.initializers.push(writeTensorProto(a, n));
    return n;
  }

  /** A 1-D int64 constant (shapes, axes, bounds, pads). */
  int64s(values: readonly number[]): string {
    const name = this.tensor({ dtype: 'int64', shape: [values.length], data: storageFrom('int64', values) }, this.fresh('ints'));
    this.ints.push({ name, values: [...values] });
    return name;
  }

  /** A 0-d constant of `dtype` (shared between uses of the same value). */
  scalar(value: number, dtype: DType): string {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const name = this.tensor({ dtype, shape: [], data: storageFrom(dtype, [value]) }, this.fresh('scalar'));
    this.scalars.push({ name, dtype, value });
    this.scalarCache.set(key, name);
    return name;
  }
}
