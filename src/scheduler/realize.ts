/**
 * realize(): the only place computation starts. Walks the requested graph, replays a cached plan
 * for graphs of the same structure (a training loop pays for fusion once), allocates buffers as
 * kernels need them, frees each temporary after its last reader, and hands the outputs their
 * buffers. Outputs are marked pending at once, so graph building for the next step overlaps this
 * one; a failing kernel rejects every pending output and leaves the engine usable.
 */
import type { CompiledKernel, Device, RuntimeArgs } from '../devices/device.js';
import type { TypedArray } from '../graph/dtype.js';
import type { DeviceName, LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import { LruCache, type CacheLimits } from '../kernel/lru.js';
import { attach, Buffer, detach } from './buffers.js';
import { engine } from './engine.js';
import { hostProfile } from './host-profile.js';
import { LOOKAHEAD, runSteps } from './run-plan.js';
import { overlapping, stepGraph, type StepGraph } from './step-deps.js';
import { sameStructure, templateBytes, templateOf, type Template } from './plan-key.js';
import { drain, frozen, plan, planning, stepOutputs, walk, type Plan, type PlanOptions, type Walk } from './schedule.js';
import { workDone, workStarts, yieldIfDue } from './turns.js';

interface CompiledPlan {
  readonly plan: Plan;
  readonly kernels: readonly CompiledKernel[];
  /**
   * Step outputs that keep their buffer after the schedule: the requested outputs, and, unless
   * the schedule is itself a backward pass, intermediates on a gradient path (like PyTorch's
   * saved tensors, a later backward pass reads them instead of computing the forward pass
   * again). requiresGrad and gradNode are part of the plan key.
   */
  readonly keep: ReadonlySet<number>;
  /** Computes gradient nodes: a backward pass, after which the saved values it read are released. */
  readonly backward: boolean;
  /** The structure it was made for: a walk with the same key runs it only if it matches. */
  readonly template: Template;
  /** Which steps wait for which: independent kernels run at the same time. */
  readonly graph: StepGraph;
  /** Per store step: [its output, its target] (computed once: each replay claims them). */
  readonly storeTargets: readonly (readonly [number, number])[];
  /** Every step output, in plan order (computed once for prepare()). */
  readonly stepOuts: readonly number[];
  /** The requested outputs (an output attached that is not one of them is only saved for a backward pass). */
  readonly requested: ReadonlySet<number>;
}

/**
 * Compiled plans by graph key, LRU by count and by bytes (the key plus its kernels' hashes,
 * which is what a plan holds): a server that sees ever new shapes stays bounded.
 */
export const PLAN_CACHE_LIMITS: CacheLimits = { count: 512, bytes: 64 * 1024 * 1024 };
const plans = new LruCache<string, CompiledPlan>(PLAN_CACHE_LIMITS);
engine.planCache = plans;

/** Kernels printed between two yields of compiling(). */
const COMPILE_BATCH = 16;

function* compiling(p: Plan, w: Walk, device: Device): Generator<void, CompiledPlan> {
  const { order } = w;
  // A store's result is its target's buffer, which the target already holds.
  const stores = new Set(p.steps.flatMap((s) => stepOutputs(s).flatMap((o) => (o.target === null ? [] : [o.output]))));
  const backward = isBackwardPass(order);
  const keep = new Set(p.outputs.filter((i) => !stores.has(i)));
  // A backward pass reads the forward values it needs within this schedule; keeping them would
  // only pin memory until the garbage collector runs (PyTorch's retain_graph=False).
  if (!backward) for (const { output } of p.steps.flatMap(stepOutputs)) if (order[output]!.requiresGrad && !stores.has(output)) keep.add(output);
  const kernels: CompiledKernel[] = [];
  for (const s of p.steps) {
    kernels.push(device.compile(s.kernel));
    if (kernels.length % COMPILE_BATCH === 0) yield;
  }
  const outs = p.steps.flatMap(stepOutputs);
  const storeTargets = outs.flatMap((s) => (s.target === null ? [] : [[s.output, s.target] as const]));
  return { plan: p, kernels, keep, backward, template: templateOf(w), graph: stepGraph(p, order), storeTargets, stepOuts: outs.map((o) => o.output), requested: new Set(p.outputs) };
}

const compilePlan = (p: Plan, w: Walk, device: Device): CompiledPlan => drain(compiling(p, w, device));
const planBytes = (key: string, cp: CompiledPlan): number => key.length + templateBytes(cp.template) + cp.kernels.reduce((n, k) => n + k.hash.length, 0);

/**
 * The key plans are cached under: the walk's structural hash. Tests replace it (with a constant,
 * say) to force collisions, which must only cost misses.
 */
export const planKeys = { of: (w: Walk): string => w.key };

/** The cached plan for the walk's structure, if any (a hash hit that is another structure is a miss). */
function cachedPlan(w: Walk): CompiledPlan | undefined {
  const cp = plans.get(planKeys.of(w));
  return cp && sameStructure(cp.template, w) ? cp : undefined;
}

/** Runs a stepwise computation, letting the event loop turn whenever the engine's budget is spent. */
async function stepwise<T>(g: Generator<void, T>): Promise<T> {
  for (;;) {
    const turn = yieldIfDue();
    if (turn) await turn;
    const r = g.next();
    if (r.done) return r.value;
  }
}

/**
 * Graphs of at least this many nodes that have no cached plan are planned across event-loop
 * turns (a 1,400-node graph takes tens of milliseconds to plan); smaller ones plan within the
 * engine's turn budget anyway.
 */
export const COLD_PLAN_NODES = 256;
/** Plans being made across turns, by graph key: concurrent schedules of one structure share one. */
const inflight = new Map<string, { template: Template; plan: Promise<CompiledPlan> }>();

/** The plan being made across turns for the walk's structure, if any. */
function inflightPlan(w: Walk): Promise<CompiledPlan> | undefined {
  const f = inflight.get(planKeys.of(w));
  return f && sameStructure(f.template, w) ? f.plan : undefined;
}

function planAcrossTurns(w: Walk, outputs: readonly LazyNode[], device: Device): Promise<CompiledPlan> {
  const key = planKeys.of(w);
  const shared = inflightPlan(w);
  if (shared) return shared;
  const f = frozen(w, outputs);
  engine.counters.plansMade++;
  const p = (async () => {
    const cp = await stepwise(compiling(await stepwise(planning(f.outputs, f.walk, { ownOutputs: true, ...planOptions(device) })), f.walk, device));
    plans.set(key, cp, planBytes(key, cp));
    return cp;
  })();
  const mine = { template: templateOf(w), plan: p };
  const forget = (): void => { if (inflight.get(key) === mine) inflight.delete(key); };
  p.then(forget, forget);
  inflight.set(key, mine);
  return p;
}

/** What planning reads of the device: how many buffers one kernel may bind, and whether matmuls read patches through a window. */
const planOptions = (device: Device): Pick<PlanOptions, 'maxBindings' | 'windowOperands'> => ({
  ...(Number.isFinite(device.limits.maxBindings) ? { maxBindings: device.limits.maxBindings } : {}),
  ...(device.limits.windowOperands ? { windowOperands: device.limits.windowOperands } : {}),
});

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
  return new Buffer(device, device.alloc(node.dtype, numel(node.shape)));
}

