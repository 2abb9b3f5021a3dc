/**
 * Lowering: one fused group of graph nodes becomes one kernel. Views are pushed down to the
 * leaves as composed trackers, so a chain of elementwise ops and views reads each input once
 * with its own index arithmetic and writes one output; a fused reduction or matmul sits at
 * the bottom of the group and the nodes above it become its epilogue.
 */
import { itemBytes } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { ops } from '../graph/ops.js';
import { numel } from '../graph/shape.js';
import type { Movement } from '../graph/view.js';
import { key, Symbolic } from '../kernel/symbolic.js';
import { chooseLoop } from './refine-loop.js';
import { outputTransposed, transposedMatmul } from './matmul-output.js';
import { hop, prologueOf } from './matmul-prologue.js';
import { resolveOperand } from './operand-read.js';
import { windowOperand } from './window-operand.js';
import { quantOperand } from './quant-operand.js';
import {
  inum, ivar, partsOf, type ExprRef, type Index, type IndexCheck, type Kernel, type MatmulOperand, type Scalar, type Valid,
} from '../kernel/ir.js';

export { resolveOperand } from './operand-read.js';

/** A node to compute as one kernel, with the reduction or matmul fused into it, if any. */
export interface Group {
  readonly root: LazyNode;
  readonly contraction: LazyNode | null;
  /** The contraction is a reduction over root's trailing dims, read back broadcast over them (a spread reduction). */
  readonly spread?: boolean;
}

export interface Lowered {
  readonly kernel: Kernel;
  /** The nodes whose buffers fill input slots 1..n, in slot order. */
  readonly inputs: readonly LazyNode[];
  /** The 'param' nodes whose values fill the kernel's runtime arguments, in slot order. */
  readonly params: readonly LazyNode[];
  /**
   * A store kernel that reads its target's old contents at another element than the one it
   * writes (a transposed read, a reduction over it): run in place it would read values it has
   * already overwritten, so the scheduler computes its value into a temporary first.
   */
  readonly hazard: boolean;
}

/**
 * A matmul operand read from a buffer, through a prologue where it is a function of one
 * (matmul-prologue.ts), through an im2col that is not materialised (window-operand.ts), or as
 * packed bytes dequantised as they are read (quant-operand.ts).
 */
function matmulOperand(node: LazyNode, isBuffer: (n: LazyNode) => boolean, b: Builder): { base: LazyNode; op: Omit<MatmulOperand, 'input'> } {
  const direct = resolveOperand(node, isBuffer);
  if (direct) return direct;
  const q = quantOperand(node, isBuffer);
  if (q) return q;
  const w = windowOperand(node, isBuffer);
  if (w) {
    const { image } = w;
    const prologue = image.prologue && prologueExpr(image.x, image.prologue.leaf, b);
    b.ops.push('im2col');
    return { base: image.base, op: { ...w.patches, ...(prologue ? { prologue } : {}), window: w.window } };
  }
  const p = prologueOf(node, isBuffer);
  const r = p && resolveOperand(node, isBuffer, hop(p));
  if (!p || !r) throw new Error('internal: matmul operand was not materialised');
  return { base: r.base, op: { ...r.op, prologue: prologueExpr(node, p.leaf, b) } };
}

/** The prologue of `node`: its value as a function of the element of `leaf` (read as `acc`). */
function prologueExpr(node: LazyNode, leaf: LazyNode, b: Builder): Scalar {
  // Coordinates of their own, so nothing here shares a memo entry with the epilogue.
  b.prologueOf = leaf;
  const prologue = b.expr(node, node.shape.map((_, i) => ivar(`q${i}`)), numel(node.shape));
  b.prologueOf = null;
  return prologue;
}

class Builder {
  readonly inputs: LazyNode[] = [];
  readonly params: LazyNode[] = [];
  readonly ops: string[] = [];
  readonly checks: IndexCheck[] = [];
  flops = 0;
  readonly slots = new Map<LazyNode, number>();
  private readonly paramSlots = new Map<LazyNode, number>();
  private readonly memo = new Map<string, Scalar>();

  /** While a matmul prologue is built: the operand element it is a function of, read as `acc`. */
  prologueOf: LazyNode | null = null;

  /** In a spread reduction, the coordinates at which the reduction must be read: its own row's. */
  accAt: string | null = null;

