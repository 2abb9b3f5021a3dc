/**
 * Scans and product-like reductions: cumsum, cumprod (per-row kernels, O(n) per row), prod, all,
 * any, norm, and the gradients of the scan and prod primitives.
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { checkDType } from './creation.js';
import { ShapeError, fmt } from '../graph/errors.js';
import type { RowOp } from '../graph/ops.js';
import { normAxes, normAxis } from '../graph/shape.js';
import { dims, flag, int, isPlainObject, options, reduceArgs, describeArg, type Dims } from './args.js';
import { where } from './elementwise.js';
import { cast, full, node, requireFloat } from './make.js';
import { flip, pad, permute, reshape, slice } from './movement.js';
import { reduce } from './reduce.js';
import { Tensor } from './tensor.js';

/** A 'row' node over the last dim of `x` (see RowSpec in kernel/ir.ts). */
export function rowOp(op: RowOp, x: Tensor): Tensor {
  return node({ kind: 'row', op }, [x], x.shape, op.startsWith('argsort') ? 'int32' : x.dtype);
}

/** Applies `f` (an op over the last dim) along `dim`: the dim is swapped last with views, and back. */
export function alongLast(x: Tensor, dim: number, f: (t: Tensor) => Tensor): Tensor {
  if (x.ndim === 0) return reshape(f(reshape(x, [1])), []);
  const last = x.ndim - 1;
  if (dim === last) return f(x);
  const order = x.shape.map((_, i) => (i === dim ? last : i === last ? dim : i));
  return permute(f(permute(x, order)), order);
}

export interface ScanOptions { dim?: number; dtype?: DType }

/**
 * A scan's arguments: `cumsum(1)`, `cumsum(1, { dtype })` or `cumsum({ dim: 1, dtype })`;
 * PyTorch requires the dim.
 */
function scanArgs(op: string, x: Tensor, a: unknown, b: unknown): { dim: number; dtype?: DType } {
  let o: ScanOptions;
  if (isPlainObject(a)) {
    if (b !== undefined) throw new TypeError(`${op}: pass the options object last`);
    o = options<ScanOptions>(op, a, ['dim', 'dtype']);
  } else o = { dim: a as number, ...options<ScanOptions>(op, b, ['dtype']) };
  if (o.dim === undefined) throw new TypeError(`${op}: missing the dim to scan along (e.g. x.${op}(-1) or x.${op}({ dim: -1 }))`);
  const dim = normAxis(op, int(op, 'dim', o.dim), x.ndim, x.shape);
  return o.dtype === undefined ? { dim } : { dim, dtype: checkDType(op, o.dtype) };
}

/**
 * cumsum / cumprod along dim. Bool counts as int32; integer dtypes stay as they are and wrap
 * (PyTorch gives int64 for every integer or bool input: pass { dtype: 'int64' } for that).
 * With `dtype`, the input is converted first, as PyTorch does.
 */
export function scan(op: 'cumsum' | 'cumprod', x: Tensor, a: unknown, b?: unknown): Tensor {
  const o = scanArgs(op, x, a, b);
  const t = o.dtype ? cast(x, o.dtype) : x.dtype === 'bool' ? cast(x, 'int32') : x;
  return alongLast(t, o.dim, (v) => rowOp(op, v));
}

const lastCumsum = (t: Tensor): Tensor => rowOp('cumsum', t);
/** Σ_{j >= i} t_j along the last dim. */
const reverseCumsum = (t: Tensor): Tensor => flip(rowOp('cumsum', flip(t, [-1])), [-1]);

/**
 * The VJPs of the per-row primitives (all over the last dim). cumsum: the reversed cumsum of g.
 * cumprod: PyTorch's algorithm, exact with zeros: before the first zero of a row,
 * Σ_{i >= j} g_i out_i / x_j; at the first zero, Σ_{i >= z} g_i Π_{l <= i, l != z} x_l (the
 * cumprod with that zero replaced by 1); after it, 0. argsort: no gradient.
 */
export function rowVjp(op: RowOp, g: Tensor, x: Tensor, out: Tensor): Tensor | null {
  if (!isFloat(x.dtype)) return null;
  switch (op) {
    case 'cumsum': return reverseCumsum(g);
    case 'cumprod': {
      const zero = x.eq(0);
      const seen = lastCumsum(cast(zero, 'int32'));
      const before = seen.eq(0);
      const first = where(zero, seen.eq(1), false);
      const regular = reverseCumsum(g.mul(out)).div(where(before, x, 1));
      const atZero = reverseCumsum(g.mul(rowOp('cumprod', where(first, 1, x))));
      return where(before, regular, where(first, atZero, 0));
    }
    case 'argsort': case 'argsortDescending': return null;
  }
}

/**
 * The product over the dims (all when absent). Bool counts as int32; the product of no elements
 * is 1.
 */
export function prod(x: Tensor, a?: unknown, keepdim?: unknown): Tensor {
  const o = reduceArgs('prod', a, keepdim);
  const t = x.dtype === 'bool' ? cast(x, 'int32') : x;
  if (t.numel() === 0) {
    const axes = normAxes('prod', o.dim, t.shape);
    const shape = o.keepdim ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : t.shape.filter((_, i) => !axes.includes(i));
    return full(shape, 1, t.dtype);
  }
  return reduce('prod', t, o, 'prod');
}