/** The device a node computes on: its own, else (constants and the like) the default. */
export const deviceOf = (n: LazyNode): DeviceName => n.device ?? engine.defaultDevice;

/** The walk of `outputs` on `device`, refusing one that reads a disposed tensor. */
function walkChecked(outputs: readonly LazyNode[], device: Device): Walk {
  const w = walk(outputs, device.name === 'cpu' ? '' : device.name);
  checkLeaves(w.order);
  return w;
}

/** The cached plan of the walk, or one made now (and cached). */
function planNow(outputs: readonly LazyNode[], w: Walk, device: Device): CompiledPlan {
  let cp = cachedPlan(w);
  if (!cp) {
    engine.counters.plansMade++;
    cp = compilePlan(plan(outputs, w, planOptions(device)), w, device);
    const key = planKeys.of(w);
    plans.set(key, cp, planBytes(key, cp));
  }
  return cp;
}

/** The plan without running it. */
export function planFor(outputs: readonly LazyNode[]): Plan {
  const device = engine.device(deviceOf(outputs[0]!));
  return planNow(outputs, walkChecked(outputs, device), device).plan;
}

/**
 * The plan without running it, and per step where the device runs it (the cost model's choice)
 * and the steps it may run beside (step-deps.ts), e.g. 'pool ×2 (cost 1.2M), concurrent with 4, 5'.
 */