  constructor(private readonly isBuffer: (n: LazyNode) => boolean, private readonly contraction: LazyNode | null, readonly sym: Symbolic) {}

  /** A slot of its own even when the node is already bound (matmul reads A and B from fixed slots). */
  freshSlot(n: LazyNode): number {
    return this.inputs.push(n);
  }

  slot(n: LazyNode): number {
    let s = this.slots.get(n);
    if (s === undefined) {
      s = this.inputs.push(n);
      this.slots.set(n, s);
    }
    return s;
  }

  paramSlot(n: LazyNode): number {
    let s = this.paramSlots.get(n);
    if (s === undefined) {
      s = this.params.push(n) - 1;
      this.paramSlots.set(n, s);
    }
    return s;
  }

  /** The value of `node` at `coords`, one index expression per dim of node's shape. */
  expr(node: LazyNode, coords: readonly Index[], size: number): Scalar {
    const k = `${node.id}@${coords.map(key).join(',')}`;
    let s = this.memo.get(k);
    if (!s) {
      s = this.build(node, coords, size);
      this.memo.set(k, s);
    }
    return s;
  }

  /** The number of the check that an index into dim `dim` (of size `hi`) of `op`'s input is in range. */
  check(op: string, dim: number, hi: number): number {
    const i = this.checks.findIndex((c) => c.op === op && c.dim === dim && c.hi === hi);
    return i >= 0 ? i : this.checks.push({ op, dim, hi }) - 1;
  }

  private note(op: string, flops: number, size: number): void {
    if (this.ops[this.ops.length - 1] !== op) this.ops.push(op);
    this.flops += flops * size;
  }

  private build(node: LazyNode, coords: readonly Index[], size: number): Scalar {
    const dtype = node.dtype;
    if (node === this.prologueOf) return { k: 'acc', dtype };
    if (node === this.contraction) {
      if (this.accAt !== null && coords.map(key).join(',') !== this.accAt) throw new Error(`internal: spread reduction reads its reduction ${node.id} outside its row`);
      return { k: 'acc', dtype };
    }
    const flat = (): Index => this.sym.ravel(coords, node.shape);
    if (this.isBuffer(node)) return { k: 'load', input: this.slot(node), index: flat(), dtype };
    const a = node.arg;
    switch (a.kind) {
      case 'const': return { k: 'const', value: a.value, dtype };
      case 'rand':
        // A normal draw at the op table's scale for the float Box–Muller chain it stands for
        // (two draws, log, sqrt, cos and a few products); its integer work is no float operation.
        this.note(a.dist === 'normal' ? 'randn' : 'rand', a.dist === 'normal' ? 60 : 20, size);
        return { k: 'rand', seed: a.seed ?? this.expr(node.srcs[0]!, [], size), word: a.word, ...(a.dist ? { dist: a.dist } : {}), index: flat(), dtype };
      case 'iota': return { k: 'iota', index: flat(), dtype };
      case 'param': return { k: 'param', slot: this.paramSlot(node), dtype };
      case 'view': {
        const src = node.srcs[0]!;
        const { coords: at, valid } = this.through(a.movement, coords, node.shape, src.shape);
        const s = this.expr(src, at, size);
        return valid.length ? { k: 'masked', valid, arg: s, dtype } : s;
      }
      case 'elementwise': {
        const args = node.srcs.map((s) => this.expr(s, coords, size));
        this.note(a.op, ops[a.op].flops, size); // after the sources: ops are reported in data-flow order
        return { k: 'op', op: a.op, args, dtype };
      }
      case 'cast': return { k: 'cast', arg: this.expr(node.srcs[0]!, coords, size), dtype };
      case 'gather': {
        const index = this.expr(node.srcs[1]!, coords, size);
        this.note('gather', 1, size);
        const hi = node.srcs[0]!.shape[a.axis]!;
        const bound = { hi, check: this.check(a.op, a.axis, hi) };
        const val = { k: 'val', v: index, bound } as const;
        const at = coords.map((c, i) => (i === a.axis ? val : c));
        const read = this.expr(node.srcs[0]!, at, size);
        // Where the address does not depend on the index (an axis of size 1, a source expanded
        // along it), the index is still checked: under a mask on it that always holds.
        return readsVal(read, index) ? read : { k: 'masked', valid: [{ a: val, lo: 0, hi }], arg: read, dtype };
      }
      case 'dequant': throw new Error(`internal: packed weight ${node.id} read other than as a matmul operand`);
      case 'buffer': case 'reduce': case 'matmul': case 'scatterAdd': case 'store': case 'row': case 'window': case 'transfer':
        throw new Error(`internal: ${a.kind} node ${node.id} reached inside a fused group without a buffer`);
    }
  }

