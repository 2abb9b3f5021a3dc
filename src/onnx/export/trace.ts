/**
 * Recording one forward pass: the function (or module, in eval mode) runs under noGrad on
 * realised sample inputs, and its unrealised outputs are Born's lazy graph of that pass. The walk
 * from them stops at realised nodes, the leaves: the sample inputs (graph inputs), the module's
 * parameters and buffers (initializers named by their state-dict keys) and any other realised
 * tensor (an initializer of its own). A leaf computed and read back during the pass would bake a
 * data-dependent value into the file, so it is refused.
 */
import { noGrad } from '../../autodiff/grad.js';
import { nextNodeId, type LazyNode } from '../../graph/node.js';
import { Module, type AnyModule } from '../../nn/module.js';
import { Tensor } from '../../tensor/tensor.js';
import { sources } from './conv.js';
import { ExportError } from './errors.js';

/** What can be exported: a module (its forward) or a function of tensors. */
export type Exportable = AnyModule | ((...inputs: Tensor[]) => unknown);

export interface Trace {
  readonly inputs: readonly LazyNode[];
  readonly outputs: readonly LazyNode[];
  /** Output names from the result's structure (an object's keys), or null for positional results. */
  readonly outputKeys: readonly string[] | null;
  /** Every node to emit, sources before their readers; leaves included. */
  readonly order: readonly LazyNode[];
  /** Realised nodes and nodes made before the call: graph inputs or initializers. */
  readonly leaves: readonly LazyNode[];
}

/** The tensors of a forward's result: a tensor, nested arrays of them (LSTM's [out, [h, c]]), or an object of them. */
function flatten(v: unknown, path: string, out: [string, Tensor][]): void {
  if (v instanceof Tensor) { out.push([path, v]); return; }
  if (v === null && path) return; // an absent optional result (MultiheadAttention's weights when not asked for)
  if (Array.isArray(v)) { v.forEach((e, i) => flatten(e, path ? `${path}.${i}` : String(i), out)); return; }
  if (v !== null && typeof v === 'object') {
    for (const [k, e] of Object.entries(v)) flatten(e, path ? `${path}.${k}` : k, out);
    return;
  }
  throw new ExportError(`onnx.save: the forward pass returned ${v === undefined ? 'undefined' : typeof v}${path ? ` at ${path}` : ''}; export needs tensors (a tensor, an array or an object of them)`);
}

export function trace(model: Exportable, inputs: readonly Tensor[]): Trace {
  const start = nextNodeId();
  const call = (): unknown => {
    if (!(model instanceof Module)) return model(...inputs);
    const wasTraining = model.training;
    model.eval();
    try { return (model.forward as (...xs: Tensor[]) => unknown)(...inputs); } finally { if (wasTraining) model.train(); }
  };
  const result = noGrad(call);
  if (result instanceof Promise) {
    result.catch(() => {});
    throw new ExportError('onnx.save: the forward pass returned a Promise; export records one synchronous pass (a value read with await data() or item() cannot be recorded in the graph)');
  }
  const flat: [string, Tensor][] = [];
  flatten(result, '', flat);
  if (!flat.length) throw new ExportError('onnx.save: the forward pass returned no tensors');
  const positional = result instanceof Tensor || Array.isArray(result);
  const outputs = flat.map(([, t]) => t.node);
  const inputSet = new Set(inputs.map((t) => t.node));
  // A node made before the call is a tensor the function captured (a closure's weight, lazy or
  // not): a constant of the pass, realised by the caller and stored as an initializer.
  const { order, leaves } = walk(outputs, (n) => n.realized !== null || n.id < start);
  for (const n of leaves) {
    if (inputSet.has(n) || n.id < start || n.arg.kind === 'buffer') continue;
    throw new ExportError(`onnx.save: a ${n.arg.kind} value of shape [${n.shape.join(', ')}] was computed and realised during the forward pass; ` +
      'a value read back on the host (data(), item(), realize()) cannot be recorded: keep the forward pass lazy');
  }
  return { inputs: inputs.map((t) => t.node), outputs, outputKeys: positional ? null : flat.map(([k]) => k), order, leaves };
}

/** Post-order from the outputs (iterative: an unrolled recurrence makes deep graphs), stopping at leaves. */
function walk(outputs: readonly LazyNode[], isLeaf: (n: LazyNode) => boolean): { order: LazyNode[]; leaves: LazyNode[] } {
  const order: LazyNode[] = [], leaves: LazyNode[] = [];
  const seen = new Set<LazyNode>();
  const stack: [LazyNode, number][] = [];
  for (const o of outputs) {
    if (seen.has(o)) continue;
    seen.add(o);
    stack.push([o, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      const leaf = isLeaf(n);
      const srcs = leaf ? [] : sources(n);
      if (i < srcs.length) {
        top[1]++;
        const s = srcs[i]!;
        if (!seen.has(s)) { seen.add(s); stack.push([s, 0]); }
        continue;
      }
      stack.pop();
      if (n.disposed) throw new ExportError(`onnx.save: the graph reads a disposed tensor of shape [${n.shape.join(', ')}]`);
      if (leaf) leaves.push(n);
      order.push(n);
    }
  }
  return { order, leaves };
}
