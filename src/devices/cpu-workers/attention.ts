/**
 * The JS printer of fused attention kernels (kernel/ir.ts AttentionSpec): flash attention's
 * online softmax. A work unit is a block of BQ query rows of one head; it copies the block's
 * queries (scaled) into a scratch array, then walks the keys in blocks of BK: the block's keys and
 * values are copied once (so fused sources are evaluated once per query block, not per score),
 * each row's scores for the block are formed, and the row's running maximum m, sum l and output
 * accumulator o are rescaled by exp(m_old - m_new) before the block's terms are added. Only
 * BQ·E + BK·(E + Ev) + R·BK + BQ·(Ev + 2) numbers are live per thread, whatever L and S are.
 * Rows go R at a time, so each key and value element read from scratch serves R rows.
 * Arithmetic is in float64 (JS numbers); the output is rounded once, at the store.
 *
 * A causal row stops at its last visible key, and the key blocks stop at the block's last row's,
 * so a causal kernel does about half the work.
 */
import type { Kernel, Scalar } from '../../kernel/ir.js';
import { storeJs } from './js-values.js';
import type { Printer } from './scatter.js';

/** Query rows per work unit and keys per block. */
const BQ = 16;
const BK = 64;

/** The statements computing `s` and the expression naming it, from a fresh printer. */
function source(s: Scalar, printer: (prefix: string) => Printer, prefix: string): { lines: string; expr: string } {
  const p = printer(prefix);
  const expr = p.print(s);
  return { lines: p.lines.join('\n'), expr };
}

