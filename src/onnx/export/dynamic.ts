/**
 * A dynamic batch dimension. Born's graph bakes every shape in (reshape targets, expand shapes,
 * slice bounds, the batch of an im2col), so the pass is traced at three batch sizes b, b+1, b+2
 * (the sample's rows repeated or cut, b >= 2 so that no size-1 broadcast special case differs).
 * The three ONNX graphs must have one structure; each int64 constant that differs between them
 * must follow the batch linearly (k·batch + c, checked on the third), and becomes that expression
 * of Shape(first input)[0] at run time. Anything else that changes with the batch (a scalar such
 * as the 1/batch of a mean over it, a constant tensor of batch-dependent shape, an op's
 * attributes) is refused, naming it.
 */
import type { DType } from '../../graph/dtype.js';
import { cat } from '../../tensor/join.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { NodeProto } from '../proto.js';
import type { GraphBuilder } from './builder.js';
import { ExportError } from './errors.js';

/** Dims of a value: a size, a symbolic name, or null (unknown: it depends on the batch otherwise). */
export type Dim = number | string | null;
export interface ValueSpec { readonly name: string; readonly dtype: DType; readonly shape: readonly Dim[] }
export interface Emitted {
  readonly b: GraphBuilder;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
}

export const BATCH = 'batch';

/** The batch sizes to trace at for a sample of batch `n`. */
export const traceBatches = (n: number): number[] => { const b = Math.max(2, n); return [b, b + 1, b + 2]; };

/** `x` with `rows` rows: its own repeated along dim 0, then cut. */
export function withBatch(x: Tensor, rows: number): Tensor {
  const n = x.shape[0]!;
  const copies = Math.ceil(rows / n);
  const tall = copies === 1 ? x : cat(new Array<Tensor>(copies).fill(x), 0);
  return tall.slice(0, 0, rows);
}

const nodeKey = (n: NodeProto): string => JSON.stringify([n.op_type, n.input, n.output, n.attribute ?? []],
  (_, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));

function describe(n: NodeProto | undefined): string {
  return n ? `${n.op_type} node ${JSON.stringify(n.output?.[0])}` : 'the end of the graph';
}

/** The structures of `gs` compared; throws naming the first difference. */
function sameStructure(gs: readonly Emitted[], batches: readonly number[]): void {
  const [g0] = gs;
  for (let k = 1; k < gs.length; k++) {
    const a = g0!.b, o = gs[k]!.b;
    const len = Math.max(a.nodes.length, o.nodes.length);
    for (let i = 0; i < len; i++) {
      if (a.nodes[i] && o.nodes[i] && nodeKey(a.nodes[i]!) === nodeKey(o.nodes[i]!)) continue;
      throw new ExportError(`onnx.save: with dynamicBatch, the graph traced at batch ${batches[0]} and at batch ${batches[k]} differ ` +
        `(${describe(a.nodes[i])} against ${describe(o.nodes[i])}): the forward pass takes a different path by batch size ` +
        '(dynamicBatch takes dim 0 of every input as the batch; a sequence-first recurrence unrolls over it); export with a static batch');
    }
    a.scalars.forEach((s, i) => {
      const t = o.scalars[i]!;
      if (!Object.is(s.value, t.value)) {
        throw new ExportError(`onnx.save: with dynamicBatch, a constant depends on the batch size (${s.value} at batch ${batches[0]}, ${t.value} at batch ${batches[k]}): ` +
          'a mean or other reduction over the batch dim cannot be exported with a dynamic batch; export with a static batch');
      }
    });
    const ints = new Set(a.ints.map((c) => c.name));
    a.initializers.forEach((init, i) => {
      const other = o.initializers[i];
      if (ints.has(init.name!)) return;
      const same = other !== undefined && init.name === other!.name && JSON.stringify(init.dims) === JSON.stringify(other!.dims) &&
        Buffer.from(init.raw_data ?? []).equals(Buffer.from(other!.raw_data ?? []));
      if (!same) {
        throw new ExportError(`onnx.save: with dynamicBatch, the constant tensor ${JSON.stringify(init.name)} (shape [${(init.dims ?? []).join(', ')}]) differs between batch ${batches[0]} and batch ${batches[k]}; export with a static batch`);
      }
    });
  }
}

/** g's first trace, with each batch-dependent int64 constant computed from the input's batch. */
export function mergeDynamic(gs: readonly Emitted[], batches: readonly number[]): Emitted {
  sameStructure(gs, batches);
  const g = gs[0]!;
  const b = g.b;
  const head: NodeProto[] = [];
  let batchVec: string | null = null;
  const batch = (): string => {
    if (batchVec) return batchVec;
    batchVec = b.fresh('batch');
    head.push({ op_type: 'Shape', input: [g.inputs[0]!.name], output: [batchVec], name: batchVec, attribute: [{ name: 'start', type: 2, i: 0 }, { name: 'end', type: 2, i: 1 }] });
    return batchVec;
  };
  const affine = new Map<string, string>();
  const push = (op: string, inputs: string[], out = b.fresh(op.toLowerCase())): string => { head.push({ op_type: op, input: inputs, output: [out], name: out }); return out; };
  const constVec = (values: number[]): string => b.tensor({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
  const dynamic = new Set<string>();
  g.b.ints.forEach((c, i) => {
    const vs = gs.map((t) => t.b.ints[i]!.values);
    if (vs.every((v) => v.every((x, j) => x === c.values[j]))) return;
    dynamic.add(c.name);
    const parts: string[] = [];
    let run: number[] = [];
    c.values.forEach((v0, j) => {
      const [v1, v2] = [vs[1]![j]!, vs[2]![j]!];
      if (v0 === v1 && v1 === v2) { run.push(v0); return; }
      const k = v1 - v0, off = v0 - k * batches[0]!;
      if (v2 !== k * batches[2]! + off) {
        throw new ExportError(`onnx.save: with dynamicBatch, a shape value is ${v0}, ${v1}, ${v2} at batch ${batches.join(', ')}: not a linear function of the batch; export with a static batch`);
      }
      if (run.length) { parts.push(constVec(run)); run = []; }
      const key = `${k},${off}`;
      let e = affine.get(key);
      if (!e) {
        e = batch();
        if (k !== 1) e = push('Mul', [e, constVec([k])]);
        if (off !== 0) e = push('Add', [e, constVec([off])]);
        affine.set(key, e);
      }
      parts.push(e);
    });
    if (run.length) parts.push(constVec(run));
    head.push({ op_type: 'Concat', input: parts, output: [c.name], name: c.name, attribute: [{ name: 'axis', type: 2, i: 0 }] });
  });
  const initializers = b.initializers.filter((t) => !dynamic.has(t.name!));
  b.initializers.length = 0;
  b.initializers.push(...initializers);
  b.nodes.unshift(...head);
  const dims = (specs: (gs: Emitted) => readonly ValueSpec[], i: number, isInput: boolean): Dim[] =>
    specs(g)[i]!.shape.map((d, j) => {
      if (isInput && j === 0) return BATCH;
      const ds = gs.map((t) => specs(t)[i]!.shape[j]);
      if (ds.every((x) => x === d)) return d;
      return ds.every((x, k) => x === batches[k]) ? BATCH : null;
    });
  return {
    b,
    inputs: g.inputs.map((s, i) => ({ ...s, shape: dims((t) => t.inputs, i, true) })),
    outputs: g.outputs.map((s, i) => ({ ...s, shape: dims((t) => t.outputs, i, false) })),
  };
}
