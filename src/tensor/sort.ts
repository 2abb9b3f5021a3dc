/**
 * Sorting: sort, argsort, topk. One per-row primitive (a stable argsort over the last dim, see
 * RowSpec in kernel/ir.ts) gives the indices; the values are a gather of the input at them, so
 * their gradient scatters back through the indices. Indices are int32 (PyTorch: int64).
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { normAxis } from '../graph/shape.js';
import { describeArg, flag, int, isPlainObject, options } from './args.js';
import { gather } from './linalg.js';
import { reshape, slice } from './movement.js';
import { alongLast, rowOp } from './scan.js';
import type { Tensor } from './tensor.js';

export interface SortOptions { dim?: number; descending?: boolean; stable?: boolean }
export interface TopkOptions { dim?: number; largest?: boolean; sorted?: boolean }
/** The result of sort and topk, as PyTorch's named tuple. */
export interface SortResult<T extends Tensor = Tensor> { values: T; indices: Tensor<'int32'> }

/** `(dim?, descending?)`, `(dim, { descending, stable })` or `({ dim, descending, stable })`. */
export function sortArgs(op: string, a: unknown, b: unknown): SortOptions {
  let o: SortOptions;
  if (isPlainObject(a)) {
    if (b !== undefined) throw new TypeError(`${op}: pass the options object last`);
    o = options<SortOptions>(op, a, ['dim', 'descending', 'stable']);
  } else if (isPlainObject(b)) {
    o = { dim: a as number, ...options<SortOptions>(op, b, ['descending', 'stable']) };
  } else o = { dim: a as number, descending: b as boolean };
  return {
    dim: o.dim === undefined ? -1 : int(op, 'dim', o.dim),
    descending: flag(op, 'descending', o.descending) ?? false,
    stable: flag(op, 'stable', o.stable) ?? false,
  };
}

/** Stable indices that sort `x` along dim (NaN last ascending, first descending, as PyTorch). */
function sortIndices(op: string, x: Tensor, dim: number, descending: boolean): Tensor<'int32'> {
  const d = normAxis(op, dim, x.ndim, x.shape);
  return alongLast(x, d, (t) => rowOp(descending ? 'argsortDescending' : 'argsort', t)) as Tensor<'int32'>;
}

/** Values at `indices` along dim (same shape as indices). */
function take(op: string, x: Tensor, dim: number, indices: Tensor): Tensor {
  if (x.ndim === 0) return x;
  return gather(x, normAxis(op, dim, x.ndim, x.shape), indices, op);
}

/**
 * torch.sort: `{ values, indices }` along dim (default -1). Always stable (ties keep their order,
 * what PyTorch's stable=true promises); NaN sorts as the largest value.
 */
export function sort(x: Tensor, a?: unknown, b?: unknown): SortResult {
  const o = sortArgs('sort', a, b);
  const indices = sortIndices('sort', x, o.dim!, o.descending!);
  return { values: take('sort', x, o.dim!, indices), indices };
}

/** torch.argsort: the indices of sort. */
export function argsort(x: Tensor, a?: unknown, b?: unknown): Tensor<'int32'> {
  const o = sortArgs('argsort', a, b);
  return sortIndices('argsort', x, o.dim!, o.descending!);
}

/** `(k, dim?, largest?, sorted?)`, `(k, dim, { largest, sorted })` or `(k, { dim, largest, sorted })`. */
export function topkArgs(k: unknown, a: unknown, b: unknown, c: unknown): { k: number } & Required<TopkOptions> {
  let o: TopkOptions;
  if (isPlainObject(a)) {
    if (b !== undefined) throw new TypeError('topk: pass the options object last');
    o = options<TopkOptions>('topk', a, ['dim', 'largest', 'sorted']);
  } else if (isPlainObject(b)) {
    if (c !== undefined) throw new TypeError('topk: pass the options object last');
    o = { dim: a as number, ...options<TopkOptions>('topk', b, ['largest', 'sorted']) };
  } else o = { dim: a as number, largest: b as boolean, sorted: c as boolean };
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new TypeError(`topk: k must be an integer, got ${describeArg(k)}`);
  return {
    k,
    dim: o.dim === undefined ? -1 : int('topk', 'dim', o.dim),
    largest: flag('topk', 'largest', o.largest) ?? true,
    sorted: flag('topk', 'sorted', o.sorted) ?? true,
  };
}

/**
 * torch.topk: the k largest (or smallest) values along dim and their indices, sorted (also for
 * sorted: false, which leaves the order to the implementation). NaN counts as the largest.
 */
export function topk(x: Tensor, k: unknown, a?: unknown, b?: unknown, c?: unknown): SortResult {
  const o = topkArgs(k, a, b, c);
  const d = normAxis('topk', o.dim, x.ndim, x.shape);
  const n = x.ndim === 0 ? 1 : x.shape[d]!;
  if (o.k < 0 || o.k > n) {
    throw new ShapeError(`topk: k = ${o.k} is out of range for dim ${o.dim} of size ${n} (shape ${fmt(x.shape)}; valid: 0 to ${n})`);
  }
  const all = sortIndices('topk', x, d, o.largest);
  const indices = (x.ndim === 0 ? reshape(slice(reshape(all, [1]), 0, 0, o.k), o.k ? [] : [0]) : slice(all, d, 0, o.k)) as Tensor<'int32'>;
  if (x.ndim === 0) return { values: o.k ? x : reshape(slice(reshape(x, [1]), 0, 0, 0), [0]), indices };
  return { values: take('topk', x, d, indices), indices };
}
