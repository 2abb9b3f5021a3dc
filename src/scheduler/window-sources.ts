/**
 * A scheduling rule for sliding-window kernels: an elementwise source that the window kernel
 * reads several times per element (the patches of a 3x3 convolution read each input element
 * nine times) is materialised once, instead of being recomputed at every tap. The window
 * kernels are JS loops, where a fused op such as relu costs a data-dependent branch per read;
 * written once, the source is a contiguous elementwise kernel (WebAssembly SIMD where it
 * qualifies) and the patches are plain reads.
 */
import type { LazyNode } from '../graph/node.js';

/** How many times a window kernel reads each element of its first source, on average (at most). */
function readsPerElement(n: LazyNode): number {
  if (n.arg.kind !== 'window') return 0;
  const { op, geom: g } = n.arg;
  if (op === 'im2col' || op === 'maxPool' || op === 'avgPool' || op === 'maxPoolGrad' || op === 'maxPoolPick') {
    return (g.kh * g.kw) / (g.sh * g.sw);
  }
  return 1;
}

/** The elementwise (or cast) first sources of window kernels in `order` that they read more than once per element. */
export function repeatedWindowSources(order: readonly LazyNode[], isBuffer: (n: LazyNode) => boolean): LazyNode[] {
  const out: LazyNode[] = [];
  for (const n of order) {
    // A window that is not materialised (patches a matmul reads itself, window-operand.ts) reads nothing.
    if (n.realized || !isBuffer(n) || readsPerElement(n) <= 1) continue;
    const s = n.srcs[0]!;
    if (!isBuffer(s) && (s.arg.kind === 'elementwise' || s.arg.kind === 'cast')) out.push(s);
  }
  return out;
}
