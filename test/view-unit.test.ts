// src/graph/view.ts on its own: each view function's offset, strides and mask, checked by
// materialising the tracker (enumerate its coordinates, walk the view stack down to a buffer
// address, read the buffer or a masked 0) and comparing with the eager reference's result.
// The scheduler reads trackers directly only for matmul operands, so the kernels of the other
// suites do not exercise these numbers.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  compose,
  contiguousView,
  expand,
  flip,
  isIdentity,
  pad,
  permute,
  reshape,
  slice,
  trackerShape,
  type Movement,
  type ShapeTracker,
  applyMovement,
} from '../src/graph/view.js';
import { applyRef, chainArb, decodeChain, describeOps, shapeArb, type ViewOp } from './reference/arbitraries.js';
import { ref, NDArray } from './reference/check.js';

/** 1, 2, 3, …: every element distinct and none 0, so a masked read cannot pass for a real one. */
const counting = (shape: readonly number[]): NDArray => new NDArray(Array.from({ length: ref.numel(shape) }, (_, i) => i + 1), shape);

/**
 * The values `t` reads from the contiguous buffer `base`. Throws when an unmasked coordinate
 * lands outside the buffer (a wrong offset or stride usually does).
 */
function materialise(t: ShapeTracker, base: readonly number[] | Float64Array): NDArray {
  const shape = trackerShape(t);
  const out = new Float64Array(ref.numel(shape));
  for (let flat = 0; flat < out.length; flat++) {
    let coords = ref.unravel(flat, shape);
    let addr = 0;
    let masked = false;
    for (let j = t.length - 1; j >= 0 && !masked; j--) {
      const v = t[j]!;
      if (j < t.length - 1) coords = ref.unravel(addr, v.shape);
      masked = v.mask !== null && coords.some((c, i) => c < v.mask![i]![0] || c >= v.mask![i]![1]);
      addr = v.offset + coords.reduce((s, c, i) => s + c * v.strides[i]!, 0);
    }
    if (masked) continue;
    if (!(addr >= 0 && addr < base.length)) {
      throw new Error(`element ${flat} (${JSON.stringify(ref.unravel(flat, shape))}) reads address ${addr} of a ${base.length}-element buffer`);
    }
    out[flat] = base[addr]!;
  }
  return new NDArray(out, shape);
}

const expectValues = (got: NDArray, want: NDArray, label: string): void => {
  expect([...got.shape], `${label}: shape`).toEqual([...want.shape]);
  expect(Array.from(got.data), label).toEqual(Array.from(want.data));
};

/**
 * A user-level view op (as the property suites generate it) as the movements view.ts takes,
 * resolved against `shape` the way the tensor layer does: -1 sizes, negative dims, clamped
 * slice bounds, crops as slices, new leading dims of expand as a reshape.
 */
function movementsOf(op: ViewOp, shape: readonly number[]): Movement[] {
  const n = shape.length;
  const dim = (d: number, rank = n): number => (d < 0 ? d + Math.max(rank, 1) : d);
  switch (op.kind) {
    case 'reshape': {
      const known = op.shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
      return [{ op: 'reshape', shape: op.shape.map((d) => (d === -1 ? ref.numel(shape) / known : d)) }];
    }
    case 'permute': return [{ op: 'permute', order: op.dims.map((d) => dim(d)) }];
    case 'transpose': {
      if (n < 2) return [];
      const order = shape.map((_, i) => i);
      const a = dim(op.d0), b = dim(op.d1);
      [order[a], order[b]] = [b, a];
      return [{ op: 'permute', order }];
    }
    case 'expand': {
      const lead = op.shape.length - n;
      const out = op.shape.map((d, i) => (d === -1 ? shape[i - lead]! : d));
      const first: Movement[] = lead ? [{ op: 'reshape', shape: [...new Array<number>(lead).fill(1), ...shape] }] : [];
      return [...first, { op: 'expand', shape: out }];
    }
    case 'slice': {
      const d = dim(op.dim);
      const m = shape[d]!;
      const norm = (i: number): number => Math.min(m, Math.max(0, i < 0 ? i + m : i));
      const s = norm(op.start);
      return [{ op: 'slice', dim: d, start: s, end: Math.max(s, norm(op.end ?? m)), step: op.step }];
    }
    case 'pad': {
      const out: Movement[] = [];
      const grow: [number, number, number][] = [];
      const cur = [...shape];
      for (let i = 0; i < op.pads.length / 2; i++) {
        const d = n - 1 - i;
        const before = op.pads[2 * i]!, after = op.pads[2 * i + 1]!;
        if (before < 0 || after < 0) {
          const start = Math.max(0, -before), end = cur[d]! - Math.max(0, -after);
          out.push({ op: 'slice', dim: d, start, end, step: 1 });
          cur[d] = end - start;
        }
        if (before > 0 || after > 0) grow.push([d, Math.max(0, before), Math.max(0, after)]);
      }
      if (grow.length) out.push({ op: 'pad', pads: grow });
      return out;
    }
    case 'flip': return op.dims.length ? [{ op: 'flip', dims: op.dims.map((d) => dim(d)) }] : [];
    case 'squeeze': {
      const squeezed = op.dim === undefined ? shape.filter((d) => d !== 1) : shape.filter((d, i) => !(d === 1 && i === dim(op.dim!)));
      return [{ op: 'reshape', shape: squeezed }];
    }
    case 'unsqueeze': {
      const s = [...shape];
      s.splice(dim(op.dim, n + 1), 0, 1);
      return [{ op: 'reshape', shape: s }];
    }
  }
}

