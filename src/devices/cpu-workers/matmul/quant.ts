// The CPU matmul kernel with a packed weight operand (MatmulOperand.quant, kernel/quant.ts).
//
// Fast path (every x Wᵀ, whichever side the scheduler put W on): the contraction runs along W's
// rows, whole rows. A work unit is QR rows of W; a range stages every x vector into the thread's
// wasm memory once, then per unit copies the QR packed rows there (memcpy of the blocks as they
// are: 34 or 18 bytes per 32 weights) and runs a wasm SIMD dot of those rows with the x vectors.
// q8_0 and q4_0 take the integer dot (quant-int-wasm.ts, up to eight vectors a call, f16 scales
// read in the kernel) against x quantised to q8_0 blocks once per range (quant-act.ts), as
// llama.cpp computes them: about twice the float dot's speed for one vector and more for several,
// at the cost of x's rounding to 8 bits per block. q4_K takes the float dot (quant-wasm.ts: each
// weight widened to float once per four vectors); its f16 scales, and its 6-bit sub-block scales
// and mins, are unpacked to f32 here, per staged unit, as the kernel reads them (nothing is
// unpacked on load). Batch-1 decoding is the case this is for: one vector, rows split over the
// pool, every weight read once and packed. Long prompts (many x rows) run at this dot's speed,
// not at the packed GEMM's.
//
// Any other read of a packed weight (W without the transpose: the input gradient g W), or an
// engine without wasm SIMD, runs a JS loop that dequantises each element as it reads it.

import { QUANT_FORMATS, quantRowBytes, type QuantFormat } from '../../../kernel/quant.js';
import type { QuantOperand } from '../../../kernel/ir.js';
import { base64, lin, through } from './source-parts.js';
import type { MatmulSpec } from './types.js';
import { QUANT_DOT_VECTORS, quantDotModule } from './quant-wasm.js';
import { ACT_BLOCK_BYTES, INT_DOT_VECTORS, intDotFormat, intDotModule } from './quant-int-wasm.js';
import { quantiserModule } from './quant-act.js';
import { ARENA_SOURCE, ARENA_TAKE } from '../arena.js';

/** W rows per work unit. */
const QR = 16;
/**
 * Bytes of quantised activations one integer-dot call reads at most: a longer row is taken in
 * pieces of blocks whose activations stay in the L1 cache while the unit's 16 rows reread them.
 * Measured here (W of 786k weights, 8 vectors, one thread): K = 1,024 took 0.49 ms and K = 2,048,
 * 64 KiB of activations whole, 1.02 ms.
 */
const INT_PIECE_BYTES = 16 * 1024;

interface Side { w: 'a' | 'b'; q: QuantOperand; rows: number; row0: number }

/** The fast path's view of the spec: the quant side, its rows, and their first row in W; null when it does not apply. */
function fastSide(spec: MatmulSpec): Side | null {
  const { a, b, K } = spec;
  const qa = a.quant, qb = b.quant;
  // One W row: its row stride is never stepped (views may give it any), and the dot must still
  // be the one every other row count gets.
  if (qb && !qa) {
    if (b.sRow === 1 && (b.sCol === qb.cols || spec.N === 1) && b.sBatch === 0 && K === qb.cols && b.offset % qb.cols === 0) return { w: 'b', q: qb, rows: spec.N, row0: b.offset / qb.cols };
  } else if (qa && !qb) {
    if (a.sCol === 1 && (a.sRow === qa.cols || spec.M === 1) && a.sBatch === 0 && K === qa.cols && a.offset % qa.cols === 0) return { w: 'a', q: qa, rows: spec.M, row0: a.offset / qa.cols };
  }
  return null;
}

/** Work units of the kernel `quantMatmulSource(spec)` prints. */
export function quantMatmulUnits(spec: MatmulSpec): number {
  if (spec.batch === 0 || spec.M === 0 || spec.N === 0) return 0;
  const s = fastSide(spec);
  return s ? Math.ceil(s.rows / QR) : spec.batch * spec.M;
}

/** f16 bits → f32, as a table built once per thread (globalThis, shared by every quant kernel). */
const F16_TABLE = `const $H = globalThis.__bornF16 ??= (() => {
    const t = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const e = (i >> 10) & 31, m = i & 1023;
      const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
      t[i] = i & 32768 ? -v : v;
    }
    return t;
  })();`;

/** JS: `$sm(s, j)`: sub-block j's 6-bit scale (low byte) and min (high byte) from q4_K's scale bytes at s of `arr`. */
const scaleMin = (arr: string): string => `const $sm = (s, j) => j < 4
    ? (${arr}[s + j] & 63) | ((${arr}[s + j + 4] & 63) << 8)
    : ((${arr}[s + j + 4] & 15) | ((${arr}[s + j - 4] >> 6) << 4)) | (((${arr}[s + j + 4] >> 4) | ((${arr}[s + j] >> 6) << 4)) << 8);`;

