/**
 * When scaledDotProductAttention runs as one fused kernel (tensor/attention.ts), and the shapes
 * it hands that kernel: the leading dims of q, k, v (and the mask) broadcast with views, never
 * copies, and grouped-query heads stay Hkv heads (the kernel maps query head h to kv head
 * ⌊h / group⌋).
 *
 * The fused kernel applies with no dropout (dropout on the attention weights needs them, so it
 * takes the composed path), q, k, v of one dtype, float32 or float64, and a mask that is bool or
 * of q's dtype and broadcasts to [..., L, S] without enlarging the output. Where it applies, it
 * runs on WebGPU always, and on the CPU when the scores would hold at least
 * fusedAttentionPolicy.cpuMinScores elements (2^22: 16 MiB of float32): the CPU's fused kernel is
 * plain JS, about 2.5x slower than the composed path's WebAssembly SIMD matmuls (and slower still
 * for one-token decoding), so below that size the composed path's time wins over its memory.
 * Otherwise the composed path (matmul, softmax, matmul) runs.
 */
import { broadcastShapes, numel } from '../graph/shape.js';
import { broadcastTo } from '../tensor/make.js';
import { attentionDType, attentionNode } from '../tensor/attention.js';
import type { Tensor } from '../tensor/tensor.js';

export interface FusedRequest {
  readonly scale: number;
  readonly isCausal: boolean;
  /** Grouped-query heads: q's dim -3 is a multiple of k's and v's (checked by the caller). */
  readonly gqa: boolean;
  readonly mask: Tensor | null;
  readonly kvLength: Tensor | null;
}

/** When the CPU takes the fused kernel (see the file comment); tests lower it to check the kernel at small sizes. @internal */
export const fusedAttentionPolicy = { cpuMinScores: 2 ** 22 };

/** The fused attention of q, k, v, or null where the composed path must (or, on the CPU, should) run. */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, r: FusedRequest): Tensor | null {
  const dt = q.dtype;
  if (!attentionDType(dt) || k.dtype !== dt || v.dtype !== dt) return null;
  if (r.mask && r.mask.dtype !== 'bool' && r.mask.dtype !== dt) return null;
  const L = q.shape[q.ndim - 2]!, E = q.shape[q.ndim - 1]!, S = k.shape[k.ndim - 2]!, Ev = v.shape[v.ndim - 1]!;
  // The dims in front of the matrices (gqa: in front of the heads) broadcast like a batched matmul's.
  const inner = r.gqa ? 3 : 2;
  const outer = broadcastShapes('scaledDotProductAttention', q.shape.slice(0, -inner), k.shape.slice(0, -inner), v.shape.slice(0, -inner));
  const H = r.gqa ? [q.shape[q.ndim - 3]!] : [], Hkv = r.gqa ? [k.shape[k.ndim - 3]!] : [];
  const lead = [...outer, ...H];
  if (r.mask) {
    const target = [...lead, L, S];
    const m = broadcastShapes('scaledDotProductAttention', r.mask.shape, target);
    if (m.length !== target.length || m.some((d, i) => d !== target[i])) return null;
  }
  if (q.device === 'cpu' && numel([...lead, L, S]) < fusedAttentionPolicy.cpuMinScores) return null;
  const group = r.gqa ? H[0]! / Hkv[0]! : 1;
  const qx = broadcastTo(q, [...lead, L, E]);
  const kx = broadcastTo(k, [...outer, ...Hkv, S, E]), vx = broadcastTo(v, [...outer, ...Hkv, S, Ev]);
  const mask = r.mask ? broadcastTo(r.mask, [...lead, L, S]) : null;
  const kind = !r.mask ? 'none' : r.mask.dtype === 'bool' ? 'bool' : 'add';
  return attentionNode(qx, kx, vx, { scale: r.scale, causal: r.isCausal, group, mask: kind, kvLength: r.kvLength !== null }, mask, r.kvLength);
}
