/** Reductions and the composites built from them (mean, var, softmax, …). */
import { isFloat } from '../graph/dtype.js';
import { DTypeError, fmt } from '../graph/errors.js';
import type { ReduceOp } from '../graph/ops.js';
import { normAxes, normAxis, numel } from '../graph/shape.js';
import { cast, full, node, requireFloat } from './make.js';
import { reshape } from './movement.js';
import { Tensor } from './tensor.js';
import { binary, where } from './elementwise.js';
import { describeArg, reduceArgs } from './args.js';
import { iotaAlong } from './creation.js';
import { gather } from './linalg.js';

export interface ReduceOptions { dim?: number | readonly number[]; keepdim?: boolean }

export function reduce(op: ReduceOp, x: Tensor, opts: ReduceOptions = {}, name: string = op): Tensor {
  const axes = normAxes(name, opts.dim, x.shape);
  let t = x;
  if (op === 'sum' && (t.dtype === 'bool')) t = cast(t, 'int32');
  if (op !== 'sum' && x.numel() === 0) throw new DTypeError(`${name}: cannot reduce an empty tensor of shape ${fmt(x.shape)} (no identity for ${op})`);
  const kept = t.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  // Only sums split: a two-stage max would share gradient ties per stage, not evenly.
  const parts = op === 'sum' && numel(kept) === 1 ? splitFor(numel(t.shape)) : 1;
  let r: Tensor;
  if (parts > 1) {
    // A whole-tensor reduction has one output element, so one thread would do all the work:
    // reduce `parts` slices first (in parallel), then the partial results.
    const partial = node({ kind: 'reduce', op, axes: [1] }, [reshape(t, [parts, numel(t.shape) / parts])], [parts, 1], t.dtype);
    r = reshape(node({ kind: 'reduce', op, axes: [0] }, [partial], [1, 1], t.dtype), kept);
  } else {
    r = axes.length ? node({ kind: 'reduce', op, axes }, [t], kept, t.dtype) : t;
  }
  return opts.keepdim ? r : reshape(r, t.shape.filter((_, i) => !axes.includes(i)));
}

/** How many slices a large whole-tensor reduction is split into: a divisor of n, slices of >= 16k. */
function splitFor(n: number): number {
  if (n < 1 << 17) return 1;
  for (let p = 64; p > 1; p--) if (n % p === 0 && n / p >= 1 << 14) return p;
  return 1;
}

const countOf = (x: Tensor, dim: ReduceOptions['dim']): number =>
  normAxes('mean', dim, x.shape).reduce((n, a) => n * x.shape[a]!, 1);

export function mean(x: Tensor, opts: ReduceOptions = {}): Tensor {
  requireFloat('mean', x);
  return reduce('sum', x, opts, 'mean').mul(1 / countOf(x, opts.dim));
}

export function variance(x: Tensor, opts: ReduceOptions & { correction?: number } = {}, name = 'var'): Tensor {
  requireFloat(name, x);
  const m = mean(x, { dim: opts.dim, keepdim: true });
  const d = x.sub(m);
  const n = countOf(x, opts.dim);
  return reduce('sum', d.mul(d), { dim: opts.dim, keepdim: opts.keepdim }, name).div(Math.max(0, n - (opts.correction ?? 1)));
}

/** The max along dim (kept), or 0 where it is infinite: all -inf slices would otherwise give inf - inf. */
function stableShift(v: Tensor, dim: ReduceOptions['dim'], name: string): Tensor {
  const m = reduce('max', v, { dim, keepdim: true }, name);
  return where(m.abs().eq(Infinity), 0, m);
}

export function logsumexp(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const v = isFloat(x.dtype) ? x : cast(x, 'float32');
  const shift = stableShift(v, opts.dim, 'logsumexp');
  const s = reduce('sum', v.sub(shift).exp(), { dim: opts.dim, keepdim: true }, 'logsumexp').log().add(shift);
  return opts.keepdim ? s : reshape(s, v.shape.filter((_, i) => !normAxes('logsumexp', opts.dim, v.shape).includes(i)));
}

export function softmax(x: Tensor, dim: number): Tensor {
  const v = isFloat(x.dtype) ? x : cast(x, 'float32');
  const e = v.sub(reduce('max', v, { dim, keepdim: true }, 'softmax')).exp();
  return e.div(reduce('sum', e, { dim, keepdim: true }, 'softmax'));
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  const v = isFloat(x.dtype) ? x : cast(x, 'float32');
  // (x - m) - log Σ exp(x - m): never forms log Σ exp(x) itself, which rounds badly far from 0.
  const shifted = v.sub(stableShift(v, dim, 'logSoftmax'));
  return shifted.sub(reduce('sum', shifted.exp(), { dim, keepdim: true }, 'logSoftmax').log());
}

