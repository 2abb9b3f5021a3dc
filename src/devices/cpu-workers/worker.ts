// Piscina worker entry. Loaded by plain Node from dist/, so it imports only compile.js and arena.js.
import { workerData } from 'node:worker_threads';
import { adoptArena } from './arena.js';
import { describeThrown, KernelCache, runCached, type KernelBinding } from './compile.js';
import { runChain, type ChainLink } from './chain.js';
import { runClaimed } from './claim.js';
import type { KernelSource } from './sources.js';
import { adoptStampsFromBindings } from './write-stamps.js';

// The device thread's packed-weight arena, before any kernel (pool.ts passes it).
adoptArena((workerData as { arena?: unknown } | null)?.arena);
// Operand copies kept across calls (matmul/resident.ts) follow the stamps the bindings bring.
adoptStampsFromBindings();

export interface KernelTask {
  key: string;
  source: KernelSource;
  bindings: KernelBinding[];
  start: number;
  end: number;
  /** The kernel's runtime scalars (absent when it has none). */
  args?: number[];
  /** A claimed run (claim.ts): chunks of `chunk` units of [0, end) taken from this control block, not [start, end). */
  claim?: Int32Array;
  chunk?: number;
  /** A chain (chain.ts): these kernels in order, their units claimed from `claim`; key, source and bindings unused. */
  chain?: ChainLink[];
}

// An exception that escapes a kernel asynchronously (a stray microtask or
// timer) would otherwise reach piscina as a worker 'error' event; with
// atomics: 'sync' that path leaks a MessagePort in piscina 5.3.2, which keeps
// the process alive after destroy(). Keep the thread alive and report the
// exception as the failure of a task instead.
let escaped: unknown = null;
let hasEscaped = false;
process.on('uncaughtException', (e) => {
  if (!hasEscaped) escaped = e;
  hasEscaped = true;
});

// One cache per thread: each worker compiles a kernel the first time it sees its key.
const cache = new KernelCache(1024);

export default async function runTask(task: KernelTask): Promise<void> {
  if (task.chain) runChain(cache, task.chain, task.claim!);
  else if (task.claim) runClaimed(cache, task.key, task.source, task.bindings, task.claim, task.end, task.chunk ?? 1, task.args);
  else runCached(cache, task.key, task.source, task.bindings, task.start, task.end, task.args);
  // One turn of the microtask queue lets this kernel's own stray microtasks
  // throw now, so they are blamed on it rather than on the next task.
  await null;
  if (hasEscaped) {
    const e = escaped;
    escaped = null;
    hasEscaped = false;
    throw new Error(`an exception escaped asynchronously (from this kernel or an earlier one on this thread): ${describeThrown(e)}`);
  }
}
