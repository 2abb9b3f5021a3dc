/**
 * Convolutions as ONNX Conv. nn.conv2d records a float convolution as im2col patches reshaped to
 * [groups, Cg·kh·kw, N·Ho·Wo] and a matmul by the weight reshaped to [groups, O/groups, Cg·kh·kw]
 * (nn/conv.ts). That matmul is exported as one Conv of the input and the 4-d weight, laid out as
 * the matmul's result ([O, N, Ho, Wo] → [groups, O/groups, N·Ho·Wo]); the patches are then not
 * needed, so the walk (sources) reads the input and weight instead of them. Other uses of im2col
 * keep its exact one-hot form (window.ts).
 */
import type { LazyNode } from '../../graph/node.js';
import type { WindowGeom } from '../../kernel/ir.js';
import type { GraphBuilder } from './builder.js';
import { castTo, computeType } from './elementwise.js';

export interface ConvMatch {
  readonly x: LazyNode;
  readonly weight: LazyNode;
  readonly geom: WindowGeom;
  readonly groups: number;
}

const reshapeOf = (n: LazyNode | undefined): LazyNode | null =>
  (n && n.arg.kind === 'view' && n.arg.movement.op === 'reshape' && !n.realized ? n.srcs[0] ?? null : null);

/** The convolution a matmul node computes, when it is nn.conv2d's. */
export function matchConv(n: LazyNode): ConvMatch | null {
  if (n.arg.kind !== 'matmul' || n.srcs.length !== 2) return null;
  const [a, b] = n.srcs as [LazyNode, LazyNode];
  const weight = reshapeOf(a), patches = reshapeOf(b);
  if (!weight || !patches || patches.realized || patches.arg.kind !== 'window' || patches.arg.op !== 'im2col') return null;
  const g = patches.arg.geom;
  const x = patches.srcs[0];
  if (!x || x.shape.length !== 4 || weight.shape.length !== 4 || weight.dtype !== x.dtype) return null;
  const [N, C] = x.shape as [number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  const kk = kh * kw, groups = C / Cg;
  if (kh !== g.kh || kw !== g.kw || !Number.isInteger(groups) || O % groups !== 0) return null;
  const same = (s: readonly number[], t: readonly number[]) => s.length === t.length && s.every((d, i) => d === t[i]);
  if (!same(a.shape, [groups, O / groups, Cg * kk]) || !same(b.shape, [groups, Cg * kk, N * g.Ho * g.Wo])) return null;
  return { x, weight, geom: g, groups };
}

/** The nodes whose values `n`'s ONNX form reads: its sources, or a convolution's input and weight. */
export function sources(n: LazyNode): readonly LazyNode[] {
  const m = matchConv(n);
  return m ? [m.x, m.weight] : n.srcs;
}

export function emitConv(b: GraphBuilder, n: LazyNode, m: ConvMatch, x: string, w: string): string {
  const g = m.geom, c = computeType(n.dtype);
  const [N] = m.x.shape as [number];
  const O = m.weight.shape[0]!;
  const y = b.op('Conv', [castTo(b, x, m.x.dtype, c), castTo(b, w, m.weight.dtype, c)], {
    kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [g.ph, g.pw, g.ph, g.pw], dilations: [g.dh, g.dw], group: m.groups,
  });
  const t = b.op('Transpose', [y], { perm: [1, 0, 2, 3] });
  return castTo(b, b.op('Reshape', [t, b.int64s([m.groups, O / m.groups, N * g.Ho * g.Wo])]), c, n.dtype);
}
