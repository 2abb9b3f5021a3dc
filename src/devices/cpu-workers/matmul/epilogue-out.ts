// The copy-out of a wasm matmul whose epilogue runs as SIMD (simd/epilogue.ts): each row's run of
// the C block goes through the epilogue's module in blocks, next to the scratch in the same wasm
// memory, and the results are copied to C. The blocks follow the plan's segments (the output
// runs along which every operand is contiguous or constant), so an operand's block is one copy.

import { epilogueModule } from '../simd/epilogue.js';
import { BLOCK } from '../simd/module.js';
import { affineJs, scalarWrites, unravel } from '../simd/source.js';
import type { SimdEpilogue } from '../simd/index.js';
import { base64 } from './source-parts.js';

export interface SimdCopyOut {
  /** Closure-level statements: the epilogue's module instance `$E` on the matmul's memory. */
  setup: string;
  /** The copy-out of rows [$rs, $rse) and columns [$jc, $jc + $nc) of the C block at element CP. */
  copyOut: string;
  /** Bytes of wasm memory the kernel needs, its scratch and the epilogue's blocks. */
  need: number;
}

/**
 * `scratchBytes` is the matmul's scratch; the epilogue's blocks start at the next 16-byte
 * boundary. M and N are one batch item's rows and columns, CP the C block's element offset (an
 * expression of the call where it moves).
 */
export function simdCopyOut(e: SimdEpilogue, scratchBytes: number, M: number, N: number, CP: number | string): SimdCopyOut {
  const { plan } = e;
  const { layout, bytes } = epilogueModule(plan, Math.ceil(scratchBytes / 16) * 16, e.fma);
  const vecAt = (slot: number): number => (layout.vec + slot * BLOCK * 4) / 4;
  const outAt = layout.out / 4;
  // Splat slots are written per block: a per-row operand (a conv's bias) changes with the row.
  const { params, splats } = scalarWrites(plan.scalars, layout.scalars, '$F', (i) => `b[${i}]`);
  const copies = plan.vecs.map((v, slot) => (v.input === 0
    ? `$F.copyWithin(${vecAt(slot)}, $s + i - $o, $s + i - $o + n);`
    : `{ const s = ${affineJs(v.base)} + e; $F.set(b[${v.input}].subarray(s, s + n), ${vecAt(slot)}); }`));
  const setup = `const $E = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(${JSON.stringify(base64(bytes))}), (c) => c.charCodeAt(0))), { e: { m: $W.mem } }).exports.f;`;
  const copyOut = `{
          ${params.join(' ')}
          for (let $m = $rs; $m < $rse; $m++) {
            const $s = ${CP} + ($m - $rs) * $ldc, $o = ($bt * ${M} + $m) * ${N} + $jc, $oe = $o + $nc;
            for (let i = $o; i < $oe;) {
              const q = Math.floor(i / ${plan.segment}), e = i - q * ${plan.segment};
              ${unravel(plan.outer, 'q').join('\n              ')}
              const n = Math.min($oe - i, ${plan.segment} - e, ${BLOCK});
              ${splats.join(' ')}
              ${copies.join('\n              ')}
              $E(n);
              $C.set($F.subarray(${outAt}, ${outAt} + n), i);
              i += n;
            }
          }
        }`;
  return { setup, copyOut, need: layout.bytes };
}
