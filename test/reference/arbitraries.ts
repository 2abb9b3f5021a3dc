/**
 * fast-check generators for the property suites: random shapes, chains of
 * view ops decoded against the current shape, and shapes that broadcast
 * against a given shape. Decoding from raw integers keeps every generated
 * chain valid and lets fast-check shrink the integers.
 */
import fc from 'fast-check';
import * as ref from './ndarray.js';
import { NDArray } from './ndarray.js';
import type { Tensor } from './check.js';

export const dimArb = fc.integer({ min: 1, max: 5 });
/** Rank 0–4, dims 1–5. */
export const shapeArb = fc.array(dimArb, { minLength: 0, maxLength: 4 });

export type ViewOp =
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'permute'; dims: number[] }
  | { kind: 'expand'; shape: number[] }
  | { kind: 'slice'; dim: number; start: number; end: number | undefined; step: number }
  | { kind: 'pad'; pads: number[]; value: number }
  | { kind: 'flip'; dims: number[] }
  | { kind: 'transpose'; d0: number; d1: number }
  | { kind: 'squeeze'; dim: number | undefined }
  | { kind: 'unsqueeze'; dim: number };

export const VIEW_KINDS = 9;

/** Raw material for one view op; decoded by `decodeView` against the shape it applies to. */
export interface ViewSeed {
  kind: number;
  r: number[];
}

export const viewSeedArb: fc.Arbitrary<ViewSeed> = fc.record({
  kind: fc.integer({ min: 0, max: VIEW_KINDS - 1 }),
  r: fc.array(fc.nat({ max: 9999 }), { minLength: 8, maxLength: 8 }),
});

export const chainArb = fc.array(viewSeedArb, { minLength: 1, maxLength: 4 });

const MAX_ELEMS = 4096;
const MAX_RANK = 6;

function factorize(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; n > 1; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  return out;
}

/** A deterministic pseudo-random stream from the seed's integers. */
function picker(r: readonly number[]): (n: number) => number {
  let i = 0;
  let extra = 0;
  return (n: number): number => {
    if (n <= 1) return 0;
    const v = r[i % r.length]! + extra;
    i++;
    if (i % r.length === 0) extra += 7919;
    return v % n;
  };
}

/** Turns a seed into a valid view op for `shape` (falling back to flip / unsqueeze when a kind does not apply). */
export function decodeView(seed: ViewSeed, shape: readonly number[]): ViewOp {
  const pick = picker(seed.r);
  const n = shape.length;
  const size = ref.numel(shape);
  switch (seed.kind) {
    case 0: {
      // reshape: distribute the prime factors over 0–4 dims, sprinkle 1s, maybe a -1.
      const factors = factorize(size);
      const rank = size === 1 ? pick(3) : 1 + pick(4);
      const dims = new Array<number>(Math.max(rank, size === 1 ? 0 : 1)).fill(1);
      for (const f of factors) dims[pick(dims.length)]! *= f;
      if (dims.length > 0 && pick(3) === 0) dims[pick(dims.length)] = -1;
      return { kind: 'reshape', shape: dims };
    }
    case 1: {
      const dims = shape.map((_, i) => i);
      for (let i = dims.length - 1; i > 0; i--) {
        const j = pick(i + 1);
        [dims[i], dims[j]] = [dims[j]!, dims[i]!];
      }
      // Sometimes spell a dim negatively.
      return { kind: 'permute', dims: dims.map((d) => (pick(4) === 0 ? d - n : d)) };
    }
    case 2: {
      const lead = n < 4 && pick(3) === 0 ? 1 : 0;
      const target = shape.map((d) => (d === 1 ? 1 + pick(4) : pick(3) === 0 ? -1 : d));
      const leadDims = lead ? [1 + pick(3)] : [];
      const out = [...leadDims, ...target];
      const grown = ref.numel(out.map((d, i) => (d === -1 ? shape[i - lead]! : d)));
      if (grown > MAX_ELEMS) return { kind: 'flip', dims: [] };
      return { kind: 'expand', shape: out };
    }
    case 3: {
      if (n === 0) return { kind: 'unsqueeze', dim: 0 };
      const dim = pick(n);
      const m = shape[dim]!;
      const step = 1 + pick(3);
      let start = pick(2 * m + 1) - m; // in [-m, m]
      let end: number | undefined = pick(3) === 0 ? undefined : pick(2 * m + 3) - m - 1; // in [-m-1, m+1]
      const [, , len] = ref.sliceBounds(m, start, end, step);
      if (len === 0) {
        start = 0;
        end = undefined;
      }
      return { kind: 'slice', dim: pick(2) === 0 ? dim : dim - n, start, end, step };
    }
    case 4: {
      if (n === 0) return { kind: 'unsqueeze', dim: 0 };
      const k = 1 + pick(Math.min(n, 2));
      const pads: number[] = [];
      for (let i = 0; i < k; i++) {
        const m = shape[n - 1 - i]!;
        // Mostly growth; a crop (negative) only while something is left.
        const before = m > 1 && pick(5) === 0 ? -1 : pick(3);
        const after = m > 2 && pick(5) === 0 ? -1 : pick(3);
        pads.push(before, after);
      }
      const grown = shape.map((d, i) => {
        const j = n - 1 - i;
        return j < k ? d + pads[2 * j]! + pads[2 * j + 1]! : d;
      });
      if (ref.numel(grown) > MAX_ELEMS || grown.some((d) => d <= 0)) return { kind: 'flip', dims: [] };
      return { kind: 'pad', pads, value: (pick(17) - 8) / 4 };
    }
    case 5: {
      const dims = shape.map((_, i) => i).filter(() => pick(2) === 0);
      if (dims.length === 0 && n > 0) dims.push(pick(n));
      return { kind: 'flip', dims: dims.map((d) => (pick(3) === 0 ? d - n : d)) };
    }
    case 6: {
      if (n === 0) return { kind: 'unsqueeze', dim: 0 };
      return { kind: 'transpose', d0: pick(2 * n) - n, d1: pick(n) };
    }
    case 7: {
      const ones = shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      if (n === 0 || pick(4) === 0) return { kind: 'squeeze', dim: undefined };
      // Usually a size-1 dim; sometimes a non-1 dim, which torch leaves alone.
      const dim = ones.length > 0 && pick(3) !== 0 ? ones[pick(ones.length)]! : pick(n);
      return { kind: 'squeeze', dim: pick(2) === 0 ? dim : dim - n };
    }
    default: {
      if (n >= MAX_RANK) return { kind: 'flip', dims: [] };
      return { kind: 'unsqueeze', dim: pick(2 * n + 2) - n - 1 };
    }
  }
}