  /** The source coordinates a movement op reads for `coords` of its output, and where padding reads zero. */
  private through(m: Movement, coords: readonly Index[], shape: readonly number[], srcShape: readonly number[]): { coords: Index[]; valid: Valid } {
    const sym = this.sym;
    const at = [...coords];
    const valid: { a: Index; lo: number; hi: number }[] = [];
    switch (m.op) {
      case 'reshape': return { coords: sym.unravel(sym.ravel(coords, shape), srcShape), valid };
      case 'permute': m.order.forEach((d, i) => { at[d] = coords[i]!; }); break;
      case 'expand': srcShape.forEach((d, i) => { if (d === 1) at[i] = inum(0); }); break;
      case 'slice': at[m.dim] = sym.add(inum(m.start), sym.mul(coords[m.dim]!, m.step)); break;
      case 'flip': for (const d of m.dims) at[d] = sym.add(inum(srcShape[d]! - 1), sym.mul(coords[d]!, -1)); break;
      case 'pad':
        for (const [d, before] of m.pads) {
          at[d] = sym.add(coords[d]!, inum(-before));
          valid.push({ a: coords[d]!, lo: before, hi: before + srcShape[d]! });
        }
        break;
    }
    return { coords: at, valid };
  }
}

const oVars = (shape: readonly number[]): Index[] => shape.map((d, i) => (d === 1 ? inum(0) : ivar(`o${i}`)));

/** Coordinates of the kept (non-reduced) dims for an output coordinate: both share the flat index. */
function keptCoords(sym: Symbolic, outShape: readonly number[], kept: readonly number[]): Index[] {
  return sym.unravel(sym.ravel(oVars(outShape), outShape), kept);
}

/**
 * The kernel of a structural node (scatter, row) that loops over root's shape: `spec` holds its
 * own fields. Its bytes are every input read once and the output written once.
 */
function structural(root: LazyNode, b: Builder, name: string, value: Kernel['value'],
  spec: Pick<Kernel, 'scatter' | 'row' | 'window' | 'indexChecks'>): Lowered {
  const bytes = b.inputs.reduce((t, n) => t + numel(n.shape) * itemBytes[n.dtype], numel(root.shape) * itemBytes[root.dtype]);
  const kernel: Kernel = {
    name,
    out: { dtype: root.dtype, shape: root.shape },
    inputs: b.inputs.map((n) => n.dtype),
    loop: root.shape,
    reduce: null,
    matmul: null,
    value,
    ...spec,
    params: b.params.map((n) => n.dtype),
    outIndex: null,
    ops: b.ops,
    flops: b.flops,
    bytes,
  };
  return { kernel, inputs: b.inputs, params: b.params, hazard: false };
}

/**
 * A scatter-add: the base over the output's coordinates, then the index and the added values over
 * the index's coordinates s0..s{q-1}. Each may be a fused expression of buffers.
 */
function lowerScatter(root: LazyNode, isBuffer: (n: LazyNode) => boolean): Lowered {
  if (root.arg.kind !== 'scatterAdd') throw new Error('internal: lowerScatter of a non-scatter node');
  const { axis, op } = root.arg;
  const [base, index, src] = root.srcs as [LazyNode, LazyNode, LazyNode];
  const sizes = new Map<string, number>(root.shape.map((d, i) => [`o${i}`, d]));
  index.shape.forEach((d, i) => sizes.set(`s${i}`, d));
  const b = new Builder(isBuffer, null, new Symbolic(sizes));
  const outSize = numel(root.shape), space = numel(index.shape);
  const value = b.expr(base, oVars(root.shape), outSize);
  const s = index.shape.map((d, i) => (d === 1 ? inum(0) : ivar(`s${i}`)));
  const target = b.expr(index, s, space);
  const added = b.expr(src, s, space);
  const check = b.check(op, axis, root.shape[axis]!);
  // One add per index element and one write per output element: O(index + output).
  b.flops += space + outSize;
  b.ops.push('scatterAdd');
  return structural(root, b, `S_${root.shape.join('_') || '1'}_${index.shape.join('_') || '1'}`, value,
    { scatter: { axis, space: index.shape, target, src: added, check }, indexChecks: b.checks });
}

