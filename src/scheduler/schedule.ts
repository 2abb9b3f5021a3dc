/**
 * Scheduling: which nodes of the requested graph become buffers, and which kernels compute them.
 *
 * Fusion rules (DESIGN.md): chains of elementwise ops and views fuse into one kernel; elementwise
 * producers fuse into the reduction or matmul that consumes them only as far as their inputs are
 * buffers (a contraction reads its own prologue); a contraction whose single consumer path is
 * elementwise on its output fuses that path as an epilogue (for a matmul, possibly through one
 * transpose of its output: matmul-output.ts). Everything the user asked for, every contraction
 * that is not fused away and every matmul operand that is neither a plain strided buffer nor an
 * elementwise function of one (a prologue: matmul-prologue.ts) is materialised, once — except,
 * where the device asks, a convolution's patches that only matmuls read (window-operand.ts).
 */
import { LazyNode, type BufferHandle } from '../graph/node.js';
import { numel, sameShape } from '../graph/shape.js';
import { isContiguous } from '../graph/view.js';
import type { Kernel, WindowFold } from '../kernel/ir.js';
import { lower, resolveOperand } from './lower.js';
import { permutedOnly } from './permuted-operand.js';
import type { Walk } from './plan-key.js';
import { transposesMatmul } from './matmul-output.js';
import { hop, prologueOf } from './matmul-prologue.js';
import { mergeStores } from './multi-output.js';
import { repeatedWindowSources } from './window-sources.js';
import { repeatedAttentionSources } from './attention-sources.js';
import { foldedWindows, windowOperand } from './window-operand.js';
import { dequantUnder, quantBytesToMaterialise } from './quant-operand.js';
import { splitForBindings } from './binding-split.js';
import { checkOldReads, readStores } from './read-stores.js';

/** One kernel of a plan; it holds no nodes, so a cached plan keeps no graph alive. */
export interface Step {
  readonly kernel: Kernel;
  /** Index (into the topological order) of the node this kernel writes. */
  readonly output: number;
  readonly inputIdx: readonly number[];
  /** Indices of the 'param' nodes whose values are the kernel's runtime arguments, in slot order. */
  readonly paramIdx: readonly number[];
  /** For a store: the index of the node whose buffer the kernel writes in place (else null). */
  readonly target: number | null;
  /** A multi-output kernel's further outputs (Kernel.extraOutputs, in order): node and store target, as above. */
  readonly extraOutputs?: readonly StepOutput[];
}

export interface StepOutput { readonly output: number; readonly target: number | null }

/** Every output of a step, the main one first. */
export const stepOutputs = (s: Step): readonly StepOutput[] => [s, ...(s.extraOutputs ?? [])];

/** A schedule in terms of topological indices, so one plan serves every graph of the same structure. */
export interface Plan {
  readonly steps: readonly Step[];
  /** [node, node whose buffer it shares] for views that are plain reshapes of a buffer. */
  readonly aliases: readonly (readonly [number, number])[];
  readonly outputs: readonly number[];
}

export { walk, type Walk } from './plan-key.js';

/** Above this many fused nodes, a shared value is computed once rather than in every consumer. */
const SHARED_LIMIT = 12;

/** Whether some chain of views starting at a consumer of `n` expands it (reads each element many times). */
function readBroadcast(n: LazyNode, consumers: ReadonlyMap<LazyNode, LazyNode[]>, depth: number): boolean {
  if (depth === 0) return false;
  return (consumers.get(n) ?? []).some((c) => c.arg.kind === 'view' &&
    (c.arg.movement.op === 'expand' || readBroadcast(c, consumers, depth - 1)));
}

/**
 * How many unmaterialised nodes computing `n` takes, counting up to `limit`. A normal draw counts
 * as `limit` by itself: one node, but its integer sampler (kernel/normal.ts) is some 300
 * operations, so a shared randn is computed once, as when it was a chain of log, sqrt and cos.
 */