/** Applies a view op to the reference (as a copy). */
export function applyRef(a: NDArray, op: ViewOp): NDArray {
  switch (op.kind) {
    case 'reshape':
      return ref.reshape(a, op.shape);
    case 'permute':
      return ref.permute(a, op.dims);
    case 'expand':
      return ref.expand(a, op.shape);
    case 'slice':
      return ref.slice(a, op.dim, op.start, op.end, op.step);
    case 'pad':
      return ref.pad(a, op.pads, { value: a.dtype === 'int32' ? Math.round(op.value) : op.value });
    case 'flip':
      return ref.flip(a, op.dims);
    case 'transpose':
      return ref.transpose(a, op.d0, op.d1);
    case 'squeeze':
      return ref.squeeze(a, op.dim);
    case 'unsqueeze':
      return ref.unsqueeze(a, op.dim);
  }
}

/** Applies a view op to a Born tensor, as a user would write it. */
export function applyBorn(t: Tensor, op: ViewOp): Tensor {
  switch (op.kind) {
    case 'reshape':
      return t.reshape(op.shape);
    case 'permute':
      return t.permute(op.dims);
    case 'expand':
      return t.expand(op.shape);
    case 'slice':
      return t.slice(op.dim, op.start, op.end, op.step);
    case 'pad':
      return t.pad(op.pads, { value: t.dtype === 'int32' ? Math.round(op.value) : op.value });
    case 'flip':
      return t.flip(op.dims);
    case 'transpose':
      return t.transpose(op.d0, op.d1);
    case 'squeeze':
      return op.dim === undefined ? t.squeeze() : t.squeeze(op.dim);
    case 'unsqueeze':
      return t.unsqueeze(op.dim);
  }
}

/** Decodes a whole chain, returning the ops and the reference result. */
export function decodeChain(a: NDArray, seeds: readonly ViewSeed[]): { ops: ViewOp[]; out: NDArray } {
  const ops: ViewOp[] = [];
  let cur = a;
  for (const s of seeds) {
    const op = decodeView(s, cur.shape);
    ops.push(op);
    cur = applyRef(cur, op);
  }
  return { ops, out: cur };
}

/** Raw material for a shape that broadcasts against a target shape. */
export interface BroadcastSeed {
  /** Per aligned dim: keep the target's size (true) or use 1 (false). */
  keep: boolean[];
  /** How many leading dims of the target to drop. */
  drop: number;
  /** Extra leading size-1 dims to add. */
  extra: number;
}

export const broadcastSeedArb: fc.Arbitrary<BroadcastSeed> = fc.record({
  keep: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  drop: fc.nat({ max: 6 }),
  extra: fc.nat({ max: 1 }),
});

/** A shape that broadcasts with `target` into exactly `target` (or target with extra leading 1s). */
export function decodeBroadcast(seed: BroadcastSeed, target: readonly number[]): number[] {
  const drop = Math.min(seed.drop, target.length);
  const tail = target.slice(drop).map((d, i) => (seed.keep[i % seed.keep.length] ? d : 1));
  const extra = target.length + seed.extra <= MAX_RANK ? seed.extra : 0;
  return [...new Array<number>(extra).fill(1), ...tail];
}

export function describeOps(ops: readonly ViewOp[]): string {
  return ops
    .map((o) => {
      const { kind, ...args } = o;
      return `${kind}(${JSON.stringify(args)})`;
    })
    .join(' → ');
}

/** The dtypes the view property tests run in. */
export type ExactDType = 'float32' | 'int32' | 'float64';
export const exactDTypeArb = fc.constantFrom<ExactDType>('float32', 'float32', 'int32', 'float64');

/**
 * Values every op of the caller keeps exact: floats on a quarter grid in [-4, 4], integers in
 * [-intRange, intRange] (the caller picks the range its sums and products stay exact in).
 */
export function exactData(shape: readonly number[], seed: number, dtype: ExactDType, intRange: number): NDArray {
  return dtype === 'int32'
    ? ref.random(shape, seed, { dtype, lo: -intRange, hi: intRange })
    : ref.random(shape, seed, { dtype, lo: -4, hi: 4, quantum: 4 });
}
