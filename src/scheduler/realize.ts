/**
 * realize(): the only place computation starts. Walks the requested graph, replays a cached plan
 * for graphs of the same structure (a training loop pays for fusion once), allocates buffers as
 * kernels need them, frees each temporary after its last reader, and hands the outputs their
 * buffers. Outputs are marked pending at once, so graph building for the next step overlaps this
 * one; a failing kernel rejects every pending output and leaves the engine usable.
 */
import type { CompiledKernel, Device, RuntimeArgs } from '../devices/device.js';
import { itemBytes, type TypedArray } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import { LruCache, type CacheLimits } from '../kernel/lru.js';
import { attach, Buffer, detach } from './buffers.js';
import { engine } from './engine.js';
import { IndexRecords } from './index-checks.js';
import { plan, walk, type Plan } from './schedule.js';
import { yieldIfDue } from './turns.js';

interface CompiledPlan {
  readonly plan: Plan;
  readonly kernels: readonly CompiledKernel[];
  /** Per topological index: the last step that reads it, or -1. */
  readonly lastRead: readonly number[];
  /**
   * Step outputs that keep their buffer after the schedule: the requested outputs, and, unless
   * the schedule is itself a backward pass, intermediates on a gradient path (like PyTorch's
   * saved tensors, a later backward pass reads them instead of computing the forward pass
   * again). requiresGrad and gradNode are part of the plan key.
   */
  readonly keep: ReadonlySet<number>;
  /** Computes gradient nodes: a backward pass, after which the saved values it read are released. */
  readonly backward: boolean;
}

/**
 * Compiled plans by graph key, LRU by count and by bytes (the key plus its kernels' hashes,
 * which is what a plan holds): a server that sees ever new shapes stays bounded.
 */
export const PLAN_CACHE_LIMITS: CacheLimits = { count: 512, bytes: 64 * 1024 * 1024 };
const plans = new LruCache<string, CompiledPlan>(PLAN_CACHE_LIMITS);
engine.planCache = plans;

function compilePlan(p: Plan, order: readonly LazyNode[], device: Device): CompiledPlan {
  const lastRead = new Array<number>(order.length).fill(-1);
  p.steps.forEach((s, i) => { for (const j of s.inputIdx) lastRead[j] = i; });
  // A store's result is its target's buffer, which the target already holds.
  const stores = new Set(p.steps.flatMap((s) => (s.target === null ? [] : [s.output])));
  const backward = isBackwardPass(order);
  const keep = new Set(p.outputs.filter((i) => !stores.has(i)));
  // A backward pass reads the forward values it needs within this schedule; keeping them would
  // only pin memory until the garbage collector runs (PyTorch's retain_graph=False).
  if (!backward) for (const s of p.steps) if (order[s.output]!.requiresGrad && !stores.has(s.output)) keep.add(s.output);
  return { plan: p, kernels: p.steps.map((s) => device.compile(s.kernel)), lastRead, keep, backward };
}

/** Whether a schedule over `order` computes a gradient (part of the plan key: walk marks gradNode). */
function isBackwardPass(order: readonly LazyNode[]): boolean {
  return order.some((n) => n.gradNode && !n.realized);
}

/**
 * Once a backward pass has finished, the values saved for it (realised leaves of its schedule
 * that were kept only because a backward might read them) go back to the device now rather than
 * when the garbage collector finds their nodes. The nodes keep their sources: anything that asks
 * for them again (a second backward, data()) recomputes them.
 */
function releaseSaved(order: readonly LazyNode[]): void {
  for (const n of order) {
    if (n.saved && n.realized && !n.realized.ready) {
      n.saved = false;
      detach(n);
    }
  }
}

/** A leaf without its buffer (or its history) has nothing to compute it from: it was disposed. */
function checkLeaves(order: readonly LazyNode[]): void {
  for (const n of order) {
    if (!n.realized && (n.arg.kind === 'buffer' || n.historyReleased)) {
      throw new Error(`realize: the computation reads a ${n.dtype} tensor of shape [${n.shape.join(', ')}] that was disposed ` +
        '(dispose() a tensor only once nothing still to be computed reads it)');
    }
  }
}

function newBuffer(node: LazyNode, device: Device): Buffer {
  return new Buffer(device, device.alloc(numel(node.shape) * itemBytes[node.dtype]));
}