/**
 * The VJP of a product over `axes`: g times the product of the other elements, formed as an
 * exclusive cumprod from each side (no division), so it is exact with one zero (the gradient
 * there is the product of the rest) or several (all zero), as in PyTorch.
 */
export function prodVjp(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.flatMap((_, i) => (axes.includes(i) ? [] : [i]));
  const order = [...kept, ...axes];
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  if (n === 0 || x.numel() === 0) return full(x.shape, 0, g.dtype);
  const keptShape = kept.map((i) => x.shape[i]!);
  const flat = reshape(permute(x, order), [...keptShape, n]);
  const left = rowOp('cumprod', pad(slice(flat, -1, 0, n - 1), [1, 0], 1));
  const right = flip(rowOp('cumprod', flip(pad(slice(flat, -1, 1, n), [0, 1], 1), [-1])), [-1]);
  const gk = reshape(g, [...keptShape, 1]);
  const gp = reshape(gk.mul(left).mul(right), order.map((i) => x.shape[i]!));
  const inverse = order.map((_, i) => order.indexOf(i));
  return permute(gp, inverse);
}

/** all / any over the dims (all when absent): bool results; any value other than 0 (NaN too) is true. */
export function truth(op: 'all' | 'any', x: Tensor, a?: unknown, keepdim?: unknown): Tensor<'bool'> {
  const o = reduceArgs(op, a, keepdim);
  if (o.dim !== undefined) normAxes(op, o.dim, x.shape); // a bad dim names this op
  // Counting misses (all) or hits (any) is a sum: empty slices give PyTorch's true / false.
  const counted = reduce('sum', cast(op === 'all' ? x.eq(0) : x.ne(0), 'int32'), o, op);
  return (op === 'all' ? counted.eq(0) : counted.gt(0)) as Tensor<'bool'>;
}

export type NormOrder = number | 'fro';
export interface NormOptions { p?: NormOrder; dim?: Dims; keepdim?: boolean }

/** norm's arguments: `(p?, dim?, keepdim?)`, `(p, { dim, keepdim })` or `({ p, dim, keepdim })`. */
export function normArgs(a?: unknown, b?: unknown, c?: unknown): Required<Pick<NormOptions, 'p'>> & NormOptions {
  let o: NormOptions;
  if (isPlainObject(a)) {
    if (b !== undefined) throw new TypeError('norm: pass the options object last, after p');
    o = options<NormOptions>('norm', a, ['p', 'dim', 'keepdim']);
  } else if (isPlainObject(b)) {
    if (c !== undefined) throw new TypeError('norm: pass keepdim inside the options object or positionally, not both');
    o = { p: a as NormOrder, ...options<NormOptions>('norm', b, ['dim', 'keepdim']) };
  } else o = { p: a as NormOrder, dim: b as Dims, keepdim: c as boolean };
  const p = o.p ?? 'fro';
  if (p !== 'fro' && typeof p !== 'number') {
    throw new TypeError(`norm: p must be a number (2, 1, Infinity, -Infinity, 0, any real) or 'fro', got ${describeArg(p)}${p === 'nuc' ? ' (the nuclear norm is not supported)' : ''}`);
  }
  return { p, dim: dims('norm', o.dim), keepdim: flag('norm', 'keepdim', o.keepdim) };
}

/**
 * s^(1/p) with a zero gradient where s is 0 (PyTorch's subgradient of a norm at 0), not the
 * 0 · ∞ = NaN the chain rule would give.
 */
function safeRoot(s: Tensor, p: number): Tensor {
  const zero = s.eq(0);
  const safe = where(zero, 1, s);
  return where(zero, 0, p === 2 ? safe.sqrt() : safe.pow(1 / p));
}

/** The vector p-norm over dims (all when absent), as torch.norm / torch.linalg.vector_norm. */
export function norm(x: Tensor, a?: unknown, b?: unknown, c?: unknown): Tensor {
  const o = normArgs(a, b, c);
  requireFloat('norm', x);
  const p = o.p === 'fro' ? 2 : o.p;
  if (Number.isNaN(p)) throw new TypeError('norm: p must not be NaN');
  const r = { dim: o.dim, keepdim: o.keepdim };
  if (o.dim !== undefined) normAxes('norm', o.dim, x.shape);
  const ax = x.abs();
  if (p === Infinity || p === -Infinity) {
    if (x.numel() === 0) throw new ShapeError(`norm: the ${p > 0 ? '' : '-'}Infinity norm of an empty tensor of shape ${fmt(x.shape)} is undefined (no elements to take the max of)`);
    return reduce(p > 0 ? 'max' : 'min', ax, r, 'norm');
  }
  if (p === 0) return cast(reduce('sum', cast(x.ne(0), 'int32'), r, 'norm'), x.dtype);
  if (p === 1) return reduce('sum', ax, r, 'norm');
  // |x|^p for 0 < p < 1 has an infinite slope at 0: where x is 0 the term is a constant, so its
  // gradient there is 0, as PyTorch's.
  const zero = ax.eq(0);
  const powered = p === 2 ? x.mul(x) : p > 0 ? where(zero, 0, where(zero, 1, ax).pow(p)) : ax.pow(p);
  return safeRoot(reduce('sum', powered, r, 'norm'), p);
}
