/**
 * How the JS kernels write numbers and move elements in and out of storage: a constant as JS
 * source, a stored element as a JS number, a JS number as the element to store. Shared by every
 * JS printer (elementwise, reductions, matmul epilogues, scatter-add), so each dtype's storage
 * (half types as bits, int64 as BigInt, bool as 0/1) is handled in one place.
 */
import type { DType } from '../../graph/dtype.js';

/** A number as JS source, exact for ±Infinity, NaN and -0. */
export const num = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : Object.is(v, -0) ? '-0' : String(v));

/** A stored element as a JS number. */
export function loadJs(x: string, d: DType): string {
  switch (d) {
    case 'float16': return `h2f(${x})`;
    case 'bfloat16': return `bf2f(${x})`;
    case 'int64': return `Number(${x})`;
    default: return x;
  }
}

/** A JS number as the element to store. */
export function storeJs(dtype: DType, v: string): string {
  switch (dtype) {
    case 'bool': return `(${v} ? 1 : 0)`;
    case 'float16': return `f2h(${v})`;
    case 'bfloat16': return `f2bf(${v})`;
    case 'int64': return `i64s(${v})`;
    default: return v;
  }
}
