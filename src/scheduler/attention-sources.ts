/**
 * A scheduling rule for fused attention kernels: the kernel reads every key and value once per
 * block of query rows (and WebGPU once per query row), so an elementwise k or v source (rotary
 * embeddings applied to the keys) is materialised once instead of being recomputed at each read.
 * q is read once per element and stays fused; so does the mask (iota comparisons are cheaper to
 * recompute than an [L, S] buffer is to write).
 */
import type { LazyNode } from '../graph/node.js';

/** The elementwise (or cast) k and v sources of the attention kernels in `order`. */
export function repeatedAttentionSources(order: readonly LazyNode[], isBuffer: (n: LazyNode) => boolean): LazyNode[] {
  const out: LazyNode[] = [];
  for (const n of order) {
    if (n.realized || n.arg.kind !== 'attention' || n.shape[n.shape.length - 2] === 1) continue;
    for (const s of [n.srcs[1]!, n.srcs[2]!]) {
      let base = s;
      while (base.arg.kind === 'view' && !isBuffer(base)) base = base.srcs[0]!;
      if (!isBuffer(base) && (base.arg.kind === 'elementwise' || base.arg.kind === 'cast')) out.push(base);
    }
  }
  return out;
}
