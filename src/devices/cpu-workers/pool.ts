import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { sharedArena } from './arena.js';
import { KernelCache, runCached, type KernelBinding } from './compile.js';
import { SourceTable } from './sources.js';
import { failChain, runChain, type ChainLink } from './chain.js';
import type { KernelTask } from './worker.js';

/** A kernel failed to compile or run, or its worker died. The message names the kernel key and the cause. */
export class KernelError extends Error {
  override name = 'KernelError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Contiguous ranges over [0, total): at most `parts`, each at least `grain` long (unless total < grain), sizes within one of each other. */
export function splitRanges(total: number, parts: number, grain = 1): Array<[number, number]> {
  if (total <= 0) return [];
  const n = Math.max(1, Math.min(parts, Math.floor(total / Math.max(1, grain))));
  const base = Math.floor(total / n);
  const extra = total % n;
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + base + (i < extra ? 1 : 0);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/**
 * The worker must be plain JS for Node to load it. Under vitest this module
 * runs from src/*.ts, so fall back to the compiled copy in dist/; from the
 * package entry's bundle (dist/bundle/, scripts/bundle.mjs) the per-file build
 * beside it holds the worker.
 */
function workerFile(): string {
  const here = import.meta.url;
  const url = here.endsWith('.ts')
    ? new URL('../../../dist/devices/cpu-workers/worker-entry.cjs', here)
    : new URL('./worker-entry.cjs', here);
  let path = fileURLToPath(url);
  if (!existsSync(path) && !here.endsWith('.ts')) {
    const fromBundle = fileURLToPath(new URL('../devices/cpu-workers/worker-entry.cjs', here));
    if (existsSync(fromBundle)) path = fromBundle;
  }
  // Fail here, in the caller's stack, rather than in every task later.
  if (!existsSync(path)) {
    throw new Error(`CPU worker entry ${path} is missing: build first (npm run build)`);
  }
  return path;
}

// Piscina's own wording when a thread ends under a task; matched to tell a dead worker from a kernel throw.
const WORKER_EXIT = /^worker exited with code/;

/** A kernel that does nothing: each thread's first task, answered once the thread is up. */
const PING: KernelTask = { key: 'born/ping', source: '() => {}', bindings: [], start: 0, end: 0 };

export interface WorkerPoolOptions {
  threads?: number;
  /**
   * Until every thread has started (answered a first no-op task), run() runs a kernel's ranges on
   * the calling thread instead of queueing them behind the threads' start-up (tens of ms, more
   * than a small model's whole first inference). Off by default: a caller that needs its kernels
   * on a worker thread (one that may end or block its thread) must not get the calling thread.
   */
  inlineWhileStarting?: boolean;
  /**
   * With inlineWhileStarting: the threads are spawned this long after the pool is made (or at
   * whenReady()), not at once. Each thread's start-up costs tens of ms of CPU, which on a small
   * machine competes with the calling thread's own first kernels (bench/cold-start.ts).
   */
  startDelayMs?: number;
}

export class WorkerPool {
  readonly threads: number;
  /** Null until the threads are spawned (startDelayMs). */
  private piscina: Piscina<KernelTask, void> | null = null;
  private startTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly inline = new KernelCache(1024);
  /** The sources tasks name instead of carrying (sources.ts). */
  private readonly sources = new SourceTable();
  private destroyed = false;
  private readonly inlineWhileStarting: boolean;
  /** Whether the threads of the current piscina have all answered their first task. */
  private started = false;
  private readyPromise: Promise<void> = Promise.resolve();
  /** Runs not yet settled, so that retire() can let them finish. */
  private readonly inflight = new Set<Promise<void>>();

  /** Runs in flight other than claimed ones: those are done once the caller has seen every unit done. */
  private ranging = 0;

  /** Whether a run (not a claimed one) is still in progress on the pool. */
  get busy(): boolean { return this.ranging > 0; }

  constructor(opts: WorkerPoolOptions = {}) {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`WorkerPool threads must be a positive integer, got ${threads}`);
    }
    this.threads = threads;
    this.inlineWhileStarting = opts.inlineWhileStarting ?? false;
    const delay = this.inlineWhileStarting ? opts.startDelayMs ?? 0 : 0;
    if (delay > 0) {
      this.startTimer = setTimeout(() => this.start(), delay);
      // A short program that is done before the delay must not wait for it to exit.
      this.startTimer.unref();
    } else {
      this.piscina = this.createPiscina();
    }
  }

