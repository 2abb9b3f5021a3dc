/**
 * What the WGSL printers make of one kernel, and what the WebGPU device needs to run it.
 *
 * Binding convention (every printer follows it, so the device binds without knowing the kernel's
 * kind): group 0, binding b holds kernel slot `slots[b]` (slot 0 the output, 1..n the inputs, then
 * the error record if the kernel checks indices, then the extra outputs: see extraOutputSlot in
 * kernel/ir.ts). A slot that is bound as another slot (a store kernel reading its own target:
 * WebGPU refuses one buffer in two bindings when one is writable) is absent from `slots`, and the
 * printer reads it through the slot it aliases. When `uniformWords > 0`, binding `slots.length` is
 * a uniform buffer of that many 32-bit words: the kernel's runtime scalars (Kernel.params), slot s
 * in word s, as the bits of its dtype (f32 or i32), then any words the printer asked for.
 *
 * A program may run in several passes (`passes`, in order, one dispatch each, each its own
 * pipeline of `code` with its override constants) over scratch buffers of its own (`scratch`, byte
 * sizes: bound after the uniform block, or after the slots where there is none; the device takes
 * them from its pool for the dispatch and gives them back). Every pass binds every binding, so the
 * printer makes each pass's entry point use them all (one entry, branching on an override).
 *
 * Storage: every dtype is laid out as storage.ts says (one 32-bit word per element for the narrow
 * types and the half types, two for int64).
 *
 * The device builds each pipeline with an explicit bind-group layout (bindingTypes) read from the
 * program's own binding declarations, not `layout: 'auto'`: an automatic layout leaves out a
 * binding the shader never reads (a kernel whose value ignores an input, a pass that skips the
 * scratch), and binding the kernel's buffers to it then fails the dispatch.
 */
import type { Kernel } from '../../../kernel/ir.js';

export interface WgslOptions {
  /** For each kernel slot, the slot whose buffer it is (itself unless it aliases one). */
  readonly alias: readonly number[];
  readonly maxWorkgroupsPerDimension: number;
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxWorkgroupStorageBytes: number;
  /** The adapter has shader-f16 (a printer may then use f16 arithmetic; float16 storage is words either way). */
  readonly f16: boolean;
}

export interface WgslProgram {
  readonly code: string;
  /** The entry point's name in `code`. */
  readonly entry: string;
  /** dispatchWorkgroups(x, y, z). */
  readonly workgroups: readonly [number, number, number];
  /** Binding b holds kernel slot slots[b]. */
  readonly slots: readonly number[];
  /** 32-bit words of the uniform block (0: none). */
  readonly uniformWords: number;
  /** Values of the words after the runtime scalars, if any (dispatch sizes the shader reads). */
  readonly extraUniforms?: readonly number[];
  /** When present, the dispatches to make instead of (entry, workgroups). */
  readonly passes?: readonly WgslPass[];
  /** Byte sizes of the scratch buffers the passes share (see the file comment). */
  readonly scratch?: readonly number[];
}

export interface WgslPass {
  readonly entry: string;
  readonly workgroups: readonly [number, number, number];
  /** Pipeline-overridable constants of this pass. */
  readonly constants?: Readonly<Record<string, number>>;
}

/** The dispatches of a program, in order. */
export const passesOf = (p: WgslProgram): readonly WgslPass[] => p.passes ?? [{ entry: p.entry, workgroups: p.workgroups }];

/** A kernel the WGSL printers do not handle yet: the device reports it naming the kernel. */
export class UnsupportedKernel extends Error {
  override name = 'UnsupportedKernel';
}

export type WgslPrinter = (k: Kernel, o: WgslOptions) => WgslProgram;

/** The kind of each binding of group 0, as a bind-group layout entry names it. */
export type BindingType = 'storage' | 'read-only-storage' | 'uniform';

const BINDING_DECL = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*(read_write|read))\s*>/g;

/**
 * The type of every binding the program declares, by binding number: from its declarations, so
 * the layout is the one the shader was written against. The declared bindings must be exactly
 * the ones the device binds (program.ts's convention: slots, the uniform block, the scratch).
 */
export function bindingTypes(p: WgslProgram): BindingType[] {
  const types: BindingType[] = [];
  for (const m of p.code.matchAll(BINDING_DECL)) {
    const b = Number(m[1]);
    if (types[b] !== undefined) throw new Error(`internal: binding ${b} declared twice`);
    types[b] = m[2] === 'uniform' ? 'uniform' : m[3] === 'read' ? 'read-only-storage' : 'storage';
  }
  const expected = p.slots.length + (p.uniformWords > 0 ? 1 : 0) + (p.scratch?.length ?? 0);
  const uniformAt = p.uniformWords > 0 ? p.slots.length : -1;
  for (let b = 0; b < Math.max(expected, types.length); b++) {
    const t = types[b];
    if (b >= expected || t === undefined || (b === uniformAt) !== (t === 'uniform')) {
      throw new Error(`internal: the program declares bindings [${types.join(', ')}], the device binds ${p.slots.length} slots` +
        `${uniformAt >= 0 ? ', a uniform block' : ''} and ${p.scratch?.length ?? 0} scratch buffers`);
    }
  }
  return types;
}