export function placementsFor(outputs: readonly LazyNode[]): { plan: Plan; placements: string[]; device: DeviceName } {
  const device = engine.device(deviceOf(outputs[0]!));
  const cp = planNow(outputs, walkChecked(outputs, device), device);
  const where = cp.kernels.map((k) => device.placement?.(k) ?? { inline: false, ranges: 1, text: device.name });
  const beside = where.map(() => new Set<number>());
  overlapping(cp.graph, where.map((p) => p.inline), LOOKAHEAD).forEach((js, i) => {
    for (const j of js) { beside[i]!.add(j); beside[j]!.add(i); }
  });
  const placements = where.map((p, i) => {
    const others = [...beside[i]!].sort((a, b) => a - b);
    if (!others.length) return p.text;
    const shown = others.length > 6 ? `${others.slice(0, 6).join(', ')}, …` : others.join(', ');
    return `${p.text}, concurrent with ${shown}`;
  });
  return { plan: cp.plan, placements, device: device.name };
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
      workDone();
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

/**
 * Initial values of parameters and buffers built outside skipInit, not yet computed: the first
 * schedule that reads one computes it, on its own, before its own work (so that every later
 * forward reads the same stored numbers instead of re-deriving the initialiser in its kernels).
 * Until then nothing is drawn: a model whose weights are loaded next (nn.Linear, then
 * loadStateDict or nn.init) never computes the random values it would overwrite.
 */
const initial = new Map<LazyNode, WeakRef<{ readonly node: LazyNode }>>();

/** `owner`'s current node (an initialiser) is computed by the first schedule that reads it. */
export function deferInit(owner: { readonly node: LazyNode }): void {
  if (!owner.node.realized) initial.set(owner.node, new WeakRef(owner));
}

/** `node` is being replaced before it was computed (a loaded value takes its place). */
export function dropInit(node: LazyNode): void {
  initial.delete(node);
}

/** The pending initial values that computing `outputs` reads (forgetting those no tensor holds any more). */
function initialRead(outputs: readonly LazyNode[]): LazyNode[] {
  for (const [n, ref] of initial) if (ref.deref()?.node !== n || n.realized || n.disposed) initial.delete(n);
  const due: LazyNode[] = [];
  const seen = new Set<LazyNode>();
  const stack = [...outputs];
  while (stack.length && initial.size) {
    const n = stack.pop()!;
    if (seen.has(n) || n.realized) continue;
    seen.add(n);
    if (initial.delete(n)) due.push(n);
    stack.push(...n.srcs);
  }
  return due;
}

function run(requested: readonly LazyNode[]): void {
  let outputs = requested;
  const due = initial.size ? initialRead(outputs) : null;
  if (due?.length) {
    schedule(due);
    const done = new Set(due);
    outputs = outputs.filter((n) => !done.has(n));
  }
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

/** What a schedule holds from its start: the buffers it reads and writes, and what they wait for. */
interface Claim {
  readonly bufs: (Buffer | undefined)[];
  readonly waits: Promise<unknown>[];
  readonly leaves: ReadonlySet<Buffer>;
  readonly targets: ReadonlySet<Buffer>;
}

/**
 * Retains every buffer the schedule reads, and gives each store its target's buffer. Runs when
 * the schedule is called, before any await: reads and writes are ordered by call order.
 */
function claim(order: readonly LazyNode[], storeTargets: readonly (readonly [number, number])[]): Claim {
  const bufs = new Array<Buffer | undefined>(order.length);
  const waits: Promise<unknown>[] = [];
  const leaves = new Set<Buffer>();
  order.forEach((n, i) => {
    if (!n.realized) return;
    const b = n.realized as Buffer;
    b.retain();
    bufs[i] = b;
    if (leaves.has(b)) return;
    leaves.add(b);
    // Read-after-write: wait for the write pending on every buffer this schedule reads.
    if (b.ready) waits.push(b.ready);
  });
  const targets = new Set<Buffer>();
  for (const [store, target] of storeTargets) {
    const t = bufs[target]!;
    targets.add(t);
    // Write-after-read: an in-place write waits for every read of the old contents in flight.
    // (A reader that failed does not fail the write.)
    for (const r of t.readers) waits.push(r.then(noop, noop));
    t.retain();
    bufs[store] = t;
  }
  return { bufs, waits, leaves, targets };
}

/** Every later reader of a leaf and every later writer of a target waits for `done`. */
function register(c: Claim, done: Promise<void>): void {
  for (const b of c.leaves) if (!c.targets.has(b)) b.addReader(done);
  for (const t of c.targets) t.pendingWrite(done);
}

/** Gives `node` the buffer the schedule writes for it: readers wait for `done`; a failure takes it back. */
function attachOutput(node: LazyNode, buf: Buffer, done: Promise<void>): void {
  attach(node, buf);
  const ready = done.then(
    () => { node.forgetSources(); },
    (e: unknown) => { if (node.realized === buf) detach(node); throw e; },
  );
  buf.pendingWrite(ready);
  ready.catch(() => {});
}

/** Allocates what the plan keeps (and what aliases share) that has no buffer yet; reads the runtime scalars. */
function prepare(cp: CompiledPlan, order: readonly LazyNode[], bufs: (Buffer | undefined)[], device: Device): RuntimeArgs[] {
  const { steps, aliases } = cp.plan;
  for (const output of cp.stepOuts) if (cp.keep.has(output) && !bufs[output]) bufs[output] = newBuffer(order[output]!, device);
  for (const [, b] of aliases) bufs[b] ??= newBuffer(order[b]!, device);
  for (const [a, b] of aliases) { bufs[b]!.retain(); bufs[a] = bufs[b]; }
  // Runtime scalars are read now: a param node is immutable, but the graph may be gone later.
  return steps.map((s) => s.paramIdx.map((j) => { const a = order[j]!.arg; return a.kind === 'param' ? a.value : NaN; }));
}

/** Kept buffers (outputs, values saved for a backward pass) go to their nodes. */
function attachKept(cp: CompiledPlan, order: readonly LazyNode[], bufs: (Buffer | undefined)[], done: Promise<void>): void {
  const { requested } = cp;
  for (const i of cp.keep) {
    const node = order[i]!;
    if (node.realized) continue; // an output listed twice, a leaf, or attached when the schedule started
    attachOutput(node, bufs[i]!, done);
    node.saved = !requested.has(i);
  }
}

/** After the schedule: saved values a backward pass read go back, and the schedule lets go of its buffers. */
function settle(planOf: () => CompiledPlan | null, order: readonly LazyNode[], key: string, c: Claim, done: Promise<void>): void {
  done.then(() => { if (planOf()?.backward) releaseSaved(order); }, () => {
    // A plan that failed is compiled afresh next time: the fault may have been in its kernels.
    const cp = planOf();
    if (cp && plans.get(key) === cp) plans.delete(key);
  });
  done.finally(() => {
    // The schedule's own references: every output now also has its node's.
    for (const b of c.bufs) b?.release();
  }).catch(() => {});
}

function schedule(outputs: readonly LazyNode[]): void {
  if (!outputs.length) return;
  // One schedule per device: each group's nodes all live there (a node's sources share its device).
  const name = deviceOf(outputs[0]!);
  if (outputs.some((o) => deviceOf(o) !== name)) {
    for (const d of new Set(outputs.map(deviceOf))) scheduleOn(outputs.filter((o) => deviceOf(o) === d), engine.device(d));
    return;
  }
  scheduleOn(outputs, engine.device(name));
}

function scheduleOn(outputs: readonly LazyNode[], device: Device): void {
  engine.counters.schedules++;
  workStarts();
  const prof = hostProfile.enabled;
  const t0 = prof ? performance.now() : 0;
  const w = walkChecked(outputs, device);
  const hit = cachedPlan(w);
  if (!hit && (w.order.length >= COLD_PLAN_NODES || inflightPlan(w))) { scheduleCold(outputs, w, device); return; }
  const cp = hit ?? planNow(outputs, w, device);
  const t1 = prof ? performance.now() : 0;
  const { order } = w;
  const c = claim(order, cp.storeTargets);
  const args = prepare(cp, order, c.bufs, device);
  const t2 = prof ? performance.now() : 0;
  const done = execute(cp, order, c.bufs, device, c.waits, args);
  if (prof) {
    hostProfile.schedules++;
    hostProfile.nodes += w.order.length;
    hostProfile.walkMs += t1 - t0;
    hostProfile.prepareMs += t2 - t1;
    hostProfile.executeSyncMs += performance.now() - t2;
  }
  register(c, done);
  attachKept(cp, order, c.bufs, done);
  settle(() => cp, order, planKeys.of(w), c, done);
}

/**
 * A large graph of a new structure: its outputs get their buffers now (so that graphs built
 * next read them, and their readers wait), and the plan is made across event-loop turns, shared
 * with concurrent schedules of the same structure. Such plans give every output its own kernel.
 */
function scheduleCold(outputs: readonly LazyNode[], w: Walk, device: Device): void {
  const { order } = w;
  const pos = new Map(order.map((n, i) => [n, i] as const));
  const stores = order.flatMap((n, i) => (!n.realized && n.arg.kind === 'store' ? [[i, pos.get(n.srcs[0]!)!] as const] : []));
  const c = claim(order, stores);
  const own = [...new Set(outputs)].filter((o) => !o.realized && o.arg.kind !== 'store');
  for (const o of own) c.bufs[pos.get(o)!] = newBuffer(o, device);
  let cp: CompiledPlan | null = null;
  const done = (async () => {
    cp = await planAcrossTurns(w, outputs, device);
    const written = new Set(cp.plan.steps.flatMap(stepOutputs).map((s) => s.output));
    if (own.some((o) => !written.has(pos.get(o)!))) throw new Error('internal: a plan made across turns does not write every output');
    const args = prepare(cp, order, c.bufs, device);
    const ran = execute(cp, order, c.bufs, device, c.waits, args);
    attachKept(cp, order, c.bufs, ran);
    await ran;
  })();
  register(c, done);
  for (const o of own) { o.saved = false; attachOutput(o, c.bufs[pos.get(o)!]!, done); }
  settle(() => cp, order, planKeys.of(w), c, done);
}

function execute(cp: CompiledPlan, order: readonly LazyNode[], bufs: (Buffer | undefined)[], device: Device, pendingLeaves: Promise<unknown>[], args: readonly RuntimeArgs[]): Promise<void> {
  const steps = (): Promise<void> => runSteps({ steps: cp.plan.steps, kernels: cp.kernels, graph: cp.graph, keep: cp.keep }, order, bufs, device, args, (n) => newBuffer(n, device));
  // Nothing to wait for: the kernels start now, and their promise is the schedule's (no extra hop).
  return pendingLeaves.length ? Promise.all(pendingLeaves).then(steps) : steps();
}
