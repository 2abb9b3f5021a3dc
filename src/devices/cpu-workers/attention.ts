/**
 * The JS printer of fused attention kernels (kernel/ir.ts AttentionSpec): flash attention's
 * online softmax. A work unit is a block of BQ query rows of one head; it copies the block's
 * queries (scaled) into a scratch array, then walks the keys in blocks of BK: the block's keys and
 * values are copied once (so fused sources are evaluated once per query block, not per score),
 * each row's scores for the block are formed, and the row's running maximum m, sum l and output
 * accumulator o are rescaled by exp(m_old - m_new) before the block's terms are added. Only
 * BQ·E + BK·(E + Ev) + BK + BQ·(Ev + 2) numbers are live per thread, whatever L and S are.
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
  const blocks = Math.ceil(L / BQ);
  const q = source(a.q, printer, 'qv_'), kk = source(a.k, printer, 'kv_'), v = source(a.v, printer, 'vv_');
  const m = a.mask ? source(a.mask.value, printer, 'mv_') : null;
  const len = a.kvLength ? source(a.kvLength, printer, 'nv_') : null;
  const scratch = [
    `const QB = new Float64Array(${BQ * E}), KB = new Float64Array(${BK * E}), VB = new Float64Array(${BK * Ev});`,
    `const SB = new Float64Array(${BK}), OB = new Float64Array(${BQ * Ev}), MB = new Float64Array(${BQ}), LB = new Float64Array(${BQ});`,
  ].join('\n');
  const masked = !m ? [] : a.mask!.kind === 'bool'
    ? ['{ const aj = j0 + c;', m.lines, `if (!(${m.expr})) s = -Infinity; }`]
    : ['{ const aj = j0 + c;', m.lines, `s += ${m.expr}; }`];
  const body = [
    'for (let u = start; u < end; u++) {',
    `const ab = (u / ${blocks}) | 0, i0 = (u - ab * ${blocks}) * ${BQ}, nq = Math.min(${BQ}, ${L} - i0);`,
    ...(len ? ['let len;', '{', len.lines, `len = Math.max(0, Math.min(${S}, ${len.expr}));`, '}', `const off = len - ${L};`]
      : [`const len = ${S}, off = 0;`]),
    'for (let r = 0; r < nq; r++) {',
    'const ai = i0 + r;',
    `for (let ad = 0; ad < ${E}; ad++) {`, q.lines, `QB[r * ${E} + ad] = ${q.expr} * ${a.scale};`, '}',
    'MB[r] = -Infinity; LB[r] = 0;',
    '}',
    `OB.fill(0, 0, nq * ${Ev});`,
    `const jend = ${causal ? 'Math.min(len, i0 + nq + off)' : 'len'};`,
    `for (let j0 = 0; j0 < jend; j0 += ${BK}) {`,
    `const nk = Math.min(${BK}, jend - j0);`,
    'for (let c = 0; c < nk; c++) {',
    'const aj = j0 + c;',
    `for (let ad = 0; ad < ${E}; ad++) {`, kk.lines, `KB[c * ${E} + ad] = ${kk.expr};`, '}',
    `for (let ae = 0; ae < ${Ev}; ae++) {`, v.lines, `VB[c * ${Ev} + ae] = ${v.expr};`, '}',
    '}',
    'for (let r = 0; r < nq; r++) {',
    'const ai = i0 + r;',
    `const cend = ${causal ? 'Math.min(nk, ai + off + 1 - j0)' : 'nk'};`,
    'if (cend <= 0) continue;',
    `let bm = -Infinity; const qo = r * ${E};`,
    'for (let c = 0; c < cend; c++) {',
    `let s = 0; const ko = c * ${E};`,
    `for (let d = 0; d < ${E}; d++) s += QB[qo + d] * KB[ko + d];`,
    ...masked,
    'SB[c] = s; if (s > bm) bm = s;',
    '}',
    // Every key of the block hidden: nothing to add (a NaN score still reaches l and o: p is NaN).
    'if (bm === -Infinity) continue;',
    'const m0 = MB[r], mn = m0 > bm ? m0 : bm, alpha = Math.exp(m0 - mn);',
    `let l = LB[r] * alpha; const oo = r * ${Ev};`,
    `if (alpha !== 1) for (let e = 0; e < ${Ev}; e++) OB[oo + e] *= alpha;`,
    'for (let c = 0; c < cend; c++) {',
    'const p = Math.exp(SB[c] - mn);',
    'if (p === 0) continue;',
    `l += p; const vo = c * ${Ev};`,
    `for (let e = 0; e < ${Ev}; e++) OB[oo + e] += p * VB[vo + e];`,
    '}',
    'LB[r] = l; MB[r] = mn;',
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
