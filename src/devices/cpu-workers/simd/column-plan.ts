/**
 * Which column reductions (Kernel.reduce.inner false: x.sum({ dim: 0 })) the WebAssembly SIMD
 * printer takes, and the shape of the code it prints for them.
 *
 * Outputs adjacent along the loop's last dim (the columns) are reduced together in strips of up
 * to STRIP columns: the driver copies a few rows of the strip into wasm memory at a time and the
 * kernel adds each row into four-lane accumulators, so the rows stream once through memory. A
 * kernel qualifies when it is float32 throughout, its ops have lane-wise forms (plan.ts
 * SIMD_OPS), its reduction is a sum, max or min whose epilogue reads only the accumulator, and
 * every load either walks the columns contiguously (coefficient 1 on the column's variable:
 * `vec`, copied per staged row) or moves with neither the columns nor the reduced dims (a
 * broadcast operand: `splat`, written once per strip).
 */
import type { ReduceOp } from '../../../graph/ops.js';
import type { Kernel, Scalar } from '../../../kernel/ir.js';
import { affine, collectLoads, epilogueOnly, lanePlan, type Affine, type Refusal, type SimdLoad, type SimdNode, type SimdScalar } from './plan.js';

/** Columns of one strip: a row of it is one 8 KiB copy (copies of 1,024 floats or fewer cost more per element here). */
export const STRIP = 2048;
/** Floats staged per vec operand and call: this many rows of a full strip (64 KiB, in L2). */
export const STAGE = 16384;

export type ColumnOp = Extract<ReduceOp, 'sum' | 'max' | 'min'>;

export interface ColumnPlan {
  readonly kind: 'col';
  readonly op: ColumnOp;
  readonly nodes: readonly SimdNode[];
  readonly root: number;
  /** Loads copied per staged row; `base` leaves out the column variable (the driver adds the strip's first column). */
  readonly vecs: readonly SimdLoad[];
  readonly scalars: readonly SimdScalar[];
  /** Every non-unit loop dim, [size, var], outermost first; the last is the columns. */
  readonly outer: readonly (readonly [number, string])[];
  /** The non-unit reduced dims, [size, var], outermost first: the rows, in the order they are combined. */
  readonly rows: readonly (readonly [number, string])[];
  /** Floats between staged rows in wasm memory (a multiple of 4). */
  readonly stride: number;
  /** Rows staged per call of the kernel. */
  readonly rowsPerCall: number;
}

/** The plan, or why the column reduction stays in JS. */
export function planColumn(k: Kernel): ColumnPlan | Refusal {
  if (k.matmul || k.scatter || k.row || k.window || k.outIndex || k.extraOutputs?.length || (k.indexChecks?.length ?? 0) > 0) return 'not a plain reduction kernel';
  const red = k.reduce;
  if (!red || red.inner || red.spread) return 'not a column reduction';
  if (red.op !== 'sum' && red.op !== 'max' && red.op !== 'min') return `reduction ${red.op}`;
  if (k.out.dtype !== 'float32') return `output dtype ${k.out.dtype}`;
  if (!epilogueOnly(k.value)) return 'epilogue reads more than the accumulator';
  const outer = k.loop.map((d, i) => [d, `o${i}`] as const).filter(([d]) => d !== 1);
  const rows = red.dims.map((d, j) => [d, `r${j}`] as const).filter(([d]) => d !== 1);
  if (!outer.length) return 'no output dim to stream';
  if (!rows.length || rows.some(([d]) => d === 0)) return 'no rows to reduce';
  const col = outer[outer.length - 1]![1];
  const reduced = new Set<string>(rows.map(([, v]) => v));
  const known = new Set<string>([...outer, ...rows].map(([, v]) => v));

  const loads: { input: number; a: Affine }[] = [];
  const bad = collectLoads(red.value, loads);
  if (bad) return bad;
  const kindOf = (a: Affine): 'vec' | 'splat' | Refusal => {
    for (const [v, n] of a.coef) if (n !== 0 && !known.has(v)) return `index reads ${v}`;
    const c = a.coef.get(col) ?? 0;
    if (c === 1) return 'vec';
    if (c === 0 && [...a.coef].every(([v, n]) => n === 0 || !reduced.has(v))) return 'splat';
    return 'a load is neither contiguous along the columns nor fixed over a strip';
  };
  for (const l of loads) { const r = kindOf(l.a); if (r !== 'vec' && r !== 'splat') return r; }

  const nonZero = (a: Affine, drop?: string): Affine => ({ c: a.c, coef: new Map([...a.coef].filter(([v, n]) => n !== 0 && v !== drop)) });
  const keyOf = (a: Affine): string => `${a.c}|${[...nonZero(a).coef].sort().join(',')}`;
  const { nodes, root, vecs, scalars } = lanePlan(red.value, (a) => ({ kind: kindOf(a) as 'vec' | 'splat', key: keyOf(a), vecBase: nonZero(a, col), splatBase: nonZero(a) }));
  const width = outer[outer.length - 1]![0];
  const stride = Math.min(STRIP, Math.ceil(width / 4) * 4);
  return { kind: 'col', op: red.op, nodes, root, vecs, scalars, outer, rows, stride, rowsPerCall: Math.max(1, Math.floor(STAGE / stride)) };
}
