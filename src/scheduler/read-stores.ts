/**
 * Stores read within their own schedule. A store node normally has no readers in its schedule
 * (later schedules read the target), so the scheduler runs every store after all other kernels.
 * A node may instead take the store node itself as a source: it then reads the target's buffer
 * as the store leaves it (a KV cache written at this step's position, then attended over in
 * place). Such a store is a kernel at its place in the topological order, before its readers
 * (step-deps.ts orders them by the buffer, which the store writes and they read), and after the
 * kernels that read the target's old contents; a kernel placed after it that reads the old
 * contents directly would see the new ones, so that is refused.
 */
import type { LazyNode } from '../graph/node.js';

/** The unrealised store nodes of `order` that some node of the schedule reads. */
export function readStores(order: readonly LazyNode[], consumers: ReadonlyMap<LazyNode, readonly LazyNode[]>): Set<LazyNode> {
  const out = new Set<LazyNode>();
  for (const n of order) if (!n.realized && n.arg.kind === 'store' && (consumers.get(n)?.length ?? 0) > 0) out.add(n);
  return out;
}

/**
 * Checks, kernel by kernel in plan order, that no kernel after a read store reads its target
 * other than through the store. `targets` collects the identities of the targets written so far.
 */
export function checkOldReads(n: LazyNode, inputs: readonly LazyNode[], idOf: (m: LazyNode) => LazyNode, targets: Set<LazyNode>, read: ReadonlySet<LazyNode>): void {
  if (targets.size) {
    for (const m of inputs) {
      if (m.arg.kind !== 'store' && targets.has(idOf(m))) {
        throw new Error(`a schedule reads a buffer both through a store into it (node ${n.id} or an earlier one) and as it was before the store: realise the reads of the old contents first`);
      }
    }
  }
  if (read.has(n)) targets.add(idOf(n.srcs[0]!));
}
