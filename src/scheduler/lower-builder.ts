/**
 * The builder of kernel expressions that every lowering shares (lower.ts): it walks a fused
 * group's nodes from the root's coordinates to buffer reads, collecting the input and runtime
 * parameter slots, the ops and flops, and the index checks; and the kernel of a structural node.
 */
import { itemBytes } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { ops } from '../graph/ops.js';
import { numel } from '../graph/shape.js';
import type { Movement } from '../graph/view.js';
import { key, Symbolic } from '../kernel/symbolic.js';
import { prologueOf } from './matmul-prologue.js';
import {
  inum, ivar, partsOf, type ExprRef, type Index, type IndexCheck, type Kernel, type Scalar, type Valid,
} from '../kernel/ir.js';


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

export class Builder {
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
      case 'buffer': case 'reduce': case 'matmul': case 'scatterAdd': case 'store': case 'row': case 'window': case 'attention': case 'transfer':
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

export const oVars = (shape: readonly number[]): Index[] => shape.map((d, i) => (d === 1 ? inum(0) : ivar(`o${i}`)));

/** Coordinates of the kept (non-reduced) dims for an output coordinate: both share the flat index. */
export function keptCoords(sym: Symbolic, outShape: readonly number[], kept: readonly number[]): Index[] {
  return sym.unravel(sym.ravel(oVars(outShape), outShape), kept);
}

/**
 * The kernel of a structural node (scatter, row) that loops over root's shape: `spec` holds its
 * own fields. Its bytes are every input read once and the output written once.
 */
export function structural(root: LazyNode, b: Builder, name: string, value: Kernel['value'],
  spec: Pick<Kernel, 'scatter' | 'row' | 'window' | 'attention' | 'indexChecks'>): Lowered {
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
