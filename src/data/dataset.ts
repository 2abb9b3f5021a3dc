/**
 * Datasets: an indexable collection of examples, and the in-memory kind that DataLoader
 * batches by copying contiguous rows instead of visiting examples one by one.
 *
 * Decision: `get(i)` may return the example or a Promise of it. In-memory datasets answer
 * synchronously (the loader then pays no microtask per example); datasets that read files or
 * decode on demand return Promises, and the loader's prefetch overlaps those reads with the
 * training step.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Errors in data the framework reads: malformed files, bad indices, examples that do not stack. */
export class DataError extends Error {
  override name = 'DataError';
}

/** The storage of one row of an example: features, or a target that is not a single class id. */
export type Row = Float32Array | Int32Array;

/** Anything with a length and random access; `get` may be sync or async (see above). */
export interface Dataset<T> {
  readonly length: number;
  get(i: number): T | Promise<T>;
}

/**
 * One example as DataLoader collates it. `x` (and `y` when it is a Row) holds one example in
 * row-major order; a numeric `y` is a class id and batches to int32 [B].
 */
export interface Example {
  x: Row;
  y: number | Row;
}

/** A whole column in memory: `data` holds `shape[0]` rows of `numel(shape.slice(1))` values each. */
export interface Column {
  readonly data: Row;
  readonly shape: readonly number[];
}

/** What lets DataLoader gather batches with row copies: the columns and which of their rows, in order. */
export interface Columns {
  readonly x: Column;
  readonly y: Column;
  /** Row of the columns for each dataset index (a Subset); null means index i is row i. */
  readonly rows: Int32Array | null;
}

