/**
 * Dynamic batching for one model: requests wait in a bounded queue and are merged along dim 0 into
 * one run of up to maxBatch rows, once the oldest has waited maxWaitMs or the rows are there. The
 * merged batch is padded with zero rows to the next of four sizes per power of two (capped at
 * maxBatch: …, 16, 20, 24, 28, 32, 40, …), so a model sees a handful of batch sizes per octave and
 * the plan cache a handful of plans, and a padded batch computes at most a quarter more rows than
 * it holds (a power of two wasted up to half: 17 rows ran as 32); each request gets its rows
 * of every output back. Up to `inFlight` batches of a model run at once (a second one's kernels
 * fill the workers while the first waits for the event loop to hand it its next kernel); what
 * arrives while they run waits and joins the next one.
 */
import { newArray, type TypedArray } from '../graph/dtype.js';
import type { NpyArray } from '../io/npy.js';
import type { Servable } from './servable.js';

export interface BatchOptions {
  /** Rows per run at most (a lone request with more rows runs alone, unpadded). */
  readonly maxBatch: number;
  /** How long the oldest queued request waits for others before its batch runs. */
  readonly maxWaitMs: number;
  /** Requests waiting at most; past it submit() throws Overloaded. */
  readonly queue: number;
  /** Milliseconds from submit() to the answer at most; past it the request fails with DeadlineExceeded. */
  readonly timeoutMs: number;
  /** Batches of this model running at once at most. */
  readonly inFlight: number;
}

export interface BatchEvents {
  queueDepth(n: number): void;
  /** A batch ran: its real rows (before padding) and requests. */
  batch(rows: number, requests: number): void;
}

/** Why a request got no answer; `status` is its HTTP status. */
export class ServeError extends Error {
  override name = 'ServeError';
  constructor(message: string, readonly status: number, readonly kind: 'overloaded' | 'deadline' | 'cancelled' | 'model' | 'worker' | 'draining') {
    super(message);
  }
}

type Outputs = Record<string, NpyArray>;

interface Pending {
  readonly inputs: Readonly<Record<string, NpyArray>>;
  readonly rows: number;
  /** Requests merge only when every input has the same shape past dim 0. */
  readonly key: string;
  readonly since: number;
  resolve(o: Outputs): void;
  reject(e: ServeError): void;
  done: boolean;
}