/** Padding in view.ts reads 0; the reference pads with the op's value, so zero it. */
const zeroPadValues = (ops: readonly ViewOp[]): ViewOp[] => ops.map((o) => (o.kind === 'pad' ? { ...o, value: 0 } : o));

/** Applies a whole decoded chain to a tracker, one view function at a time. */
function trackChain(start: ShapeTracker, ops: readonly ViewOp[]): ShapeTracker {
  let t = start;
  for (const op of ops) for (const m of movementsOf(op, trackerShape(t))) t = applyMovement(t, m);
  return t;
}

describe('each view function, by hand', () => {
  const base = counting([3, 4]); // [[1..4], [5..8], [9..12]]
  const c = [contiguousView([3, 4])];

  test('flip negates the stride and starts at the far end', () => {
    const t = flip(c, 1);
    expect(t[0]).toEqual({ shape: [3, 4], strides: [4, -1], offset: 3, mask: null });
    expectValues(materialise(t, base.data), ref.flip(base, [1]), 'flip(1)');
    const both = flip(flip(c, 0), 1);
    expect(both[0]!.offset).toBe(11);
    expectValues(materialise(both, base.data), ref.flip(base, [0, 1]), 'flip(0, 1)');
  });

  test('slice scales the stride by the step and moves the offset to the start', () => {
    const t = slice(c, 1, 1, 4, 2);
    expect(t[0]).toEqual({ shape: [3, 2], strides: [4, 2], offset: 1, mask: null });
    expectValues(materialise(t, base.data), ref.slice(base, 1, 1, 4, 2), 'slice');
    const rows = slice(c, 0, 2, 3, 1);
    expect(rows[0]).toEqual({ shape: [1, 4], strides: [4, 1], offset: 8, mask: null });
  });

  test('pad moves the offset back and masks the new coordinates', () => {
    const t = pad(c, 0, 1, 2);
    expect(t[0]).toEqual({ shape: [6, 4], strides: [4, 1], offset: -4, mask: [[1, 4], [0, 4]] });
    expectValues(materialise(t, base.data), ref.pad(base, [0, 0, 1, 2]), 'pad');
  });

  test('a slice of a padded view keeps the mask in the new coordinates', () => {
    const t = slice(pad(c, 1, 2, 1), 1, 1, 7, 2); // padded columns -2..4 → coords 1, 3, 5 of 7
    expect(t[0]!.mask).toEqual([[0, 3], [1, 3]]);
    expectValues(materialise(t, base.data), ref.slice(ref.pad(base, [2, 1]), 1, 1, 7, 2), 'pad then slice');
  });

  test('a flip of a padded view mirrors the mask', () => {
    const t = flip(pad(c, 1, 2, 1), 1);
    expect(t[0]!.mask).toEqual([[0, 3], [1, 5]]);
    expectValues(materialise(t, base.data), ref.flip(ref.pad(base, [2, 1]), [1]), 'pad then flip');
  });

  test('permute reorders shape, strides and mask', () => {
    const t = permute(pad(c, 1, 1, 0), [1, 0]);
    expect(t[0]).toEqual({ shape: [5, 3], strides: [1, 4], offset: -1, mask: [[1, 5], [0, 3]] });
    expectValues(materialise(t, base.data), ref.permute(ref.pad(base, [1, 0]), [1, 0]), 'pad then permute');
  });

  test('expand gives the grown dims stride 0', () => {
    const col = [contiguousView([3, 1])];
    const t = expand(col, [3, 5]);
    expect(t[0]).toEqual({ shape: [3, 5], strides: [1, 0], offset: 0, mask: null });
    expectValues(materialise(t, [1, 2, 3]), ref.expand(counting([3, 1]), [3, 5]), 'expand');
  });

  test('reshape folds into strides where it can and stacks a view where it cannot', () => {
    const sliced = reshape(slice(c, 0, 1, 3, 1), [8]);
    expect(sliced).toHaveLength(1);
    expect(sliced[0]).toEqual({ shape: [8], strides: [1], offset: 4, mask: null });
    const merged = reshape(permute(c, [1, 0]), [2, 2, 3]); // splits the permuted dim of 4: strides exist
    expect(merged).toHaveLength(1);
    expect(merged[0]!.strides).toEqual([2, 1, 4]);
    expectValues(materialise(merged, base.data), ref.reshape(ref.permute(base, [1, 0]), [2, 2, 3]), 'permute then split');
    const flat = reshape(permute(c, [1, 0]), [12]); // a permuted view is not one stride
    expect(flat).toHaveLength(2);
    expectValues(materialise(flat, base.data), ref.reshape(ref.permute(base, [1, 0]), [12]), 'permute then flatten');
    const padded = reshape(pad(c, 1, 1, 0), [15]); // masks never fold into a reshape
    expect(padded).toHaveLength(2);
    expectValues(materialise(padded, base.data), ref.reshape(ref.pad(base, [1, 0]), [15]), 'pad then flatten');
  });

  test('compose folds an identity and a full contiguous outer view, and stacks otherwise', () => {
    const flipped = flip(c, 0);
    expect(compose(c, flipped)).toEqual(flipped);
    const reversed = flip(flipped, 1); // both dims flipped: one stride of -1 from the last element
    const asFlat = compose(reversed, [contiguousView([12])]);
    expect(asFlat).toEqual([{ shape: [12], strides: [-1], offset: 11, mask: null }]);
    expectValues(materialise(asFlat, base.data), ref.reshape(ref.flip(base, [0, 1]), [12]), 'flip then flatten');
    expect(compose(flipped, [contiguousView([12])]), 'rows reversed, columns not: no single stride').toHaveLength(2);
    // A contiguous outer view of a prefix only is not a reshape of the whole.
    const prefix = compose(flipped, slice([contiguousView([12])], 0, 0, 6, 1));
    expect(prefix).toHaveLength(2);
    expectValues(materialise(prefix, base.data), ref.slice(ref.reshape(ref.flip(base, [0]), [12]), 0, 0, 6), 'a prefix');
    expect(isIdentity(compose(c, c))).toBe(true);
  });

  test('compose merges an outer view whose dims each walk along one inner dim into one view', () => {
    // w.T broadcast over a batch of 5 (what a Linear layer reads for a 3-D input).
    const t = permute(c, [1, 0]); // [4, 3], strides [1, 4]
    const batched = expand(reshape([contiguousView([4, 3])], [1, 4, 3]), [5, 4, 3]);
    const merged = compose(t, batched);
    expect(merged).toEqual([{ shape: [5, 4, 3], strides: [0, 1, 4], offset: 0, mask: null }]);
    expectValues(materialise(merged, base.data), ref.expand(ref.reshape(ref.permute(base, [1, 0]), [1, 4, 3]), [5, 4, 3]), 'broadcast transpose');
    // Every other row of a transposed view, from row 1: strides scale, the offset moves.
    const rows = compose(t, slice([contiguousView([4, 3])], 0, 1, 4, 2));
    expect(rows).toEqual([{ shape: [2, 3], strides: [2, 4], offset: 1, mask: null }]);
    expectValues(materialise(rows, base.data), ref.slice(ref.permute(base, [1, 0]), 0, 1, 4, 2), 'strided rows of a transpose');
  });
});

