// The activation side of the integer dot (quant-int-wasm.ts): each float32 vector becomes q8_0
// blocks as ggml's quantize_row_q8_0_ref makes them (d = amax / 127 rounded to f16 as the block
// stores it, q = roundf(x / d) with 1/d in float32, half away from zero), so that Born's
// quantised matmuls compute what llama.cpp's do. It runs in JS once per vector per kernel call:
// K values, a small part of the K · rows weights the call then reads.

/** JS: `$f16(a)`, a ≥ 0 (or NaN) rounded to the nearest f16 value, ties to even (F16C's conversion, numpy's float16). */
export const F16_ROUND = `const $f16 = (a) => {
    if (!(a > 0) || a === Infinity) return a;
    if (a >= 65520) return Infinity;
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e--; else if (2 ** (e + 1) <= a) e++;
    const u = 2 ** (Math.max(e, -14) - 10), q = a / u;
    let n = Math.round(q);
    if (n - q === 0.5 && (n & 1)) n--;
    return n * u;
  };`;

/**
 * Statements quantising the K floats of $F from element `from` into K / 32 q8_0 blocks: block b's
 * quants into `Q` (an Int16Array view) from element qAt + b · 32 · n, its scale into $F at element
 * sAt + b · n (n vectors' blocks interleaved). A NaN anywhere in a block makes its scale NaN
 * (Math.max propagates it), so it reaches
 * the output as the float path's would.
 */
export function quantiseActivations(K: number, from: string, Q: string, qAt: string, sAt: string, n: string): string {
  return `for (let $g = 0, $o = ${from}, $qo = ${qAt}, $so = ${sAt}; $g < ${K / 32}; $g++, $o += 32, $qo += 32 * ${n}, $so += ${n}) {
        let $m = 0;
        for (let $k = $o; $k < $o + 32; $k++) $m = Math.max($m, Math.abs($F[$k]));
        const $d = Math.fround($m / 127), $id = $d ? Math.fround(1 / $d) : 0;
        $F[$so] = $f16($d);
        for (let $k = 0; $k < 32; $k++) { const $v = Math.fround($F[$o + $k] * $id); ${Q}[$qo + $k] = $v < 0 ? -Math.round(-$v) : Math.round($v); }
      }`;
}
