/** Joining and splitting along a dim: cat, stack, split, chunk. */
import { promote } from '../graph/dtype.js';
import { ShapeError, fmt } from '../graph/errors.js';
import { normAxis } from '../graph/shape.js';
import { cast } from './make.js';
import { pad, slice, unsqueeze } from './movement.js';
import { Tensor } from './tensor.js';
import { describeArg, dimArg } from './args.js';

/** `tensors` checked to be a list of tensors (`cat(a, b)` is a common slip for `cat([a, b])`). */
export function tensorList(op: string, tensors: unknown): readonly Tensor[] {
  if (!Array.isArray(tensors)) {
    throw new TypeError(`${op}: expected a list of tensors (${op}([a, b], dim)), got ${describeArg(tensors)}`);
  }
  tensors.forEach((t: unknown, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: expected a list of tensors, got ${describeArg(t)} at position ${i}`);
  });
  return tensors as readonly Tensor[];
}

/** torch.cat's arguments: `(tensors)`, `(tensors, dim)` or `(tensors, { dim })`. */
export const catArgs = (op: string, tensors: unknown, dim: unknown): [readonly Tensor[], number] =>
  [tensorList(op, tensors), dimArg(op, dim, 0)];

/** split's first argument: a piece size or a list of section sizes, integers. */
export function sections(v: unknown): number | number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (Array.isArray(v) && v.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)) return [...v] as number[];
  throw new TypeError(`split: expected a piece size (an integer) or a list of section sizes (non-negative integers), got ${describeArg(v)}`);
}

/**
 * Each input is padded with zeros to the full length and the results are added: one fused
 * kernel whose loads are masked, with no copies in between.
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!tensors.length) throw new ShapeError('cat: expected a non-empty list of tensors');
  const first = tensors[0]!;
  const d = normAxis('cat', dim, first.ndim, first.shape);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new ShapeError(`cat: shapes ${tensors.map((x) => fmt(x.shape)).join(', ')} differ outside dim ${dim}`);
    }
  }
  if (tensors.length === 1) return first;
  const dtype = tensors.map((t) => t.dtype).reduce(promote);
  const total = tensors.reduce((n, t) => n + t.shape[d]!, 0);
  const trailing = first.ndim - 1 - d;
  let offset = 0;
  let out: Tensor | null = null;
  for (const t of tensors) {
    const pads = new Array<number>(2 * (trailing + 1)).fill(0);
    pads[2 * trailing] = offset;
    pads[2 * trailing + 1] = total - offset - t.shape[d]!;
    offset += t.shape[d]!;
    const p = pad(cast(t, dtype === 'bool' ? 'int32' : dtype), pads);
    out = out ? out.add(p) : p;
  }
  return cast(out!, dtype);
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!tensors.length) throw new ShapeError('stack: expected a non-empty list of tensors');
  const first = tensors[0]!;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new ShapeError(`stack: all tensors must have the same shape, got ${tensors.map((x) => fmt(x.shape)).join(', ')}`);
    }
  }
  const d = normAxis('stack', dim, first.ndim + 1, [...first.shape, 1]);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** torch.split: pieces of `size` (the last may be shorter), or of the listed sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normAxis('split', dim, x.ndim, x.shape);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections < 1) throw new ShapeError(`split: size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((a, b) => a + b, 0) !== n) throw new ShapeError(`split: sections ${fmt(sizes)} do not sum to ${n}, the size of dim ${dim} of ${fmt(x.shape)}`);
  }
  let start = 0;
  return sizes.map((s) => { const piece = slice(x, d, start, start + s); start += s; return piece; });
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw new ShapeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normAxis('chunk', dim, x.ndim, x.shape);
  return split(x, Math.max(1, Math.ceil(x.shape[d]! / chunks)), d);
}