function fusedSize(n: LazyNode, isBuffer: (m: LazyNode) => boolean, limit: number): number {
  const seen = new Set<LazyNode>();
  const stack = [n];
  let size = 0;
  while (stack.length && size < limit) {
    const m = stack.pop()!;
    if (seen.has(m) || (m !== n && isBuffer(m))) continue;
    seen.add(m);
    size += m.arg.kind === 'rand' && m.arg.dist === 'normal' ? limit : 1;
    if (m.arg.kind !== 'reduce' && m.arg.kind !== 'matmul') stack.push(...m.srcs);
  }
  return size;
}

const isContraction = (n: LazyNode): boolean => n.arg.kind === 'reduce' || n.arg.kind === 'matmul';

/** A view that only renames the shape of a contiguous buffer: it can share that buffer. */
function isPlainReshape(n: LazyNode): boolean {
  return n.arg.kind === 'view' && n.arg.tracker.length === 1 && isContiguous(n.arg.tracker[0]!);
}

/**
 * Where a reduction over trailing dims is read back broadcast over them by an elementwise chain
 * that is written anyway (softmax's `e / e.sum(-1, keepdim)`, layer norm's scaling): the root of
 * that chain, which then computes the reduction row by row itself (a spread reduction), so the reduced
 * values are never written. `from` is where the reduction's own epilogue chain ended. Null when
 * the chain's end would not be a buffer otherwise: materialising it only to fuse would write a
 * full-size tensor to save a small one.
 */
function spreadRoot(x: LazyNode, from: LazyNode, consumers: ReadonlyMap<LazyNode, LazyNode[]>, materialized: ReadonlySet<LazyNode>): LazyNode | null {
  if (x.arg.kind !== 'reduce' || (from !== x && materialized.has(from))) return null;
  const src = x.srcs[0]!;
  const axes = x.arg.axes;
  const trailing = axes.every((a, j) => a === src.shape.length - axes.length + j);
  if (!trailing || numel(src.shape) === 0 || !sameShape(from.shape, x.shape)) return null;
  const [e, ...others] = consumers.get(from) ?? [];
  if (!e || others.length || e.arg.kind !== 'view' || e.arg.movement.op !== 'expand' || !sameShape(e.shape, src.shape)) return null;
  let cur = e;
  for (;;) {
    const [c, ...rest] = consumers.get(cur) ?? [];
    if (!c || rest.length || (c.arg.kind !== 'elementwise' && c.arg.kind !== 'cast') || !sameShape(c.shape, src.shape)) break;
    cur = c;
    if (materialized.has(c)) break;
  }
  return cur !== e && materialized.has(cur) ? cur : null;
}

export interface PlanOptions {
  /**
   * Every requested output gets a kernel that writes a buffer of its own, even a plain reshape
   * of a buffer (which would otherwise share it): for schedules that attach their outputs'
   * buffers before the plan exists.
   */
  readonly ownOutputs?: boolean;
  /** The device binds at most this many buffers per kernel (binding-split.ts); unbounded if absent. */
  readonly maxBindings?: number;
  /** Matmuls read a convolution's patches from its image, without an im2col buffer (window-operand.ts): all, or those accepted. */
  readonly windowOperands?: boolean | ((fold: WindowFold) => boolean);
}

/** The plan of a walk, made at once. */
export function plan(outputs: readonly LazyNode[], w: Walk, opts: PlanOptions = {}): Plan {
  return drain(planning(outputs, w, opts));
}

/**
 * The plan of a walk, made in steps: it yields between kernels it lowers, so an asynchronous
 * caller can let the event loop turn while a large graph of a new structure is planned. Stores
 * that form a cycle (a.assign(b) beside b.assign(a)) cannot all run in place: the value of one
 * of them is computed into a temporary first, and planning repeats.
 */
export function* planning(outputs: readonly LazyNode[], w: Walk, opts: PlanOptions = {}): Generator<void, Plan> {
  const temps = new Set<LazyNode>();
  for (;;) {
    const r = yield* planOnce(outputs, w, temps, opts);
    if (!(r instanceof LazyNode)) return r;
    temps.add(r);
  }
}

