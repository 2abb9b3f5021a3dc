/**
 * A function body of f32x4 values in single-assignment form: every operation writes a new v128
 * local. Code goes to one of two places, `pre` (run once, before the loop: constants and values
 * the loop does not change) and `loop` (once per vector of four lanes).
 */
import { uleb } from '../matmul/wasm-asm.js';

const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;

/** SIMD opcodes (after the 0xfd prefix) the printer uses. */
export const Op = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, shuffle: 0x0d,
  i32Splat: 0x11, f32Splat: 0x13, f64ExtractLane: 0x21,
  load32Lane: 0x56, store32Lane: 0x5a, load32Zero: 0x5c, f32DemoteF64Zero: 0x5e,
  i32LtS: 0x39,
  f32Eq: 0x41, f32Ne: 0x42, f32Lt: 0x43, f32Gt: 0x44, f32Le: 0x45, f32Ge: 0x46,
  not: 0x4d, and: 0x4e, andNot: 0x4f, or: 0x50, xor: 0x51, bitselect: 0x52,
  f64PromoteLow: 0x5f,
  f32Ceil: 0x67, f32Floor: 0x68, f32Trunc: 0x69, f32Nearest: 0x6a,
  i32Shl: 0xab, i32ShrS: 0xac, i32ShrU: 0xad, i32Add: 0xae, i32Sub: 0xb1,
  f32Abs: 0xe0, f32Neg: 0xe1, f32Sqrt: 0xe3, f32Add: 0xe4, f32Sub: 0xe5, f32Mul: 0xe6, f32Div: 0xe7,
  f32Min: 0xe8, f32Max: 0xe9, f32Pmax: 0xeb,
  f64Add: 0xf0, f64Div: 0xf3, i32TruncSatF32S: 0xf8, f32ConvertI32S: 0xfa,
  /** Relaxed SIMD: a·b + c, fused or not as the engine chooses. */
  f32RelaxedMadd: 0x105,
} as const;

/** A v128 local. */
export type V = number & { readonly __v128: true };

export class VecBuilder {
  readonly pre: number[] = [];
  readonly loop: number[] = [];
  private code: number[] = this.loop;
  private v128s = 0;
  private readonly consts = new Map<string, V>();

  /**
   * `params` i32 parameters come first, then `i32s` i32 locals; v128 locals follow them.
   * `relaxed`: a·b + c may be one fused instruction.
   */
  constructor(readonly params: number, readonly i32s: number, readonly relaxed = false) {}

  private newV(): V { return (this.params + this.i32s + this.v128s++) as V; }

  /** Code emitted inside `f` goes before the loop. */
  hoisted<T>(f: () => T): T {
    const saved = this.code;
    this.code = this.pre;
    try { return f(); } finally { this.code = saved; }
  }

  raw(...bytes: number[]): this { this.code.push(...bytes); return this; }
  simd(op: number): this { this.code.push(0xfd); uleb(op, this.code); return this; }
  get(l: number): this { this.code.push(0x20); uleb(l, this.code); return this; }
  set(l: number): this { this.code.push(0x21); uleb(l, this.code); return this; }
  /** Pops the value on the stack into a fresh local. */
  put(): V { const v = this.newV(); this.set(v); return v; }

  /** A v128 of four equal 32-bit lanes given by their bits (hoisted, shared). */
  bits(u32: number): V {
    const key = `b${u32 >>> 0}`;
    const hit = this.consts.get(key);
    if (hit !== undefined) return hit;
    const v = this.hoisted(() => {
      this.simd(Op.const);
      for (let l = 0; l < 4; l++) for (let b = 0; b < 4; b++) this.code.push((u32 >>> (8 * b)) & 0xff);
      return this.put();
    });
    this.consts.set(key, v);
    return v;
  }

  f32(x: number): V {
    F32[0] = x;
    return this.bits(U32[0]!);
  }

  un(op: number, a: V): V { return this.get(a).simd(op).put(); }
  bin(op: number, a: V, b: V): V { return this.get(a).get(b).simd(op).put(); }
  /** Lanes of `a` where `mask` is set, of `b` elsewhere. */
  select(mask: V, a: V, b: V): V { return this.get(a).get(b).get(mask).simd(Op.bitselect).put(); }
  /** i32x4 shift by a constant. */
  shift(op: number, a: V, n: number): V { return this.get(a).raw(0x41, n).simd(op).put(); }
  add(a: V, b: V): V { return this.bin(Op.f32Add, a, b); }
  sub(a: V, b: V): V { return this.bin(Op.f32Sub, a, b); }
  mul(a: V, b: V): V { return this.bin(Op.f32Mul, a, b); }
  div(a: V, b: V): V { return this.bin(Op.f32Div, a, b); }
  /** a·b + c (one rounding or two). */
  madd(a: V, b: V, c: V): V {
    if (this.relaxed) return this.get(a).get(b).get(c).simd(Op.f32RelaxedMadd).put();
    return this.add(this.mul(a, b), c);
  }
  /** Horner's scheme: c[0]·x^n + … + c[n]. */
  poly(x: V, c: readonly number[]): V {
    let p = this.f32(c[0]!);
    for (let i = 1; i < c.length; i++) p = this.madd(p, x, this.f32(c[i]!));
    return p;
  }

  /** The locals declaration and code of the whole body, ending the function. */
  body(tail: number[]): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    if (this.i32s) groups.push([this.i32s, I32]);
    if (this.v128s) groups.push([this.v128s, V128]);
    uleb(groups.length, out);
    for (const [n, t] of groups) { uleb(n, out); out.push(t); }
    out.push(...tail, 0x0b);
    return out;
  }
}

export { I32, F64 };

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