  /** Spawns the threads now if they are not yet (the delayed start). */
  private start(): Piscina<KernelTask, void> {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    return (this.piscina ??= this.createPiscina());
  }

  /** Whether every thread has started (see WorkerPoolOptions.inlineWhileStarting). */
  get ready(): boolean { return this.started; }

  /** Resolves once every thread has started; never rejects (a failed start is reported by run()). */
  whenReady(): Promise<void> {
    if (!this.destroyed) this.start();
    return this.readyPromise;
  }

  /** One no-op task per thread (concurrentTasksPerWorker 1 spreads them): all answered = all threads up. */
  private ping(piscina: Piscina<KernelTask, void>): void {
    this.started = false;
    this.readyPromise = Promise.all(Array.from({ length: this.threads }, () => piscina.run(PING))).then(
      () => { if (piscina === this.piscina) this.started = true; },
      () => {},
    );
  }

  private createPiscina(): Piscina<KernelTask, void> {
    const piscina = new Piscina<KernelTask, void>({
      filename: workerFile(),
      // All threads up front and never reaped: spawning costs ~23 ms, far more than any task.
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: Infinity,
      // Kernels are synchronous: a second task on the same thread would only wait behind the first.
      concurrentTasksPerWorker: 1,
      // Workers block in Atomics.wait between tasks: ~3x lower round trip than message events.
      atomics: 'sync',
      recordTiming: false,
      // Packed weights live in it, read in place by the workers' kernels (arena.ts).
      workerData: { arena: sharedArena() },
    });
    // Piscina emits 'error' when a worker fails with no task to blame; unhandled, that would crash the process.
    piscina.on('error', () => {});
    // Piscina replaces a worker that dies after starting, but after a failure
    // during a worker's start-up it stops spawning, and queued tasks then wait
    // forever. Checked after the event because the replacement is spawned
    // just after it.
    piscina.on('workerDestroy', () => queueMicrotask(() => this.replaceIfEmpty(piscina)));
    this.ping(piscina);
    return piscina;
  }

  /** A pool with no threads left is swapped for a fresh one; destroying the old one rejects whatever it still had queued. */
  private replaceIfEmpty(piscina: Piscina<KernelTask, void> | null): void {
    if (piscina === null || this.destroyed || piscina !== this.piscina || piscina.threads.length > 0) return;
    this.piscina = this.createPiscina();
    void piscina.destroy();
  }

  /**
   * Runs `source` over [0, total) split into ranges, one task per range. Separate run() calls in
   * flight at once are not ordered against each other (their ranges may run on different threads
   * at the same time): a caller orders runs that touch the same memory, as the scheduler does by
   * awaiting each kernel before the next. `parts` (default: one per thread) caps the ranges.
   */
  run(
    key: string, source: string, bindings: KernelBinding[], total: number,
    opts: { grain?: number; signal?: AbortSignal; args?: readonly number[]; parts?: number } = {},
  ): Promise<void> {
    if (this.destroyed) return Promise.reject(new KernelError(`kernel "${key}": the worker pool is destroyed`));
    if (!Number.isInteger(total) || total < 0) {
      return Promise.reject(new KernelError(`kernel "${key}": total must be a non-negative integer, got ${total}`));
    }
    const ranges = splitRanges(total, opts.parts ?? this.threads, opts.grain ?? 1);
    if (ranges.length === 0) return Promise.resolve();
    this.replaceIfEmpty(this.piscina);
    if (this.inlineWhileStarting && !this.started && !opts.signal) {
      // The same compiled source over the same ranges: the result cannot differ from the pool's.
      try {
        for (const [start, end] of ranges) runCached(this.inline, key, source, bindings, start, end, opts.args);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(this.toKernelError(key, e));
      }
    }
    const runOpts = opts.signal ? { signal: opts.signal } : {};
    const shared = this.sources.ref(source);
    return this.settle(key, ranges.map(([start, end]) =>
      this.start().run(opts.args?.length ? { key, source: shared, bindings, start, end, args: [...opts.args] } : { key, source: shared, bindings, start, end }, runOpts)));
  }

