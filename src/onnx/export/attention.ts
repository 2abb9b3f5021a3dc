/**
 * The ONNX form of a fused attention node: its composed form (tensor/attention.ts attentionScores,
 * the node's semantics written with ordinary ops, then softmax and the product with v), built
 * over stand-ins for the node's sources and emitted node by node. The file holds what the
 * composed path would have recorded, so any runtime that runs MatMul and Softmax runs it; the
 * [..., L, S] scores the fused kernel avoids are materialised there, as in PyTorch's export.
 */
import { LazyNode } from '../../graph/node.js';
import { attentionScores, stacked, unstacked } from '../../tensor/attention.js';
import { Tensor } from '../../tensor/tensor.js';
import type { GraphBuilder } from './builder.js';
import { sources } from './conv.js';

type Emit = (b: GraphBuilder, n: LazyNode, xs: readonly string[]) => string;

export function emitAttention(b: GraphBuilder, n: LazyNode, xs: readonly string[], emit: Emit): string {
  if (n.arg.kind !== 'attention') throw new Error('internal: emitAttention of a non-attention node');
  const a = n.arg.attn;
  const stand = n.srcs.map((s) => new LazyNode({ kind: 'buffer' }, [], s.shape, s.dtype, s.device ?? undefined));
  const [q, k, v, ...rest] = stand.map((s) => new Tensor(s)) as [Tensor, Tensor, Tensor, ...Tensor[]];
  const mask = a.mask === 'none' ? null : rest[0]!;
  const kvLength = a.kvLength ? rest[rest.length - 1]! : null;
  const p = attentionScores(q, k, a, mask, kvLength).softmax({ dim: -1 });
  const y = a.group > 1 ? unstacked(stacked(p, a.group).matmul(v), [...q.shape.slice(0, -1), v.shape[v.ndim - 1]!]) : p.matmul(v);
  const value = new Map<LazyNode, string>(stand.map((s, i) => [s, xs[i]!]));
  // Post-order over the composed graph, down to the stand-ins.
  const stack: [LazyNode, boolean][] = [[y.node, false]];
  while (stack.length) {
    const [m, ready] = stack.pop()!;
    if (value.has(m)) continue;
    if (ready) { value.set(m, emit(b, m, sources(m).map((s) => value.get(s)!))); continue; }
    stack.push([m, true]);
    for (const s of sources(m)) if (!value.has(s)) stack.push([s, false]);
  }
  return value.get(y.node)!;
}
