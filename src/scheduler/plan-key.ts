/**
 * The walk of a requested graph and its plan key. A training loop builds a graph of the same
 * structure every step, and a cached plan serves every one of them, so the key must be cheap to
 * compute: a 64-bit structural hash over numbers (no strings are built), to find the candidate
 * plan, and a template held by the plan, compared field by field on a hit, so that a hash
 * collision can only cost a miss, never run a wrong plan.
 *
 * Structure is what planning reads: per node its arg (a param's value excepted: a runtime
 * scalar), dtype, shape, sources by topological index, requiresGrad and gradNode, and whether it
 * is a realised leaf (then, which earlier leaf holds the same buffer: in-place writes are
 * ordered by buffer).
 */
import type { DType } from '../graph/dtype.js';
import type { BufferHandle, LazyNode, NodeArg } from '../graph/node.js';
import type { ShapeTracker } from '../graph/view.js';
import type { WindowGeom } from '../kernel/ir.js';

export interface Walk {
  /** Unrealised nodes and realised leaves, every source before its consumers. */
  readonly order: readonly LazyNode[];
  /** Structural hash: equal structures have equal keys; equal keys are checked with sameStructure. */
  readonly key: string;
  /**
   * Per node of `order`, in order: for a realised leaf, the index of the first leaf holding the
   * same buffer or -1; otherwise the number of sources, then their indices. Injective together
   * with the nodes' own fields (a count prefix, so no two graphs read alike).
   */
  readonly links: readonly number[];
  /** Indices of the requested outputs in `order`. */
  readonly outputs: readonly number[];
}

/** What a cached plan keeps of the walk it was made from: no nodes, so it keeps no graph alive. */
export interface Template {
  readonly links: readonly number[];
  readonly outputs: readonly number[];
  /** Per node: its arg (null for a realised leaf), dtype, shape and flags. */
  readonly args: readonly (NodeArg | null)[];
  readonly dtypes: readonly DType[];
  readonly shapes: readonly (readonly number[])[];
  readonly flags: readonly number[];
}

const REQUIRES_GRAD = 1;
const GRAD_NODE = 2;
const LEAF = 4;
const flagsOf = (n: LazyNode): number => (n.requiresGrad ? REQUIRES_GRAD : 0) | (n.gradNode ? GRAD_NODE : 0) | (n.realized ? LEAF : 0);

/** Small integers for the strings an arg holds (op names, kinds, dtypes): a bounded set. */
const names = new Map<string, number>();
function nameId(s: string): number {
  let id = names.get(s);
  if (id === undefined) names.set(s, (id = names.size + 1));
  return id;
}

