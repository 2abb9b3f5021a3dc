/**
 * Matmul operands read in place: a node that is one strided view of a buffer needs no copy
 * before a matmul reads it (lower.ts lays out the kernel, schedule.ts decides what to materialise).
 */
import type { LazyNode } from '../graph/node.js';
import { compose, contiguousView, type ShapeTracker, type View } from '../graph/view.js';
import type { MatmulOperand } from '../kernel/ir.js';

/**
 * A matmul operand read straight from a buffer: a single strided view whose batch dims fold
 * into one stride. Null when the operand must be materialised first.
 */
export function resolveOperand(
  node: LazyNode, isBuffer: (n: LazyNode) => boolean, through?: (n: LazyNode) => LazyNode | null,
): { base: LazyNode; op: Omit<MatmulOperand, 'input'> } | null {
  const read = stridedRead(node, isBuffer, through);
  if (!read) return null;
  const { base: n, view: v } = read;
  const r = v.shape.length;
  let sBatch = 0;
  let prev: number | null = null;
  for (let i = r - 3; i >= 0; i--) {
    if (v.shape[i] === 1) continue;
    const s = v.strides[i]!;
    if (prev === null) sBatch = s;
    else if (s !== prev) return null;
    prev = s * v.shape[i]!;
  }
  return { base: n, op: { offset: v.offset, sBatch, sRow: v.strides[r - 2]!, sCol: v.strides[r - 1]! } };
}

/**
 * `node` as one strided view (no mask) of a buffer, its strides per dim of node's shape; null
 * when its views do not compose to one. `through`: a node read element for element as another
 * (a prologue's function, matmul-prologue.ts).
 */
export function stridedRead(
  node: LazyNode, isBuffer: (n: LazyNode) => boolean, through?: (n: LazyNode) => LazyNode | null,
): { base: LazyNode; view: View } | null {
  let t: ShapeTracker = [contiguousView(node.shape)];
  let n = node;
  for (;;) {
    if (isBuffer(n)) break;
    const next = n.arg.kind === 'view' ? n.srcs[0]! : through?.(n);
    if (!next) break;
    if (n.arg.kind === 'view') t = compose(n.arg.tracker, t);
    n = next;
  }
  if (!isBuffer(n) || t.length !== 1 || t[0]!.mask) return null;
  return { base: n, view: t[0]! };
}