/** A per-row kernel (RowSpec): its source, a fused expression of buffers, over the output's coordinates. */
function lowerRow(root: LazyNode, isBuffer: (n: LazyNode) => boolean): Lowered {
  if (root.arg.kind !== 'row') throw new Error('internal: lowerRow of a non-row node');
  const src = root.srcs[0]!;
  const b = new Builder(isBuffer, null, new Symbolic(new Map(root.shape.map((d, i) => [`o${i}`, d]))));
  const size = numel(root.shape);
  const n = root.shape[root.shape.length - 1] ?? 1;
  const value = b.expr(src, oVars(root.shape), size);
  const sorts = root.arg.op.startsWith('argsort');
  b.flops += sorts ? Math.ceil(size * Math.log2(Math.max(2, n))) : size;
  b.ops.push(root.arg.op);
  return structural(root, b, `W_${root.shape.join('_') || '1'}`, value,
    { row: { op: root.arg.op, n }, ...(b.checks.length ? { indexChecks: b.checks } : {}) });
}

/**
 * A sliding-window kernel (WindowSpec): each source a fused expression of buffers over the
 * window variables (wn, wc and the input grid wh, ww, the window grid wi, wj, the tap wq).
 */
function lowerWindow(root: LazyNode, isBuffer: (n: LazyNode) => boolean): Lowered {
  if (root.arg.kind !== 'window') throw new Error('internal: lowerWindow of a non-window node');
  const { op, geom: g } = root.arg;
  const [N, C] = (op === 'im2col' ? [root.shape[2], root.shape[0]] : root.shape) as [number, number];
  const sizes = new Map<string, number>([['wn', N], ['wc', C], ['wh', g.H], ['ww', g.W], ['wi', g.Ho], ['wj', g.Wo], ['wq', g.kh * g.kw]]);
  const b = new Builder(isBuffer, null, new Symbolic(sizes));
  const at = (names: string[], shape: readonly number[]): Index[] => names.map((v, i) => (shape[i] === 1 ? inum(0) : ivar(v)));
  const input = ['wn', 'wc', 'wh', 'ww'], grid = ['wn', 'wc', 'wi', 'wj'];
  const [x, y, z] = root.srcs as [LazyNode, LazyNode | undefined, LazyNode | undefined];
  const args = op === 'col2im' ? [b.expr(x, at(['wc', 'wq', 'wn', 'wi', 'wj'], x.shape), numel(x.shape))]
    : op === 'avgPoolGrad' ? [b.expr(x, at(grid, x.shape), numel(x.shape))]
    : [b.expr(x, at(input, x.shape), numel(x.shape)),
      ...(y ? [b.expr(y, at(op === 'maxPoolGrad' ? grid : input, y.shape), numel(y.shape))] : []),
      ...(z ? [b.expr(z, at(grid, z.shape), numel(z.shape))] : [])];
  b.flops += N * C * g.Ho * g.Wo * g.kh * g.kw;
  b.ops.push(op);
  return structural(root, b, `WN_${op}_${root.shape.join('_')}`, { k: 'const', value: 0, dtype: root.dtype },
    { window: { op, N, C, geom: g, args }, ...(b.checks.length ? { indexChecks: b.checks } : {}) });
}