/** Two 32-bit lanes of a multiplicative hash (murmur3's mixing constants). */
let h1 = 0;
let h2 = 0;
function mix(x: number): void {
  h1 = Math.imul(h1 ^ (x | 0), 0xcc9e2d51);
  h1 = (h1 << 15) | (h1 >>> 17);
  h2 = Math.imul(h2 ^ (x | 0), 0x1b873593) + 0x6b43a9b5 | 0;
  h2 = (h2 << 13) | (h2 >>> 19);
}
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** A number by its bits (every NaN alike, as sameArg's Object.is compares them; -0 apart from 0). */
function mixNumber(v: number): void {
  f64[0] = Number.isNaN(v) ? NaN : v;
  mix(u32[0]!);
  mix(u32[1]!);
}
function mixList(xs: readonly number[]): void {
  mix(xs.length);
  for (let i = 0; i < xs.length; i++) mixNumber(xs[i]!);
}

function mixTracker(t: ShapeTracker): void {
  mix(t.length);
  for (const v of t) {
    mixList(v.shape);
    mixList(v.strides);
    mixNumber(v.offset);
    if (v.mask === null) mix(-1);
    else for (const [lo, hi] of v.mask) { mixNumber(lo); mixNumber(hi); }
  }
}

function mixArg(a: NodeArg): void {
  mix(nameId(a.kind));
  switch (a.kind) {
    case 'buffer': case 'iota': case 'cast': case 'matmul': case 'param': return;
    case 'const': mixNumber(a.value); return;
    case 'rand': mixNumber(a.seed ?? NaN); mix(a.seed === null ? 1 : 0); mix(a.word); mix(a.dist === 'normal' ? 1 : 0); return;
    case 'view': mix(nameId(a.movement.op)); mixTracker(a.tracker); return;
    case 'elementwise': case 'row': mix(nameId(a.op)); return;
    case 'reduce': mix(nameId(a.op)); mixList(a.axes); return;
    case 'gather': case 'scatterAdd': mix(a.axis); mix(nameId(a.op)); return;
    case 'store': if (a.slice) { mix(a.slice.dim); mixNumber(a.slice.start ?? NaN); mix(a.slice.start === null ? 1 : 0); } else mix(-1); return;
    case 'window': mix(nameId(a.op)); mixList(windowNumbers(a.geom)); return;
    case 'dequant': mix(nameId(a.format)); return;
  }
}

/**
 * Depth-first over unrealised nodes, stopping at realised ones (iterative, so deep chains are
 * fine), hashing the structure as it goes.
 */
export function walk(outputs: readonly LazyNode[], device = ''): Walk {
  const index = new Map<LazyNode, number>();
  const order: LazyNode[] = [];
  const links: number[] = [];
  const nodes: LazyNode[] = [];
  const next: number[] = [];
  const firstHolder = new Map<BufferHandle, number>();
  h1 = 0x2545f491;
  h2 = 0x9e3779b9 | 0;
  for (const out of outputs) {
    if (index.has(out)) continue;
    nodes.push(out);
    next.push(0);
    while (nodes.length) {
      const top = nodes.length - 1;
      const n = nodes[top]!;
      const i = next[top]!;
      const srcs = n.realized ? [] : n.srcs;
      if (i < srcs.length) {
        next[top] = i + 1;
        const s = srcs[i]!;
        if (!index.has(s)) { nodes.push(s); next.push(0); }
        continue;
      }
      nodes.pop();
      next.pop();
      if (index.has(n)) continue;
      const at = order.length;
      index.set(n, at);
      order.push(n);
      mix(flagsOf(n));
      mix(nameId(n.dtype));
      mixList(n.shape);
      if (n.realized) {
        const first = firstHolder.get(n.realized);
        if (first === undefined) firstHolder.set(n.realized, at);
        links.push(first ?? -1);
        mix(first ?? -1);
      } else {
        mixArg(n.arg);
        links.push(srcs.length);
        mix(srcs.length);
        for (const s of srcs) {
          const j = index.get(s)!;
          links.push(j);
          mix(j);
        }
      }
    }
  }
  const outIdx = outputs.map((o) => index.get(o)!);
  for (const o of outIdx) mix(o);
  mix(outIdx.length);
  // The device is part of the key: the same graph compiles to other kernels on another device.
  return { order, key: `${device}${(h1 >>> 0).toString(36)}.${(h2 >>> 0).toString(36)}.${order.length}`, links, outputs: outIdx };
}

/** The part of a walk a plan keeps to check later walks against. */
export function templateOf(w: Walk): Template {
  return {
    links: w.links,
    outputs: w.outputs,
    args: w.order.map((n) => (n.realized ? null : n.arg)),
    dtypes: w.order.map((n) => n.dtype),
    shapes: w.order.map((n) => n.shape),
    flags: w.order.map(flagsOf),
  };
}

/** Approximate bytes a template holds (for the plan cache's byte bound). */
export const templateBytes = (t: Template): number => 8 * t.links.length + 48 * t.args.length;

const sameList = (a: readonly number[], b: readonly number[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
};

function sameTracker(a: ShapeTracker, b: ShapeTracker): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!sameList(x.shape, y.shape) || !sameList(x.strides, y.strides) || !Object.is(x.offset, y.offset)) return false;
    if (x.mask === null || y.mask === null) { if (x.mask !== y.mask) return false; continue; }
    if (x.mask.length !== y.mask.length) return false;
    for (let d = 0; d < x.mask.length; d++) if (!sameList(x.mask[d]!, y.mask[d]!)) return false;
  }
  return true;
}

/** A window's geometry as the numbers that identify it. */
const windowNumbers = (g: WindowGeom): number[] => [g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw];

/** Whether two args plan alike: every field but a param's value. */
export function sameArg(a: NodeArg, b: NodeArg): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'buffer': case 'iota': case 'cast': case 'matmul': case 'param': case 'transfer': return b.kind === a.kind;
    case 'const': return b.kind === 'const' && Object.is(a.value, b.value);
    case 'rand': return b.kind === 'rand' && a.seed === b.seed && a.word === b.word && a.dist === b.dist;
    case 'view': return b.kind === 'view' && a.movement.op === b.movement.op && sameTracker(a.tracker, b.tracker);
    case 'elementwise': return b.kind === 'elementwise' && a.op === b.op;
    case 'row': return b.kind === 'row' && a.op === b.op;
    case 'reduce': return b.kind === 'reduce' && a.op === b.op && sameList(a.axes, b.axes);
    case 'gather': return b.kind === 'gather' && a.axis === b.axis && a.op === b.op;
    case 'scatterAdd': return b.kind === 'scatterAdd' && a.axis === b.axis && a.op === b.op;
    case 'store': {
      if (b.kind !== 'store') return false;
      if (a.slice === null || b.slice === null) return a.slice === b.slice;
      return a.slice.dim === b.slice.dim && a.slice.start === b.slice.start;
    }
    case 'window': return b.kind === 'window' && a.op === b.op && sameList(windowNumbers(a.geom), windowNumbers(b.geom));
    case 'dequant': return b.kind === 'dequant' && a.format === b.format;
  }
}

/** Whether the walk has exactly the structure the template was made from. */
export function sameStructure(t: Template, w: Walk): boolean {
  const { order } = w;
  if (order.length !== t.args.length || !sameList(t.links, w.links) || !sameList(t.outputs, w.outputs)) return false;
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    if (n.dtype !== t.dtypes[i] || flagsOf(n) !== t.flags[i] || !sameList(n.shape, t.shapes[i]!)) return false;
    const a = t.args[i]!;
    if (!n.realized && !sameArg(n.arg, a)) return false;
  }
  return true;
}
