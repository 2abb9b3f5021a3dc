/**
 * Packed-weight matmul operands: a 'dequant' node (a ggml-quantised matrix, kernel/quant.ts) is
 * never materialised; a matmul that reads it through views (a transpose, a slice of rows) reads
 * its bytes and dequantises each weight as it loads the operand (MatmulOperand.quant). Both
 * devices print it, so no device limit gates it.
 */
import type { LazyNode } from '../graph/node.js';
import type { MatmulOperand } from '../kernel/ir.js';
import { resolveOperand, stridedRead } from './operand-read.js';

/** The dequant node under matmul operand `s` (through views only), or null. */
export function dequantUnder(s: LazyNode, isBuffer: (n: LazyNode) => boolean): LazyNode | null {
  let q = s;
  while (q.arg.kind === 'view' && !isBuffer(q)) q = q.srcs[0]!;
  return q.arg.kind === 'dequant' && !isBuffer(q) ? q : null;
}

/** Matmul operand `s` as a read of packed bytes, or null when it is no view of a dequant node (or its bytes are not yet a buffer). */
export function quantOperand(s: LazyNode, isBuffer: (n: LazyNode) => boolean): { base: LazyNode; op: Omit<MatmulOperand, 'input'> } | null {
  const q = dequantUnder(s, isBuffer);
  if (!q || q.arg.kind !== 'dequant') return null;
  const bytes = stridedRead(q.srcs[0]!, isBuffer);
  if (!bytes || bytes.view.strides[0] !== 1) return null;
  const r = resolveOperand(s, (m) => m === q || isBuffer(m));
  if (!r || r.base !== q) {
    throw new Error(`internal: matmul reads packed weight ${q.id} through views that are not one strided read`);
  }
  const [rows, cols] = q.shape as [number, number];
  return { base: bytes.base, op: { ...r.op, quant: { format: q.arg.format, rows, cols, byteOffset: bytes.view.offset } } };
}

/** What a matmul operand over a packed weight needs materialised: its bytes, when they are not one unit-stride read of a buffer. */
export function quantBytesToMaterialise(s: LazyNode, isBuffer: (n: LazyNode) => boolean): LazyNode | null {
  const q = dequantUnder(s, isBuffer);
  if (!q) return null;
  const bytes = stridedRead(q.srcs[0]!, isBuffer);
  return bytes && bytes.view.strides[0] === 1 ? null : q.srcs[0]!;
}