export function lower(group: Group, isBuffer: (n: LazyNode) => boolean, sharesTarget: (n: LazyNode) => boolean = () => false): Lowered {
  const { contraction: x } = group;
  if (group.root.arg.kind === 'scatterAdd') return lowerScatter(group.root, isBuffer);
  if (group.root.arg.kind === 'row') return lowerRow(group.root, isBuffer);
  if (group.root.arg.kind === 'window') return lowerWindow(group.root, isBuffer);
  const store = group.root.arg.kind === 'store' ? group.root : null;
  // A store loops over its value (the whole target, or a slice of it) and writes into the target.
  const root = store ? store.srcs[1]! : group.root;
  const sizes = new Map<string, number>(root.shape.map((d, i) => [`o${i}`, d]));
  if (x && x.arg.kind === 'reduce') {
    const axes = x.arg.axes;
    axes.forEach((a, j) => sizes.set(`r${j}`, x.srcs[0]!.shape[a]!));
  }
  let b = new Builder(isBuffer, x, new Symbolic(sizes));
  const outSize = numel(root.shape);
  let reduce: Kernel['reduce'] = null;
  let matmul: Kernel['matmul'] = null;
  let name = 'E';
  if (x && x.arg.kind === 'reduce') {
    const src = x.srcs[0]!;
    const axes = x.arg.axes;
    const kept = src.shape.filter((_, i) => !axes.includes(i));
    // A spread reduction's loop is the source's shape, so kept dims are the loop's own coordinates.
    const keptC = group.spread ? oVars(root.shape).filter((_, i) => !axes.includes(i)) : keptCoords(b.sym, root.shape, kept);
    if (group.spread) b.accAt = oVars(x.shape).map(key).join(',');
    let k = 0, r = 0;
    const full = src.shape.map((d, i) => (axes.includes(i) ? (d === 1 ? (r++, inum(0)) : ivar(`r${r++}`)) : keptC[k++]!));
    const value = b.expr(src, full, numel(src.shape));
    b.flops += numel(src.shape);
    b.ops.push(x.arg.op);
    const lastNonUnit = src.shape.reduce((last, d, i) => (d !== 1 ? i : last), -1);
    reduce = {
      op: x.arg.op, dims: axes.map((i) => src.shape[i]!), value, inner: lastNonUnit < 0 || axes.includes(lastNonUnit),
      ...(group.spread ? { spread: true } : {}),
    };
    name = 'R';
  } else if (x && x.arg.kind === 'matmul') {
    const [A, B] = x.srcs as [LazyNode, LazyNode];
    const ra = matmulOperand(A, isBuffer, b), rb = matmulOperand(B, isBuffer, b);
    const r = x.shape.length;
    const K = A.shape[r - 1]!;
    const batch = numel(x.shape.slice(0, -2));
    if (outputTransposed(root, x, isBuffer)) {
      // Read through a transpose only: compute C^T = B^T A^T, which writes that layout directly.
      const t = transposedMatmul(ra.op, rb.op, x.shape[r - 2]!, x.shape[r - 1]!);
      const bIn = b.freshSlot(rb.base), aIn = b.freshSlot(ra.base);
      matmul = { batch, M: t.M, N: t.N, K, a: { input: bIn, ...t.a }, b: { input: aIn, ...t.b } };
    } else {
      const M = x.shape[r - 2]!, N = x.shape[r - 1]!;
      matmul = { batch, M, N, K, a: { input: b.freshSlot(ra.base), ...ra.op }, b: { input: b.freshSlot(rb.base), ...rb.op } };
    }
    b.flops += 2 * batch * matmul.M * matmul.N * K;
    b.ops.push('matmul');
    name = 'MM';
  }
  let value = b.expr(root, oVars(root.shape), outSize);
  let loop: readonly number[] = root.shape;
  if (!x && !store) {
    // A permuted copy loops over finer dims, so its reads need no divisions (refine-loop.ts).
    const at = (l: readonly number[]): { b: Builder; value: Scalar } => {
      const bl = new Builder(isBuffer, null, new Symbolic(new Map(l.map((d, i) => [`o${i}`, d]))));
      return { b: bl, value: bl.expr(root, bl.sym.unravel(bl.sym.ravel(oVars(l), l), root.shape), outSize) };
    };
    const chosen = chooseLoop(root.shape, { b, value }, at);
    ({ loop } = chosen);
    ({ b, value } = chosen.lowered);
  }
  const outIndex = store ? storeIndex(b, store) : null;
  const bytes = b.inputs.reduce((s, n) => s + numel(n.shape) * itemBytes[n.dtype], outSize * itemBytes[root.dtype]);
  const dims = reduce ? (reduce.spread ? root.shape : [...root.shape, ...reduce.dims]) : matmul ? [matmul.batch, matmul.M, matmul.N, matmul.K] : loop;
  const kernel: Kernel = {
    name: `${store ? 'S' : ''}${reduce?.spread ? 'RS' : name}_${dims.join('_') || '1'}`,
    out: { dtype: group.root.dtype, shape: group.root.shape },
    inputs: b.inputs.map((n) => n.dtype),
    loop,
    reduce,
    matmul,
    value,
    ...(b.checks.length ? { indexChecks: b.checks } : {}),
    params: b.params.map((n) => n.dtype),
    outIndex: outIndex && outIndex.k === 'flat' ? null : outIndex,
    ops: store ? [...b.ops, 'store'] : b.ops,
    flops: b.flops,
    bytes,
  };
  const hazard = store !== null && readsElsewhere(b, kernel, store, sharesTarget);
  return { kernel, inputs: b.inputs, params: b.params, hazard };
}