describe('random view chains as trackers', () => {
  test('a chain applied view by view reads what the reference computes', () => {
    fc.assert(
      fc.property(shapeArb, chainArb, (shape, chain) => {
        const a = counting(shape);
        const decoded = decodeChain(a, chain);
        const ops = zeroPadValues(decoded.ops);
        const want = decodeChainWith(a, ops);
        const t = trackChain([contiguousView(shape)], ops);
        expectValues(materialise(t, a.data), want, `${JSON.stringify(shape)} ${describeOps(ops)}`);
      }),
      { numRuns: 400 },
    );
  });

  test('compose(inner, outer) reads outer of inner: the way matmul operands are resolved', () => {
    fc.assert(
      fc.property(shapeArb, chainArb, chainArb, (shape, c1, c2) => {
        const a = counting(shape);
        const ops1 = zeroPadValues(decodeChain(a, c1).ops);
        const mid = decodeChainWith(a, ops1);
        const ops2 = zeroPadValues(decodeChain(mid, c2).ops);
        const want = decodeChainWith(mid, ops2);
        const inner = trackChain([contiguousView(shape)], ops1);
        const outer = trackChain([contiguousView(mid.shape)], ops2);
        const what = `${JSON.stringify(shape)} ${describeOps(ops1)} ∘ ${describeOps(ops2)}`;
        expectValues(materialise(compose(inner, outer), a.data), want, what);
      }),
      { numRuns: 400 },
    );
  });
});

/** The reference result of ops already decoded. */
function decodeChainWith(a: NDArray, ops: readonly ViewOp[]): NDArray {
  let cur = a;
  for (const op of ops) cur = applyRef(cur, op);
  return cur;
}

