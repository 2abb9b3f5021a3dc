/**
 * The multi-output pass: in-place stores over the same loop that read the same buffers become
 * one kernel writing several outputs. An optimizer's update of one parameter (Adam's m, v and p;
 * SGD's momentum buffer and p) is then one pass over the gradient and the state instead of one
 * per stored tensor, each of which re-read the gradient and recomputed the moments.
 *
 * A merged kernel evaluates every output at an element before it writes any (Kernel.extraOutputs),
 * so it is exact wherever each member reads the group's targets only at the element it writes;
 * where one reads a target elsewhere (a transposed copy), the group is left as separate kernels.
 * Equal subexpressions of the members (the new moments, which the parameter's update recomputes)
 * are computed once.
 */
import { itemBytes } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import { inum, ivar, partsOf, type ExprRef, type Index, type Kernel, type Scalar } from '../kernel/ir.js';
import { key, Symbolic } from '../kernel/symbolic.js';
import type { Step } from './schedule.js';

/** A lowered store, as the scheduler orders them: its step, its node, and (the identities of) what it reads. */
export interface StoreStep { readonly step: Step; readonly node: LazyNode; readonly reads: ReadonlySet<LazyNode> }

/** Off only to compare against plans without the pass (tests); plans already cached are kept. */
export const multiOutput = { enabled: true };

/** Stores this pass may merge: elementwise kernels over the whole target, one output each. */
function mergeable(k: Kernel): boolean {
  return !k.reduce && !k.matmul && !k.scatter && !k.row && !k.indexChecks?.length && !k.extraOutputs?.length &&
    k.outIndex === null && k.out.dtype !== 'int64';
}

/** The flat index at which a kernel over `loop` writes element (o0, o1, …) contiguously. */
function writeIndexKey(loop: readonly number[]): string {
  const sym = new Symbolic(new Map(loop.map((d, i) => [`o${i}`, d])));
  return key(sym.ravel(loop.map((d, i) => (d === 1 ? inum(0) : ivar(`o${i}`))), loop));
}

/** Whether kernel `k` reads the buffers of `targets` (by slot) anywhere but at `at`. */
function readsTargetsElsewhere(k: Kernel, slotsOf: (slot: number) => LazyNode, targets: ReadonlySet<LazyNode>, at: string): boolean {
  const seen = new Set<object>();
  const visit = (e: ExprRef): boolean => {
    const obj = 'scalar' in e ? e.scalar : e.index;
    if (seen.has(obj)) return false;
    seen.add(obj);
    if ('scalar' in e && e.scalar.k === 'load' && targets.has(slotsOf(e.scalar.input)) && key(e.scalar.index) !== at) return true;
    const { scalars, indices } = partsOf(e);
    return scalars.some((s) => visit({ scalar: s })) || indices.some((i) => visit({ index: i }));
  };
  return visit({ scalar: k.value });
}

/**
 * Outputs of one merged kernel at most: a kernel binding dozens of buffers spills its registers,
 * and a group that large shares no more than a few inputs per member anyway.
 */
export const MAX_OUTPUTS = 8;

/**
 * Groups of stores to merge: connected by a shared input buffer of the loop's size (which
 * includes one reading another's target), over the same loop. A small buffer read broadcast (a
 * clipping coefficient that every parameter's update reads) connects nothing: merging over it
 * would read nothing less. A group in which some member reads a target of the group at another
 * element than the one it writes stays apart, member by member, as does one of more than
 * MAX_OUTPUTS stores.
 */