  /**
   * Sends `helpers` tasks that claim chunks of [0, total) from `ctl` (claim.ts) beside the
   * caller, which claims too; null while the threads are still starting (the caller then runs
   * every chunk itself rather than queue them behind the start-up).
   */
  runClaimed(
    key: string, source: string, bindings: KernelBinding[], ctl: Int32Array, total: number, chunk: number,
    helpers: number, args?: readonly number[],
  ): Promise<void> | null {
    if (this.destroyed) return Promise.reject(new KernelError(`kernel "${key}": the worker pool is destroyed`));
    this.replaceIfEmpty(this.piscina);
    if (this.inlineWhileStarting && !this.started) return null;
    const task: KernelTask = { key, source: this.sources.ref(source), bindings, start: 0, end: total, claim: ctl, chunk, ...(args?.length ? { args: [...args] } : {}) };
    return this.settle(key, Array.from({ length: Math.min(helpers, this.threads) }, () => this.start().run(task)), false);
  }

  /**
   * Sends the chain (chain.ts) to `threads` threads (default: every one); settles once each has
   * answered. While the threads are still starting, the calling thread runs it alone instead.
   */
  runChain(links: ChainLink[], ctl: Int32Array, threads = this.threads): Promise<void> {
    const what = `a chain of ${links.length}${links.length ? ` from ${links[0]!.name}` : ''}`;
    if (this.destroyed) return Promise.reject(new KernelError(`kernel ${what}: the worker pool is destroyed`));
    this.replaceIfEmpty(this.piscina);
    if (this.inlineWhileStarting && !this.started) {
      try {
        runChain(this.inline, links, ctl);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(this.toKernelError(what, e));
      }
    }
    const chain = links.map((l) => (typeof l.source === 'string' ? { ...l, source: this.sources.ref(l.source) } : l));
    const task: KernelTask = { key: 'born/chain', source: '', bindings: [], start: 0, end: 0, chain, claim: ctl };
    // A thread that dies leaves its claimed chunks undone: the failure flag wakes the others waiting for them.
    return this.settle(what, Array.from({ length: Math.max(1, Math.min(threads, this.threads)) }, () => this.start().run(task).catch((e: unknown) => {
      failChain(ctl);
      throw e;
    })));
  }

  /** One promise for a run's tasks, tracked in flight until all have settled. */
  private settle(key: string, tasks: Promise<void>[], ranged = true): Promise<void> {
    // allSettled, not all: reject only once no range is still writing, so the
    // caller may free or reuse the buffers as soon as the promise settles.
    const all = Promise.allSettled(tasks);
    const settled = all.then(() => {});
    this.inflight.add(settled);
    if (ranged) this.ranging++;
    void settled.then(() => { this.inflight.delete(settled); if (ranged) this.ranging--; });
    return all.then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw this.toKernelError(key, failed.reason);
    });
  }

  /** Lets the runs in flight finish, then stops the threads (a resized pool replaces this one). */
  async retire(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    await this.destroy();
  }

  runInline(key: string, source: string, bindings: KernelBinding[], start: number, end: number): void {
    try {
      runCached(this.inline, key, source, bindings, start, end);
    } catch (e) {
      throw new KernelError(`kernel "${key}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    await this.piscina?.destroy();
  }

  private toKernelError(key: string, reason: unknown): KernelError {
    const message = reason instanceof Error ? reason.message : String(reason);
    if (reason instanceof Error && WORKER_EXIT.test(message)) {
      return new KernelError(`kernel "${key}": worker thread died (${message})`, { cause: reason });
    }
    if (reason instanceof Error && reason.name === 'AbortError') {
      return new KernelError(`kernel "${key}": aborted`, { cause: reason });
    }
    return new KernelError(`kernel "${key}": ${message}`, { cause: reason });
  }
}
