import { ShapeError, fmt } from './errors.js';

export type Shape = readonly number[];

export const numel = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Normalise a possibly negative axis, or explain which axes exist. */
export function normAxis(op: string, axis: number, ndim: number, shape: Shape): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(axis) || axis < -n || axis >= n) {
    throw new ShapeError(`${op}: dim ${axis} is out of range for a tensor of shape ${fmt(shape)} (valid: ${-n} to ${n - 1})`);
  }
  return axis < 0 ? axis + n : axis;
}

export function normAxes(op: string, dim: number | readonly number[] | undefined, shape: Shape): number[] {
  if (dim === undefined) return shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : [...dim];
  const axes = list.map((d) => normAxis(op, d, shape.length, shape));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`${op}: dim ${fmt(list)} repeats an axis`);
  return axes.filter((a) => a < shape.length).sort((a, b) => a - b);
}

/** NumPy/PyTorch broadcasting: align right, sizes equal or one of them 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const ndim = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (let i = 1; i <= ndim; i++) {
    for (const s of shapes) {
      const d = s[s.length - i] ?? 1;
      const cur = out[ndim - i]!;
      if (d === cur || d === 1) continue;
      if (cur === 1) { out[ndim - i] = d; continue; }
      throw new ShapeError(
        `${op}: cannot broadcast ${shapes.map(fmt).join(' with ')}: dimension -${i} is ${cur} vs ${d} ` +
        `(sizes must match or one must be 1)`);
    }
  }
  return out;
}

export function checkShape(op: string, shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmt(shape)}: sizes must be non-negative integers`);
  }
  return [...shape];
}
