/**
 * Movement composites with PyTorch's semantics: repeat, tile, expandAs, roll, movedim, triu,
 * tril, diag, trace, meshgrid. Each is built from the zero-copy views (reshape, expand, slice,
 * pad, permute) and a mask where it needs one, so gradients come from the view rules.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { normAxis } from '../graph/shape.js';
import { iotaAlong } from './creation.js';
import { where } from './elementwise.js';
import { cat } from './join.js';
import { full } from './make.js';
import { expand, flatten, pad, permute, reshape, slice } from './movement.js';
import { describeArg, int, isPlainObject, options } from './args.js';
import type { Tensor } from './tensor.js';

/**
 * torch.Tensor.repeat: the tensor tiled `sizes[i]` times along dim i; extra leading sizes add
 * dims. One view: [1, d0, 1, d1, …] expanded to [r0, d0, r1, d1, …], then merged pairwise.
 */
export function repeat(x: Tensor, sizes: readonly number[], op = 'repeat'): Tensor {
  if (sizes.length < x.ndim || sizes.some((r) => r < 0)) {
    throw new ShapeError(`${op}: got repeats ${fmt(sizes)} for a tensor of shape ${fmt(x.shape)}: ` +
      `give at least ${x.ndim} non-negative counts (one per dim; extra ones in front add dims)`);
  }
  const shape = [...new Array<number>(sizes.length - x.ndim).fill(1), ...x.shape];
  if (sizes.every((r) => r === 1)) return reshape(x, shape);
  const spread = reshape(x, shape.flatMap((d) => [1, d]));
  const grown = expand(spread, shape.flatMap((d, i) => [sizes[i]!, d]));
  return reshape(grown, shape.map((d, i) => d * sizes[i]!));
}

/** torch.tile: repeat, with fewer counts than dims meaning 1 for the leading dims. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const full = reps.length < x.ndim ? [...new Array<number>(x.ndim - reps.length).fill(1), ...reps] : reps;
  return repeat(x, full, 'tile');
}

/** torch.Tensor.expand_as. */
export function expandAs(x: Tensor, other: Tensor): Tensor {
  if (typeof other !== 'object' || other === null || !Array.isArray((other as { shape?: unknown }).shape)) {
    throw new TypeError(`expandAs: expected a tensor whose shape to expand to, got ${describeArg(other)}`);
  }
  return expand(x, other.shape);
}

const intList = (op: string, name: string, v: unknown): number[] =>
  typeof v === 'number' ? [int(op, name, v)] : Array.isArray(v) ? v.map((e) => int(op, name, e))
    : (() => { throw new TypeError(`${op}: ${name} must be an integer or a list of integers, got ${describeArg(v)}`); })();

/**
 * torch.roll: elements shifted by `shifts` along `dims`, wrapping around; without dims the
 * tensor is rolled as if flattened. Each shift is two slices joined (the wrapped part first).
 */
export function roll(x: Tensor, shifts: unknown, dims?: unknown): Tensor {
  const op = 'roll';
  if (isPlainObject(shifts)) {
    if (dims !== undefined) throw new TypeError(`${op}: pass dims inside the options object or positionally, not both`);
    const o = options<{ shifts?: unknown; dims?: unknown }>(op, shifts, ['shifts', 'dims']);
    return roll(x, o.shifts, o.dims);
  }
  const s = intList(op, 'shifts', shifts);
  if (dims === undefined) {
    if (s.length !== 1) throw new ShapeError(`${op}: without dims, shifts must be one integer, got ${fmt(s)}`);
    return reshape(roll(flatten(x), s, 0), x.shape);
  }
  const d = intList(op, 'dims', dims);
  if (d.length !== s.length) throw new ShapeError(`${op}: shifts ${fmt(s)} and dims ${fmt(d)} must have the same length`);
  let t = x;
  d.forEach((dim, i) => {
    const a = normAxis(op, dim, x.ndim, x.shape);
    const n = x.shape[a]!;
    const k = n === 0 ? 0 : ((s[i]! % n) + n) % n;
    if (k) t = cat([slice(t, a, n - k, n), slice(t, a, 0, n - k)], a);
  });
  return t;
}

/** torch.movedim: the dims in `source` moved to the positions in `destination`, the others in order. */
export function movedim(x: Tensor, source: unknown, destination: unknown): Tensor {
  const op = 'movedim';
  const src = intList(op, 'source', source).map((d) => normAxis(op, d, x.ndim, x.shape));
  const dst = intList(op, 'destination', destination).map((d) => normAxis(op, d, x.ndim, x.shape));
  if (src.length !== dst.length || new Set(src).size !== src.length || new Set(dst).size !== dst.length) {
    throw new ShapeError(`${op}: source ${fmt(src)} and destination ${fmt(dst)} must be lists of distinct dims of the same length (shape ${fmt(x.shape)})`);
  }
  const rest = x.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const order = new Array<number>(x.ndim).fill(-1);
  src.forEach((s, i) => { order[dst[i]!] = s; });
  let r = 0;
  for (let i = 0; i < x.ndim; i++) if (order[i] === -1) order[i] = rest[r++]!;
  return permute(x, order);
}

