/**
 * The WGSL printer of kernel scalars and indices, the twin of ScalarPrinter in
 * cpu-workers/codegen.ts: every node becomes a `let` statement in `lines` (shared subexpressions,
 * gelu reading its input twice, are computed once), and `print` returns the expression naming it.
 *
 * Loop variables (o0.., r0.. and any other name an Index holds) are i32 variables the caller
 * declares; `acc` prints as `acc`. Values are held in their dtype's compute type (storage-wgsl.ts).
 */
import { ops, type OpDef } from '../../../graph/ops.js';
import type { Index, Scalar, Valid } from '../../../kernel/ir.js';
import { castWgsl, computeType, constExpr, loadExpr, narrowWgsl, paramExpr, zeroOf } from './storage-wgsl.js';

export interface WgslScalarOptions {
  /** The storage var holding kernel slot `slot` (after aliasing). */
  readonly buf: (slot: number) => string;
  /** Prefix of the names of printed statements (default 't'). */
  readonly prefix?: string;
  /** The error-record var, for checked index reads (Index 'val' with a bound); null: none bound. */
  readonly err?: string | null;
  /** The uniform var holding the runtime scalars (array<vec4<u32>, N>). */
  readonly params?: string;
}

/** Ops whose result is always one of their (already narrowed) inputs or a bool: nothing to round. */
const NO_OVERFLOW: ReadonlySet<string> = new Set(['maximum', 'minimum', 'relu', 'floor', 'ceil', 'trunc', 'round', 'eq', 'ne', 'lt', 'le', 'not', 'where', 'sign', 'bitand', 'bitor', 'bitxor', 'bitnot']);

/** Names shared by a printer and the printers of the blocks nested in it (masked arguments). */
interface Shared { counter: number; usesIndexCheck: boolean }

export class WgslScalarPrinter {
  readonly lines: string[] = [];
  private readonly names: Map<Scalar, string>;
  private readonly draws: Map<string, string>;
  private readonly shared: Shared;
  private readonly prefix: string;

  constructor(private readonly opts: WgslScalarOptions, parent?: WgslScalarPrinter) {
    this.prefix = opts.prefix ?? 't';
    // A nested block sees its parent's names; what it computes stays inside the block.
    this.names = new Map(parent?.names);
    this.draws = new Map(parent?.draws);
    this.shared = parent?.shared ?? { counter: 0, usesIndexCheck: false };
  }

  /** Whether printed code calls ix_ (the caller emits indexCheckWgsl then). */
  get usesIndexCheck(): boolean { return this.shared.usesIndexCheck; }

  print(s: Scalar): string {
    const known = this.names.get(s);
    if (known) return known;
    if (s.k === 'const' || s.k === 'acc') return this.expr(s);
    if (s.k === 'masked') return this.masked(s.valid, s.arg, s);
    const e = this.expr(s);
    const name = this.fresh();
    this.lines.push(`let ${name}: ${computeType(s.dtype)} = ${e};`);
    this.names.set(s, name);
    return name;
  }

  /** An index expression as i32, its data-dependent parts printed as statements first. */
  index(i: Index): string {
    switch (i.k) {
      case 'var': return i.name;
      case 'num': return i.n < 0 ? `(${i.n})` : String(i.n);
      case 'add': return `(${this.index(i.a)} + ${this.index(i.b)})`;
      case 'mul': return `(${this.index(i.a)} * ${i.n < 0 ? `(${i.n})` : i.n})`;
      // Floor division of non-negative values: WGSL's truncating / gives the same.
      case 'div': return `(${this.index(i.a)} / ${i.n})`;
      case 'mod': return `(${this.index(i.a)} % ${i.n})`;
      case 'val': {
        const v = this.print(i.v);
        const asInt = castWgsl(v, i.v.dtype, 'int32');
        if (!i.bound) return asInt;
        if (!this.opts.err) throw new Error('internal: a checked index read in a kernel without an error record');
        this.shared.usesIndexCheck = true;
        const name = this.fresh();
        this.lines.push(`let ${name}: i32 = ix_(${asInt}, ${i.bound.hi}, ${i.bound.check + 1});`);
        return name;
      }
    }
  }

