/**
 * Views: zero-copy index maps. A View maps coordinates of its shape to a flat offset
 * (offset + Σ coord·stride) and, where padding made them, masks coordinates that read as 0.
 * A ShapeTracker is a stack of views: views[0] indexes the buffer, each later view indexes the
 * row-major flat space of the one below it. A reshape that strides cannot express (a reshape of a
 * permuted view) pushes a new view instead of copying; the code generators turn the stack into
 * index arithmetic.
 */
import { contiguousStrides, numel, type Shape } from './shape.js';

export interface View {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** Per dim, the valid coordinate range [lo, hi); absent when nothing is masked. */
  readonly mask: readonly (readonly [number, number])[] | null;
}
export type ShapeTracker = readonly View[];

export const contiguousView = (shape: Shape): View => ({ shape: [...shape], strides: contiguousStrides(shape), offset: 0, mask: null });

export function isContiguous(v: View): boolean {
  if (v.offset !== 0 || v.mask !== null) return false;
  const cs = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === cs[i]);
}

/** A tracker that reads its base buffer in order, untouched: the buffer itself. */
export const isIdentity = (t: ShapeTracker): boolean => t.length === 1 && isContiguous(t[0]!);

export const trackerShape = (t: ShapeTracker): readonly number[] => t[t.length - 1]!.shape;

function withLast(t: ShapeTracker, v: View): View[] {
  return [...t.slice(0, -1), v];
}

/** Strides for viewing (shape, strides) as newShape without copying, or null (NumPy's attempt_nocopy_reshape). */
function reshapeStrides(shape: Shape, strides: readonly number[], newShape: Shape): number[] | null {
  if (numel(shape) !== numel(newShape)) return null;
  const oldDims: number[] = [];
  const oldStrides: number[] = [];
  shape.forEach((d, i) => { if (d !== 1) { oldDims.push(d); oldStrides.push(strides[i]!); } });
  const out = new Array<number>(newShape.length).fill(0);
  let oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < newShape.length && oi < oldDims.length) {
    let np = newShape[ni]!, op = oldDims[oi]!;
    while (np !== op) {
      if (np < op) np *= newShape[nj++]!;
      else op *= oldDims[oj++]!;
    }
    for (let k = oi; k < oj - 1; k++) {
      if (oldStrides[k] !== oldDims[k + 1]! * oldStrides[k + 1]!) return null;
    }
    out[nj - 1] = oldStrides[oj - 1]!;
    for (let k = nj - 1; k > ni; k--) out[k - 1] = out[k]! * newShape[k]!;
    ni = nj++;
    oi = oj++;
  }
  return out.map((s, i) => (newShape[i] === 1 ? 0 : s));
}

export function reshape(t: ShapeTracker, newShape: Shape): ShapeTracker {
  const v = t[t.length - 1]!;
  if (numel(newShape) === 0 || isContiguous(v)) return withLast(t, { ...contiguousView(newShape), offset: v.offset });
  if (v.mask === null) {
    const strides = reshapeStrides(v.shape, v.strides, newShape);
    if (strides) return withLast(t, { shape: [...newShape], strides, offset: v.offset, mask: null });
  }
  return [...t, contiguousView(newShape)];
}

export function permute(t: ShapeTracker, order: readonly number[]): ShapeTracker {
  const v = t[t.length - 1]!;
  return withLast(t, {
    shape: order.map((i) => v.shape[i]!),
    strides: order.map((i) => v.strides[i]!),
    offset: v.offset,
    mask: v.mask && order.map((i) => v.mask![i]!),
  });
}

/** Size-1 dims become `newShape` sizes with stride 0 (no data is repeated in memory). */
export function expand(t: ShapeTracker, newShape: Shape): ShapeTracker {
  const v = t[t.length - 1]!;
  return withLast(t, {
    shape: [...newShape],
    strides: v.strides.map((s, i) => (v.shape[i] === newShape[i] ? s : 0)),
    offset: v.offset,
    mask: v.mask && v.mask.map(([lo, hi], i) => (v.shape[i] === newShape[i] ? [lo, hi] as const : (hi > lo ? [0, newShape[i]!] as const : [0, 0] as const))),
  });
}

/** Keep coordinates start, start+step, … below end along `dim` (0 <= start <= end <= size, step >= 1). */
export function slice(t: ShapeTracker, dim: number, start: number, end: number, step: number): ShapeTracker {
  const v = t[t.length - 1]!;
  const size = Math.max(0, Math.ceil((end - start) / step));
  const shape = [...v.shape];
  shape[dim] = size;
  const strides = [...v.strides];
  strides[dim] = v.strides[dim]! * step;
  let mask = v.mask;
  if (mask) {
    const [lo, hi] = mask[dim]!;
    const nlo = Math.min(size, Math.max(0, Math.ceil((lo - start) / step)));
    const nhi = Math.min(size, Math.max(nlo, Math.ceil((hi - start) / step)));
    mask = mask.map((m, i) => (i === dim ? [nlo, nhi] as const : m));
  }
  return withLast(t, { shape, strides, offset: v.offset + start * v.strides[dim]!, mask });
}