export interface ExampleDataset extends Dataset<Example> {
  /** Per-example shapes, without the batch dim. Absent: x is [x.length], y is [] or [y.length]. */
  readonly sampleShape?: { readonly x: readonly number[]; readonly y: readonly number[] };
  /** Present on in-memory datasets (undefined when not); DataLoader then never calls get(). */
  columns?(): Columns | undefined;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const isRow = (a: unknown): a is Row => a instanceof Float32Array || a instanceof Int32Array;

function checkIndex(what: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new DataError(`${what}: index ${i} is out of range for ${n} examples (valid: integers 0..${n - 1})`);
}

function column(what: string, a: Column | Row, n: number | undefined): Column {
  const c: Column = isRow(a) ? { data: a, shape: n === undefined ? [a.length] : [n, ...(a.length === n ? [] : [a.length / n])] } : a;
  if (!isRow(c.data)) throw new DataError(`TensorDataset: ${what} must be a Float32Array or Int32Array (other types: convert first, e.g. Float32Array.from(values))`);
  if (!c.shape.length || !c.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new DataError(`TensorDataset: ${what} shape [${c.shape.join(', ')}] must be non-negative integers with a leading example dim`);
  if (prod(c.shape) !== c.data.length) throw new DataError(`TensorDataset: ${what} has ${c.data.length} values, which do not fill shape [${c.shape.join(', ')}]`);
  return c;
}

/**
 * Examples held in memory: features `x` [n, ...xShape] and targets `y` [n] (class ids) or
 * [n, ...yShape]. A bare typed array for `x` is split into n = y's leading dim rows.
 * `get(i)` returns views into the arrays, not copies.
 *
 *   new TensorDataset({ data: images, shape: [n, 1, 28, 28] }, labels)
 */
export class TensorDataset implements ExampleDataset {
  readonly x: Column;
  readonly y: Column;
  readonly length: number;
  readonly sampleShape: { readonly x: readonly number[]; readonly y: readonly number[] };
  private readonly xRow: number;
  private readonly yRow: number;

  constructor(x: Column | Row, y: Column | Row) {
    this.y = column('y', y, undefined);
    const n = this.y.shape[0]!;
    if (isRow(x) && n > 0 && x.length % n !== 0) throw new DataError(`TensorDataset: x has ${x.length} values, not a whole number of rows for ${n} examples (pass { data, shape } to say the shape)`);
    this.x = column('x', x, n);
    if (this.x.shape[0] !== n) throw new DataError(`TensorDataset: x has ${this.x.shape[0]} examples but y has ${n}; they must match`);
    this.length = n;
    this.sampleShape = { x: this.x.shape.slice(1), y: this.y.shape.slice(1) };
    this.xRow = prod(this.sampleShape.x);
    this.yRow = prod(this.sampleShape.y);
  }

  /** Reads two tensors (any device) into memory: x float32 or int32, y int32 or float32. */
  static async fromTensors(x: Tensor, y: Tensor): Promise<TensorDataset> {
    for (const [what, t] of [['x', x], ['y', y]] as const) {
      if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new DataError(`TensorDataset.fromTensors: ${what} is ${t.dtype}; cast it with .to('float32') or .to('int32') first`);
      if (t.ndim === 0) throw new DataError(`TensorDataset.fromTensors: ${what} is a scalar; it needs a leading example dim`);
    }
    const [xd, yd] = await Promise.all([x.data(), y.data()]);
    return new TensorDataset({ data: xd as Row, shape: x.shape }, { data: yd as Row, shape: y.shape });
  }

  get(i: number): Example {
    checkIndex('TensorDataset.get', i, this.length);
    const x = this.x.data.subarray(i * this.xRow, (i + 1) * this.xRow);
    const y = this.sampleShape.y.length === 0 ? this.y.data[i]! : this.y.data.subarray(i * this.yRow, (i + 1) * this.yRow);
    return { x, y };
  }

  columns(): Columns {
    return { x: this.x, y: this.y, rows: null };
  }
}

/** The examples of `dataset` at `indices`, in that order (like torch.utils.data.Subset). */
export class Subset<T> implements Dataset<T> {
  readonly indices: Int32Array;
  readonly length: number;
  readonly sampleShape?: ExampleDataset['sampleShape'];

  constructor(readonly dataset: Dataset<T>, indices: ArrayLike<number>) {
    this.indices = Int32Array.from(indices as ArrayLike<number>);
    for (let k = 0; k < indices.length; k++) {
      if (this.indices[k] !== indices[k]) throw new DataError(`Subset: index ${indices[k]} at position ${k} is not an int32 index`);
      checkIndex('Subset', this.indices[k]!, dataset.length);
    }
    this.length = this.indices.length;
    const shape = (dataset as Partial<ExampleDataset>).sampleShape;
    if (shape) this.sampleShape = shape;
  }

  get(i: number): T | Promise<T> {
    checkIndex('Subset.get', i, this.length);
    return this.dataset.get(this.indices[i]!);
  }

  /** In-memory when the parent is, so a Subset of a TensorDataset keeps the copy fast path. */
  columns(): Columns | undefined {
    const inner = (this.dataset as Partial<ExampleDataset>).columns?.();
    if (!inner) return undefined;
    const parent = inner.rows;
    return { x: inner.x, y: inner.y, rows: parent ? this.indices.map((i) => parent[i]!) : this.indices };
  }
}

/** A seeded permutation of 0..n-1 (Fisher–Yates); the same (seed, stream) always gives the same order. */
export function permutation(n: number, seed: number, stream = 0): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = splitmix32(mix(mix(Math.floor(seed) >>> 0) ^ Math.floor(seed / 4294967296)) ^ mix(stream + 0x632be5ab));
  for (let i = n - 1; i > 0; i--) {
    // 53 random bits make the modulo bias of floor(u * (i + 1)) negligible at any realistic n.
    const u = (next() * 2097152 + (next() >>> 11)) / 9007199254740992;
    const j = Math.floor(u * (i + 1));
    const t = p[i]!; p[i] = p[j]!; p[j] = t;
  }
  return p;
}

/** Splits a dataset into disjoint random Subsets of the given sizes (which must add up to its length). */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], opts: { seed?: number } = {}): Subset<T>[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (!lengths.every((l) => Number.isInteger(l) && l >= 0) || total !== dataset.length) {
    throw new DataError(`randomSplit: lengths [${lengths.join(', ')}] must be non-negative integers adding up to the dataset's ${dataset.length} examples`);
  }
  const p = permutation(dataset.length, opts.seed ?? 0, 0x5b117);
  let at = 0;
  return lengths.map((l) => new Subset(dataset, p.subarray(at, (at += l))));
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A seeded generator of uint32s (splitmix32), also the sampler's in llm.generate. */
export function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    return mix(s);
  };
}