/** The body of `function (b, start, end)` over query blocks, the scratch it closes over, and the unit count. */
export function attentionKernel(k: Kernel, printer: (prefix: string) => Printer): { scratch: string; body: string; units: number } {
  const a = k.attention;
  if (!a) throw new Error(`internal: kernel ${k.name} is not an attention kernel`);
  const { L, S, E, Ev, causal } = a;
  // Rows that share each key read, a divisor of BQ: fewer where there are fewer queries (decoding).
  const R = L >= 4 ? 4 : L >= 2 ? 2 : 1;
  const blocks = Math.ceil(L / BQ);
  const q = source(a.q, printer, 'qv_'), kk = source(a.k, printer, 'kv_'), v = source(a.v, printer, 'vv_');
  const m = a.mask ? source(a.mask.value, printer, 'mv_') : null;
  const len = a.kvLength ? source(a.kvLength, printer, 'nv_') : null;
  const scratch = [
    `const QB = new Float64Array(${BQ * E}), KB = new Float64Array(${BK * E}), VB = new Float64Array(${BK * Ev});`,
    `const SB = new Float64Array(${R * BK}), OB = new Float64Array(${BQ * Ev}), MB = new Float64Array(${BQ}), LB = new Float64Array(${BQ});`,
  ].join('\n');
  const rows = Array.from({ length: R }, (_, t) => t);
  // Hides key aj from row t of the group: past its causal end, or by the mask.
  const hide = (t: number): string[] => [
    ...(causal ? [`if (c >= ce${t}) s${t} = -Infinity;`] : []),
    ...(!m ? [] : ['{', `const ai = i0 + r + ${t};`, m.lines,
      a.mask!.kind === 'bool' ? `if (!(${m.expr})) s${t} = -Infinity;` : `s${t} += ${m.expr};`, '}']),
  ];
  const body = [
    'for (let u = start; u < end; u++) {',
    `const ab = (u / ${blocks}) | 0, i0 = (u - ab * ${blocks}) * ${BQ}, nq = Math.min(${BQ}, ${L} - i0);`,
    ...(len ? ['let len;', '{', len.lines, `len = Math.max(0, Math.min(${S}, ${len.expr}));`, '}', `const off = len - ${L};`]
      : [`const len = ${S}, off = 0;`]),
    // Rows past nq (a last, partial block) are computed from zeros and never written.
    `QB.fill(0); OB.fill(0); MB.fill(-Infinity); LB.fill(0);`,
    'for (let r = 0; r < nq; r++) {',
    'const ai = i0 + r;',
    `for (let ad = 0; ad < ${E}; ad++) {`, q.lines, `QB[r * ${E} + ad] = ${q.expr} * ${a.scale};`, '}',
    '}',
    `const jend = ${causal ? 'Math.min(len, i0 + nq + off)' : 'len'};`,
    `for (let j0 = 0; j0 < jend; j0 += ${BK}) {`,
    `const nk = Math.min(${BK}, jend - j0);`,
    'for (let c = 0; c < nk; c++) {',
    'const aj = j0 + c;',
    `for (let ad = 0; ad < ${E}; ad++) {`, kk.lines, `KB[c * ${E} + ad] = ${kk.expr};`, '}',
    `for (let ae = 0; ae < ${Ev}; ae++) {`, v.lines, `VB[c * ${Ev} + ae] = ${v.expr};`, '}',
    '}',
    // Groups of R rows share each key and value read.
    `for (let r = 0; r < nq; r += ${R}) {`,
    ...rows.map((t) => `const ce${t} = ${causal ? `Math.min(nk, i0 + r + ${t} + off + 1 - j0)` : 'nk'};`),
    `const cmax = ce${R - 1};`,
    'if (cmax <= 0) continue;',
    `const ${rows.map((t) => `q${t} = (r + ${t}) * ${E}`).join(', ')};`,
    'for (let c = 0; c < cmax; c++) {',
    `const ko = c * ${E}, aj = j0 + c;`,
    `let ${rows.map((t) => `s${t} = 0`).join(', ')};`,
    `for (let d = 0; d < ${E}; d++) { const x = KB[ko + d]; ${rows.map((t) => `s${t} += QB[q${t} + d] * x;`).join(' ')} }`,
    ...rows.flatMap((t) => hide(t)),
    ...rows.map((t) => `SB[${t * BK} + c] = s${t};`),
    '}',
    // Per row: the block's maximum, the rescale of what came before, and the weights p (into SB).
    `for (let t = 0; t < ${R}; t++) {`,
    `const so = t * ${BK}, row = r + t;`,
    'let bm = -Infinity;',
    'for (let c = 0; c < cmax; c++) if (SB[so + c] > bm) bm = SB[so + c];',
    // Every key of the block hidden: the row's weights here are 0 (a NaN score still reaches l and o).
    'const m0 = MB[row], mn = bm === -Infinity ? m0 : (m0 > bm ? m0 : bm);',
    'if (mn === -Infinity) { for (let c = 0; c < cmax; c++) SB[so + c] = SB[so + c] !== SB[so + c] ? NaN : 0; continue; }',
    'const alpha = Math.exp(m0 - mn);',
    `if (alpha !== 1) { LB[row] *= alpha; const oo = row * ${Ev}; for (let e = 0; e < ${Ev}; e++) OB[oo + e] *= alpha; }`,
    'let l = 0;',
    'for (let c = 0; c < cmax; c++) { const p = Math.exp(SB[so + c] - mn); SB[so + c] = p; l += p; }',
    'LB[row] += l; MB[row] = mn;',
    '}',
    ...rows.map((t) => `const o${t} = (r + ${t}) * ${Ev};`),
    'for (let c = 0; c < cmax; c++) {',
    `const vo = c * ${Ev}, ${rows.map((t) => `p${t} = SB[${t * BK} + c]`).join(', ')};`,
    `for (let e = 0; e < ${Ev}; e++) { const x = VB[vo + e]; ${rows.map((t) => `OB[o${t} + e] += p${t} * x;`).join(' ')} }`,
    '}',
    '}',
    '}',
    'for (let r = 0; r < nq; r++) {',
    `const l = LB[r], oo = r * ${Ev}, w = (ab * ${L} + i0 + r) * ${Ev};`,
    `for (let e = 0; e < ${Ev}; e++) out[w + e] = ${storeJs(k.out.dtype, 'OB[oo + e] / l')};`,
    '}',
    '}',
  ];
  return { scratch, body: body.filter((l) => l !== '').join('\n'), units: a.batch * blocks };
}
