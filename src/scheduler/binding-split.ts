/**
 * A device binds at most so many buffers per kernel (WebGPU guarantees 8 storage buffers per
 * stage; lavapipe gives 16): a fused kernel that would read more — `cat` of 20 tensors reads 20 —
 * is split. This pass names a node inside the kernel's fused group to materialise first: the one
 * whose own fused subtree reads the most buffers that still fit in one kernel, so the remaining
 * kernel reads one buffer in its place. Planning repeats until every kernel fits.
 */
import type { LazyNode } from '../graph/node.js';
import { bindingsOf, type Kernel } from '../kernel/ir.js';

export { bindingsOf } from '../kernel/ir.js';

/**
 * The node to materialise so that the kernel rooted at `root` binds at most `maxBindings`
 * buffers, or null when it fits already. `contraction` (a reduction or matmul fused into the
 * root) is not looked inside: its operands are its own.
 */
export function splitForBindings(
  root: LazyNode, contraction: LazyNode | null, kernel: Kernel, isBuffer: (n: LazyNode) => boolean, maxBindings: number,
): LazyNode | null {
  if (bindingsOf(kernel) <= maxBindings) return null;
  const fit = maxBindings - 1; // a kernel of its own binds its output too
  const reads = new Map<LazyNode, ReadonlySet<LazyNode>>();
  const readsOf = (n: LazyNode): ReadonlySet<LazyNode> => {
    let r = reads.get(n);
    if (r) return r;
    const s = new Set<LazyNode>();
    for (const m of n.srcs) {
      if (isBuffer(m)) s.add(m);
      else for (const b of readsOf(m)) s.add(b);
    }
    reads.set(n, s);
    return s;
  };
  let best: LazyNode | null = null;
  let bestReads = 1;
  let smallest: LazyNode | null = null;
  const seen = new Set<LazyNode>();
  const stack = [...root.srcs];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || isBuffer(n) || n === contraction) continue;
    seen.add(n);
    stack.push(...n.srcs);
    // Only a node that computes something (not a view of one) is worth a buffer of its own.
    if (n.arg.kind !== 'elementwise' && n.arg.kind !== 'cast') continue;
    const k = readsOf(n).size;
    if (k > bestReads && k <= fit) { best = n; bestReads = k; }
    if (k > 1 && (smallest === null || k < readsOf(smallest).size)) smallest = n;
  }
  // No subtree fits alone: split the smallest that reads several, and split again next round.
  return best ?? smallest;
}
