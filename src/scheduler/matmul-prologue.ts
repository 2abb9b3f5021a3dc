/**
 * Matmul prologues: an operand that is an elementwise function of one strided view of a buffer
 * (`x.mul(2).matmul(w)`, `w.neg()`, a scale and shift) is not materialised; the matmul kernel
 * applies the function to each element as it packs the operand (Kernel.matmul.a.prologue).
 *
 * The function may read constants and runtime scalars only, besides the element: anything that
 * reads another buffer, or an index (rand, iota, padding), would need the element's coordinates,
 * which packing does not have. The leaf must hold the operand's dtype, so packing reads it as is.
 */
import type { LazyNode } from '../graph/node.js';
import { sameShape } from '../graph/shape.js';

/** Leaves that hold no data: constants and runtime scalars, possibly through views. */
function isScalarLike(n: LazyNode, isBuffer: (n: LazyNode) => boolean, seen: Map<LazyNode, boolean>): boolean {
  const hit = seen.get(n);
  if (hit !== undefined) return hit;
  let ok: boolean;
  if (isBuffer(n)) ok = false;
  else if (n.arg.kind === 'const' || n.arg.kind === 'param') ok = true;
  // Expand and reshape of a constant broadcast it; padding would need coordinates.
  else if (n.arg.kind === 'view') ok = n.arg.movement.op !== 'pad' && isScalarLike(n.srcs[0]!, isBuffer, seen);
  else if (n.arg.kind === 'elementwise' || n.arg.kind === 'cast') ok = n.srcs.every((s) => isScalarLike(s, isBuffer, seen));
  else ok = false;
  seen.set(n, ok);
  return ok;
}

/**
 * The one node the operand `node` is an elementwise function of (besides constants), when
 * `node` is such a function and that node is read straight from a buffer (`resolves`); else null.
 */
export function prologueLeaf(node: LazyNode, isBuffer: (n: LazyNode) => boolean, resolves: (n: LazyNode) => boolean): LazyNode | null {
  if (isBuffer(node) || (node.arg.kind !== 'elementwise' && node.arg.kind !== 'cast')) return null;
  const scalar = new Map<LazyNode, boolean>();
  let leaf: LazyNode | null = null;
  const stack = [node];
  const seen = new Set<LazyNode>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.arg.kind === 'elementwise' || n.arg.kind === 'cast') {
      if (!isBuffer(n)) {
        for (const s of n.srcs) if (!isScalarLike(s, isBuffer, scalar)) stack.push(s);
        continue;
      }
    }
    // A data leaf: the same one everywhere, of the operand's shape and dtype, read in place.
    if (leaf !== null && leaf !== n) return null;
    if (!sameShape(n.shape, node.shape) || n.dtype !== node.dtype || !resolves(n)) return null;
    leaf = n;
  }
  return leaf;
}
