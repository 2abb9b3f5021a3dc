// The CPU's forward 3x3 convolution: a matmul whose B operand is the patches of an im2col that
// the scheduler did not write (scheduler/window-operand.ts asks `winogradFold`), run as Winograd
// F(4x4, 3x3). A CNN's 3x3 layers spend most of its time in that matmul, already near what
// 128-bit wasm SIMD gives; Winograd does the same work with 36 products per 16 outputs where
// the matmul did 144, and reads the image once where im2col wrote it nine times over.
//
// A unit is a group of four images, one per lane (winograd-wasm.ts). Per unit: the images are
// staged into wasm memory (through the operand's prologue), interleaved and padded, transformed
// to V (36 matrices [C][T]); 36 micro-kernel products U[ξ]·V[ξ] give M; the output transform
// writes the [O][4·Ho·Wo] block that the matmul's epilogue copies out. U, the filters'
// transform, is kept while the weights' buffer keeps its write stamp (../write-stamps.ts; a
// worker has the stamps its bindings bring) and no other Winograd kernel has used the thread's
// memory; it cost 0.2 ms of a thread's 1.4 in a CNN's batch of 20. Without a stamp (or with a
// prologue on the weights, which reads other buffers) it is made once per call and thread: a
// kernel's views array `b` is made once per call and thread (compile.ts), so it marks the call.

import type { WindowFold, WindowOperand } from '../../../kernel/ir.js';
import { simdCopyOut } from '../matmul/epilogue-out.js';
import { KernelPrologues } from '../matmul/prologue-simd.js';
import { base64, callStatements, jsCopyOut, through } from '../matmul/source-parts.js';
import { MR } from '../matmul/tuning.js';
import type { MatmulSpec } from '../matmul/types.js';
import { wasmFlavour } from '../matmul/wasm-module.js';
import { stampJs } from '../write-stamps.js';
import { LANES, outputLane, WA, winogradModule, winogradShape } from './winograd-wasm.js';

/** Fewer input channels than this stay im2col + matmul: the products are too short to pay for the transforms. */
export const WINOGRAD_MIN_CHANNELS = 8;

/** Winograd kernels compiled on this thread (tests check that a convolution took this path). */
export const winogradStats = { kernels: 0 };

/** Whether the CPU runs this im2col's matmul as a Winograd convolution (DeviceLimits.windowOperands). */
export function winogradFold(f: WindowFold): boolean {
  const g = f.geom;
  if (f.dtype !== 'float32' || g.kh !== 3 || g.kw !== 3 || g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1) return false;
  if (f.C < WINOGRAD_MIN_CHANNELS || f.N < LANES || wasmFlavour(false, true) === null) return false;
  const cols = f.N * g.Ho * g.Wo;
  // Only conv2d's forward product: weights [O, C·9] times the patches as [C·9, N·Ho·Wo].
  return f.reads.every((r) => r.side === 'b' && r.batch === 1 && r.K === f.C * 9 && r.N === cols
    && r.offset === 0 && r.sRow === cols && r.sCol === 1);
}