/** JS: `$dqX(e)`, element e of the packed matrix of operand X (row-major index into [rows, cols]). */
function elementReader(name: string, arr: string, q: QuantOperand): string {
  const rowBytes = quantRowBytes(q.format, q.cols);
  const head = `const $r = Math.floor(e / ${q.cols}), $c = e - $r * ${q.cols}, $j = $c & 31;`;
  const half = (at: string): string => `$H[${arr}[${at}] | (${arr}[${at} + 1] << 8)]`;
  if (q.format === 'q4_K') {
    return `const ${name} = (e) => {
    ${head}
    const $p = ${q.byteOffset} + $r * ${rowBytes} + ($c >> 8) * 144, $sub = ($c >> 5) & 7;
    const $sc = $sm($p + 4, $sub), $v = ${arr}[$p + 16 + ($sub >> 1) * 32 + $j];
    const $n = $sub & 1 ? $v >> 4 : $v & 15;
    return Math.fround(Math.fround(${half('$p')} * ($sc & 255)) * $n) - Math.fround(${half('$p + 2')} * ($sc >> 8));
  };`;
  }
  const { blockBytes } = QUANT_FORMATS[q.format];
  const quant = q.format === 'q8_0'
    ? `((${arr}[$p + 2 + $j] << 24) >> 24)`
    : `($j < 16 ? (${arr}[$p + 2 + $j] & 15) - 8 : (${arr}[$p + $j - 14] >> 4) - 8)`;
  return `const ${name} = (e) => {
    ${head}
    const $p = ${q.byteOffset} + $r * ${rowBytes} + ($c >> 5) * ${blockBytes};
    return ${half('$p')} * ${quant};
  };`;
}

/**
 * Statements turning the f16 scales of $nr rows (from byte wAt of $U) into the f32 array the
 * wasm dot reads (from element sAt of $F): one per block, or q4_K's (scale, min) pair per
 * sub-block.
 */
function stageScales(format: QuantFormat, nb: number, wAt: string, sAt: string): string {
  const bb = QUANT_FORMATS[format].blockBytes;
  if (format !== 'q4_K') return `for (let $i = 0, $p = ${wAt}, $e = $nr * ${nb}; $i < $e; $i++, $p += ${bb}) $F[${sAt} + $i] = $H[$U[$p] | ($U[$p + 1] << 8)];`;
  return `for (let $i = 0, $p = ${wAt}, $e = $nr * ${nb}, $o = ${sAt}; $i < $e; $i++, $p += ${bb}) {
        const $d = $H[$U[$p] | ($U[$p + 1] << 8)], $dm = $H[$U[$p + 2] | ($U[$p + 3] << 8)];
        for (let $j = 0; $j < 8; $j++, $o += 2) { const $sc = $sm($p + 4, $j); $F[$o] = $d * ($sc & 255); $F[$o + 1] = $dm * ($sc >> 8); }
      }`;
}

/** `$fa` / `$fb`: the float operand's prologue, rounded to float32 as a materialised operand would be. */
const prologues = (spec: MatmulSpec): string => [
  spec.a.prologue ? `const $fa = (acc) => Math.fround(${spec.a.prologue});` : '',
  spec.b.prologue ? `const $fb = (acc) => Math.fround(${spec.b.prologue});` : ''].join('\n');

/** The epilogue's store of `acc` at output (bt, m, n). */
const store = (spec: MatmulSpec, expr: string, bt: string, m: string, n: string): string =>
  `{ const o = (${bt} * ${spec.M} + ${m}) * ${spec.N} + ${n}, $om = ${m}, $on = ${n}; $C[o] = (${expr}); }`;

/** The JS loop for any strides: unit u is output row (bt, m). */
function generic(spec: MatmulSpec, expr: string, helpers: string): string {
  const { a, b, M, N, K } = spec;
  const readA = a.quant ? (i: string) => `$dqA(${i})` : (i: string) => through(a.prologue ? '$fa' : null, `$A[${i}]`);
  const readB = b.quant ? (i: string) => `$dqB(${i})` : (i: string) => through(b.prologue ? '$fb' : null, `$B[${i}]`);
  return `(() => {
  "use strict";
  ${F16_TABLE}
  ${helpers}
  return function (b, start, end, $rt) {
    const $C = b[0], $A = b[1], $B = b[2];
    ${prologues(spec)}
    ${a.quant?.format === 'q4_K' ? scaleMin('$A') : b.quant?.format === 'q4_K' ? scaleMin('$B') : ''}
    ${a.quant ? elementReader('$dqA', '$A', a.quant) : ''}
    ${b.quant ? elementReader('$dqB', '$B', b.quant) : ''}
    for (let $u = start; $u < end; $u++) {
      const $bt = Math.floor($u / ${M}), $m = $u - $bt * ${M};
      for (let $n = 0; $n < ${N}; $n++) {
        let acc = 0;
        let $pa = ${lin([[a.sBatch, '$bt'], [a.sRow, '$m']], a.offset)}, $pb = ${lin([[b.sBatch, '$bt'], [b.sCol, '$n']], b.offset)};
        for (let $k = 0; $k < ${K}; $k++, $pa += ${a.sCol}, $pb += ${b.sRow}) acc += ${readA('$pa')} * ${readB('$pb')};
        acc = Math.fround(acc);
        ${store(spec, expr, '$bt', '$m', '$n')}
      }
    }
  };
})()`;
}

