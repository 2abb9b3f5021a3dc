/**
 * Implicit GEMM, a scheduling rule: a convolution's patches — the [C, kh·kw, N, Ho, Wo] output of
 * an im2col window kernel (kernel/ir.ts WindowSpec), kh·kw times the size of the image — are not
 * written when only matmuls read them, through reshapes and permutes. Each such matmul reads a
 * patch element straight from the image, zero in the padding, as it copies its operand tile
 * (MatmulOperand.window). conv2d's forward matmul and its weight gradient (which reads the
 * patches transposed) are the readers this is for; the input gradient (col2im) reads no patches.
 *
 * Only on devices that ask for it (DeviceLimits.windowOperands), for the folds they accept:
 * WebGPU takes every one; the CPU device takes the forward 3x3 stride-1 convolutions it runs
 * as Winograd kernels (devices/cpu-workers/conv/winograd.ts) and keeps the im2col kernel for
 * the rest, whose matmul packs panels from plain strides.
 *
 * The image must be one strided read of a buffer, or an elementwise function of one (a prologue,
 * matmul-prologue.ts: a CNN's second convolution reads relu of the pooled first); otherwise it is
 * materialised first, which the im2col kernel would have read whole anyway.
 */
import type { LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import type { View } from '../graph/view.js';
import type { MatmulOperand, WindowFold, WindowOperand } from '../kernel/ir.js';
import { hop, prologueOf, type Prologue } from './matmul-prologue.js';
import { resolveOperand, stridedRead } from './operand-read.js';

/** The image a folded im2col reads: `x`, a strided view of `base`, through `prologue` when x is a function of it. */
export interface ImageRead { readonly x: LazyNode; readonly base: LazyNode; readonly view: View; readonly prologue: Prologue | null }

/** A matmul operand read through an unmaterialised im2col: its strides over the patches, the window, the image. */
export interface WindowRead {
  readonly patches: Omit<MatmulOperand, 'input' | 'window'>;
  readonly window: WindowOperand;
  readonly image: ImageRead;
}

/** Printers index the patches with an int32. */
const MAX_PATCHES = 2 ** 31 - 1;

const isIm2col = (n: LazyNode): boolean => n.arg.kind === 'window' && n.arg.op === 'im2col';

function imageRead(x: LazyNode, isBuffer: (n: LazyNode) => boolean): ImageRead | null {
  const direct = stridedRead(x, isBuffer);
  if (direct) return { x, ...direct, prologue: null };
  const p = prologueOf(x, isBuffer);
  const r = p && stridedRead(x, isBuffer, hop(p));
  return p && r ? { x, ...r, prologue: p } : null;
}

/** Operand `s` as one strided read of the patches of im2col `w` (as if they were a buffer), or null. */
function patchRead(s: LazyNode, w: LazyNode, isBuffer: (n: LazyNode) => boolean): WindowRead['patches'] | null {
  if (numel(w.shape) > MAX_PATCHES) return null;
  const r = resolveOperand(s, (m) => m === w || isBuffer(m));
  return r && r.base === w ? r.op : null;
}

/** Matmul operand `s` read through an im2col that is not materialised, or null for any other operand. */
export function windowOperand(s: LazyNode, isBuffer: (n: LazyNode) => boolean): WindowRead | null {
  let w = s;
  while (w.arg.kind === 'view' && !isBuffer(w)) w = w.srcs[0]!;
  if (w.arg.kind !== 'window' || w.arg.op !== 'im2col' || isBuffer(w)) return null;
  const patches = patchRead(s, w, isBuffer);
  const image = imageRead(w.srcs[0]!, isBuffer);
  if (!patches || !image) return null;
  const { offset, strides } = image.view;
  const [sN, sC, sH, sW] = strides as [number, number, number, number];
  return { patches, image, window: { N: w.shape[2]!, C: w.shape[0]!, geom: w.arg.geom, offset, sN, sC, sH, sW } };
}

/** A matmul operand that reads `w` through views only, with its matmul and which side it is. */
interface PatchReader { readonly operand: LazyNode; readonly matmul: LazyNode; readonly side: 'a' | 'b' }

/** The matmul operands that read `w` through views only; null if anything else reads it or a view of it. */
function matmulReads(w: LazyNode, consumers: ReadonlyMap<LazyNode, LazyNode[]>, isBuffer: (n: LazyNode) => boolean,
  requested: ReadonlySet<LazyNode>): PatchReader[] | null {
  const reads: PatchReader[] = [];
  const stack = [w];
  while (stack.length) {
    const n = stack.pop()!;
    if (requested.has(n)) return null;
    for (const c of consumers.get(n) ?? []) {
      if (c.arg.kind === 'matmul') reads.push({ operand: n, matmul: c, side: c.srcs[0] === n ? 'a' : 'b' });
      else if (c.arg.kind === 'view' && !isBuffer(c)) stack.push(c);
      else return null;
    }
  }
  return reads;
}

/** The question a device answers about folding `w` (DeviceLimits.windowOperands), or null if a read is not one strided read of the patches. */
function foldOf(w: LazyNode, reads: readonly PatchReader[], asIf: (n: LazyNode) => boolean): WindowFold | null {
  if (w.arg.kind !== 'window') return null;
  const out: WindowFold['reads'][number][] = [];
  for (const { operand, matmul, side } of reads) {
    const p = patchRead(operand, w, asIf);
    if (!p) return null;
    const [a, b] = matmul.srcs as [LazyNode, LazyNode];
    const K = a.shape[a.shape.length - 1]!;
    const M = a.shape[a.shape.length - 2]!, N = b.shape[b.shape.length - 1]!;
    out.push({ side, batch: numel(matmul.shape) / (M * N || 1), M, N, K, offset: p.offset, sBatch: p.sBatch, sRow: p.sRow, sCol: p.sCol });
  }
  return { geom: w.arg.geom, dtype: w.dtype, N: w.shape[2]!, C: w.shape[0]!, reads: out };
}

/**
 * The im2col nodes of `order` that need no buffer — every reader is a matmul whose operand is
 * one strided read of the patches, and the device `accepts` the fold — and the images among
 * their sources to materialise so that the matmuls can read them. `isBuffer` holds every window
 * node (they are kernels of their own).
 */
export function foldedWindows(order: readonly LazyNode[], consumers: ReadonlyMap<LazyNode, LazyNode[]>,
  isBuffer: (n: LazyNode) => boolean, requested: ReadonlySet<LazyNode>,
  accepts: (fold: WindowFold) => boolean): { folded: LazyNode[]; images: LazyNode[] } {
  const folded: LazyNode[] = [], images: LazyNode[] = [];
  for (const w of order) {
    if (w.realized || !isIm2col(w)) continue;
    const asIf = (m: LazyNode): boolean => m !== w && isBuffer(m);
    const reads = matmulReads(w, consumers, asIf, requested);
    const fold = reads?.length ? foldOf(w, reads, asIf) : null;
    if (!fold || !accepts(fold)) continue;
    folded.push(w);
    if (!imageRead(w.srcs[0]!, asIf)) images.push(w.srcs[0]!);
  }
  return { folded, images };
}
