/**
 * What every core WGSL kernel shares: its bindings (program.ts's convention), the dispatch of
 * `count` workgroups (2-D beyond maxWorkgroupsPerDimension), the linear workgroup id, the
 * unravelling of a flat element index into loop variables, and the final assembly with the
 * helpers the code calls.
 */
import type { DType } from '../../../graph/dtype.js';
import { extraOutputSlot, type Kernel } from '../../../kernel/ir.js';
import { helpersIn, indexCheckWgsl, wgslPrelude } from './prelude.js';
import type { WgslOptions, WgslProgram } from './program.js';
import { bindingDecl, bindingName, errorRecordDecl, uniformDecl } from './storage-wgsl.js';

export const ERR = 'err_';
export const PARAMS = 'u_';

export interface Frame {
  /** Binding b holds kernel slot slots[b]. */
  readonly slots: readonly number[];
  /** The storage var of kernel slot `slot`, after aliasing. */
  readonly buf: (slot: number) => string;
  readonly err: string | null;
  readonly params: string | undefined;
  readonly uniformWords: number;
  readonly decls: readonly string[];
}

/** The bindings of `k`: output, inputs, error record, extra outputs; aliased slots bound once. */
export function frame(k: Kernel, o: WgslOptions): Frame {
  const checks = (k.indexChecks?.length ?? 0) > 0;
  const errSlot = checks ? k.inputs.length + 1 : -1;
  const outputs = [0, ...(k.extraOutputs ?? []).map((_, j) => extraOutputSlot(k, j))];
  const total = k.inputs.length + 1 + (checks ? 1 : 0) + (k.extraOutputs?.length ?? 0);
  const alias = (s: number): number => o.alias[s] ?? s;
  // A slot another output is bound as must be writable wherever it is declared.
  const writable = new Set(outputs.map(alias));
  const slots: number[] = [];
  const decls: string[] = [];
  const names = new Map<number, string>();
  for (let s = 0; s < total; s++) {
    if (alias(s) !== s) continue;
    const b = slots.push(s) - 1;
    if (s === errSlot) { decls.push(errorRecordDecl(b, ERR)); continue; }
    const access = writable.has(s) ? 'read_write' : 'read';
    names.set(s, bindingName(s, slotDtype(k, s), access));
    decls.push(bindingDecl(b, names.get(s)!, slotDtype(k, s), access));
  }
  const uniformWords = k.params.length;
  if (uniformWords > 0) decls.push(uniformDecl(slots.length, PARAMS, uniformWords));
  return {
    slots, buf: (s) => names.get(alias(s)) ?? `b${alias(s)}`, err: checks ? ERR : null,
    params: uniformWords > 0 ? PARAMS : undefined, uniformWords, decls,
  };
}

/** The dtype kernel slot `s` holds (the error record aside). */
function slotDtype(k: Kernel, s: number): DType {
  if (s === 0) return k.out.dtype;
  if (s <= k.inputs.length) return k.inputs[s - 1]!;
  const j = s - extraOutputSlot(k, 0);
  return k.extraOutputs![j]!.dtype;
}

/** dispatchWorkgroups for `count` workgroups: x up to the per-dimension limit, then rows of y. */
export function dispatch(count: number, o: WgslOptions): [number, number, number] {
  const max = o.maxWorkgroupsPerDimension;
  if (count <= max) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / max);
  if (y > max) throw new Error(`internal: ${count} workgroups exceed a 2-D dispatch`);
  return [max, y, 1];
}

/** The entry point's header: `wg` is the linear workgroup id (i32), `lid` the invocation in it (i32). */
export function entryHeader(size: number): string {
  return [
    `@compute @workgroup_size(${size})`,
    'fn main(@builtin(workgroup_id) wid_: vec3<u32>, @builtin(num_workgroups) nwg_: vec3<u32>, @builtin(local_invocation_index) lid_: u32) {',
    '  let wg: i32 = i32(wid_.y * nwg_.x + wid_.x);',
    '  let lid: i32 = i32(lid_);',
  ].join('\n');
}

/**
 * Statements declaring `prefix`{offset + i} (i32) for every dim i of `dims` from the flat index
 * `flat` (row-major), through the i32 variable `tmp`; unit dims are 0.
 */
export function unravel(dims: readonly number[], flat: string, prefix = 'o', tmp = 'q_', offset = 0): string[] {
  const lines = [`var ${tmp}: i32 = ${flat};`];
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!, name = `${prefix}${offset + i}`;
    if (d === 1) { lines.push(`let ${name}: i32 = 0;`); continue; }
    const outermost = dims.slice(0, i).every((e) => e === 1);
    lines.push(outermost ? `let ${name}: i32 = ${tmp};` : `let ${name}: i32 = ${tmp} % ${d}; ${tmp} = ${tmp} / ${d};`);
  }
  return lines;
}

/** The program: bindings, helpers the body calls, workgroup vars, then the entry point. */
export function assemble(f: Frame, parts: { globals?: readonly string[]; body: string; workgroups: [number, number, number]; indexCheck: boolean }): WgslProgram {
  const helpers = wgslPrelude(helpersIn([...(parts.globals ?? []), parts.body].join('\n')));
  const code = [
    ...f.decls,
    helpers,
    ...(parts.indexCheck && f.err ? [indexCheckWgsl(f.err)] : []),
    ...(parts.globals ?? []),
    parts.body,
  ].filter((s) => s.length > 0).join('\n');
  return { code, entry: 'main', workgroups: parts.workgroups, slots: f.slots, uniformWords: f.uniformWords };
}

export const indent = (lines: readonly string[], by = '  '): string[] => lines.map((l) => by + l);