/**
 * Where a store writes element (o0, …) of its value: a marker for "contiguously" when it covers
 * the whole target, else the flat target index with the slice start added along its dim (a
 * baked number, or a runtime scalar read by the kernel).
 */
function storeIndex(b: Builder, store: LazyNode): Index | { k: 'flat' } {
  if (store.arg.kind !== 'store') throw new Error('internal: storeIndex of a non-store');
  const { slice } = store.arg;
  if (!slice) return { k: 'flat' };
  const [target, value] = store.srcs as [LazyNode, LazyNode];
  const coords = oVars(value.shape);
  let start: Index;
  if (slice.start !== null) start = inum(slice.start);
  else {
    const src = store.srcs[2]!;
    let v = b.expr(src, [], 1);
    if (src.arg.kind !== 'param') {
      // A start read from a buffer is not known on the host: clamp it so the write stays inside.
      const hi = target.shape[slice.dim]! - value.shape[slice.dim]!;
      v = { k: 'op', op: 'minimum', args: [{ k: 'op', op: 'maximum', args: [v, { k: 'const', value: 0, dtype: 'int32' }], dtype: 'int32' }, { k: 'const', value: hi, dtype: 'int32' }], dtype: 'int32' };
    }
    start = { k: 'val', v };
  }
  coords[slice.dim] = b.sym.add(coords[slice.dim]!, start);
  return b.sym.ravel(coords, target.shape);
}

/** Whether `s` addresses something by the data-dependent coordinate `v` (a gather's index). */
function readsVal(s: Scalar, v: Scalar): boolean {
  const seen = new Set<Scalar | Index>();
  const visit = (e: ExprRef): boolean => {
    const x = 'scalar' in e ? e.scalar : e.index;
    if (seen.has(x)) return false;
    seen.add(x);
    if ('index' in e && e.index.k === 'val' && e.index.v === v) return true;
    const { scalars, indices } = partsOf(e);
    return scalars.some((c) => visit({ scalar: c })) || indices.some((c) => visit({ index: c }));
  };
  return visit({ scalar: s });
}

/** Whether a store kernel reads its target (or a buffer shared with it) at other elements than it writes. */
function readsElsewhere(b: Builder, k: Kernel, store: LazyNode, sharesTarget: (n: LazyNode) => boolean): boolean {
  const target = store.srcs[0]!;
  const slots = new Set<number>();
  b.inputs.forEach((n, i) => { if (n === target || sharesTarget(n)) slots.add(i + 1); });
  if (!slots.size) return false;
  if (k.matmul && (slots.has(k.matmul.a.input) || slots.has(k.matmul.b.input))) return true;
  const at = key(k.outIndex ?? b.sym.ravel(oVars(k.loop), k.loop));
  let bad = false;
  const seen = new Set<Scalar>();
  const visit = (e: ExprRef, inReduce: boolean): void => {
    if (bad) return;
    if ('scalar' in e) {
      if (seen.has(e.scalar)) return;
      seen.add(e.scalar);
      // Equal index expressions address the same element, whatever the shapes of the nodes.
      const s = e.scalar;
      if (s.k === 'load' && slots.has(s.input) && (inReduce || key(s.index) !== at)) { bad = true; return; }
    }
    const { scalars, indices } = partsOf(e);
    for (const x of scalars) visit({ scalar: x }, inReduce);
    for (const x of indices) visit({ index: x }, inReduce);
  };
  if (k.reduce) visit({ scalar: k.reduce.value }, true);
  visit({ scalar: k.value }, false);
  if (k.outIndex) visit({ index: k.outIndex }, false);
  return bad;
}
