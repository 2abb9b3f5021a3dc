/**
 * DataLoader: batches a dataset into born Tensors, with seeded per-epoch shuffling and
 * prefetch.
 *
 *   const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1 });
 *   for (let epoch = 0; epoch < 3; epoch++)
 *     for await (const { x, y } of loader) { … }   // x float32 [B, ...xShape], y int32 [B]
 *
 * Epochs: every `for await` over the loader is one epoch, and the loader counts them: the
 * first iteration shuffles with epoch 0, the next with epoch 1, and so on, so a plain loop
 * reshuffles each epoch and a rerun with the same seed repeats the same orders.
 * `setEpoch(e)` sets the epoch the next iteration uses (to resume, or to replay one).
 *
 * Prefetch: while the consumer works on batch b (awaiting its kernels, which run off the main
 * thread), batches b+1 … b+prefetch are assembled in later macrotasks, and an async dataset's
 * get() calls for them are already in flight. Only typed arrays are built ahead; Tensors are
 * made as a batch is handed out, so breaking out of the loop leaves no device memory behind.
 */
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataError, permutation, type Columns, type Example, type ExampleDataset, type Row } from './dataset.js';

export interface DataLoaderOptions {
  /** Examples per batch (default 1). */
  batchSize?: number;
  /** Visit examples in a seeded random order that changes every epoch (default false). */
  shuffle?: boolean;
  /** Shuffle seed (default 0, so runs repeat unless a seed is chosen). */
  seed?: number;
  /** Drop the last batch when it would be short (default false). */
  dropLast?: boolean;
  /** Batches assembled ahead of the one being consumed (default 2; 0 assembles on demand). */
  prefetch?: number;
}

/** One batch: x [B, ...xShape], y [B] (int32 class ids) or [B, ...yShape], and which dataset indices they are. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  indices: Int32Array;
}

interface Arrays {
  x: Row; xShape: number[];
  y: Row; yShape: number[];
  indices: Int32Array;
}

const dtypeOf = (a: Row): 'float32' | 'int32' => (a instanceof Float32Array ? 'float32' : 'int32');
const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function positiveInt(what: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new DataError(`DataLoader: ${what} must be an integer >= ${min}, got ${v}`);
  return v;
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  private nextEpoch = 0;

  constructor(readonly dataset: ExampleDataset, opts: DataLoaderOptions = {}) {
    if (!dataset || !Number.isInteger(dataset.length) || dataset.length < 0 || typeof dataset.get !== 'function') {
      throw new DataError('DataLoader: the dataset needs an integer `length` and a `get(i)` method');
    }
    this.batchSize = positiveInt('batchSize', opts.batchSize ?? 1, 1);
    this.prefetch = positiveInt('prefetch', opts.prefetch ?? 2, 0);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.seed = opts.seed ?? 0;
    if (!Number.isFinite(this.seed)) throw new DataError(`DataLoader: seed must be a finite number, got ${this.seed}`);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration will use. */
  get epoch(): number { return this.nextEpoch; }

  /** Makes the next iteration use epoch `e` (its shuffle order); later ones count on from it. */
  setEpoch(e: number): void {
    this.nextEpoch = positiveInt('epoch', e, 0);
  }

  /** The order in which epoch `e` visits the dataset (the identity when not shuffling). */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return permutation(n, this.seed, positiveInt('epoch', epoch, 0));
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return p;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    return this.run(this.nextEpoch++);
  }

  private async *run(epoch: number): AsyncGenerator<Batch, void, undefined> {
    const order = this.order(epoch);
    const count = this.length;
    const columns = this.dataset.columns?.();
    const pending: Promise<Arrays>[] = [];
    let launched = 0;
    let stopped = false;
    const launch = (ahead: boolean): void => {
      const b = launched++;
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const p = (async () => {
        // Batches ahead wait a macrotask so their copying runs while the consumer's step awaits.
        if (ahead) await nextMacrotask();
        if (stopped) throw new DataError('DataLoader: iteration ended');
        return columns ? gather(columns, indices) : await collate(this.dataset, indices, b, epoch);
      })();
      // Rejections are delivered when the consumer reaches that batch; until then (or if it
      // never does) they must not surface as unhandled.
      p.catch(() => undefined);
      pending.push(p);
    };
    try {
      for (let b = 0; b < count; b++) {
        if (launched === b) launch(false);
        while (launched < count && launched <= b + this.prefetch) launch(true);
        const a = await pending.shift()!;
        yield {
          x: tensor(a.x, { shape: a.xShape, dtype: dtypeOf(a.x) }),
          y: tensor(a.y, { shape: a.yShape, dtype: dtypeOf(a.y) }),
          indices: a.indices,
        };
      }
    } finally {
      stopped = true; // a break or an error: skip the batches not yet started
    }
  }
}