/** The last two dims of x masked to col - row >= k (upper) or <= k (lower), zero elsewhere. */
function triangle(op: 'triu' | 'tril', x: Tensor, diagonal: unknown): Tensor {
  const k = diagonal === undefined ? 0 : int(op, 'diagonal', isPlainObject(diagonal)
    ? options<{ diagonal?: number }>(op, diagonal, ['diagonal']).diagonal ?? 0 : diagonal);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected a tensor of at least 2 dims (a matrix or a batch of them), got shape ${fmt(x.shape)}`);
  const sq = x.shape.slice(-2);
  const offset = iotaAlong(sq, 1).sub(iotaAlong(sq, 0));
  const keep = op === 'triu' ? offset.ge(k) : offset.le(k);
  return where(keep, x, full([], 0, x.dtype));
}
/** torch.triu: the upper triangle of the last two dims, on and above diagonal k. */
export const triu = (x: Tensor, diagonal?: unknown): Tensor => triangle('triu', x, diagonal);
/** torch.tril: the lower triangle of the last two dims, on and below diagonal k. */
export const tril = (x: Tensor, diagonal?: unknown): Tensor => triangle('tril', x, diagonal);

/**
 * torch.diag: a 1-D tensor becomes the square matrix with it on diagonal k; a matrix gives its
 * k-th diagonal. Both are views: [n] padded to [n, n + 1] and read as [n, n] puts x[i] at (i, i);
 * the diagonal of a matrix is its flat form sliced with step cols + 1.
 */
export function diag(x: Tensor, diagonal?: unknown): Tensor {
  const op = 'diag';
  const k = diagonal === undefined ? 0 : int(op, 'diagonal', isPlainObject(diagonal)
    ? options<{ diagonal?: number }>(op, diagonal, ['diagonal']).diagonal ?? 0 : diagonal);
  if (x.ndim === 1) {
    const n = x.shape[0]!;
    const rows = pad(reshape(x, [n, 1]), [0, n]);
    const square = reshape(slice(reshape(rows, [n * (n + 1)]), 0, 0, n * n), [n, n]);
    const a = Math.abs(k);
    // Diagonal k > 0 sits k columns right of the main one: pad columns before and rows after.
    return a === 0 ? square : pad(square, k > 0 ? [a, 0, 0, a] : [0, a, a, 0]);
  }
  if (x.ndim !== 2) throw new ShapeError(`${op}: expected a 1-D tensor (to make a matrix) or a 2-D one (to take a diagonal), got shape ${fmt(x.shape)}`);
  const [m, n] = x.shape as [number, number];
  const len = Math.max(0, k >= 0 ? Math.min(m, n - k) : Math.min(m + k, n));
  if (len === 0) return slice(reshape(x, [m * n]), 0, 0, 0);
  const start = k >= 0 ? k : -k * n;
  return slice(reshape(x, [m * n]), 0, start, start + (len - 1) * (n + 1) + 1, n + 1);
}

/** torch.trace: the sum of the main diagonal of a matrix. */
export function trace(x: Tensor): Tensor {
  if (x.ndim !== 2) throw new ShapeError(`trace: expected a 2-D tensor (a matrix), got shape ${fmt(x.shape)}`);
  return diag(x).sum();
}

/**
 * torch.meshgrid: for 1-D tensors of sizes n0, n1, …, each expanded to [n0, n1, …] along its own
 * dim ('ij', the default) or with the first two dims swapped ('xy', NumPy's Cartesian indexing).
 * Takes the tensors as arguments or as one list, and an optional trailing `{ indexing }`.
 */
export interface MeshgridOptions { indexing?: 'ij' | 'xy' }
export function meshgrid(tensors: readonly Tensor[], opts?: MeshgridOptions): Tensor[];
export function meshgrid(...args: Tensor[] | [...Tensor[], MeshgridOptions]): Tensor[];
export function meshgrid(...args: unknown[]): Tensor[] {
  const op = 'meshgrid';
  const last = args[args.length - 1];
  const o = isPlainObject(last) ? options<MeshgridOptions>(op, last, ['indexing']) : {};
  const rest = isPlainObject(last) ? args.slice(0, -1) : args;
  const ts = (rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest) as Tensor[];
  const indexing = o.indexing ?? 'ij';
  if (indexing !== 'ij' && indexing !== 'xy') throw new TypeError(`${op}: indexing must be 'ij' or 'xy', got ${describeArg(indexing)}`);
  if (!ts.length || ts.some((t) => typeof t !== 'object' || t === null || !('ndim' in t) || t.ndim > 1)) {
    throw new ShapeError(`${op}: expected one or more 0-D or 1-D tensors, got ${ts.map((t) => (t && typeof t === 'object' && 'shape' in t ? fmt(t.shape) : describeArg(t))).join(', ') || 'nothing'}`);
  }
  const sizes = ts.map((t) => t.numel());
  // 'xy' swaps the roles of the first two inputs in the output shape (and nothing else).
  const pos = ts.map((_, i) => (indexing === 'xy' && ts.length > 1 && i < 2 ? 1 - i : i));
  const shape = ts.map((_, j) => sizes[pos.indexOf(j)]!);
  return ts.map((t, i) => expand(reshape(t, shape.map((s, j) => (j === pos[i] ? s : 1))), shape));
}