function getPlan(outputs: readonly LazyNode[], device: Device): { cp: CompiledPlan; order: readonly LazyNode[]; key: string } {
  const w = walk(outputs);
  checkLeaves(w.order);
  let cp = plans.get(w.key);
  if (!cp) {
    cp = compilePlan(plan(outputs, w), w.order, device);
    plans.set(w.key, cp, w.key.length + cp.kernels.reduce((n, k) => n + k.hash.length, 0));
  }
  return { cp, order: w.order, key: w.key };
}

/** The plan without running it. */
export function planFor(outputs: readonly LazyNode[]): Plan {
  return getPlan(outputs, engine.device()).cp.plan;
}

/**
 * Computes `node` and copies its values out, row-major. The read is registered on the buffer at
 * once (before the first await), so a write scheduled after this call waits for the copy and a
 * write scheduled before it is seen.
 */
export async function readNode(node: LazyNode): Promise<TypedArray> {
  if (node.disposed) throw new Error('realize: the tensor was disposed');
  if (!node.realized || pending.length) run(node.realized ? [] : [node]);
  const buf = node.realized as Buffer | null;
  if (!buf) throw new Error('realize: the tensor was disposed');
  const after = buf.ready;
  buf.retain(); // the buffer cannot be freed and reused under the copy if the tensor is disposed
  const read = (async () => {
    try {
      if (after) await after;
      const data = (await buf.dev.read(buf.buf, node.dtype, numel(node.shape))) as TypedArray;
      // The caller's next step (building and planning its next request) also runs on this turn.
      const turn = yieldIfDue();
      if (turn) await turn;
      return data;
    } finally {
      buf.release();
    }
  })();
  buf.addReader(read);
  return read;
}

export async function realize(nodes: readonly LazyNode[]): Promise<void> {
  for (const n of nodes) {
    if (n.disposed) throw new Error('realize: the tensor was disposed');
    n.saved = false; // asked for by name: an output now, which a backward pass does not release
  }
  const todo = [...new Set(nodes.filter((n) => !n.realized))];
  if (todo.length || pending.length) run(todo);
  for (const n of nodes) {
    const r = n.arg.kind === 'store' ? n.srcs[0]?.realized?.ready : n.realized?.ready;
    if (r) await r;
  }
}

/**
 * In-place writes recorded by code that does not start a schedule itself (BatchNorm's running
 * statistics during a training forward): the next schedule — usually the optimizer step that
 * also computes the forward — includes them, so they cost no schedule of their own. A schedule
 * that reads one of their targets runs them first, on their own, so it sees the new values.
 */
let pending: LazyNode[] = [];

export function deferStore(store: LazyNode): void {
  if (store.arg.kind !== 'store') throw new Error('internal: deferStore of a non-store node');
  const target = store.srcs[0]!.realized;
  // Two writes to one buffer never share a schedule: the earlier runs now.
  if (pending.some((s) => s.srcs[0]!.realized === target)) run([]);
  pending.push(store);
}

/** Buffers of the realised leaves that computing `outputs` reads. */
function leafBuffers(outputs: readonly LazyNode[]): Set<unknown> {
  const seen = new Set<LazyNode>();
  const found = new Set<unknown>();
  const stack = [...outputs];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.realized) found.add(n.realized);
    else stack.push(...n.srcs);
  }
  return found;
}

function run(outputs: readonly LazyNode[]): void {
  if (!pending.length) { schedule(outputs); return; }
  const stores = pending.filter((st) => st.srcs[0]!.realized && !st.srcs[0]!.disposed);
  pending = [];
  const read = outputs.length ? leafBuffers(outputs) : new Set<unknown>();
  if (stores.some((st) => read.has(st.srcs[0]!.realized))) {
    schedule(stores);
    schedule(outputs);
  } else {
    schedule([...outputs, ...stores]);
  }
}

const noop = (): void => {};

