/** Movement ops: zero-copy views (reshape, permute, expand, slice, pad, flip) and their sugar. */
import { ShapeError, fmt } from '../graph/errors.js';
import { normAxis, numel } from '../graph/shape.js';
import { full, view } from './make.js';
import { Tensor } from './tensor.js';
import { where } from './elementwise.js';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const n = x.numel();
  const infer = shape.filter((d) => d === -1).length;
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const bad = infer > 1 || shape.some((d) => !Number.isInteger(d) || d < -1) || (infer ? known === 0 || n % known !== 0 : known !== n);
  if (bad) {
    throw new ShapeError(`reshape: cannot view a tensor of shape ${fmt(x.shape)} (${n} elements) as ${fmt(shape)}` +
      (infer > 1 ? ': only one dimension can be -1' : ': the sizes must multiply to the same number of elements'));
  }
  const out = shape.map((d) => (d === -1 ? n / known : d));
  if (out.length === x.ndim && out.every((d, i) => d === x.shape[i])) return x;
  return view(x, { op: 'reshape', shape: out });
}

export function permute(x: Tensor, order: readonly number[]): Tensor {
  const axes = order.map((d) => normAxis('permute', d, x.ndim, x.shape));
  if (axes.length !== x.ndim || new Set(axes).size !== axes.length) {
    throw new ShapeError(`permute: ${fmt(order)} is not a permutation of the ${x.ndim} dims of a tensor of shape ${fmt(x.shape)}`);
  }
  if (axes.every((a, i) => a === i)) return x;
  return view(x, { op: 'permute', order: axes });
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  if (x.ndim < 2 && d0 === d1) return x;
  const a = normAxis('transpose', d0, x.ndim, x.shape), b = normAxis('transpose', d1, x.ndim, x.shape);
  const order = x.shape.map((_, i) => i);
  order[a] = b;
  order[b] = a;
  return permute(x, order);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  const out = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  const ok = lead >= 0 && out.every((d, i) => Number.isInteger(d) && d >= 0 && (i < lead || x.shape[i - lead] === d || x.shape[i - lead] === 1));
  if (!ok) {
    throw new ShapeError(`expand: cannot expand a tensor of shape ${fmt(x.shape)} to ${fmt(shape)} ` +
      `(each existing dim must match or be 1; -1 keeps a dim; new dims go in front)`);
  }
  if (lead === 0 && out.every((d, i) => d === x.shape[i])) return x;
  const padded = [...new Array<number>(lead).fill(1), ...x.shape];
  return view(lead ? view(x, { op: 'reshape', shape: padded }) : x, { op: 'expand', shape: out });
}

/** Python slicing along one dim: negative indices count from the end, bounds clamp. */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normAxis('slice', dim, x.ndim, x.shape);
  const n = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1) throw new ShapeError(`slice: step must be a positive integer, got ${step} (use flip for reversal)`);
  const norm = (i: number): number => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = norm(start), e = Math.max(s, norm(end ?? n));
  if (s === 0 && e === n && step === 1) return x;
  return view(x, { op: 'slice', dim: d, start: s, end: e, step });
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis('narrow', dim, x.ndim, x.shape);
  const n = x.shape[d]!;
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) {
    throw new ShapeError(`narrow: start ${start} with length ${length} does not fit dim ${dim} of size ${n} (shape ${fmt(x.shape)})`);
  }
  return slice(x, d, s, s + length);
}

export function flip(x: Tensor, dims: readonly number[]): Tensor {
  const axes = dims.map((d) => normAxis('flip', d, x.ndim, x.shape));
  return axes.length ? view(x, { op: 'flip', dims: axes }) : x;
}

/** torch.nn.functional.pad: pairs from the last dim backwards; negative amounts crop. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim || !pads.every(Number.isInteger)) {
    throw new ShapeError(`pad: expected an even number of integer pads, at most 2 per dim (${2 * x.ndim} for shape ${fmt(x.shape)}), got ${fmt(pads)}`);
  }
  let t = x;
  const grow: [number, number, number][] = [];
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const before = pads[2 * i]!, after = pads[2 * i + 1]!;
    if (before < 0 || after < 0) t = slice(t, d, Math.max(0, -before), t.shape[d]! - Math.max(0, -after));
    if (before > 0 || after > 0) grow.push([d, Math.max(0, before), Math.max(0, after)]);
  }
  if (!grow.length) return t;
  const padded = view(t, { op: 'pad', pads: grow });
  if (value === 0) return padded;
  const inside = view(full(t.shape, 1, 'bool'), { op: 'pad', pads: grow });
  return where(inside, padded, full([], value, t.dtype));
}

export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes = dim === undefined ? x.shape.map((_, i) => i) : (typeof dim === 'number' ? [dim] : dim).map((d) => normAxis('squeeze', d, x.ndim, x.shape));
  return reshape(x, x.shape.filter((d, i) => !(d === 1 && axes.includes(i))));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis('unsqueeze', dim, x.ndim + 1, [...x.shape, 1]);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim, x.shape), e = normAxis('flatten', endDim, x.ndim, x.shape);
  if (s > e) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${fmt(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}