/** Copies the batch's rows out of the columns; runs of consecutive rows become one copy. */
function gather(c: Columns, indices: Int32Array): Arrays {
  const rows = c.rows ? indices.map((i) => c.rows![i]!) : indices.slice();
  const B = rows.length;
  const pick = (col: Columns['x']): { data: Row; shape: number[] } => {
    const w = col.shape.slice(1).reduce((a, b) => a * b, 1);
    const src = col.data;
    const out = src instanceof Float32Array ? new Float32Array(B * w) : new Int32Array(B * w);
    for (let k = 0; k < B; ) {
      let end = k + 1;
      while (end < B && rows[end] === rows[end - 1]! + 1) end++;
      const r = rows[k]!;
      if ((end - k) * w >= 16) out.set(src.subarray(r * w, (r + end - k) * w), k * w);
      else for (let i = 0, o = k * w, s = r * w, m = (end - k) * w; i < m; i++) out[o + i] = src[s + i]!;
      k = end;
    }
    return { data: out, shape: [B, ...col.shape.slice(1)] };
  };
  const x = pick(c.x), y = pick(c.y);
  return { x: x.data, xShape: x.shape, y: y.data, yShape: y.shape, indices: indices.slice() };
}

/** Fetches the batch's examples from get() (concurrently when async) and stacks them. */
async function collate(ds: ExampleDataset, indices: Int32Array, batch: number, epoch: number): Promise<Arrays> {
  const B = indices.length;
  const got: (Example | Promise<Example>)[] = new Array(B);
  const fail = (i: number, e: unknown): never => {
    throw new DataError(`DataLoader: dataset.get(${i}) failed (batch ${batch}, epoch ${epoch}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  };
  let async = false;
  for (let k = 0; k < B; k++) {
    const i = indices[k]!;
    try {
      const v = ds.get(i);
      if (v && typeof (v as Promise<Example>).then === 'function') {
        async = true;
        got[k] = (v as Promise<Example>).catch((e: unknown) => fail(i, e));
      } else got[k] = v;
    } catch (e) {
      // Promises already started for this batch are dropped; keep their rejections handled.
      for (let j = 0; j < k; j++) if (got[j] instanceof Promise) (got[j] as Promise<Example>).catch(() => undefined);
      fail(i, e);
    }
  }
  const ex = async ? await Promise.all(got) : (got as Example[]);
  return stack(ds, ex, indices);
}

function stack(ds: ExampleDataset, ex: readonly Example[], indices: Int32Array): Arrays {
  const B = ex.length;
  const first = ex[0]!;
  const xShape = ds.sampleShape?.x ?? [first.x?.length ?? 0];
  const yShape = ds.sampleShape?.y ?? (typeof first.y === 'number' ? [] : [first.y?.length ?? 0]);
  const xw = xShape.reduce((a, b) => a * b, 1), yw = yShape.reduce((a, b) => a * b, 1);
  const kind = (a: unknown): string => (a instanceof Float32Array ? 'Float32Array' : a instanceof Int32Array ? 'Int32Array' : typeof a);
  const X = first.x instanceof Int32Array ? new Int32Array(B * xw) : new Float32Array(B * xw);
  const Y = typeof first.y === 'number' || first.y instanceof Int32Array ? new Int32Array(B * yw) : new Float32Array(B * yw);
  for (let k = 0; k < B; k++) {
    const { x, y } = ex[k] ?? ({} as Partial<Example>);
    const at = `DataLoader: example ${indices[k]}`;
    if (kind(x) !== kind(first.x) || !(x instanceof Float32Array || x instanceof Int32Array)) throw new DataError(`${at}: x must be a Float32Array or Int32Array like the batch's first example (${kind(first.x)}), got ${kind(x)}`);
    if (x.length !== xw) throw new DataError(`${at}: x has ${x.length} values, expected ${xw} for sample shape [${xShape.join(', ')}]`);
    X.set(x, k * xw);
    if (typeof y === 'number') {
      if (yShape.length !== 0 || !Number.isInteger(y) || y < -2147483648 || y > 2147483647) throw new DataError(`${at}: y = ${y}; a numeric y must be an int32 class id, like the batch's first example`);
      Y[k] = y;
    } else {
      if (kind(y) !== kind(first.y) || !(y instanceof Float32Array || y instanceof Int32Array)) throw new DataError(`${at}: y must be a number, Float32Array or Int32Array like the batch's first example (${kind(first.y)}), got ${kind(y)}`);
      if (y.length !== yw) throw new DataError(`${at}: y has ${y.length} values, expected ${yw} for sample shape [${yShape.join(', ')}]`);
      Y.set(y, k * yw);
    }
  }
  return { x: X, xShape: [B, ...xShape], y: Y, yShape: [B, ...yShape], indices: indices.slice() };
}