  /** The condition that every bound of a padding mask holds. */
  inside(valid: Valid): string {
    return valid.map((v) => { const a = this.index(v.a); return `(${a} >= ${v.lo} && ${a} < ${v.hi})`; }).join(' && ') || 'true';
  }

  private fresh(): string { return `${this.prefix}${this.shared.counter++}`; }

  /**
   * Zero where `valid` fails; `arg` is evaluated only inside the bounds, so a gather under a
   * padding mask never reports an index it does not read.
   */
  private masked(valid: Valid, arg: Scalar, s: Scalar): string {
    const t = computeType(s.dtype);
    const cond = this.inside(valid);
    const name = this.fresh();
    const inner = new WgslScalarPrinter(this.opts, this);
    const v = inner.print(arg);
    const conv = computeType(arg.dtype) === t ? v : castWgsl(v, arg.dtype, s.dtype);
    this.lines.push(`var ${name}: ${t} = ${zeroOf(t)};`, `if (${cond}) {`, ...inner.lines.map((l) => `  ${l}`), `  ${name} = ${conv};`, '}');
    this.names.set(s, name);
    return name;
  }

  private expr(s: Scalar): string {
    switch (s.k) {
      case 'load': return loadExpr(this.opts.buf(s.input), this.index(s.index), s.dtype);
      case 'const': return constExpr(s.value, s.dtype);
      case 'acc': return 'acc';
      case 'rand': {
        // Both words of a draw come out of one evaluation (randn's Box–Muller reads both).
        const seed = typeof s.seed === 'number' ? `${s.seed >>> 0}u` : seedU32(this.print(s.seed), s.seed.dtype);
        const at = this.index(s.index);
        const normal = s.dist === 'normal';
        const key = `${s.dist ?? ''}${seed}|${at}`;
        let pair = this.draws.get(key);
        if (!pair) {
          pair = this.fresh();
          this.lines.push(normal
            ? `let ${pair}: vec2<f32> = normal2_(philox2_(${seed}, bitcast<u32>(${at}), 0u));`
            : `let ${pair}: vec2<u32> = philox2_(${seed}, bitcast<u32>(${at}), 0u);`);
          this.draws.set(key, pair);
        }
        // kernel/normal.ts's sampler: float32 bits equal to the CPU's.
        if (normal) return `${pair}.${s.word === 0 ? 'x' : 'y'}`;
        // The top 24 bits scaled to [0, 1): exact in f32, as the CPU computes it.
        return `(f32(${pair}.${s.word === 0 ? 'x' : 'y'} >> 8u) * 5.960464477539063e-8f)`;
      }
      case 'iota': {
        const i = this.index(s.index);
        return computeType(s.dtype) === 'i32' ? i : castWgsl(i, 'int32', s.dtype);
      }
      case 'param': {
        if (!this.opts.params) throw new Error('internal: a runtime scalar in a kernel without a uniform block');
        return paramExpr(this.opts.params, s.slot, s.dtype);
      }
      case 'masked': return this.masked(s.valid, s.arg, s);
      case 'cast': return castWgsl(this.print(s.arg), s.arg.dtype, s.dtype);
      case 'op': {
        const def: OpDef = ops[s.op];
        const args = s.args.map((a) => this.print(a));
        const inDtype = s.args[s.args.length - 1]!.dtype;
        const narrow = (e: string): string => (NO_OVERFLOW.has(s.op) ? e : narrowWgsl(e, s.dtype));
        switch (def.arity) {
          case 1: return narrow(def.wgsl(args[0]!, inDtype));
          case 2: return narrow(def.wgsl(args[0]!, args[1]!, inDtype));
          case 3: return def.wgsl(args[0]!, args[1]!, args[2]!, inDtype);
        }
      }
    }
  }
}

/** A seed value as the u32 key (ToUint32, as `key >>> 0` in the JS prelude). */
function seedU32(v: string, d: Scalar['dtype']): string {
  const t = computeType(d);
  return t === 'u32' ? v : t === 'i32' ? `bitcast<u32>(${v})` : `bitcast<u32>(f2i64_(${v}))`;
}
