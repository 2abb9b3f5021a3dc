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
import { IndexRecords } from './index-checks.js';
import { plan, walk, type Plan } from './schedule.js';
import { yieldIfDue } from './turns.js';

interface CompiledPlan {
  readonly plan: Plan;
  readonly kernels: readonly CompiledKernel[];
  /** Per topological index: the last step that reads it, or -1. */
  readonly lastRead: readonly number[];
  /**
   * Step outputs that keep their buffer after the schedule: the requested outputs, and
   * intermediates on a gradient path (like PyTorch's saved tensors, the backward pass reads them
   * instead of computing the forward pass again). requiresGrad is part of the plan key.
   */
  readonly keep: ReadonlySet<number>;
}

const MAX_PLANS = 512;
const plans = new Map<string, CompiledPlan>();

function compilePlan(p: Plan, order: readonly LazyNode[], device: Device): CompiledPlan {
  const lastRead = new Array<number>(order.length).fill(-1);
  p.steps.forEach((s, i) => { for (const j of s.inputIdx) lastRead[j] = i; });
  const keep = new Set(p.outputs);
  for (const s of p.steps) if (order[s.output]!.requiresGrad) keep.add(s.output);
  return { plan: p, kernels: p.steps.map((s) => device.compile(s.kernel)), lastRead, keep };
}

function newBuffer(node: LazyNode, device: Device): Buffer {
  return new Buffer(device, device.alloc(numel(node.shape) * itemBytes[node.dtype]));
}

function getPlan(outputs: readonly LazyNode[], device: Device): { cp: CompiledPlan; order: readonly LazyNode[]; key: string } {
  const w = walk(outputs);
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
  const data = (await buf.dev.read(buf.buf, node.dtype, numel(node.shape))) as TypedArray;
  // The caller's next step (building and planning its next request) also runs on this turn.
  const turn = yieldIfDue();
  if (turn) await turn;
  return data;
}

export async function realize(nodes: readonly LazyNode[]): Promise<void> {
  for (const n of nodes) {
    if (n.disposed) throw new Error('realize: the tensor was disposed');
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
  for (const i of keep) {
    const node = order[i]!;
    if (node.realized) continue; // an output listed twice, or a leaf
    const buf = bufs[i]!;
    attach(node, buf);
    buf.ready = done.then(
      () => { buf.ready = null; node.forgetSources(); },
      (e: unknown) => { if (node.realized === buf) detach(node); throw e; },
    );
    buf.ready.catch(() => {});
  }
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
  const records = new IndexRecords(device, steps.map((s) => s.kernel));
  for (let si = 0; si < steps.length; si++) {
    // Inline kernels resolve at once: without this the event loop would wait for the whole schedule.
    const turn = yieldIfDue();
    if (turn) await turn;
    const step = steps[si]!;
    const out = bufs[step.output] ??= newBuffer(order[step.output]!, device);
    const t0 = listen ? performance.now() : 0;
    await device.run(cp.kernels[si]!, [out.buf, ...step.inputIdx.map((j) => bufs[j]!.buf), ...records.bind(si)]);
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
  await records.report();
}