export function storeGroups(stores: readonly StoreStep[], order: readonly LazyNode[], idOf: (n: LazyNode) => LazyNode): number[][] {
  const parent = stores.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const byRead = new Map<string, number>();
  const loopKey = (s: StoreStep): string => s.step.kernel.loop.join(',');
  const nodeIds = new Map<LazyNode, number>();
  const idNum = (n: LazyNode): number => { let v = nodeIds.get(n); if (v === undefined) nodeIds.set(n, (v = nodeIds.size)); return v; };
  stores.forEach((s, i) => {
    if (!mergeable(s.step.kernel)) return;
    const size = numel(s.step.kernel.loop);
    for (const r of [...s.reads, idOf(s.node.srcs[0]!)]) {
      if (numel(r.shape) !== size) continue;
      const k = `${loopKey(s)}|${idNum(r)}`;
      const j = byRead.get(k);
      if (j === undefined) byRead.set(k, i); else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  stores.forEach((s, i) => {
    if (!mergeable(s.step.kernel)) return;
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(i); else groups.set(r, [i]);
  });
  const out: number[][] = [];
  for (const g of groups.values()) {
    if (g.length < 2 || g.length > MAX_OUTPUTS) continue;
    const targets = new Set(g.map((i) => idOf(stores[i]!.node.srcs[0]!)));
    const at = writeIndexKey(stores[g[0]!]!.step.kernel.loop);
    const exact = g.every((i) => {
      const { step } = stores[i]!;
      return !readsTargetsElsewhere(step.kernel, (slot) => idOf(order[step.inputIdx[slot - 1]!]!), targets, at);
    });
    if (exact) out.push(g);
  }
  return out;
}

/**
 * Rebuilds the members' expressions over the merged kernel's slots, giving structurally equal
 * subexpressions one object, which the printers compute once.
 */
class Interner {
  private readonly canon = new Map<string, Scalar | Index>();
  private readonly ids = new Map<Scalar | Index, number>();
  private memo = new Map<Scalar | Index, Scalar | Index>();

  constructor(private slots: readonly number[] = [], private params: readonly number[] = []) {}

  /** Slot i of the member being rebuilt is slot slots[i] (params[i]) of the merged kernel. */
  member(slots: readonly number[], params: readonly number[]): void {
    this.slots = slots;
    this.params = params;
    this.memo = new Map();
  }

  private intern<T extends Scalar | Index>(k: string, x: T): T {
    const c = this.canon.get(k);
    if (c) return c as T;
    this.canon.set(k, x);
    this.ids.set(x, this.ids.size);
    return x;
  }

  private id(x: Scalar | Index): number { return this.ids.get(x)!; }

  index(i: Index): Index {
    const m = this.memo.get(i);
    if (m) return m as Index;
    let r: Index;
    switch (i.k) {
      case 'var': r = this.intern(`v${i.name}`, i); break;
      case 'num': r = this.intern(`n${i.n}`, i); break;
      case 'add': { const a = this.index(i.a), b = this.index(i.b); r = this.intern(`+${this.id(a)},${this.id(b)}`, { k: 'add', a, b }); break; }
      case 'mul': case 'div': case 'mod': { const a = this.index(i.a); r = this.intern(`${i.k}${this.id(a)},${i.n}`, { k: i.k, a, n: i.n }); break; }
      case 'val': {
        const v = this.scalar(i.v);
        r = this.intern(`val${this.id(v)},${i.bound ? `${i.bound.hi},${i.bound.check}` : ''}`, i.bound ? { k: 'val', v, bound: i.bound } : { k: 'val', v });
        break;
      }
    }
    this.memo.set(i, r);
    return r;
  }

  scalar(s: Scalar): Scalar {
    const m = this.memo.get(s);
    if (m) return m as Scalar;
    let r: Scalar;
    switch (s.k) {
      case 'load': { const index = this.index(s.index); const input = this.slots[s.input]!; r = this.intern(`L${input},${this.id(index)},${s.dtype}`, { ...s, input, index }); break; }
      case 'const': r = this.intern(`C${Object.is(s.value, -0) ? '-0' : String(s.value)},${s.dtype}`, s); break;
      case 'acc': r = this.intern(`A${s.dtype}`, s); break;
      case 'param': { const slot = this.params[s.slot]!; r = this.intern(`P${slot},${s.dtype}`, { ...s, slot }); break; }
      case 'iota': { const index = this.index(s.index); r = this.intern(`I${this.id(index)},${s.dtype}`, { ...s, index }); break; }
      case 'rand': {
        const seed = typeof s.seed === 'number' ? s.seed : this.scalar(s.seed);
        const index = this.index(s.index);
        r = this.intern(`R${s.dist ?? ''}${typeof seed === 'number' ? seed : `s${this.id(seed)}`},${s.word},${this.id(index)},${s.dtype}`, { ...s, seed, index });
        break;
      }
      case 'masked': {
        const valid = s.valid.map((v) => ({ a: this.index(v.a), lo: v.lo, hi: v.hi }));
        const arg = this.scalar(s.arg);
        r = this.intern(`M${valid.map((v) => `${this.id(v.a)}:${v.lo}:${v.hi}`).join(';')},${this.id(arg)},${s.dtype}`, { ...s, valid, arg });
        break;
      }
      case 'op': { const args = s.args.map((a) => this.scalar(a)); r = this.intern(`O${s.op},${args.map((a) => this.id(a)).join(',')},${s.dtype}`, { ...s, args }); break; }
      case 'cast': { const arg = this.scalar(s.arg); r = this.intern(`K${this.id(arg)},${s.dtype}`, { ...s, arg }); break; }
    }
    this.memo.set(s, r);
    return r;
  }
}

/** One kernel (and step) computing every store of `members`, the first as its main output. */
export function mergeSteps(members: readonly Step[], order: readonly LazyNode[]): Step {
  const inputIdx: number[] = [];
  const paramIdx: number[] = [];
  const at = (list: number[], j: number): number => { const i = list.indexOf(j); return i >= 0 ? i : list.push(j) - 1; };
  const it = new Interner();
  const values = members.map((s) => {
    // Slot 0 is the output; inputs are slots 1..n.
    it.member([0, ...s.inputIdx.map((j) => at(inputIdx, j) + 1)], s.paramIdx.map((j) => at(paramIdx, j)));
    return it.scalar(s.kernel.value);
  });
  const [first, ...rest] = members as [Step, ...Step[]];
  const k0 = first.kernel;
  const outBytes = members.reduce((t, s) => t + numel(s.kernel.out.shape) * itemBytes[s.kernel.out.dtype], 0);
  const kernel: Kernel = {
    ...k0,
    name: `SE${members.length}_${k0.loop.join('_') || '1'}`,
    inputs: inputIdx.map((j) => order[j]!.dtype),
    params: paramIdx.map((j) => order[j]!.dtype),
    value: values[0]!,
    extraOutputs: rest.map((s, j) => ({ dtype: s.kernel.out.dtype, shape: s.kernel.out.shape, value: values[j + 1]!, outIndex: null })),
    ops: members.flatMap((s) => s.kernel.ops),
    flops: members.reduce((t, s) => t + s.kernel.flops, 0),
    bytes: inputIdx.reduce((t, j) => t + numel(order[j]!.shape) * itemBytes[order[j]!.dtype], outBytes),
  };
  return { kernel, output: first.output, inputIdx, paramIdx, target: first.target, extraOutputs: rest.map((s) => ({ output: s.output, target: s.target })) };
}

/**
 * The stores of a schedule as ordered steps with the mergeable ones merged, each unit running
 * before any unit that overwrites a buffer it reads (as the scheduler orders single stores).
 * Null when nothing merges, or when the merged units could not be ordered without a temporary:
 * the scheduler then orders the stores one by one.
 */
export function mergeStores(stores: readonly StoreStep[], order: readonly LazyNode[], idOf: (n: LazyNode) => LazyNode): Step[] | null {
  if (!multiOutput.enabled || stores.length < 2) return null;
  const targets = stores.map((s) => idOf(s.node.srcs[0]!));
  if (new Set(targets).size !== targets.length) return null;
  const groups = storeGroups(stores, order, idOf);
  if (!groups.length) return null;
  const inGroup = new Map<number, number[]>();
  for (const g of groups) for (const i of g) inGroup.set(i, g);
  const units: { members: number[]; targets: Set<LazyNode>; reads: Set<LazyNode> }[] = [];
  stores.forEach((_, i) => {
    const g = inGroup.get(i);
    if (g && g[0] !== i) return;
    const members = g ?? [i];
    units.push({ members, targets: new Set(members.map((m) => targets[m]!)), reads: new Set(members.flatMap((m) => [...stores[m]!.reads])) });
  });
  const before = units.map((u, j) => units.flatMap((v, i) => (i !== j && [...u.targets].some((t) => v.reads.has(t)) ? [i] : [])));
  const done = new Set<number>();
  const out: Step[] = [];
  while (done.size < units.length) {
    const next = units.findIndex((_, j) => !done.has(j) && before[j]!.every((i) => done.has(i)));
    if (next < 0) return null;
    done.add(next);
    const { members } = units[next]!;
    out.push(members.length === 1 ? stores[members[0]!]!.step : mergeSteps(members.map((m) => stores[m]!.step), order));
  }
  return out;
}