/** Runs a stepwise computation to its end. */
export function drain<T>(g: Generator<void, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/**
 * The walk's nodes as they are now, copied: a plan made across event-loop turns must not see
 * other schedules realise (and cut the sources of) nodes of its graph in the meantime. The
 * copies hold what planning reads; `outputs` are the copies of the given outputs.
 */
export function frozen(w: Walk, outputs: readonly LazyNode[]): { walk: Walk; outputs: LazyNode[] } {
  const copy = new Map<LazyNode, LazyNode>();
  const order = w.order.map((n) => {
    const c = new LazyNode(n.arg, n.realized ? [] : n.srcs.map((s) => copy.get(s)!), n.shape, n.dtype);
    c.realized = n.realized;
    c.requiresGrad = n.requiresGrad;
    c.gradNode = n.gradNode;
    copy.set(n, c);
    return c;
  });
  return { walk: { ...w, order }, outputs: outputs.map((o) => copy.get(o)!) };
}

/** Kernels lowered between two yields of planning(): a few milliseconds of work on this machine. */
const LOWER_BATCH = 16;

function* planOnce(outputs: readonly LazyNode[], w: Walk, temps: ReadonlySet<LazyNode>, opts: PlanOptions): Generator<void, Plan | LazyNode> {
  const { order } = w;
  const pos = new Map(order.map((n, i) => [n, i] as const));
  const consumers = new Map<LazyNode, LazyNode[]>();
  for (const n of order) {
    if (n.realized) continue;
    for (const s of n.srcs) {
      const c = consumers.get(s);
      if (c) c.push(n); else consumers.set(s, [n]);
    }
  }
  yield;
  const materialized = new Set<LazyNode>(outputs.filter((o) => !o.realized));
  // A scatter-add writes its output out of order (rows chosen by data), so it is always a kernel
  // of its own; its base, index and added values fuse into it. So is a per-row kernel (a scan,
  // a sort: each output element depends on the whole row); its source fuses into it. So is a
  // sliding-window kernel (kernel/ir.ts WindowSpec), whose sources fuse into it.
  for (const n of order) if (!n.realized && (isContraction(n) || n.arg.kind === 'scatterAdd' || n.arg.kind === 'row' || n.arg.kind === 'window' || n.arg.kind === 'attention')) materialized.add(n);

  for (const t of temps) materialized.add(t);
  // Stores that nodes of this schedule read run in order, before their readers (read-stores.ts).
  const early = readStores(order, consumers);
  for (const st of early) materialized.add(st);
  const isBuffer = (n: LazyNode): boolean => n.realized !== null || materialized.has(n);
  // A value that would be recomputed — read by several consumers, or broadcast by an expand so
  // that one consumer reads each element many times — is materialised once when it is not cheap.
  for (const n of order) {
    // A packed weight is read by its matmuls in place, however many there are (quant-operand.ts).
    if (n.realized || materialized.has(n) || n.arg.kind === 'view' || n.arg.kind === 'dequant') continue;
    const cs = consumers.get(n) ?? [];
    const broadcast = readBroadcast(n, consumers, 4);
    if (cs.length < 2 && !broadcast) continue;
    if (fusedSize(n, isBuffer, SHARED_LIMIT) >= SHARED_LIMIT) materialized.add(n);
  }
  if (opts.windowOperands) {
    const accepts = opts.windowOperands === true ? () => true : opts.windowOperands;
    const { folded, images } = foldedWindows(order, consumers, isBuffer, new Set(outputs), accepts);
    for (const w of folded) materialized.delete(w);
    for (const x of images) materialized.add(x);
  }
  for (const n of order) {
    if (n.realized || n.arg.kind !== 'matmul') continue;
    for (const s of n.srcs) {
      if (resolveOperand(s, isBuffer) || windowOperand(s, isBuffer)) continue;
      if (dequantUnder(s, isBuffer)) {
        const bytes = quantBytesToMaterialise(s, isBuffer);
        if (bytes) materialized.add(bytes);
        continue;
      }
      const pro = prologueOf(s, isBuffer);
      if (pro && resolveOperand(s, isBuffer, hop(pro))) continue;
      // Materialise what the views read (other consumers can share it); copy the view only if
      // it still is not one strided read of a buffer.
      let base = s;
      while (base.arg.kind === 'view' && !isBuffer(base)) base = base.srcs[0]!;
      if (!isBuffer(base) && !permutedOnly(s, base, consumers)) materialized.add(base);
      if (!resolveOperand(s, isBuffer)) materialized.add(s);
    }
  }

  for (const s of repeatedWindowSources(order, isBuffer)) materialized.add(s);
  for (const s of repeatedAttentionSources(order, isBuffer)) materialized.add(s);

  yield;
  // Epilogue fusion: walk up from a contraction through single-consumer elementwise ops and plain
  // reshapes of the same size; the first materialised node on that path computes the contraction.
  const fusedInto = new Map<LazyNode, LazyNode>();
  const spreadRoots = new Set<LazyNode>();
  const outputSet = new Set(outputs);
  // The epilogue chains of spread reductions: computed inside their spread root's kernel, so no
  // other contraction may end its own chain there (softmax's denominator and a second reduction
  // divided by it share one `div`).
  const spreadChains = new Set<LazyNode>();
  for (const x of order) {
    if (x.realized || !isContraction(x) || outputSet.has(x)) continue;
    let cur = x;
    // A matmul may also write its output transposed, once (matmul-output.ts).
    let transposed = false;
    for (;;) {
      const cs = consumers.get(cur) ?? [];
      if (cs.length !== 1) break;
      const c = cs[0]!;
      if (spreadChains.has(c)) break;
      const flips: boolean = !transposed && transposesMatmul(c, x);
      const fits = numel(c.shape) === numel(x.shape) &&
        (c.arg.kind === 'elementwise' || c.arg.kind === 'cast' || isPlainReshape(c) || flips);
      if (!fits || (isContraction(c))) break;
      transposed ||= flips;
      cur = c;
      if (materialized.has(c)) break;
    }
    // A reduction that is only stored (p.assign(x.sum(…)), a running statistic) writes straight
    // into the store's target. Matmul kernels write contiguous tiles, so they store via a copy.
    const sink = consumers.get(cur) ?? [];
    const st = sink.length === 1 ? sink[0]! : null;
    if (st && st.arg.kind === 'store' && x.arg.kind === 'reduce' && st.srcs[1] === cur &&
        (cur === x || !materialized.has(cur)) && !fusedInto.has(st)) {
      materialized.delete(x);
      fusedInto.set(st, x);
      continue;
    }
    const root = spreadRoot(x, cur, consumers, materialized);
    if (root && !fusedInto.has(root)) {
      materialized.delete(x);
      fusedInto.set(root, x);
      spreadRoots.add(root);
      for (let n = x; n !== cur; ) spreadChains.add((n = consumers.get(n)![0]!));
      continue;
    }
    if (cur === x || fusedInto.has(cur)) continue;
    materialized.add(cur);
    materialized.delete(x);
    fusedInto.set(cur, x);
  }

  yield;
  // Buffer identity: leaves holding one buffer, and plain reshapes aliased to their source.
  const holder = new Map<BufferHandle, LazyNode>();
  const identity = new Map<LazyNode, LazyNode>();
  for (const n of order) {
    if (!n.realized) continue;
    const h = holder.get(n.realized);
    if (h) identity.set(n, h); else holder.set(n.realized, n);
  }
  const idOf = (n: LazyNode): LazyNode => identity.get(n) ?? n;

  // A store whose value reads the target where it does not write is computed into a temporary.
  const stores = order.filter((n) => !n.realized && n.arg.kind === 'store');
  // Temporaries for stores are real copies, never aliases of the buffer they protect.
  const copies = new Set<LazyNode>(temps);
  for (const st of stores) {
    const target = idOf(st.srcs[0]!);
    const x = fusedInto.get(st) ?? null;
    const trial = lower({ root: st, contraction: x }, (m) => m !== st && isBuffer(m), (m) => idOf(m) === target);
    if (!trial.hazard) continue;
    const value = st.srcs[1]!;
    materialized.add(value);
    copies.add(value);
    if (x) {
      // The reduction goes back to computing the value (or is the value).
      fusedInto.delete(st);
      if (value !== x) fusedInto.set(value, x);
    }
  }

  yield;
  const steps: Step[] = [];
  const storeSteps: { step: Step; node: LazyNode; reads: Set<LazyNode> }[] = [];
  const aliases: [number, number][] = [];
  const own = opts.ownOutputs ? outputSet : new Set<LazyNode>();
  let sinceYield = 0;
  const written = new Set<LazyNode>();
  for (const n of order) {
    if (n.realized || !materialized.has(n)) continue;
    const src = n.srcs[0];
    if (!fusedInto.has(n) && !copies.has(n) && !own.has(n) && isPlainReshape(n) && src && isBuffer(src)) {
      aliases.push([pos.get(n)!, pos.get(src)!]);
      identity.set(n, idOf(src));
      continue;
    }
    const contraction = fusedInto.get(n) ?? (isContraction(n) ? n : null);
    const lowered = lower({ root: n, contraction, spread: spreadRoots.has(n) }, (m) => m !== n && isBuffer(m));
    const split = opts.maxBindings === undefined ? null : splitForBindings(n, contraction, lowered.kernel, (m) => m !== n && isBuffer(m), opts.maxBindings);
    if (split) return split;
    checkOldReads(n, lowered.inputs, idOf, written, early);
    const isStore = n.arg.kind === 'store';
    const step: Step = {
      kernel: lowered.kernel, output: pos.get(n)!, inputIdx: lowered.inputs.map((m) => pos.get(m)!),
      paramIdx: lowered.params.map((m) => pos.get(m)!), target: isStore ? pos.get(n.srcs[0]!)! : null,
    };
    if (isStore && !early.has(n)) storeSteps.push({ step, node: n, reads: new Set(lowered.inputs.map(idOf)) });
    else steps.push(step);
    if (++sinceYield === LOWER_BATCH) { sinceYield = 0; yield; }
  }
  const ordered = mergeStores(storeSteps, order, idOf) ?? orderStores(storeSteps, idOf);
  if (ordered instanceof LazyNode) return ordered;
  return { steps: [...steps, ...ordered], aliases, outputs: outputs.map((o) => pos.get(o)!) };
}

/**
 * In-place writes run after every other step of the schedule (nothing reads a store's result
 * within it: later readers are later schedules), and a store runs before any store that
 * overwrites a buffer it reads. On a cycle, returns the value of a store to compute into a
 * temporary first.
 */
function orderStores(stores: readonly { step: Step; node: LazyNode; reads: Set<LazyNode> }[], idOf: (n: LazyNode) => LazyNode): Step[] | LazyNode {
  const targets = stores.map((s) => idOf(s.node.srcs[0]!));
  if (new Set(targets).size !== targets.length) {
    throw new Error('internal: two stores write one buffer in one schedule (the caller must split them)');
  }
  // before[j]: stores that read store j's target, so must run before j.
  const before = stores.map((_, j) => stores.flatMap((s, i) => (i !== j && s.reads.has(targets[j]!) ? [i] : [])));
  const done = new Set<number>();
  const out: Step[] = [];
  while (out.length < stores.length) {
    const next = stores.findIndex((_, j) => !done.has(j) && before[j]!.every((i) => done.has(i)));
    if (next < 0) {
      // A cycle: a waiting store reads the target of another waiting one. Computing its value
      // into a temporary first makes it read nothing that a store overwrites.
      const waiting = stores.flatMap((_, j) => (done.has(j) ? [] : [j]));
      const reader = waiting.find((i) => waiting.some((j) => j !== i && stores[i]!.reads.has(targets[j]!)))!;
      return stores[reader]!.node.srcs[1]!;
    }
    done.add(next);
    out.push(stores[next]!.step);
  }
  return out;
}
