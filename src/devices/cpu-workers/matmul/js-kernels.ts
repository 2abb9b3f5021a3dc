import { lin, through } from './source-parts.js';
import { MR } from './tuning.js';
import type { MatmulSpec } from './types.js';

/** JS micro-kernel over the scratch `$W.f`: the wasm `g` over packed B, in elements. */
export function jsMicroKernel(NR: number): string {
  const cs: string[] = [];
  for (let i = 0; i < MR; i++) for (let j = 0; j < NR; j++) cs.push(`c${i}_${j}`);
  const rows = (f: (i: number) => string) => Array.from({ length: MR }, (_, i) => f(i)).join('\n');
  const cols = (f: (j: number) => string) => Array.from({ length: NR }, (_, j) => f(j)).join(' ');
  const at = (i: number, j: number) => `F[pr + ${i ? `${i} * ldc + ` : ''}${j}]`;
  return `function $g(ap, bp, cp, mt, nt, kc, ldc, accum) {
    const F = $W.f;
    for (let j = 0; j < nt; j++) {
      for (let i = 0; i < mt; i++) {
        let pa = ap + i * kc * ${MR}, pb = bp + j * kc * ${NR};
        const pr = cp + i * ${MR} * ldc + j * ${NR};
        let ${cs.map((c) => `${c} = 0`).join(', ')};
        if (accum) {
${rows((i) => cols((j) => `c${i}_${j} = ${at(i, j)};`))}
        }
        for (let k = 0; k < kc; k++) {
          ${rows((i) => `const a${i} = F[(pa + ${i}) | 0];`)}
          ${cols((j) => `const b${j} = F[(pb + ${j}) | 0];`)}
${rows((i) => cols((j) => `c${i}_${j} += a${i} * b${j};`))}
          pa = (pa + ${MR}) | 0; pb = (pb + ${NR}) | 0;
        }
${rows((i) => cols((j) => `${at(i, j)} = c${i}_${j};`))}
      }
    }
  }`;
}

/**
 * Unpacked JS loop for tiny problems and K = 0: dot products over k, 4-way
 * unrolled, reading A and B through their strides.
 */
export function directRun(spec: MatmulSpec, expr: string, fa: string | null, fb: string | null): string {
  const { a, b, K, M, N } = spec;
  const A = (i: string): string => through(fa, `$A[${i}]`), B = (i: string): string => through(fb, `$B[${i}]`);
  const aRow = lin([[a.sBatch, '$bt'], [a.sRow, '$m']], a.offset);
  const out = `($bt * ${M} + $m) * ${N}`;
  if (K === 0) {
    return `for (let $m = $m0; $m < $m1; $m++) {
        const $o = ${out}, $om = $m;
        for (let $n = $n0; $n < $n1; $n++) { const o = $o + $n, $on = $n, acc = 0; $C[o] = (${expr}); }
      }`;
  }
  const bCol = lin([[b.sBatch, '$bt'], [b.sCol, '$n']], b.offset);
  const K4 = K - (K % 4);
  return `for (let $m = $m0; $m < $m1; $m++) {
        const $pa0 = ${aRow};
        const $o = ${out}, $om = $m;
        for (let $n = $n0; $n < $n1; $n++) {
          let $pa = $pa0, $pb = ${bCol};
          let $s0 = 0, $s1 = 0, $s2 = 0, $s3 = 0;
          for (let $k = 0; $k < ${K4}; $k += 4) {
            $s0 += ${A('$pa')} * ${B('$pb')};
            $s1 += ${A(`$pa + ${a.sCol}`)} * ${B(`$pb + ${b.sRow}`)};
            $s2 += ${A(`$pa + ${2 * a.sCol}`)} * ${B(`$pb + ${2 * b.sRow}`)};
            $s3 += ${A(`$pa + ${3 * a.sCol}`)} * ${B(`$pb + ${3 * b.sRow}`)};
            $pa += ${4 * a.sCol}; $pb += ${4 * b.sRow};
          }
          for (let $k = ${K4}; $k < ${K}; $k++, $pa += ${a.sCol}, $pb += ${b.sRow}) $s0 += ${A('$pa')} * ${B('$pb')};
          const o = $o + $n, $on = $n, acc = ($s0 + $s1) + ($s2 + $s3);
          $C[o] = (${expr});
        }
      }`;
}
