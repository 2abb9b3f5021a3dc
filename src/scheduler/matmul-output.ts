/**
 * Matmul output view: a matmul whose result is read (through its epilogue) only by a transpose
 * of its last two dims is computed transposed, C^T = B^T A^T, so that its kernel writes the
 * transposed layout directly instead of writing C and copying it. The MLP backward's weight
 * gradients (permute(x^T dy)) are the case this is for.
 *
 * Two halves, used by the scheduler and by lowering:
 * - `transposesMatmul(c, x)`: whether an epilogue walking up from matmul `x` may continue through
 *   view `c` (schedule.ts, epilogue fusion);
 * - `outputTransposed(root, x, isBuffer)`: whether the fused group's path from its root down to
 *   `x` passes through such a view, and so whether lowering must swap the operands.
 *
 * Why swapping is enough: the kernel loops over the root's coordinates and `acc` stands for the
 * matmul at the loop's flat index. Above the transpose that index is the flat index of C^T, so
 * the kernel computes C^T; elementwise ops between the matmul and the transpose are lowered
 * through the permute (their loads already use the matmul's own coordinates).
 */
import type { LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import type { MatmulOperand } from '../kernel/ir.js';

type Operand = Omit<MatmulOperand, 'input'>;

/** Whether `c` swaps the last two dims of a value laid out as matmul `x`'s output, leading dims in place. */
export function transposesMatmul(c: LazyNode, x: LazyNode): boolean {
  if (x.arg.kind !== 'matmul' || c.arg.kind !== 'view' || c.arg.movement.op !== 'permute') return false;
  const order = c.arg.movement.order;
  const r = order.length;
  if (r < 2 || order[r - 2] !== r - 1 || order[r - 1] !== r - 2) return false;
  for (let i = 0; i < r - 2; i++) if (order[i] !== i) return false;
  // The permute's source must hold the matmul's [.., M, N] layout (leading dims may be reshaped).
  const src = c.srcs[0]!.shape;
  const xr = x.shape.length;
  return src[r - 2] === x.shape[xr - 2] && src[r - 1] === x.shape[xr - 1] && numel(src) === numel(x.shape);
}

/**
 * Whether the fused group rooted at `root` reads matmul `x` through a transposing view (one
 * that `transposesMatmul` accepts). Walks the group's unmaterialised nodes down to `x`.
 */
export function outputTransposed(root: LazyNode, x: LazyNode, isBuffer: (n: LazyNode) => boolean): boolean {
  const seen = new Set<LazyNode>();
  // Two transposes on the path would cancel: the parity is what counts.
  const visit = (n: LazyNode, flipped: boolean): boolean | null => {
    if (n === x) return flipped;
    if (seen.has(n) || isBuffer(n)) return null;
    seen.add(n);
    const here = flipped !== transposesMatmul(n, x);
    for (const s of n.srcs) {
      const r = visit(s, here);
      if (r !== null) return r;
    }
    return null;
  };
  return visit(root, false) ?? false;
}

/** The operands and sizes of C^T = B^T A^T, given those of C = A B. */
export function transposedMatmul(a: Operand, b: Operand, M: number, N: number): { a: Operand; b: Operand; M: number; N: number } {
  return {
    a: { ...b, sRow: b.sCol, sCol: b.sRow },
    b: { ...a, sRow: a.sCol, sCol: a.sRow },
    M: N,
    N: M,
  };
}
