/**
 * The fused attention primitive (the 'attention' node kind, AttentionSpec in kernel/ir.ts): one
 * kernel computing softmax(q kᵀ · scale + mask) v without writing the [L, S] scores, with
 * grouped-query heads, a causal mask, a bool or additive mask and a runtime key count.
 *
 * Its gradient recomputes the attention weights with the composed ops (matmul, softmax) and
 * applies the softmax backward in closed form: dV = Pᵀ dO, dS = P ⊙ (dO Vᵀ − rowsum(dO ⊙ O)),
 * dQ = scale · dS K, dK = scale · dSᵀ Q (grouped heads summed into their kv head). The backward
 * pass therefore materialises P ([..., L, S]); a blockwise backward from a saved logsumexp would
 * not, and is the next step for long-sequence training.
 */
import type { DType } from '../graph/dtype.js';
import type { AttentionArgs } from '../graph/node.js';
import { iotaAlong } from './creation.js';
import { where } from './elementwise.js';
import { node } from './make.js';
import type { Tensor } from './tensor.js';

export type { AttentionArgs };

/** Dtypes the fused kernels compute in; other dtypes take the composed path. */
export const attentionDType = (d: DType): boolean => d === 'float32' || d === 'float64';

/**
 * The fused attention node. q [...lead, L, E], k [...kvLead, S, E], v [...kvLead, S, Ev] with
 * kvLead = lead with its last dim divided by a.group; mask [...lead, L, S] where a.mask is not
 * 'none'; kvLength a 0-d int32 tensor where a.kvLength. The caller has checked the shapes.
 */
export function attentionNode(q: Tensor, k: Tensor, v: Tensor, a: AttentionArgs, mask: Tensor | null, kvLength: Tensor | null): Tensor {
  const srcs = [q, k, v, ...(mask ? [mask] : []), ...(kvLength ? [kvLength] : [])];
  return node({ kind: 'attention', attn: a }, srcs, [...q.shape.slice(0, -1), v.shape[v.ndim - 1]!], q.dtype);
}

/**
 * q viewed with each kv head's query heads stacked along the rows, [...kvLead, group·L, E], so
 * that one batched matmul against k [...kvLead, S, E] serves them all without repeating k.
 */
export function stacked(t: Tensor, group: number): Tensor {
  if (group === 1) return t;
  const lead = t.shape.slice(0, -3);
  return t.reshape([...lead, t.shape[t.ndim - 3]! / group, group * t.shape[t.ndim - 2]!, t.shape[t.ndim - 1]!]);
}

/** [...kvLead, group·L, X] back to [...lead, L, X]. */
export const unstacked = (t: Tensor, like: readonly number[]): Tensor => t.reshape([...like.slice(0, -1), t.shape[t.ndim - 1]!]);

/**
 * The attention node's scores, composed: q kᵀ · scale with every hidden key at -Infinity (or the
 * additive mask added), [...lead, L, S]. The node's semantics, written with ordinary ops (leading
 * dims and the mask broadcast as in a batched matmul; with groups, q and k have equal outer dims).
 */
export function attentionScores(q: Tensor, k: Tensor, a: AttentionArgs, mask: Tensor | null, kvLength: Tensor | null): Tensor {
  const L = q.shape[q.ndim - 2]!, S = k.shape[k.ndim - 2]!;
  const qs = stacked(q, a.group);
  const qk = qs.matmul(k.transpose(-2, -1));
  let s = (a.group > 1 ? unstacked(qk, [...q.shape.slice(0, -1), S]) : qk).mul(a.scale);
  const rows = iotaAlong([L, S], 0), cols = iotaAlong([L, S], 1);
  let allowed: Tensor | null = null;
  if (kvLength) allowed = cols.lt(kvLength);
  if (a.causal) {
    const diag = kvLength ? cols.le(rows.add(kvLength).sub(L)) : cols.le(rows);
    allowed = allowed ? allowed.logicalAnd(diag) : diag;
  }
  if (mask && a.mask === 'bool') allowed = allowed ? allowed.logicalAnd(mask) : mask;
  if (allowed) s = where(allowed, s, -Infinity);
  if (mask && a.mask === 'add') s = s.add(mask);
  return s;
}

/** Gradients of the attention node's sources: [dq, dk, dv, dmask?, null for kvLength?]. */
export function attentionVjp(a: AttentionArgs, g: Tensor, x: readonly Tensor[], out: Tensor): (Tensor | null)[] {
  const [q, k, v] = x as [Tensor, Tensor, Tensor];
  const mask = a.mask === 'none' ? null : x[3]!;
  const kvLength = a.kvLength ? x[x.length - 1]! : null;
  const p = attentionScores(q, k, a, mask, kvLength).softmax({ dim: -1 });
  const gs = stacked(g, a.group), ps = stacked(p, a.group);
  const dv = ps.transpose(-2, -1).matmul(gs);
  const dp = unstacked(gs.matmul(v.transpose(-2, -1)), p.shape);
  const ds = p.mul(dp.sub(g.mul(out).sum({ dim: -1, keepdim: true })));
  const dss = stacked(ds, a.group);
  const dq = unstacked(dss.matmul(k), q.shape).mul(a.scale);
  const dk = dss.transpose(-2, -1).matmul(stacked(q, a.group)).mul(a.scale);
  return [dq, dk, dv, ...(mask ? [a.mask === 'add' ? ds : null] : []), ...(kvLength ? [null] : [])];
}
