/**
 * Runs the steps of a plan, each as soon as the steps it waits for (step-deps.ts) are done:
 * a kernel that does not read what a running one writes starts beside it, so small kernels that
 * each fill part of the pool share it, and inline kernels run on the main thread while the pool
 * works. A step starts once what it waits for is done, at most LOOKAHEAD steps past the first
 * one not yet started (ready ones in plan order), at most MAX_IN_FLIGHT at a time. A temporary goes back to the
 * device once its last reader is done. A failing kernel stops new starts; the run rejects once
 * no started kernel is still writing, so the caller may free every buffer.
 *
 * Where the device runs chains (Device.runChain) and the calling thread has other work, a ready
 * step and the steps after it that wait only on it and each other start as one chain, which the
 * device runs in order without coming back between kernels.
 */
import { RAN_INLINE, type CompiledKernel, type Device, type DeviceBuffer, type RuntimeArgs } from '../devices/device.js';
import type { LazyNode } from '../graph/node.js';
import type { Buffer } from './buffers.js';
import { engine } from './engine.js';
import { hostProfile } from './host-profile.js';
import { IndexRecords } from './index-checks.js';
import type { Step } from './schedule.js';
import type { StepGraph } from './step-deps.js';
import { workDone, yieldIfDue } from './turns.js';

/** Kernels started and not yet done, at most: bounds the memory a schedule holds at once. */
export const MAX_IN_FLIGHT = 8;
/** Kernels in one chain (Device.runChain), at most: their outputs are all made when it starts. */
export const MAX_CHAIN = 16;
/** How far past the first step not yet started a ready step may start. */
export const LOOKAHEAD = 16;

export interface StepRun {
  readonly steps: readonly Step[];
  readonly kernels: readonly CompiledKernel[];
  readonly graph: StepGraph;
  /** Outputs that keep their buffers after the schedule. */
  readonly keep: ReadonlySet<number>;
}

const noop = (): void => {};

/** Schedules running now, of every plan: more than one means the calling thread is contended. */
let running = 0;