/**
 * A JS expression evaluating to the kernel `(b, start, end, $rt) => void` of `spec`, one of whose
 * operands is quant; `expr` as matmulSource's epilogue, `helpers` as MatmulSpec.helpers.
 */
export function quantMatmulSource(spec: MatmulSpec, expr: string, helpers: string): string {
  if ((spec.a.quant && spec.a.prologue) || (spec.b.quant && spec.b.prologue)) throw new Error('internal: a packed matmul operand with a prologue');
  if (spec.dtype === 'float64') throw new Error('internal: a packed matmul in float64');
  const side = fastSide(spec);
  if (!side) return generic(spec, expr, helpers);
  const { q, rows, row0 } = side;
  const { M, N, K, batch } = spec;
  // Vectors per call of the wasm dot: each weight is widened once for NV of them.
  // q8_0 and q4_0 take the integer dot against activations quantised to q8_0 (as llama.cpp's).
  const int = intDotFormat(q.format);
  const T = batch * (side.w === 'b' ? M : N), NV = Math.min(int ? INT_DOT_VECTORS : QUANT_DOT_VECTORS, T);
  const modules = Array.from({ length: NV }, (_, i) => (int ? intDotModule(q.format as 'q8_0' | 'q4_0', i + 1) : quantDotModule(q.format, i + 1)));
  // The integer dot's activations are quantised in wasm too (quant-act.ts).
  const quantiser = int ? quantiserModule() : null;
  if (modules.some((m) => m === null) || (int && quantiser === null)) return generic(spec, expr, helpers);
  const { blockSize, blockBytes } = QUANT_FORMATS[q.format];
  const nb = K / blockSize, rowBytes = nb * blockBytes, perBlock = q.format === 'q4_K' ? 16 : 1;
  // The other operand's vectors: (bt, v) for v < V, element k at xAt + k * xs.
  const x = side.w === 'b' ? spec.a : spec.b;
  const V = side.w === 'b' ? M : N;
  const xs = side.w === 'b' ? x.sCol : x.sRow;
  const xAt = lin([[x.sBatch, '$bt'], [side.w === 'b' ? x.sRow : x.sCol, '$v']], x.offset);
  const X = side.w === 'b' ? '$A' : '$B', W = side.w === 'b' ? '$B' : '$A';
  const fx = x.prologue ? (side.w === 'b' ? '$fa' : '$fb') : null;
  // Scratch, from the thread's block of the arena ($sb): the x vectors, their q8_0 quants (integer
  // dot), their q8_0 scales or sums over each 32 (q4_K's mins), W's rows when W is not in the
  // arena, their scales, the dots.
  const xb = ACT_BLOCK_BYTES;
  const xBytes = T * K * 4, qBase = xBytes, qBytes = int ? T * nb * xb : 0;
  const xsBase = qBase + qBytes, wBase = xsBase + T * (K / 32) * 4;
  const sBase = wBase + Math.ceil((QR * rowBytes) / 16) * 16, oBase = sBase + QR * nb * perBlock * 4;
  // The integer dot takes each row in pieces of PB blocks, each piece's dots in its own NV x QR slots.
  const PB = int ? Math.max(1, Math.min(nb, Math.floor(INT_PIECE_BYTES / (NV * xb)))) : nb, pieces = Math.ceil(nb / PB);
  const need = oBase + pieces * QR * NV * 4 + 64;
  const out = side.w === 'b' ? store(spec, expr, '$bt', '$v', '$r') : store(spec, expr, '$bt', '$r', '$v');
  return `(() => {
  "use strict";
  ${F16_TABLE}
  // The packed-weight arena (../arena.ts), and this thread's scratch block in it with views of it.
  const $M = ${ARENA_SOURCE}, $take = ${ARENA_TAKE};
  const $S = globalThis.__bornQuantScratch ??= { at: 0, n: 0, b: null, f32: null, u8: null };
  const $key = "__bornQuantDot_${q.format}_${int ? 'int4' : 'v4'}";
  const $Q = globalThis[$key] ??= { f: [] };
  const $inst = (b64) => new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), { e: { m: $M } }).exports.f;
  // The dots for 1..${NV} vectors (and the activation quantiser), instances over the arena.
  ${JSON.stringify(modules.map((m) => base64(m!)))}.forEach((b64, i) => { $Q.f[i + 1] ??= $inst(b64); });
  ${quantiser ? `$Q.qa ??= $inst(${JSON.stringify(base64(quantiser))});` : ''}
  // Once per compiled kernel, not per call (types.ts MatmulSpec.helpers).
  ${helpers}
  return function (b, start, end, $rt) {
    const $C = b[0], $A = b[1], $B = b[2];
    ${prologues(spec)}
    // W's bytes in the arena are read where they lie (its view is over the arena's memory).
    const $wIn = ${W}.buffer === $M.buffer;
    if ($S.n < ${need}) { const $n = Math.max(${need}, 2 * $S.n); $S.at = $take($M, $n); $S.n = $n; }
    if ($S.b !== $M.buffer) { const $mb = $S.b = $M.buffer; $S.f32 = new Float32Array($mb); $S.u8 = new Uint8Array($mb); }
    const $F = $S.f32, $U = $S.u8, $dots = $Q.f, $sb = $S.at, $sf = $sb / 4;
    ${q.format === 'q4_K' ? scaleMin('$U') : ''}
    ${int ? 'const $qa = $Q.qa;' : ''}
    // Every x vector, contiguous, from the scratch's first byte.
    for (let $bt = 0; $bt < ${batch}; $bt++) for (let $v = 0; $v < ${V}; $v++) {
      const $s = ${xAt}, $d = $sf + ($bt * ${V} + $v) * ${K};
      ${xs === 1 && !fx ? `$F.set(${X}.subarray($s, $s + ${K}), $d);` : `for (let $k = 0; $k < ${K}; $k++) $F[$d + $k] = ${through(fx, `${X}[$s + $k * ${xs}]`)};`}
      ${int ? `{
      // into the group of ${NV} vectors one dot call takes, the group's block b side by side
      const $t = $bt * ${V} + $v, $g0 = $t - ($t % ${NV}), $gn = Math.min(${NV}, ${T} - $g0), $j = $t - $g0;
      $qa($d * 4, ${nb}, $sb + ${qBase} + $g0 * ${K * 2} + $j * 64, $sb + ${xsBase} + ($g0 * ${nb} + $j) * 4, 64 * $gn, 4 * $gn);
      }` : ''}
      ${q.format === 'q4_K' ? `for (let $g = 0, $o = $sf + ${xsBase / 4} + ($bt * ${V} + $v) * ${K / 32}; $g < ${K / 32}; $g++) { let $t = 0; for (let $k = $d + $g * 32, $e = $k + 32; $k < $e; $k++) $t += $F[$k]; $F[$o + $g] = $t; }` : ''}
    }
    for (let $u = start; $u < end; $u++) {
      const $r0 = $u * ${QR}, $nr = Math.min(${QR}, ${rows} - $r0);
      const $src = ${q.byteOffset} + ($r0 + ${row0}) * ${rowBytes};
      let $wa;
      if ($wIn) $wa = ${W}.byteOffset + $src;
      else { $wa = $sb + ${wBase}; $U.set(${W}.subarray($src, $src + $nr * ${rowBytes}), $wa); }
      ${int ? '' : stageScales(q.format, nb, '$wa', `$sf + ${sBase / 4}`)}
      for (let $t0 = 0; $t0 < ${T}; $t0 += ${NV}) {
        const $n = Math.min(${NV}, ${T} - $t0);
        ${int
    ? `for (let $c = 0; $c < ${pieces}; $c++) {
          const $b0 = $c * ${PB};
          $dots[$n]($wa + $b0 * ${blockBytes}, $sb + ${qBase} + $t0 * ${nb * xb} + $b0 * $n * ${xb}, $sb + ${xsBase} + $t0 * ${nb * 4} + $b0 * $n * 4,
            $sb + ${oBase} + $c * ${QR * NV * 4}, $nr, Math.min(${PB}, ${nb} - $b0), ${rowBytes});
        }`
    : `$dots[$n]($wa, $sb + ${sBase}, $sb + $t0 * ${K * 4}, $sb + ${oBase}, $nr, ${nb}, $sb + ${xsBase} + $t0 * ${K / 8}, ${K * 4}, ${K / 8});`}
        for (let $i = 0; $i < $nr; $i++) {
          const $r = $r0 + $i;
          for (let $j = 0; $j < $n; $j++) {
            const $t = $t0 + $j, $bt = Math.floor($t / ${V}), $v = $t - $bt * ${V}, acc = ${Array.from({ length: pieces }, (_, c) => `$F[$sf + ${oBase / 4 + c * QR * NV} + $i * $n + $j]`).join(' + ')};
            ${out}
          }
        }
      }
    }
  };
})()`;
}
