/**
 * A scheduling rule for matmul operands: an elementwise value read by a matmul only through
 * permutes and reshapes is computed inside the copy that lays the operand out, instead of
 * being written once in its own layout and then copied.
 */
import type { LazyNode } from '../graph/node.js';

/**
 * Whether `s` reads `base` only through permutes and reshapes that nothing else reads: then the
 * copy that makes `s` a matmul operand computes each element of `base` once, so `base` (a
 * convolution's output gradient, read transposed by the weight gradient) needs no buffer of its own.
 */
export function permutedOnly(s: LazyNode, base: LazyNode, consumers: ReadonlyMap<LazyNode, LazyNode[]>): boolean {
  if (base.arg.kind !== 'elementwise' && base.arg.kind !== 'cast') return false;
  for (let n = s; n !== base; n = n.srcs[0]!) {
    const m = n.srcs[0]!;
    if (n.arg.kind !== 'view' || (n.arg.movement.op !== 'permute' && n.arg.movement.op !== 'reshape') || (consumers.get(m)?.length ?? 0) !== 1) return false;
  }
  return true;
}
