// Claimed runs: the calling thread and the workers take a kernel's units in chunks from one
// shared counter, instead of each running a range fixed in advance. A worker that wakes late
// (on a 2-vCPU VM a thread asleep for a millisecond or more takes ~0.3 ms to answer) then
// simply takes fewer chunks, while the calling thread, already running, takes the rest: a
// fixed half would have kept the whole kernel waiting for the late one.
//
// Shared by the main thread and the workers, so it imports only dependency-free modules.
import { prepareCached, type KernelArgs, type KernelBinding, type KernelCache } from './compile.js';
import type { KernelSource } from './sources.js';

/** Slots of a claimed run's control block (an Int32Array over a SharedArrayBuffer). */
const NEXT = 0, DONE = 1, FAILED = 2;
const SLOTS = 3;

/** A fresh control block: no unit claimed or done yet. One per run, so a late thread never claims from the next run's. */
export const claimControl = (): Int32Array => new Int32Array(new SharedArrayBuffer(SLOTS * 4));

/** Where a claimed run's counters lie in its control block: one run's (above), or a chain link's (chain.ts). */
export interface ClaimSlots { readonly next: number; readonly done: number; readonly failed: number }
const RUN_SLOTS: ClaimSlots = { next: NEXT, done: DONE, failed: FAILED };

/**
 * Runs chunks of `chunk` units from [0, total) claimed from `ctl` until none are left or another
 * thread has failed; a chunk that throws marks the run failed (`fail`: the others stop claiming)
 * and rethrows. The thread that completes the last unit wakes those waiting on `done`. Returns the
 * units this thread ran.
 */
export function runClaimed(
  cache: KernelCache, key: string, source: KernelSource, bindings: readonly KernelBinding[],
  ctl: Int32Array, total: number, chunk: number, args?: KernelArgs,
  at: ClaimSlots = RUN_SLOTS, fail: (ctl: Int32Array) => void = failClaims,
): number {
  let ran = 0, run: ((start: number, end: number) => void) | null = null;
  while (Atomics.load(ctl, at.failed) === 0) {
    const start = Atomics.add(ctl, at.next, chunk);
    if (start >= total) break;
    const end = Math.min(total, start + chunk);
    try {
      // Compiled and bound once, on the first chunk claimed: a late thread that claims none pays nothing.
      run ??= prepareCached(cache, key, source, bindings, args);
      run(start, end);
    } catch (e) {
      fail(ctl);
      throw e;
    }
    if (Atomics.add(ctl, at.done, end - start) + end - start >= total) Atomics.notify(ctl, at.done);
    ran += end - start;
  }
  return ran;
}

/** Marks the run failed so that no thread claims another chunk (their current ones still finish). */
export function failClaims(ctl: Int32Array): void { Atomics.store(ctl, FAILED, 1); }

/**
 * Whether all `total` units are done, spinning up to `spinMs` for the chunks other threads are
 * still running. The calling thread spins rather than sleeps: it has nothing else to do, and the
 * thread it waits for runs on another core (a claimed run uses one thread fewer than the pool).
 */
export function claimsDone(ctl: Int32Array, total: number, spinMs: number): boolean {
  if (Atomics.load(ctl, DONE) >= total) return true;
  const until = performance.now() + spinMs;
  while (Atomics.load(ctl, FAILED) === 0 && performance.now() < until) {
    if (Atomics.load(ctl, DONE) >= total) return true;
  }
  return Atomics.load(ctl, DONE) >= total;
}