function schedule(outputs: readonly LazyNode[]): void {
  if (!outputs.length) return;
  engine.counters.schedules++;
  const device = engine.device();
  const { cp, order, key } = getPlan(outputs, device);
  const { steps, aliases } = cp.plan;
  const bufs = new Array<Buffer | undefined>(order.length);
  const pendingLeaves: Promise<unknown>[] = [];
  const leaves = new Set<Buffer>();
  order.forEach((n, i) => {
    if (!n.realized) return;
    const b = n.realized as Buffer;
    b.retain();
    bufs[i] = b;
    if (leaves.has(b)) return;
    leaves.add(b);
    // Read-after-write: wait for the write pending on every buffer this schedule reads.
    if (b.ready) pendingLeaves.push(b.ready);
  });
  const targets = new Set<Buffer>();
  for (const s of steps) {
    if (s.target === null) continue;
    const t = bufs[s.target]!;
    targets.add(t);
    // Write-after-read: an in-place write waits for every read of the old contents in flight.
    // (A reader that failed does not fail the write.)
    for (const r of t.readers) pendingLeaves.push(r.then(noop, noop));
    t.retain();
    bufs[s.output] = t;
  }
  const alloc = (i: number): Buffer => (bufs[i] = newBuffer(order[i]!, device));
  // Kept buffers exist now, so they can be read or used as inputs while this schedule runs.
  const { keep } = cp;
  for (const s of steps) if (keep.has(s.output)) alloc(s.output);
  for (const [, b] of aliases) if (!bufs[b]) alloc(b);
  for (const [a, b] of aliases) { bufs[b]!.retain(); bufs[a] = bufs[b]; }
  // Runtime scalars are read now: a param node is immutable, but the graph may be gone later.
  const args = steps.map((s) => s.paramIdx.map((j) => { const a = order[j]!.arg; return a.kind === 'param' ? a.value : NaN; }));

  const done = execute(cp, order, bufs, device, pendingLeaves, args);
  // Observed through the outputs' ready promises. A plan that failed is compiled afresh next time:
  // the fault may have been in the plan's kernels, not in the data.
  done.catch(() => { if (plans.get(key) === cp) plans.delete(key); });
  for (const b of leaves) if (!targets.has(b)) b.addReader(done);
  for (const t of targets) t.pendingWrite(done);
  const requested = new Set(cp.plan.outputs);
  for (const i of keep) {
    const node = order[i]!;
    if (node.realized) continue; // an output listed twice, or a leaf
    const buf = bufs[i]!;
    attach(node, buf);
    node.saved = !requested.has(i);
    const ready = done.then(
      () => { node.forgetSources(); },
      (e: unknown) => { if (node.realized === buf) detach(node); throw e; },
    );
    buf.pendingWrite(ready);
    ready.catch(() => {});
  }
  if (cp.backward) done.then(() => releaseSaved(order), () => {});
  done.finally(() => {
    // The schedule's own references: every output now also has its node's.
    for (let i = 0; i < bufs.length; i++) bufs[i]?.release();
  }).catch(() => {});
}

async function execute(cp: CompiledPlan, order: readonly LazyNode[], bufs: (Buffer | undefined)[], device: Device, pendingLeaves: Promise<unknown>[], args: readonly RuntimeArgs[]): Promise<void> {
  if (pendingLeaves.length) await Promise.all(pendingLeaves);
  const { steps } = cp.plan;
  const { keep } = cp;
  const listen = engine.listenerCount('kernel') > 0;
  const records = new IndexRecords(device, steps);
  for (let si = 0; si < steps.length; si++) {
    // Inline kernels resolve at once: without this the event loop would wait for the whole schedule.
    const turn = yieldIfDue();
    if (turn) await turn;
    const step = steps[si]!;
    const out = bufs[step.output] ??= newBuffer(order[step.output]!, device);
    const t0 = listen ? performance.now() : 0;
    await device.run(cp.kernels[si]!, [out.buf, ...step.inputIdx.map((j) => bufs[j]!.buf), ...records.bind(si)], args[si]);
    if (listen) {
      const k = step.kernel;
      engine.emit('kernel', { name: k.name, device: device.name, ops: k.ops, ms: performance.now() - t0, bytes: k.bytes, flops: k.flops });
    }
    // Temporaries go back to the device as soon as their last reader is done, for reuse below.
    for (const j of step.inputIdx) {
      if (cp.lastRead[j] === si && !keep.has(j) && !order[j]!.realized) {
        bufs[j]?.release();
        bufs[j] = undefined;
      }
    }
  }
  // After every kernel, not between them: a bad index rejects this schedule's outputs.
  if (records.bound) await records.report();
}
