/**
 * realize(): the only place computation starts. Walks the requested graph, replays a cached plan
 * for graphs of the same structure (a training loop pays for fusion once), allocates buffers as
 * kernels need them, frees each temporary after its last reader, and hands the outputs their
 * buffers. Outputs are marked pending at once, so graph building for the next step overlaps this
 * one; a failing kernel rejects every pending output and leaves the engine usable.
 */
import type { CompiledKernel, Device } from '../devices/device.js';
import { itemBytes, type TypedArray } from '../graph/dtype.js';
import type { LazyNode } from '../graph/node.js';
import { numel } from '../graph/shape.js';
import { attach, Buffer, detach } from './buffers.js';
import { engine } from './engine.js';
import { plan, walk, type Plan } from './schedule.js';

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

const MAX_PLANS = 512;
const plans = new Map<string, CompiledPlan>();

function compilePlan(p: Plan, order: readonly LazyNode[], device: Device): CompiledPlan {
  const lastRead = new Array<number>(order.length).fill(-1);
  p.steps.forEach((s, i) => { for (const j of s.inputIdx) lastRead[j] = i; });
  const backward = isBackwardPass(order);
  const keep = new Set(p.outputs);
  // A backward pass reads the forward values it needs within this schedule; keeping them would
  // only pin memory until the garbage collector runs (PyTorch's retain_graph=False).
  if (!backward) for (const s of p.steps) if (order[s.output]!.requiresGrad) keep.add(s.output);
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
  if (cp) {
    plans.delete(w.key); // re-insert: Map order is our LRU order
  } else {
    cp = compilePlan(plan(outputs, w), w.order, device);
    if (plans.size >= MAX_PLANS) plans.delete(plans.keys().next().value!);
  }
  plans.set(w.key, cp);
  return { cp, order: w.order, key: w.key };
}

/** The plan without running it. */
export function planFor(outputs: readonly LazyNode[]): Plan {
  return getPlan(outputs, engine.device()).cp.plan;
}

/** Computes `node` and copies its values out, row-major. */
export async function readNode(node: LazyNode): Promise<TypedArray> {
  await realize([node]);
  const buf = node.realized as Buffer;
  if (buf.ready) await buf.ready;
  return (await buf.dev.read(buf.buf, node.dtype, numel(node.shape))) as TypedArray;
}

export async function realize(nodes: readonly LazyNode[]): Promise<void> {
  for (const n of nodes) {
    if (n.disposed) throw new Error('realize: the tensor was disposed');
    n.saved = false; // asked for by name: an output now, which a backward pass does not release
  }
  const todo = [...new Set(nodes.filter((n) => !n.realized))];
  if (todo.length) run(todo);
  for (const n of nodes) {
    const r = n.realized?.ready;
    if (r) await r;
  }
}

function run(outputs: readonly LazyNode[]): void {
  const device = engine.device();
  const { cp, order, key } = getPlan(outputs, device);
  const { steps, aliases } = cp.plan;
  const bufs = new Array<Buffer | undefined>(order.length);
  const pendingLeaves: Promise<void>[] = [];
  order.forEach((n, i) => {
    if (!n.realized) return;
    const b = n.realized as Buffer;
    b.retain();
    bufs[i] = b;
    if (b.ready) pendingLeaves.push(b.ready);
  });
  const alloc = (i: number): Buffer => (bufs[i] = newBuffer(order[i]!, device));
  // Kept buffers exist now, so they can be read or used as inputs while this schedule runs.
  const { keep } = cp;
  for (const s of steps) if (keep.has(s.output)) alloc(s.output);
  for (const [, b] of aliases) if (!bufs[b]) alloc(b);
  for (const [a, b] of aliases) { bufs[b]!.retain(); bufs[a] = bufs[b]; }

  const done = execute(cp, order, bufs, device, pendingLeaves);
  // Observed through the outputs' ready promises. A plan that failed is compiled afresh next time:
  // the fault may have been in the plan's kernels, not in the data.
  done.catch(() => { if (plans.get(key) === cp) plans.delete(key); });
  const requested = new Set(cp.plan.outputs);
  for (const i of keep) {
    const node = order[i]!;
    if (node.realized) continue; // an output listed twice, or a leaf
    const buf = bufs[i]!;
    attach(node, buf);
    node.saved = !requested.has(i);
    buf.ready = done.then(
      () => { buf.ready = null; node.forgetSources(); },
      (e: unknown) => { if (node.realized === buf) detach(node); throw e; },
    );
    buf.ready.catch(() => {});
  }
  if (cp.backward) done.then(() => releaseSaved(order), () => {});
  done.finally(() => {
    // The schedule's own references: every output now also has its node's.
    for (let i = 0; i < bufs.length; i++) bufs[i]?.release();
  }).catch(() => {});
}

async function execute(cp: CompiledPlan, order: readonly LazyNode[], bufs: (Buffer | undefined)[], device: Device, pendingLeaves: Promise<void>[]): Promise<void> {
  if (pendingLeaves.length) await Promise.all(pendingLeaves);
  const { steps } = cp.plan;
  const { keep } = cp;
  const listen = engine.listenerCount('kernel') > 0;
  for (let si = 0; si < steps.length; si++) {
    const step = steps[si]!;
    const out = bufs[step.output] ??= newBuffer(order[step.output]!, device);
    const t0 = listen ? performance.now() : 0;
    await device.run(cp.kernels[si]!, [out.buf, ...step.inputIdx.map((j) => bufs[j]!.buf)]);
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
}
