/**
 * The JS driver of a SIMD kernel: a function (b, start, end, $rt) like every CPU kernel, which
 * copies blocks of its inputs (typed-array views on SharedArrayBuffers) into the thread's wasm
 * memory, calls the kernel's wasm function on each block and copies the results out (map) or adds
 * up the partial sums of each output (sum). The wasm module is instantiated once per compiled
 * kernel and thread; the memory is shared by every SIMD kernel of the thread.
 */
import type { ElementwiseOp, OpDef } from '../../../graph/ops.js';
import { ops } from '../../../graph/ops.js';
import type { Kernel, Scalar } from '../../../kernel/ir.js';
import { base64 } from '../matmul/source-parts.js';
import { num } from '../js-values.js';
import { jsPrelude } from '../prelude.js';
import { BLOCK, layoutOf, simdModule } from './module.js';
import type { Affine, SimdPlan, SimdScalar } from './plan.js';

/** Marks a kernel source printed by this module (tests look for it). */
export const SIMD_MARKER = '/* born:simd */';

export const RT = '$rt';

export function affineJs(a: Affine): string {
  const parts = [...a.coef].map(([v, n]) => (n === 1 ? v : `${n} * ${v}`));
  if (a.c !== 0 || parts.length === 0) parts.unshift(String(a.c));
  return parts.join(' + ');
}

/** The epilogue of a sum: acc, constants, params and ops on them (plan.ts epilogueOnly). */
export function epilogueJs(s: Scalar): string {
  switch (s.k) {
    case 'acc': return 'acc';
    case 'const': return num(s.value);
    case 'param': return `${RT}[${s.slot}]`;
    case 'cast': return `Math.fround(${epilogueJs(s.arg)})`;
    case 'op': {
      const def: OpDef = ops[s.op as ElementwiseOp];
      const a = s.args.map(epilogueJs);
      const d = s.args[s.args.length - 1]!.dtype;
      switch (def.arity) {
        case 1: return def.js(a[0]!, d);
        case 2: return def.js(a[0]!, a[1]!, d);
        case 3: return def.js(a[0]!, a[1]!, a[2]!, d);
      }
    }
    default: throw new Error(`internal: simd epilogue reached ${s.k}`);
  }
}

/** Statements defining the outer coordinates from `flat`, innermost first. */
export function unravel(outer: SimdPlan['outer'], flat: string): string[] {
  if (outer.length === 0) return [];
  const lines = [`let t_ = ${flat};`];
  for (let j = outer.length - 1; j >= 0; j--) {
    const [d, v] = outer[j]!;
    lines.push(j === 0 ? `const ${v} = t_;` : `const ${v} = t_ % ${d}; t_ = (t_ - ${v}) / ${d};`);
  }
  return lines;
}

/** Statements writing a plan's scalar slots at byte offset `at`: runtime params, and splat loads of inputs. */
export function scalarWrites(scalars: readonly SimdScalar[], at: number, view = 'F', input = (i: number): string => `b${i}`): { params: string[]; splats: string[] } {
  const params: string[] = [];
  const splats: string[] = [];
  scalars.forEach((s, j) => {
    const slot = at / 4 + j;
    if ('param' in s) params.push(`${view}[${slot}] = ${RT}[${s.param}];`);
    else splats.push(`${view}[${slot}] = ${input(s.input)}[${affineJs(s.base)}];`);
  });
  return { params, splats };
}

/** The kernel's source: an expression evaluating to its KernelFn. */
export function simdSource(k: Kernel, plan: SimdPlan, bytes: Uint8Array): string {
  const layout = layoutOf(plan);
  const vecAt = (slot: number): number => (layout.vec + slot * BLOCK * 4) / 4;
  const { params, splats } = scalarWrites(plan.scalars, layout.scalars);
  const copies = (offset: string): string[] => plan.vecs.map((v, slot) =>
    `{ const s = ${affineJs(v.base)} + ${offset}; F.set(b${v.input}.subarray(s, s + n), ${vecAt(slot)}); }`);
  let loop: string[];
  if (plan.kind === 'map') {
    const outAt = layout.out / 4;
    loop = [
      'for (let i = start; i < end;) {',
      `const q = Math.floor(i / ${plan.segment}), e = i - q * ${plan.segment};`,
      ...unravel(plan.outer, 'q'),
      `const n = Math.min(end - i, ${plan.segment} - e, ${BLOCK});`,
      ...splats,
      ...copies('e'),
      'f(n);',
      `out.set(F.subarray(${outAt}, ${outAt} + n), i);`,
      'i += n;',
      '}',
    ];
  } else {
    loop = [
      'for (let i = start; i < end; i++) {',
      ...unravel(plan.outer, 'i'),
      ...splats,
      'let acc = 0;',
      `for (let e = 0; e < ${plan.segment}; e += ${BLOCK}) {`,
      `const n = Math.min(${BLOCK}, ${plan.segment} - e);`,
      ...copies('e'),
      'acc += f(n);',
      '}',
      `out[i] = ${epilogueJs(k.value)};`,
      '}',
    ];
  }
  return simdKernelSource(k, bytes, layout.bytes, [...params, ...loop]);
}

/** The module bytes alone, for checking that the engine validates them. */
export function simdBytes(plan: SimdPlan, relaxed: boolean): Uint8Array {
  return simdModule(plan, layoutOf(plan), relaxed);
}

/**
 * A SIMD kernel's source around its body: the module instantiated once per thread on the shared
 * wasm memory (grown to `memBytes`), bindings b1.. for the inputs, F (and D) views of the memory.
 */
export function simdKernelSource(k: Kernel, bytes: Uint8Array, memBytes: number, body: string[], f64View = false): string {
  const binds = ['const out = b[0];', ...k.inputs.map((_, i) => `const b${i + 1} = b[${i + 1}];`)];
  return [
    `(() => { ${SIMD_MARKER}`,
    jsPrelude,
    'const mem = (globalThis.__bornSimdMemory_v1 ??= new WebAssembly.Memory({ initial: 1 }));',
    `const bytes = Uint8Array.from(atob(${JSON.stringify(base64(bytes))}), (c) => c.charCodeAt(0));`,
    'const f = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: mem } }).exports.f;',
    `return function ${k.name.replace(/\W/g, '_')}(b, start, end, ${RT}) {`,
    ...binds,
    `if (mem.buffer.byteLength < ${memBytes}) mem.grow(Math.ceil((${memBytes} - mem.buffer.byteLength) / 65536));`,
    'const F = new Float32Array(mem.buffer);',
    ...(f64View ? ['const D = new Float64Array(mem.buffer);'] : []),
    ...body,
    '};',
    '})()',
  ].join('\n');
}