/** The kernel's source and its units (groups of four images). */
export function winogradSource(spec: MatmulSpec, win: WindowOperand): { source: string; units: number } {
  const flavour = wasmFlavour(false, true);
  if (!flavour || spec.a.quant || spec.dtype === 'float64') throw new Error('internal: a Winograd convolution without wasm SIMD, or of packed or float64 weights');
  const g = win.geom, C = win.C, O = spec.M, N = win.N;
  const s = winogradShape(C, O, g);
  const plane = g.Ho * g.Wo, lane = outputLane(s), ldc = LANES * lane, CHW = C * g.H * g.W;
  winogradStats.kernels++;

  // Memory, in elements: filters staged | U | images staged | interleaved | V | M | output block.
  let top = 0;
  const region = (elements: number): number => { const r = top; top += Math.ceil(elements / 16) * 16; return r; };
  const WS = region(C * 9 * s.Op), U = region(WA * WA * s.Op * C), RAW = region(LANES * CHW);
  const X = region(C * s.Hp * s.Wp * LANES), V = region(WA * WA * C * s.T), MB = region(WA * WA * s.Op * s.T);
  const CB = region(O * ldc);
  const prologues = new KernelPrologues(top * 4, true);
  const fa = spec.a.prologue ? '$fa' : null;
  const pb = prologues.make(spec.b.prologue ? '$fb' : null, spec.b.simd, '$PB');
  let needBytes = prologues.bytes;
  const setups = prologues.setups;
  const expr = spec.epilogue?.expr?.trim() || 'acc';
  // The output block holds each image's pixels apart (winograd-wasm.ts outputLane): one copy-out per image.
  const CP = `${CB} + $l * ${lane}`;
  const simdOut = spec.epilogue?.simd ? simdCopyOut(spec.epilogue.simd, needBytes, O, spec.N, CP) : null;
  if (simdOut) { needBytes = simdOut.need; setups.push(simdOut.setup); }

  const { a } = spec;
  const stageFilters = `for (let $m = 0; $m < ${s.Op}; $m++) {
        if ($m >= ${O}) { for (let $k = 0; $k < ${C * 9}; $k++) $F[${WS} + $k * ${s.Op} + $m] = 0; continue; }
        const $r = ${a.offset} + $m * ${a.sRow};
        for (let $k = 0; $k < ${C * 9}; $k++) $F[${WS} + $k * ${s.Op} + $m] = ${through(fa, `$A[$r + $k * ${a.sCol}]`)};
      }
      $X.w(${WS * 4}, ${U * 4});`;
  const dense = win.sW === 1 && win.sH === g.W && win.sC === g.H * g.W && win.sN === CHW;
  const stageImages = dense
    ? `$F.set($B.subarray(${win.offset} + $b0 * ${CHW}, ${win.offset} + ($b0 + $nl) * ${CHW}), ${RAW});`
    : `for (let $l = 0, $d = ${RAW}; $l < $nl; $l++) for (let $c = 0; $c < ${C}; $c++) for (let $h = 0; $h < ${g.H}; $h++) {
          const $s = ${win.offset} + ($b0 + $l) * ${win.sN} + $c * ${win.sC} + $h * ${win.sH};
          for (let $w = 0; $w < ${g.W}; $w++) $F[$d++] = $B[$s + $w * ${win.sW}];
        }`;
  // Every lane's column of U·V is a whole product: the GEMM over 36 transforms, one call each.
  const products = Array.from({ length: WA * WA }, (_, x) =>
    `$g(${(U + x * s.Op * C) * 4}, ${(V + x * C * s.T) * 4}, ${s.T * 4}, 32, ${(MB + x * s.Op * s.T) * 4}, ${s.T * 4}, ${s.Op / MR}, ${s.T / 8}, ${C}, 0);`);
  const copyOut = simdOut ? simdOut.copyOut : expr === 'acc'
    ? `for (let $m = 0; $m < ${O}; $m++) { const $s = ${CP} + $m * ${ldc}; $C.set($F.subarray($s, $s + $nc), $m * ${spec.N} + $jc); }`
    : jsCopyOut(expr, O, spec.N, CP);
  // The padding and the tiles' overhang are zeros that the interleave never writes.
  const padded = s.Hp * s.Wp > g.H * g.W;
  const source = `(() => {
  "use strict";
  const $key = "__bornWinograd_v1";
  let $W = globalThis[$key];
  if ($W === undefined) {
    const mem = new WebAssembly.Memory({ initial: 1 });
    $W = { mem, f: new Float32Array(mem.buffer), u: null, uv: undefined };
    globalThis[$key] = $W;
  }
  const $X = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(${JSON.stringify(base64(winogradModule(s, flavour.relaxed)))}), (c) => c.charCodeAt(0))), { e: { m: $W.mem } }).exports;
  const $g = $X.g;
  const $K = {}; // this kernel, as the maker of the U in the thread's memory
  ${setups.join('\n  ')}
  ${spec.helpers ?? ''}
  return function (b, start, end, $rt) {
    ${callStatements(spec)}
    const $C = b[0], $A = b[1], $B = b[2];
    if ($W.mem.buffer.byteLength < ${needBytes}) {
      $W.mem.grow(Math.ceil((${needBytes} - $W.mem.buffer.byteLength) / 65536));
      $W.f = new Float32Array($W.mem.buffer);
    }
    let $F = $W.f;
    const $av = ${fa === null ? stampJs('$A') : 'undefined'};
    if ($av === undefined ? $W.u !== b : $W.u !== $K || $W.uv !== $av) {
      ${stageFilters}
      $W.u = $av === undefined ? b : $K;
      $W.uv = $av;
    }
    for (let $u = start; $u < end; $u++) {
      const $b0 = $u * ${LANES}, $nl = Math.min(${LANES}, ${N} - $b0);
      ${stageImages}
      if ($nl < ${LANES}) $F.fill(0, ${RAW} + $nl * ${CHW}, ${RAW + LANES * CHW});
      ${pb ? pb.apply(String(RAW), `${RAW} + $nl * ${CHW}`) : ''}
      ${padded ? `$F.fill(0, ${X}, ${X + C * s.Hp * s.Wp * LANES});` : ''}
      $X.x(${RAW * 4}, ${X * 4});
      $X.i(${X * 4}, ${V * 4});
      ${products.join('\n      ')}
      $X.o(${MB * 4}, ${CB * 4});
      const $rs = 0, $rse = ${O}, $bt = 0, $nc = ${plane}, $ldc = ${ldc};
      for (let $l = 0; $l < $nl; $l++) {
        const $jc = ($b0 + $l) * ${plane};
        ${copyOut}
      }
    }
  };
})()`;
  return { source, units: Math.ceil(N / LANES) };
}
