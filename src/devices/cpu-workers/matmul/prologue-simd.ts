// An operand prologue run as SIMD (simd/index.ts simdPrologueOf) over each block the matmul
// stages: the staged run goes through the prologue's module in blocks, in the same wasm memory as
// the scratch, and back in place. Packing then reads plain values. Short runs keep the JS loop.

import { epilogueModule } from '../simd/epilogue.js';
import { MIN_PROLOGUE_RUN, type SimdEpilogue } from '../simd/index.js';
import { BLOCK } from '../simd/module.js';
import { scalarWrites } from '../simd/source.js';
import { applyIn, base64, jsPrologue, type Prologue } from './source-parts.js';

export interface SimdPrologue {
  /** Closure-level statement: the module's function `name` on the matmul's memory. */
  setup: string;
  prologue: Prologue;
  /** The byte where the module's memory ends (it starts at `base`). */
  end: number;
}

/** The prologue `fn` (its JS form) as `name`'s module, with its blocks from byte `base` up. */
export function simdPrologue(e: SimdEpilogue, fn: string, name: string, base: number): SimdPrologue {
  const { layout, bytes } = epilogueModule(e.plan, Math.ceil(base / 16) * 16, e.fma);
  const vec = layout.vec / 4, out = layout.out / 4;
  const { params } = scalarWrites(e.plan.scalars, layout.scalars, '$F');
  const setup = `const ${name} = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(${JSON.stringify(base64(bytes))}), (c) => c.charCodeAt(0))), { e: { m: $W.mem } }).exports.f;`;
  const apply = (from: string, to: string): string => `{
          const $p0 = ${from}, $pe = ${to};
          if ($pe - $p0 < ${MIN_PROLOGUE_RUN}) ${applyIn(fn, '$p0', '$pe')}
          else {
            ${params.join(' ')}
            for (let $i = $p0; $i < $pe;) {
              const $n = Math.min($pe - $i, ${BLOCK});
              $F.copyWithin(${vec}, $i, $i + $n);
              ${name}($n);
              $F.copyWithin($i, ${out}, ${out} + $n);
              $i += $n;
            }
          }
        }`;
  return { setup, prologue: { fn, apply }, end: layout.bytes };
}

/**
 * The operand prologues of one kernel: SIMD where allowed and the operand has a SIMD form (each
 * module's blocks placed after the last, from byte `bytes` up), JS otherwise.
 */
export class KernelPrologues {
  /** Closure-level statements of the SIMD modules made so far. */
  readonly setups: string[] = [];
  /** The byte where the kernel's wasm memory ends, past every module made so far. */
  bytes: number;

  constructor(bytes: number, private readonly simdAllowed: boolean) {
    this.bytes = bytes;
  }

  /** The prologue `fn` (null: none) as `name`, with `simd` its SIMD form where it has one. */
  make(fn: string | null, simd: SimdEpilogue | undefined, name: string): Prologue | null {
    if (fn === null) return null;
    if (!this.simdAllowed || !simd) return jsPrologue(fn);
    const p = simdPrologue(simd, fn, name, this.bytes);
    this.bytes = p.end;
    this.setups.push(p.setup);
    return p.prologue;
  }
}