export function flip(t: ShapeTracker, dim: number): ShapeTracker {
  const v = t[t.length - 1]!;
  const n = v.shape[dim]!;
  const strides = [...v.strides];
  strides[dim] = -v.strides[dim]!;
  const mask = v.mask && v.mask.map((m, i) => (i === dim ? [n - m[1], n - m[0]] as const : m));
  return withLast(t, { shape: v.shape, strides, offset: v.offset + (n - 1) * v.strides[dim]!, mask });
}

/** Grow `dim` by `before` and `after` coordinates that read as zero. */
export function pad(t: ShapeTracker, dim: number, before: number, after: number): ShapeTracker {
  const v = t[t.length - 1]!;
  const shape = [...v.shape];
  shape[dim] = v.shape[dim]! + before + after;
  const base = v.mask ?? v.shape.map((d) => [0, d] as const);
  const mask = base.map((m, i) => (i === dim ? [m[0] + before, m[1] + before] as const : m));
  return withLast(t, { shape, strides: v.strides, offset: v.offset - before * v.strides[dim]!, mask });
}

/**
 * `outer` indexes the flat row-major space of `inner`'s shape; the result maps outer's
 * coordinates straight to inner's base. Folds the views where that is exact.
 */
export function compose(inner: ShapeTracker, outer: ShapeTracker): ShapeTracker {
  if (isIdentity(inner)) return outer;
  // A contiguous outer view is a reshape of inner only when it covers all of it (not a prefix).
  const o = outer[0]!;
  if (outer.length === 1 && isContiguous(o) && numel(o.shape) === numel(trackerShape(inner))) return reshape(inner, o.shape);
  const merged = mergeViews(inner[inner.length - 1]!, o);
  if (merged) return [...inner.slice(0, -1), merged, ...outer.slice(1)];
  return [...inner, ...outer];
}

/**
 * `outer` (which indexes the row-major flat space of `inner`'s shape) and `inner` as one view,
 * where that is exact: every dim of outer walks along a single dim of inner without leaving it
 * (a broadcast of a transposed matrix, a strided slice of a permuted view). Null otherwise, or
 * where either view is masked.
 */
function mergeViews(inner: View, outer: View): View | null {
  if (inner.mask || outer.mask) return null;
  const shape = inner.shape;
  const rowMajor = contiguousStrides(shape); // 0 for size-1 dims, which no outer dim walks
  // Where outer's origin lies in inner's coordinates.
  const base: number[] = [];
  let rest = outer.offset;
  for (let j = 0; j < shape.length; j++) {
    const step = numel(shape.slice(j + 1));
    base.push(step === 0 ? 0 : Math.floor(rest / step));
    rest -= base[j]! * step;
  }
  if (rest !== 0 || base.some((b, j) => b < 0 || (b >= shape[j]! && shape[j]! > 0))) return null;
  const reach = [...base];
  const strides = outer.shape.map((d, i) => {
    const st = outer.strides[i]!;
    if (d === 1 || st === 0) return 0;
    // The inner dim whose row-major stride divides st with a quotient inside that dim.
    const j = rowMajor.findIndex((rs, k) => rs > 0 && st % rs === 0 && st / rs < shape[k]!);
    if (j < 0 || st < 0) return NaN;
    const q = st / rowMajor[j]!;
    reach[j]! += q * (d - 1);
    return q * inner.strides[j]!;
  });
  if (strides.some((s) => Number.isNaN(s)) || reach.some((r, j) => r >= shape[j]!)) return null;
  const offset = inner.offset + base.reduce((sum, b, j) => sum + b * inner.strides[j]!, 0);
  return { shape: [...outer.shape], strides, offset, mask: null };
}


/**
 * A movement op as the user wrote it. View nodes keep it beside their tracker because autodiff
 * needs the op itself (the inverse of a permute, the dims an expand broadcast), not just the map.
 */
export type Movement =
  | { readonly op: 'reshape'; readonly shape: readonly number[] }
  | { readonly op: 'permute'; readonly order: readonly number[] }
  /** Same rank; size-1 dims grow. */
  | { readonly op: 'expand'; readonly shape: readonly number[] }
  | { readonly op: 'slice'; readonly dim: number; readonly start: number; readonly end: number; readonly step: number }
  | { readonly op: 'flip'; readonly dims: readonly number[] }
  | { readonly op: 'pad'; readonly pads: readonly (readonly [dim: number, before: number, after: number])[] };

export function applyMovement(t: ShapeTracker, m: Movement): ShapeTracker {
  switch (m.op) {
    case 'reshape': return reshape(t, m.shape);
    case 'permute': return permute(t, m.order);
    case 'expand': return expand(t, m.shape);
    case 'slice': return slice(t, m.dim, m.start, m.end, m.step);
    case 'flip': return m.dims.reduce((acc, d) => flip(acc, d), t);
    case 'pad': return m.pads.reduce((acc, [d, b, a]) => pad(acc, d, b, a), t);
  }
}
