// Chains: several kernels, each reading what the ones before it wrote, sent to the workers as one
// task. Every thread that takes the task runs the links in order: it claims chunks of a link's
// units from that link's counters (claim.ts's loop), then waits until the link's
// last chunk is done, then moves on. No message goes back to the calling thread between kernels,
// so its event loop (busy with a server's HTTP, say) no longer paces the kernels: a CNN forward of
// nine kernels is one round trip instead of nine. A thread that joins late takes up the link
// then current; one that never joins only costs its empty task.
//
// Shared by the main thread and the workers, so it imports only dependency-free modules.
import { runClaimed } from './claim.js';
import type { KernelBinding, KernelCache } from './compile.js';
import type { KernelSource } from './sources.js';

/** One kernel of a chain: its compiled key and source, its bindings and its units, claimed `chunk` at a time. */
export interface ChainLink {
  /** For errors: the kernel's name. */
  name: string;
  key: string;
  source: KernelSource;
  bindings: KernelBinding[];
  total: number;
  chunk: number;
  args?: number[];
}

/** Slots: link i's next unclaimed unit at 2i, its units done at 2i + 1; the failure flag last. */
export const chainControl = (links: number): Int32Array => new Int32Array(new SharedArrayBuffer((2 * links + 1) * 4));

/** Loads of a link's done count before a waiting thread sleeps: the last chunk is usually microseconds away. */
const SPINS = 2000;
/** A sleeping thread wakes at least this often (ms) to look again: the notify is the usual way. */
const WAIT_MS = 5;

/** Marks the chain failed and wakes every thread waiting on one of its links. */
export function failChain(ctl: Int32Array): void {
  const failed = ctl.length - 1;
  Atomics.store(ctl, failed, 1);
  for (let d = 1; d < failed; d += 2) Atomics.notify(ctl, d);
}

/** Whether link `i` is done, waiting for it; false once the chain has failed. */
function awaitLink(ctl: Int32Array, i: number, total: number): boolean {
  const done = 2 * i + 1, failed = ctl.length - 1;
  for (let spin = 0; ; spin++) {
    const d = Atomics.load(ctl, done);
    if (d >= total) return true;
    if (Atomics.load(ctl, failed) !== 0) return false;
    if (spin >= SPINS) Atomics.wait(ctl, done, d, WAIT_MS);
  }
}

/**
 * Runs the chain's links in order on this thread, beside any others that run it too, until the
 * last is done or the chain has failed. A chunk that throws fails the chain (the other threads
 * stop at their next claim) and rethrows, naming its kernel. Returns the units this thread ran.
 */
export function runChain(cache: KernelCache, links: readonly ChainLink[], ctl: Int32Array): number {
  const failed = ctl.length - 1;
  let ran = 0;
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    try {
      ran += runClaimed(cache, l.key, l.source, l.bindings, ctl, l.total, l.chunk, l.args, { next: 2 * i, done: 2 * i + 1, failed }, failChain);
    } catch (e) {
      throw new Error(`kernel ${l.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!awaitLink(ctl, i, l.total)) break;
  }
  return ran;
}

/** Whether every link of the chain is done. */
export function chainDone(ctl: Int32Array, links: readonly { total: number }[]): boolean {
  return links.every((l, i) => Atomics.load(ctl, 2 * i + 1) >= l.total);
}