export async function runSteps(
  r: StepRun, order: readonly LazyNode[], bufs: (Buffer | undefined)[], device: Device,
  args: readonly RuntimeArgs[], newBuffer: (n: LazyNode) => Buffer,
): Promise<void> {
  const { steps, kernels, graph, keep } = r;
  const listen = engine.listenerCount('kernel') > 0;
  const records = new IndexRecords(device, steps);
  const left = graph.readers.slice();
  const started = new Uint8Array(steps.length);
  const done = new Uint8Array(steps.length);
  const inFlight = new Set<Promise<void>>();
  let failed = false;
  let failure: unknown;

  const finish = (si: number, t0: number): void => {
    const step = steps[si]!;
    if (listen) {
      const k = step.kernel;
      engine.emit('kernel', { name: k.name, device: device.name, ops: k.ops, ms: performance.now() - t0, bytes: k.bytes, flops: k.flops });
    }
    // Temporaries go back to the device as soon as their last reader is done, for reuse below.
    for (const j of step.inputIdx) {
      if (--left[j]! === 0 && !keep.has(j) && !order[j]!.realized) {
        bufs[j]?.release();
        bufs[j] = undefined;
      }
    }
  };

  /** The step's buffers, its output's made now: output, inputs, index records, further outputs. */
  const bindStep = (si: number): DeviceBuffer[] => {
    const step = steps[si]!;
    const out = bufs[step.output] ??= newBuffer(order[step.output]!);
    const bound = [out.buf, ...step.inputIdx.map((j) => bufs[j]!.buf), ...records.bind(si)];
    // A multi-output kernel's further outputs are bound last (Kernel.extraOutputs).
    if (step.extraOutputs) for (const o of step.extraOutputs) bound.push((bufs[o.output] ??= newBuffer(order[o.output]!)).buf);
    return bound;
  };

  const fail = (e: unknown): void => {
    if (!failed) { failed = true; failure = e; }
  };

  const start = (si: number): void => {
    started[si] = 1;
    const prof = hostProfile.enabled;
    const t0 = listen || prof ? performance.now() : 0;
    let ran: Promise<void>;
    try {
      ran = device.run(kernels[si]!, bindStep(si), args[si], running > 1);
    } catch (e) {
      ran = Promise.reject(e);
    }
    if (prof) {
      const ms = performance.now() - t0;
      if (ran === RAN_INLINE) { hostProfile.inlineKernels++; hostProfile.inlineMs += ms; } else { hostProfile.poolKernels++; hostProfile.dispatchMs += ms; }
    }
    if (ran === RAN_INLINE) {
      // Done already: the next ready step starts in this same pass, with no promise per kernel.
      done[si] = 1;
      try { finish(si, t0); } catch (e) { fail(e); }
      return;
    }
    track(ran, [si], t0);
  };

  const track = (ran: Promise<void>, members: readonly number[], t0: number): void => {
    const tracked: Promise<void> = ran.then(() => {
      for (const si of members) done[si] = 1;
      try { for (const si of members) finish(si, t0); } catch (e) { fail(e); }
    }, fail).finally(() => { inFlight.delete(tracked); });
    inFlight.add(tracked);
  };

  // Kernel events time each kernel on its own, so a listener gets no chains.
  const chains = device.runChain !== undefined && device.offloads !== undefined && !listen;

  /**
   * The chain (Device.runChain) that would start at ready step `first`: it and the steps after it
   * in plan order, not started, that wait only for steps done or in the chain. Steps that would
   * run inline belong too, as may lead it when the step after leaves: the round trip is paid
   * anyway, and the calling thread has other work (born serve's CNN ran 11% of its HTTP thread's
   * time in such kernels). Null unless it has two steps or more and one of them would leave the
   * calling thread (one alone is a plain run).
   */
  const chainFrom = (first: number): number[] | null => {
    const contended = running > 1;
    const offloads = (si: number): boolean => device.offloads!(kernels[si]!, contended);
    // An inline step leads a chain only when the next one leaves (a CNN's im2col before its
    // first matmul): looking further for every inline step would cost more than it saves.
    const leads = offloads(first);
    if (!leads && !(first + 1 < steps.length && offloads(first + 1))) return null;
    const members = [first];
    const inChain = new Set(members);
    let leaving = leads ? 1 : 0;
    for (let si = first + 1; si < steps.length && members.length < MAX_CHAIN; si++) {
      if (started[si] || !graph.after[si]!.every((d) => done[d] || inChain.has(d))) continue;
      members.push(si);
      inChain.add(si);
      if (offloads(si)) leaving++;
    }
    return leaving >= 1 && members.length >= 2 ? members : null;
  };

  const startChain = (members: readonly number[]): void => {
    for (const si of members) started[si] = 1;
    const prof = hostProfile.enabled;
    const t0 = prof ? performance.now() : 0;
    let ran: Promise<void>;
    try {
      ran = device.runChain!(members.map((si) => ({ k: kernels[si]!, bufs: bindStep(si), args: args[si] ?? [] })));
    } catch (e) {
      ran = Promise.reject(e);
    }
    if (prof) { hostProfile.poolKernels += members.length; hostProfile.dispatchMs += performance.now() - t0; }
    track(ran, members, t0);
  };

  running++;
  try {
    const n = steps.length;
    let next = 0; // every step before it has started
    while (next < n && !failed) {
      let startedAny = false;
      for (let si = next; si < n && si < next + LOOKAHEAD && inFlight.size < MAX_IN_FLIGHT && !failed; si++) {
        if (started[si] || !graph.after[si]!.every((d) => done[d])) continue;
        // Inline kernels resolve at once: without this the event loop would wait for the whole schedule.
        const turn = yieldIfDue();
        if (turn) await turn;
        if (failed) break;
        const chain = chains ? chainFrom(si) : null;
        if (chain) startChain(chain);
        else start(si);
        startedAny = true;
      }
      while (next < n && started[next]) next++;
      if (!startedAny && inFlight.size) await Promise.race(inFlight);
    }
    while (inFlight.size) await Promise.all(inFlight).then(noop, noop);
    // A device that batches its kernels sends them now; its failures are the schedule's.
    if (device.flush) await device.flush().catch((e: unknown) => { if (!failed) { failed = true; failure = e; } });
  } finally {
    running--;
  }
  workDone();
  if (failed) throw failure;
  // After every kernel, not between them: a bad index rejects this schedule's outputs.
  if (records.bound) await records.report();
}
