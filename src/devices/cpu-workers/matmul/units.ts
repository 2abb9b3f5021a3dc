// Work decomposition, shared by every backend: the unit numbering is part of
// the kernel's contract with the pool that splits [0, total) into ranges.

import { INLINE_MATMUL_MACS, MAX_INT32 } from './tuning.js';
import type { MatmulSpec } from './types.js';

/** Rows of one batch item per work unit. */
export const RB = 32;
/** Aim for at least this many units so that a pool can balance them. */
const MIN_UNITS = 8;
/** Column blocks are at least this wide when columns are split. */
const MIN_CB = 64;

interface Units {
  nRB: number;
  CB: number;
  nCB: number;
  total: number;
}

/**
 * Unit u = (bt * nCB + cb) * nRB + rb. Columns are split only when there are
 * too few row blocks to go round.
 */
export function units(spec: MatmulSpec): Units {
  const { batch, M, N } = spec;
  if (batch === 0 || M === 0 || N === 0) return { nRB: 0, CB: 0, nCB: 0, total: 0 };
  const nRB = Math.ceil(M / RB);
  const rowUnits = batch * nRB;
  let nCB = 1;
  if (rowUnits < MIN_UNITS) nCB = Math.max(1, Math.min(Math.ceil(MIN_UNITS / rowUnits), Math.floor(N / MIN_CB)));
  // Split over the pool (INLINE_MATMUL_MACS and up), ranges of row blocks each pack all of B
  // (K x N); ranges of column blocks each pack all of A (M x K) instead, the smaller copy when
  // M < N ([256,784]x[784,512]: 200k elements, not 400k).
  else if (batch === 1 && M < N && M * N * spec.K >= INLINE_MATMUL_MACS) nCB = Math.min(2, Math.floor(N / MIN_CB));
  let CB = N;
  if (nCB > 1) {
    CB = Math.ceil(Math.ceil(N / nCB) / 8) * 8;
    nCB = Math.ceil(N / CB);
  }
  return { nRB, CB, nCB, total: batch * nCB * nRB };
}

/** `total` for the range split of `matmulSource(spec)`'s kernel. */
export function matmulWorkUnits(spec: MatmulSpec): number {
  validate(spec);
  return units(spec).total;
}

export function validate(spec: MatmulSpec): void {
  const ints: [string, number][] = [
    ['batch', spec.batch], ['M', spec.M], ['N', spec.N], ['K', spec.K],
    ['a.offset', spec.a.offset], ['a.sBatch', spec.a.sBatch], ['a.sRow', spec.a.sRow], ['a.sCol', spec.a.sCol],
    ['b.offset', spec.b.offset], ['b.sBatch', spec.b.sBatch], ['b.sRow', spec.b.sRow], ['b.sCol', spec.b.sCol],
  ];
  for (const [what, v] of ints) {
    if (!Number.isSafeInteger(v)) throw new Error(`matmul: ${what} must be an integer, got ${String(v)}`);
  }
  for (const [what, v] of ints.slice(0, 4)) {
    if (v < 0) throw new Error(`matmul: ${what} must be >= 0, got ${v}`);
  }
  if (spec.dtype !== undefined && spec.dtype !== 'float32' && spec.dtype !== 'float64') {
    throw new Error(`matmul: dtype must be 'float32' or 'float64', got ${String(spec.dtype)}`);
  }
  if (spec.batch * spec.M * spec.N > MAX_INT32) {
    throw new Error(`matmul: output of ${spec.batch}x${spec.M}x${spec.N} elements is too large`);
  }
}