/** Index of the first maximum (PyTorch's rule on ties), int32. */
export function argExtreme(
  op: 'max' | 'min', x: Tensor, opts: { dim?: number; keepdim?: boolean } = {}, name: string = op === 'max' ? 'argmax' : 'argmin',
): Tensor {
  const flat = opts.dim === undefined;
  const v = flat ? reshape(x, [numel(x.shape)]) : x;
  const dim = flat ? 0 : normAxis(name, opts.dim!, v.ndim, v.shape);
  const m = reduce(op, v, { dim, keepdim: true }, name);
  const idx = iotaAlong(v.shape, dim);
  const big = full([], v.shape[dim] ?? 1, 'int32');
  // NaN counts as the extreme, as in PyTorch: a slice holding NaN points at its first NaN.
  const hit = where(m.ne(m), v.ne(v), v.eq(m));
  const first = reduce('min', where(hit, idx, big), { dim, keepdim: true }, name);
  if (flat) return opts.keepdim ? reshape(first, x.shape.map(() => 1)) : reshape(first, []);
  return opts.keepdim ? first : reshape(first, v.shape.filter((_, i) => i !== dim));
}

/** What `max(dim)` / `min(dim)` return, as torch.return_types.max: the values and their indices. */
export interface ValuesIndices<V extends Tensor = Tensor> { values: V; indices: Tensor<'int32'> }

/**
 * torch.max(x, dim) / torch.min(x, dim): the extreme values along dim and the index of the first
 * of them (int32). The values are gathered at those indices, so their gradient goes to that one
 * element as in PyTorch (amax/amin share it among ties instead).
 */
export function extremeAlong(op: 'max' | 'min', x: Tensor, dim: number, keepdim = false): ValuesIndices {
  if (x.ndim === 0) {
    normAxis(op, dim, 0, x.shape);
    const one = reshape(x, [1]);
    const r = extremeAlong(op, one, 0, false);
    return { values: reshape(r.values, []), indices: reshape(r.indices, []) as Tensor<'int32'> };
  }
  const d = normAxis(op, dim, x.ndim, x.shape);
  if (x.shape[d] === 0) throw new DTypeError(`${op}: cannot reduce dim ${dim} of size 0 of a tensor of shape ${fmt(x.shape)} (no identity for ${op})`);
  const out = x.shape.filter((_, i) => i !== d);
  if (x.numel() === 0) {
    // Other dims are empty: empty results, as PyTorch gives (reduce() has no identity to start from).
    const shape = keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : out;
    return { values: full(shape, 0, x.dtype), indices: full(shape, 0, 'int32') as Tensor<'int32'> };
  }
  const first = argExtreme(op, x, { dim: d, keepdim: true }, op);
  const values = gather(x, d, first, op);
  return {
    values: keepdim ? values : reshape(values, out),
    indices: (keepdim ? first : reshape(first, out)) as Tensor<'int32'>,
  };
}

/**
 * `max` / `min` as PyTorch reads them: no dim gives the extreme value (a 0-d tensor, or kept dims
 * with `{ keepdim: true }`), a dim gives `{ values, indices }`, a tensor the elementwise
 * maximum / minimum (torch.max(input, other)).
 */
export function maxMin(op: 'max' | 'min', x: Tensor, a: unknown, keepdim: unknown): Tensor | ValuesIndices {
  if (a instanceof Tensor) {
    if (keepdim !== undefined) throw new TypeError(`${op}: with a tensor argument (elementwise ${op}imum) no further arguments are taken, got ${describeArg(keepdim)}`);
    return binary(op === 'max' ? 'maximum' : 'minimum', x, a, op);
  }
  const o = reduceArgs(op, a, keepdim);
  if (Array.isArray(o.dim)) {
    throw new TypeError(`${op}: dim must be a single integer, got ${describeArg(o.dim)} (use a${op}(${JSON.stringify(o.dim)}) for the ${op} over several dims)`);
  }
  if (o.dim === undefined) return reduce(op, x, o);
  return extremeAlong(op, x, o.dim as number, o.keepdim);
}
