/**
 * What the structural printers (row.ts, window.ts, scatter.ts) share on top of frame.ts: each
 * fused source expression becomes a WGSL function of the variables it may read, so a kernel
 * evaluates it wherever its loops need it (a sort re-reads keys at any position, a window
 * kernel at any tap); stores and loads of the output through its dtype's storage; and the
 * assembled program.
 */
import type { DType } from '../../../graph/dtype.js';
import type { Kernel, Scalar } from '../../../kernel/ir.js';
import { assemble, dispatch, frame } from './frame.js';
import type { WgslOptions, WgslProgram } from './program.js';
import { WgslScalarPrinter } from './scalar.js';
import { castWgsl, computeType, loadExpr, storeStmt } from './storage-wgsl.js';

export interface Frame {
  /** `fn name(vars: i32...) -> T` returning `s` in its compute type. */
  source(s: Scalar, name: string, vars: readonly string[]): string;
  /** Stores compute value `v` (of the output's compute type) at output element `index` (i32). */
  store(index: string, v: string): string;
  /** The output's element `index` as its compute type. */
  load(index: string): string;
  cast(x: string, from: DType, to: DType): string;
  /** Records value `v` (i32) as a violation of index check `check`. */
  report(check: number, v: string): string;
  /**
   * The entry point's first lines, up to and including its opening brace: workgroup `wid` of
   * `nwg`, invocation `t` (u32) of `size`.
   */
  entry(size: number): string;
  /** The program: bindings, helpers, the source functions, then `body` (which holds `fn main`). */
  program(body: string, sources: readonly string[], workgroups: readonly [number, number, number]): WgslProgram;
}

/**
 * k_(x) is x, rounded to f32 where the compiler cannot see through it. Drivers may reassociate
 * float arithmetic (lavapipe turns (a + b) - a into b), which breaks error-free transformations
 * and changes the order of a sum; an OR with a zero the compiler cannot know (derived from the
 * dispatch size, whose z is always 1 here) pins each rounding (z_ is set by entry()).
 */
const ROUNDED = `var<private> z_: u32;
fn k_(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | z_); }`;

export function frameOf(k: Kernel, o: WgslOptions): Frame {
  const f = frame(k, o);
  const out = f.buf(0);
  let checks = (k.indexChecks?.length ?? 0) > 0;
  return {
    source(s, name, vars) {
      const p = new WgslScalarPrinter({ buf: f.buf, err: f.err, prefix: `${name}t`, ...(f.params ? { params: f.params } : {}) });
      const v = p.print(s);
      checks ||= p.usesIndexCheck;
      return [`fn ${name}(${vars.map((x) => `${x}: i32`).join(', ')}) -> ${computeType(s.dtype)} {`,
        ...p.lines.map((l) => `  ${l}`), `  return ${v};`, '}'].join('\n');
    },
    // Parenthesised: storeStmt applies shifts to the value (int8, int16), which bind looser than +.
    store: (index, v) => storeStmt(out, index, k.out.dtype, `(${v})`),
    load: (index) => loadExpr(out, index, k.out.dtype),
    cast: (x, from, to) => (from === to ? x : castWgsl(x, from, to)),
    report: (check, v) => `_ = ix_(${v}, 0, ${check + 1});`,
    entry(size) {
      // Every binding is used where layout 'auto' derives the bind group layout from the code:
      // a source the kernel does not read (maxPoolGrad's known maximum) must still be bound.
      const errSlot = f.err ? k.inputs.length + 1 : -1;
      const uses = f.slots.map((s) => `  _ = arrayLength(&${s === errSlot ? f.err! : f.buf(s)});`);
      if (f.params) uses.push(`  _ = ${f.params}[0];`);
      return [`@compute @workgroup_size(${size})`,
        'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {',
        ...uses, '  z_ = nwg.z - 1u;'].join('\n');
    },
    program(body, sources, workgroups) {
      return assemble(f, { globals: [ROUNDED, ...sources], body, workgroups: [workgroups[0], workgroups[1], workgroups[2]], indexCheck: checks });
    },
  };
}

/** A dispatch of `count` workgroups (2-D beyond the per-dimension limit) and the linear workgroup id as a u32 expression. */
export function gridOf(count: number, o: WgslOptions): { workgroups: [number, number, number]; linear(wid: string, nwg: string): string } {
  return { workgroups: dispatch(count, o), linear: (wid, nwg) => `${wid}.y * ${nwg}.x + ${wid}.x` };
}

/** `let o{i}: i32` for every dim of `dims` from the flat u32 index `flat` (row-major), `pad`-indented. */
export function unravel(dims: readonly number[], flat: string, pad: string): string {
  const lines = [`${pad}var q_: u32 = ${flat};`];
  for (let i = dims.length - 1; i >= 0; i--) {
    lines.push(`${pad}let o${i}: i32 = i32(q_ % ${Math.max(1, dims[i]!)}u); q_ = q_ / ${Math.max(1, dims[i]!)}u;`);
  }
  return lines.join('\n');
}
