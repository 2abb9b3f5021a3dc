// The JS driver source: blocking loops, scratch layout and operand staging are
// decided here from the spec, so strides and sizes are literals in the output.

import { directRun, jsMicroKernel } from './js-kernels.js';
import { simdCopyOut } from './epilogue-out.js';
import { G1_VECTORS } from './kernels.js';
import { residentLoad, residentSetup, scratchGuard } from './resident.js';
import { KernelPrologues } from './prologue-simd.js';
import { base64, callStatements, jsCopyOut, lin, stage, stageRows, through } from './source-parts.js';
import { DIRECT_MAX_MACS, KC, KC_SMALL, MAX_INT32, MC, MR, NC, RS, SET_MIN, SMALL_M } from './tuning.js';
import type { MatmulSourceOptions, MatmulSpec } from './types.js';
import { RB, units, validate } from './units.js';
import { wasmFlavour, type WasmFlavour } from './wasm-module.js';

export function matmulSource(spec: MatmulSpec, options: MatmulSourceOptions = {}): string {
  validate(spec);
  const u = units(spec);
  const f64 = spec.dtype === 'float64';
  const expr = spec.epilogue?.expr?.trim() || 'acc';
  const fa = spec.a.prologue ? '$fa' : null, fb = spec.b.prologue ? '$fb' : null;
  // Helpers once per compiled kernel (types.ts); the preludes and prologues read the call's buffers.
  const helpers = spec.helpers ?? '';
  const prologueFns = callStatements(spec);
  const plainEpilogue = expr === 'acc';
  if (u.total === 0) return '(function (b, start, end, $rt) {})';
  const { a, b, M, N, K } = spec;

  let backend = options.backend ?? 'auto';
  if (K === 0) backend = 'direct';
  if (backend === 'auto') backend = M * N * K <= DIRECT_MAX_MACS ? 'direct' : 'wasm';
  let flavour: WasmFlavour | null = null;
  if (backend === 'wasm') {
    flavour = wasmFlavour(f64, options.fma ?? true);
    if (flavour === null) backend = 'js';
  }

  // Decomposition of [start, end) into runs: sets $bt, $m0, $m1, $n0, $n1.
  const decode = u.nRB > 1
    ? `const $bc = Math.floor($u / ${u.nRB});
      const $ue = Math.min(($bc + 1) * ${u.nRB}, end);
      const $bt = Math.floor($bc / ${u.nCB}), $cb = $bc - $bt * ${u.nCB};
      const $m0 = ($u - $bc * ${u.nRB}) * ${RB}, $m1 = Math.min(($ue - $bc * ${u.nRB}) * ${RB}, ${M});
      const $n0 = $cb * ${u.CB}, $n1 = Math.min($n0 + ${u.CB}, ${N});`
    : `const $bt = Math.floor($u / ${u.nCB});
      const $ue = Math.min(($bt + 1) * ${u.nCB}, end);
      const $m0 = 0, $m1 = ${M};
      const $n0 = ($u - $bt * ${u.nCB}) * ${u.CB}, $n1 = Math.min(($ue - $bt * ${u.nCB}) * ${u.CB}, ${N});`;
  const runLoop = (body: string) => `
    for (let $u = start; $u < end;) {
      ${decode}
      $u = $ue;
      ${body}
    }`;
  const head = `const $C = b[0], $A = b[1], $B = b[2];`;

  if (backend === 'direct') {
    return `(() => {
  "use strict";
  ${helpers}
  return function (b, start, end, $rt) {
  ${prologueFns}
  ${head}
  ${runLoop(directRun(spec, expr, fa, fb))}
  };
})()`;
  }

  // Packed backends ('wasm' or 'js').
  const NR = flavour ? flavour.NR : 8;
  const S = f64 ? 8 : 4;
  const L = 16 / S; // elements per v128
  const G1C = (G1_VECTORS * 16) / S; // columns per strip of the one-row kernel
  // How each operand gets into the scratch: staged by memcpy + wasm rearrangement, or packed by JS.
  const aMode = !flavour ? 'js' : a.sCol === 1 ? 'rows' : a.sRow === 1 ? 'cols' : 'js';
  const bMode = !flavour ? 'js' : b.sCol === 1 ? 'rows' : b.sRow === 1 ? 'cols' : 'js';
  // Few rows: B is not worth packing. One row against B rows: the one-row kernel; B stored
  // transposed: dot products; otherwise the micro-kernel reads B straight from its copy.
  const small = flavour !== null && M <= SMALL_M;
  const kind = !small ? 'gemm' : M === 1 && bMode === 'rows' ? 'row' : bMode === 'cols' ? 'dot' : 'gemm';
  const bUnpacked = small && kind === 'gemm' && bMode === 'rows';
  // B read straight from its staged copy, in one block: the copy can stay in wasm memory (resident.ts).
  const resident = small && (kind !== 'gemm' || bUnpacked) && bMode !== 'js' && fb === null && K <= KC_SMALL && N <= NC;
  // B's packed panels, block by block, can stay in wasm memory the same way.
  const packedResident = kind === 'gemm' && !bUnpacked && bMode !== 'js' && fb === null;
  // K blocks of (nearly) equal length: 784 = 4 x 196 rather than 3 x 256 + 16.
  const kcLimit = small ? KC_SMALL : KC;
  const kcBlock = K <= kcLimit ? Math.max(K, 1) : Math.ceil(K / Math.ceil(K / kcLimit));
  // Runs merge column blocks when there is one row block.
  const ncMax = Math.min(NC, u.nRB === 1 ? N : u.CB);
  const NCpad = Math.ceil(ncMax / Math.max(NR, G1C)) * Math.max(NR, G1C);
  const kcMax = Math.min(kcBlock, K);
  const kcPadMax = Math.ceil(kcMax / L) * L;
  const rsMax = Math.min(RS, M);
  const RSpad = Math.ceil(rsMax / MR) * MR;
  const MCpad = Math.ceil(Math.min(MC, rsMax) / MR) * MR;
  // Scratch layout, in elements: AP packed A | BP packed B | AS staged A | BS staged B | CP C block.
  const packsA = kind === 'gemm', packsB = kind === 'gemm' && !bUnpacked;
  const stagesA = kind !== 'gemm' || aMode !== 'js', stagesB = kind !== 'gemm' || bMode !== 'js';
  const AP = 0;
  const BP = AP + (packsA ? MCpad * kcMax : 0);
  const AS = BP + (packsB ? kcMax * NCpad : 0);
  const BS = AS + (stagesA ? MCpad * kcPadMax : 0);
  const CP = BS + (stagesB ? kcPadMax * NCpad : 0);
  const need = CP + RSpad * NCpad;
  if (need * S > MAX_INT32) throw new Error('matmul: scratch too large');

  // A SIMD epilogue needs the wasm backend's memory; the JS backend prints the expression. The
  // operands' SIMD prologues take the memory above it.
  const simdOut = flavour && !f64 && spec.epilogue?.simd ? simdCopyOut(spec.epilogue.simd, need * S, M, N, CP) : null;
  const prologues = new KernelPrologues(simdOut ? simdOut.need : need * S, flavour !== null && !f64);
  const pa = prologues.make(fa, a.simd, '$PA'), pb = prologues.make(fb, b.simd, '$PB');
  const needBytes = prologues.bytes, setups = prologues.setups;

  const aBase = lin([[a.sBatch, '$bt']], a.offset);
  const bBase = lin([[b.sBatch, '$bt']], b.offset);
  const accumArg = '$pc > 0 ? 1 : 0';
  const cTile = `(${CP} + ($ic - $rs) * $ldc) * ${S}`;

  // Staging B at BS, or finding (or making) its resident copy, which sets $bs; bAt is where B is then.
  const stageB = (load: (dst: string) => string, src: string, bytes: string): string =>
    (resident ? residentLoad({ load, key: src, bytes, scratch: BS, S }) : load(String(BS)));
  const bAt = resident ? '$bs' : String(BS * S);
  let loadB: string, loadA: string, gcall: string;
  if (kind === 'row') {
    const src = `$bB + ${lin([[b.sRow, '$pc']])} + $jc`;
    const load = (dst: string): string => stageRows('$B', src, b.sRow, 1, '$kc', '$nc', '$nc', dst, pb);
    loadB = stageB(load, src, `$kc * $nc * ${S}`);
    loadA = stageRows('$A', `$aB + ${lin([[a.sCol, '$pc']])}`, 0, a.sCol, '1', '$kc', '$kc', String(AS), pa);
    gcall = `$W.g1(${AS * S}, ${bAt}, $nc * ${S}, ${cTile}, Math.ceil($nc / ${G1C}), $kc, ${accumArg});`;
  } else if (kind === 'dot') {
    const src = `$bB + ${lin([[b.sCol, '$jc']])} + $pc`;
    const load = (dst: string): string => stageRows('$B', src, b.sCol, 1, '$nc', '$kc', '$kcp', dst, pb);
    // The kernel reads whole groups of L rows: a copy spans the last group's padding rows too.
    const bytes = `Math.ceil($nc / ${L}) * ${L} * $kcp * ${S}`;
    loadB = `const $kcp = Math.ceil($kc / ${L}) * ${L};
            ${stageB(load, src, bytes)}`;
    loadA = stageRows('$A', `$aB + ${lin([[a.sRow, '$ic'], [a.sCol, '$pc']])}`, a.sRow, a.sCol, '$mc', '$kc', '$kcp', String(AS), pa);
    gcall = `$W.d(${AS * S}, $kcp * ${S}, ${bAt}, $kcp * ${S}, ${cTile}, $ldc * ${S}, $mc, Math.ceil($nc / ${L}), $kcp / ${L}, ${accumArg});`;
  } else {
    // B[bt, pc:pc+kc, jc:jce] -> NR-wide k-major panels at BP (or staged rows at BS when unpacked).
    // Packed: staged at BS, then packed to `dst` (BP, or a resident copy that sets $bs).
    const packB = (src: string, stageTo: (dst: string) => string, pack: string): string => {
      const load = (dst: string): string => `${stageTo(String(BS))}
        $W.${pack}(${BS * S}, ${pack === 'pb1' ? '$nc' : '$kc'} * ${S}, (${dst}) * ${S}, $kc, $nt);`;
      return packedResident ? residentLoad({ load, key: src, bytes: `$kc * $nt * ${NR * S}`, scratch: BP, S }) : load(String(BP));
    };
    if (bMode === 'rows') {
      const src = `$bB + ${lin([[b.sRow, '$pc']])} + $jc`;
      const stageTo = (dst: string): string => stage('$B', src, b.sRow, '$kc', '$nc', dst, pb);
      loadB = bUnpacked ? stageB(stageTo, src, `$kc * $nc * ${S}`) : packB(src, stageTo, 'pb1');
    } else if (bMode === 'cols') {
      const src = `$bB + ${lin([[b.sCol, '$jc']])} + $pc`;
      loadB = packB(src, (dst) => stage('$B', src, b.sCol, '$nc', '$kc', dst, pb), 'pb2');
    } else {
      loadB = `{
        let $d = ${BP};
        for (let $s = $jc; $s < $jce; $s += ${NR}) {
          let $src = $bB + ${lin([[b.sRow, '$pc'], [b.sCol, '$s']])};
          if ($s + ${NR} <= $jce) {
            for (let $k = 0; $k < $kc; $k++) {
              ${Array.from({ length: NR }, (_, j) => `$F[$d + ${j}] = ${through(fb, `$B[$src${j ? ` + ${j * b.sCol}` : ''}]`)};`).join(' ')}
              $d += ${NR}; $src += ${b.sRow};
            }
          } else {
            const $w = $jce - $s;
            for (let $k = 0; $k < $kc; $k++) {
              for (let $j = 0; $j < ${NR}; $j++) $F[$d + $j] = $j < $w ? ${through(fb, `$B[$src + $j * ${b.sCol}]`)} : 0;
              $d += ${NR}; $src += ${b.sRow};
            }
          }
        }
      }`;
    }
    // A[bt, ic:ic+mc, pc:pc+kc] -> MR-high k-major strips at AP.
    if (aMode === 'rows') {
      loadA = stage('$A', `$aB + ${lin([[a.sRow, '$ic'], [a.sCol, '$pc']])}`, a.sRow, '$mc', '$kc', String(AS), pa);
      loadA += `\n          $W.pa2(${AS * S}, $kc * ${S}, ${AP * S}, $kc, $mt);`;
    } else if (aMode === 'cols') {
      loadA = stage('$A', `$aB + ${lin([[a.sCol, '$pc'], [a.sRow, '$ic']])}`, a.sCol, '$kc', '$mc', String(AS), pa);
      loadA += `\n          $W.pa1(${AS * S}, $mc * ${S}, ${AP * S}, $kc, $mt);`;
    } else {
      loadA = `{
          let $d = ${AP};
          const $ie = $ic + $mc;
          for (let $r = $ic; $r < $ie; $r += ${MR}) {
            let $src = $aB + ${lin([[a.sRow, '$r'], [a.sCol, '$pc']])};
            if ($r + ${MR} <= $ie) {
              for (let $k = 0; $k < $kc; $k++) {
                ${Array.from({ length: MR }, (_, i) => `$F[$d + ${i}] = ${through(fa, `$A[$src${i ? ` + ${i * a.sRow}` : ''}]`)};`).join(' ')}
                $d += ${MR}; $src += ${a.sCol};
              }
            } else {
              const $h = $ie - $r;
              for (let $k = 0; $k < $kc; $k++) {
                for (let $i = 0; $i < ${MR}; $i++) $F[$d + $i] = $i < $h ? ${through(fa, `$A[$src + $i * ${a.sRow}]`)} : 0;
                $d += ${MR}; $src += ${a.sCol};
              }
            }
          }
        }`;
    }
    gcall = flavour
      ? (bUnpacked
        ? `$g(${AP * S}, ${bAt}, $nc * ${S}, ${NR * S}, ${cTile}, $ldc * ${S}, $mt, $nt, $kc, ${accumArg});`
        : `$g(${AP * S}, ${packedResident ? '$bs' : BP * S}, ${NR * S}, $kc * ${NR * S}, ${cTile}, $ldc * ${S}, $mt, $nt, $kc, ${accumArg});`)
      : `$g(${AP}, ${BP}, ${CP} + ($ic - $rs) * $ldc, $mt, $nt, $kc, $ldc, $pc > 0);`;
  }
  const copyOut = simdOut ? simdOut.copyOut : plainEpilogue
    ? `{
          const $o0 = ($bt * ${M} + $rs) * ${N} + $jc;
          if ($nc === ${N} && $ldc === $nc) $C.set($F.subarray(${CP}, ${CP} + ($rse - $rs) * $nc), $o0);
          else for (let $m = 0; $m < $rse - $rs; $m++) {
            const $s = ${CP} + $m * $ldc, $o = $o0 + $m * ${N};
            ${flavour && ncMax >= SET_MIN
              ? `$C.set($F.subarray($s, $s + $nc), $o);`
              : `for (let $n = 0; $n < $nc; $n++) $C[$o + $n] = $F[$s + $n];`}
          }
        }`
    : jsCopyOut(expr, M, N, CP);
  const run = `
      const $aB = ${aBase}, $bB = ${bBase};
      for (let $rs = $m0; $rs < $m1; $rs += ${RS}) {
        const $rse = Math.min($rs + ${RS}, $m1);
        for (let $jc = $n0; $jc < $n1; $jc += ${NC}) {
          const $jce = Math.min($jc + ${NC}, $n1), $nc = $jce - $jc;
          const $nt = Math.ceil($nc / ${NR}), $ldc = $nt * ${NR};
          for (let $pc = 0; $pc < ${K}; $pc += ${kcBlock}) {
            const $kc = Math.min(${kcBlock}, ${K} - $pc);
            ${loadB}
            for (let $ic = $rs; $ic < $rse; $ic += ${MC}) {
              const $mc = Math.min(${MC}, $rse - $ic), $mt = Math.ceil($mc / ${MR});
              ${loadA}
              ${gcall}
            }
          }
          ${copyOut}
        }
      }`;

  if (flavour) {
    const T = f64 ? 'Float64Array' : 'Float32Array';
    return `(() => {
  "use strict";
  const $key = ${JSON.stringify(flavour.key)};
  let $W = globalThis[$key];
  if ($W === undefined) {
    const mem = new WebAssembly.Memory({ initial: 1 });
    const bytes = Uint8Array.from(atob(${JSON.stringify(base64(flavour.bytes))}), (c) => c.charCodeAt(0));
    const x = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: mem } }).exports;
    $W = { mem, f: new ${T}(mem.buffer), g: x.g, g1: x.g1, d: x.d, pa1: x.pa1, pa2: x.pa2, pb1: x.pb1, pb2: x.pb2 };
    globalThis[$key] = $W;
  }
  const $g = $W.g;
  ${resident || packedResident ? residentSetup(T) : ''}
  ${simdOut ? simdOut.setup : ''}
  ${setups.join('\n  ')}
  ${helpers}
  return function (b, start, end, $rt) {
    ${prologueFns}
    ${head}
    ${scratchGuard(needBytes)}
    if ($W.mem.buffer.byteLength < ${needBytes}) {
      $W.mem.grow(Math.ceil((${needBytes} - $W.mem.buffer.byteLength) / 65536));
      $W.f = new ${T}($W.mem.buffer);
    }
    let $F = $W.f;
    ${runLoop(run)}
  };
})()`;
  }

  // JS fallback: the same loops over a Float64Array scratch, JS micro-kernel.
  return `(() => {
  "use strict";
  const $key = "__bornMatmul_js_v2";
  let $W = globalThis[$key];
  if ($W === undefined) { $W = { f: new Float64Array(0) }; globalThis[$key] = $W; }
  ${jsMicroKernel(NR)}
  ${helpers}
  return function (b, start, end, $rt) {
    ${prologueFns}
    ${head}
    if ($W.f.length < ${need}) $W.f = new Float64Array(${need});
    const $F = $W.f;
    ${runLoop(run)}
  };
})()`;
}