const rowKey = (inputs: Readonly<Record<string, NpyArray>>): string =>
  Object.entries(inputs).map(([k, a]) => `${k}:${a.dtype}:${a.shape.slice(1).join('x')}`).join('|');

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The batch size a run of `rows` rows is padded to: a multiple of an eighth of the next power of two. */
export function bucket(rows: number, maxBatch: number): number {
  if (rows >= maxBatch) return rows;
  const step = Math.max(1, nextPow2(rows) / 8);
  return Math.min(Math.ceil(rows / step) * step, maxBatch);
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<void>>();
  private flushing = false;

  constructor(
    private readonly name: string,
    private readonly model: () => Servable,
    private readonly opts: BatchOptions,
    private readonly events: BatchEvents,
  ) {}

  get depth(): number { return this.queue.length; }

  /**
   * Queues a request; resolves with its outputs. An abort of `signal` (the client went away)
   * drops it from the queue; once its batch runs, it runs to the end and the answer is dropped.
   */
  submit(inputs: Readonly<Record<string, NpyArray>>, signal?: AbortSignal): Promise<Outputs> {
    if (this.queue.length >= this.opts.queue) {
      return Promise.reject(new ServeError(`model '${this.name}': the queue is full (${this.opts.queue} requests waiting); retry later`, 503, 'overloaded'));
    }
    const model = this.model();
    const rows = model.batched ? Object.values(inputs)[0]?.shape[0] ?? 1 : 1;
    return new Promise<Outputs>((resolve, reject) => {
      const p: Pending = {
        inputs, rows, key: rowKey(inputs), since: performance.now(), done: false,
        resolve: (o) => { if (!p.done) { p.done = true; cleanup(); resolve(o); } },
        reject: (e) => { if (!p.done) { p.done = true; cleanup(); reject(e); } },
      };
      const deadline = setTimeout(() => {
        this.remove(p);
        p.reject(new ServeError(`model '${this.name}': no answer within the deadline of ${this.opts.timeoutMs} ms`, 504, 'deadline'));
      }, this.opts.timeoutMs);
      const onAbort = (): void => {
        this.remove(p);
        p.reject(new ServeError(`model '${this.name}': the client closed the connection`, 499, 'cancelled'));
      };
      const cleanup = (): void => { clearTimeout(deadline); signal?.removeEventListener('abort', onAbort); };
      if (signal?.aborted) { onAbort(); return; }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(p);
      this.events.queueDepth(this.queue.length);
      this.schedule();
    });
  }

  /** From now on, queued requests run without waiting for others (draining). */
  flush(): void {
    this.flushing = true;
    this.schedule();
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.queue.length || this.running.size) await (this.running.size ? Promise.race(this.running) : new Promise((r) => setTimeout(r, 1)));
  }

  private remove(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.events.queueDepth(this.queue.length);
  }

  private schedule(): void {
    if (this.running.size >= this.opts.inFlight || this.queue.length === 0) return;
    const rows = this.queue.reduce((n, p) => n + p.rows, 0);
    const waited = performance.now() - this.queue[0]!.since;
    if (this.flushing || rows >= this.opts.maxBatch || waited >= this.opts.maxWaitMs || !this.model().batched) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      const run: Promise<void> = this.runBatch(this.take()).finally(() => {
        this.running.delete(run);
        this.schedule();
      });
      this.running.add(run);
      this.schedule();
      return;
    }
    // Unref'd: a listening server keeps the process up anyway, and a drained one should not wait for it.
    this.timer ??= setTimeout(() => { this.timer = null; this.schedule(); }, this.opts.maxWaitMs - waited).unref();
  }

  /** The head of the queue and the requests after it that fit and share its row shapes. */
  private take(): Pending[] {
    const head = this.queue[0]!;
    const batch = [head];
    let rows = head.rows;
    if (this.model().batched) {
      for (const p of this.queue.slice(1)) {
        if (rows + p.rows > this.opts.maxBatch) break;
        if (p.key !== head.key) continue;
        batch.push(p);
        rows += p.rows;
      }
    }
    for (const p of batch) this.queue.splice(this.queue.indexOf(p), 1);
    this.events.queueDepth(this.queue.length);
    return batch;
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const model = this.model();
    const rows = batch.reduce((n, p) => n + p.rows, 0);
    this.events.batch(rows, batch.length);
    try {
      if (!model.batched) { batch[0]!.resolve(await model.run(batch[0]!.inputs)); return; }
      const size = bucket(rows, this.opts.maxBatch);
      const merged: Record<string, NpyArray> = {};
      for (const name of Object.keys(batch[0]!.inputs)) merged[name] = concatRows(batch.map((p) => p.inputs[name]!), size);
      const out = await model.run(merged);
      let start = 0;
      for (const p of batch) {
        const mine: Outputs = {};
        for (const [name, a] of Object.entries(out)) {
          if (a.shape[0] !== size) throw new Error(`output '${name}' has ${a.shape[0]} rows for a batch of ${size}: the model does not keep dim 0 as the batch`);
          mine[name] = sliceRows(a, start, p.rows);
        }
        start += p.rows;
        p.resolve(mine);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const died = /worker thread died/.test(message);
      const err = died
        ? new ServeError(`model '${this.name}': a worker thread died while running this batch of ${batch.length} requests (${message}); the pool replaces it and the server keeps serving`, 500, 'worker')
        : new ServeError(`model '${this.name}': the model failed on this batch: ${message}`, 500, 'model');
      for (const p of batch) p.reject(err);
    }
  }
}

const rowSize = (a: NpyArray): number => a.shape.slice(1).reduce((x, d) => x * d, 1);

/** The arrays one after another along dim 0, then zero rows up to `rows`. */
function concatRows(parts: readonly NpyArray[], rows: number): NpyArray {
  const first = parts[0]!;
  const per = rowSize(first);
  const data = newArray(first.dtype, rows * per) as TypedArray;
  let at = 0;
  for (const a of parts) {
    (data as Float32Array).set(a.data as Float32Array, at);
    at += a.data.length;
  }
  return { dtype: first.dtype, shape: [rows, ...first.shape.slice(1)], data };
}

function sliceRows(a: NpyArray, start: number, rows: number): NpyArray {
  const per = rowSize(a);
  return { dtype: a.dtype, shape: [rows, ...a.shape.slice(1)], data: a.data.slice(start * per, (start + rows) * per) };
}
