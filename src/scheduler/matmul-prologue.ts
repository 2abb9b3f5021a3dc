/**
 * Matmul prologues: an operand that is an elementwise function of one strided view of a buffer
 * (`x.mul(2).matmul(w)`, `w.neg()`, a scale and shift) is not materialised; the matmul kernel
 * applies the function to each element as it packs the operand (Kernel.matmul.a.prologue).
 *
 * The function may read constants and runtime scalars only, besides the element: anything that
 * reads another buffer, or an index (rand, iota, padding), would need the element's coordinates,
 * which packing does not have. The leaf holds the operand's dtype, or one whose every value the
 * operand's float type holds exactly (small integers, bool, float32 under float64), so that
 * packing may read it as a number and convert it as it copies (a cast or dequantise prologue).
 */
import type { DType } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { sameShape } from '../graph/shape.js';

/** Leaf dtypes read as plain numbers whose values `to` holds exactly. */
function readableAs(from: DType, to: DType): boolean {
  if (from === to) return true;
  if (from === 'int8' || from === 'uint8' || from === 'int16' || from === 'bool') return to === 'float32' || to === 'float64';
  return to === 'float64' && (from === 'float32' || from === 'int32');
}

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

/** A prologue operand: `top` is the elementwise function (under the operand's views, if any), `leaf` the data node it reads. */
export interface Prologue { readonly top: LazyNode; readonly leaf: LazyNode }

/**
 * The prologue of matmul operand `node` when it is (non-padding views of) an elementwise function
 * of one data node besides constants, else null. The function commutes with the views, so the
 * operand is the data node read through those views and the data node's own: `hop` lets
 * resolveOperand walk from `top` to `leaf` as if `top` were a view of it.
 */
export function prologueOf(node: LazyNode, isBuffer: (n: LazyNode) => boolean): Prologue | null {
  let top = node;
  while (!isBuffer(top) && top.arg.kind === 'view' && top.arg.movement.op !== 'pad') top = top.srcs[0]!;
  if (isBuffer(top) || (top.arg.kind !== 'elementwise' && top.arg.kind !== 'cast')) return null;
  const scalar = new Map<LazyNode, boolean>();
  let leaf: LazyNode | null = null;
  const stack = [top];
  const seen = new Set<LazyNode>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if ((n.arg.kind === 'elementwise' || n.arg.kind === 'cast') && !isBuffer(n)) {
      for (const s of n.srcs) if (!isScalarLike(s, isBuffer, scalar)) stack.push(s);
      continue;
    }
    // A data leaf: the same one everywhere, of the function's shape, in a dtype packing reads as is.
    if (leaf !== null && leaf !== n) return null;
    if (!sameShape(n.shape, top.shape) || !readableAs(n.dtype, top.dtype)) return null;
    leaf = n;
  }
  return leaf === null ? null : { top, leaf };
}

/** For resolveOperand: the step from the function to its data node. */
export const hop = (p: Prologue) => (n: LazyNode): LazyNode | null => (n === p.top ? p.leaf : null);
