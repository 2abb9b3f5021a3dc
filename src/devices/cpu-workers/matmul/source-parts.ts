// String builders shared by the generated sources: the wasm bytes travel as
// base64 (workers receive source text only) and strides are baked in as literals.

import { SET_MIN } from './tuning.js';
import type { MatmulSpec } from './types.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** `base + c1*v1 + ...` with zero terms dropped, for baking strides into the source. */
export function lin(terms: [number, string][], base = 0): string {
  const parts: string[] = [];
  if (base !== 0) parts.push(String(base));
  for (const [c, v] of terms) {
    if (c === 0) continue;
    parts.push(c === 1 ? v : `${c} * ${v}`);
  }
  return parts.length === 0 ? '0' : parts.join(' + ');
}

/**
 * How staging applies an operand's prologue: `fn` names the JS function of one element, and
 * `apply(from, to)` gives statements applying it to the staged run $F[from, to) (a JS loop, or
 * a SIMD module's calls: matmul/prologue-simd.ts).
 */
export interface Prologue { readonly fn: string; readonly apply: (from: string, to: string) => string }

export const jsPrologue = (fn: string): Prologue => ({ fn, apply: (from, to) => applyIn(fn, from, to) });

/**
 * Statements copying `h` rows of `w` elements (row r of the source starts at
 * `src + r*stride`, elements contiguous) into $F at `dst`, rows dense.
 */
export function stage(X: string, src: string, stride: number, h: string, w: string, dst: string, p: Prologue | null = null): string {
  return `{
          const $s0 = ${src}, $h = ${h}, $w = ${w}, $d0 = ${dst};
          if (${stride} === $w || $h === 1) $F.set(${X}.subarray($s0, $s0 + $h * $w), $d0);
          else if ($w >= ${SET_MIN}) for (let $r = 0; $r < $h; $r++) { const $s = $s0 + $r * ${stride}; $F.set(${X}.subarray($s, $s + $w), $d0 + $r * $w); }
          else for (let $r = 0; $r < $h; $r++) { const $s = $s0 + $r * ${stride}, $d = $d0 + $r * $w; for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${X}[$s + $i]; }
          ${p ? p.apply('$d0', '$d0 + $h * $w') : ''}
        }`;
}

/** A loop applying the prologue `fn` (a function name) to $F[from, to). */
export function applyIn(fn: string, from: string, to: string): string {
  return `for (let $i = ${from}, $e = ${to}; $i < $e; $i++) $F[$i] = ${fn}($F[$i]);`;
}

/** A read `x` through the prologue `fn`, if any. */
export function through(fn: string | null, x: string): string {
  return fn === null ? x : `${fn}(${x})`;
}

/**
 * Like `stage`, for rows whose elements are `colStride` apart, written `wp`
 * apart with the padding [w, wp) of each row zeroed.
 */
export function stageRows(X: string, src: string, rowStride: number, colStride: number, h: string, w: string, wp: string, dst: string, p: Prologue | null = null): string {
  if (colStride === 1) {
    return `if (${w} === ${wp}) ${stage(X, src, rowStride, h, w, dst, p)}
          else {
            const $s0 = ${src}, $h = ${h}, $w = ${w}, $wp = ${wp}, $d0 = ${dst};
            for (let $r = 0; $r < $h; $r++) {
              const $s = $s0 + $r * ${rowStride}, $d = $d0 + $r * $wp;
              if ($w >= ${SET_MIN}) $F.set(${X}.subarray($s, $s + $w), $d);
              else for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${X}[$s + $i];
              ${p ? p.apply('$d', '$d + $w') : ''}
              $F.fill(0, $d + $w, $d + $wp);
            }
          }`;
  }
  return `{
          const $s0 = ${src}, $h = ${h}, $w = ${w}, $wp = ${wp}, $d0 = ${dst};
          for (let $r = 0; $r < $h; $r++) {
            const $s = $s0 + $r * ${rowStride}, $d = $d0 + $r * $wp;
            for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${through(p?.fn ?? null, `${X}[$s + $i * ${colStride}]`)};
            $F.fill(0, $d + $w, $d + $wp);
          }
        }`;
}

/**
 * Statements at the start of each call: the preludes, and the operands' prologues as functions
 * $fa / $fb (rounded to the dtype, as a materialised operand would be).
 */
export function callStatements(spec: MatmulSpec): string {
  const round = (e: string): string => (spec.dtype === 'float64' ? `(${e})` : `Math.fround(${e})`);
  return [spec.prelude ?? '', spec.epilogue?.prelude ?? '',
    spec.a.prologue ? `const $fa = (acc) => ${round(spec.a.prologue)};` : '',
    spec.b.prologue ? `const $fb = (acc) => ${round(spec.b.prologue)};` : ''].join('\n');
}

/**
 * The copy-out of rows [$rs, $rse) and columns [$jc, $jc + $nc) of the C block at element CP
 * (rows $ldc apart) through the JS epilogue `expr` (MatmulSpec.epilogue).
 */
export function jsCopyOut(expr: string, M: number, N: number, CP: number | string): string {
  return `for (let $m = $rs; $m < $rse; $m++) {
          const $s = ${CP} + ($m - $rs) * $ldc, $o = ($bt * ${M} + $m) * ${N} + $jc, $om = $m;
          for (let $n = 0; $n < $nc; $n++) {
            const o = $o + $n, $on = $jc + $n, acc = $F[$s + $n];
            $C[o] = (${expr});
          }
        }`;
}
