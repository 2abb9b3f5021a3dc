/**
 * How WGSL kernels hold each dtype, and how they move elements between storage (laid out as
 * ../storage.ts says) and compute values.
 *
 * Every storage binding is declared `array<u32>` whatever its dtype: a load or store bitcasts the
 * word, so one buffer may be bound under one name and read as any dtype (an aliased slot reads
 * through the slot it aliases), and no printer has to agree with another on element types. The
 * one exception: a writable binding of a packed dtype (int8, uint8, int16, float16, bfloat16:
 * several elements to a word) is `array<atomic<u32>>`, named `p<slot>` rather than `b<slot>` so
 * that loads and stores know it: a store clears and sets its element's bits with atomicAnd and
 * atomicOr (neighbouring elements of one word may be written by other invocations), and a load
 * through it (an in-place kernel reading what it writes) is an atomicLoad.
 *
 * Compute types: float32, float16 and bfloat16 compute in f32 (half types rounded after every op
 * and on store, as PyTorch's CPU kernels do); bool in u32 (0 or 1); every integer dtype in i32
 * (int8/int16/uint8 wrapped after every op; int64 on its low word, exact for |x| < 2^31).
 */
import { DTypeError } from '../../../graph/errors.js';
import { isFloat, type DType } from '../../../graph/dtype.js';
import { perWord } from '../storage.js';

export type WgslType = 'f32' | 'i32' | 'u32';

export function computeType(d: DType): WgslType {
  if (d === 'float64') throw new DTypeError(`webgpu: float64 has no WGSL type; compute it on the CPU with .to('cpu')`);
  return isFloat(d) ? 'f32' : d === 'bool' ? 'u32' : 'i32';
}

/** The storage var of kernel slot `slot`: `p<slot>` where it is atomic (see the file comment), else `b<slot>`. */
export const bindingName = (slot: number, dtype: DType, access: 'read' | 'read_write'): string =>
  `${access === 'read_write' && perWord(dtype) > 1 ? 'p' : 'b'}${slot}`;

const isAtomic = (name: string): boolean => /^p\d+$/.test(name);

/** `var<storage, access> name: array<u32>` (or `array<atomic<u32>>`, by its name) at binding `binding` of group 0. */
export function bindingDecl(binding: number, name: string, _dtype: DType, access: 'read' | 'read_write'): string {
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${isAtomic(name) ? 'atomic<u32>' : 'u32'}>;`;
}

/** The error record (Kernel.indexChecks): atomics, claimed by compare-exchange. */
export const errorRecordDecl = (binding: number, name: string): string =>
  `@group(0) @binding(${binding}) var<storage, read_write> ${name}: array<atomic<i32>>;`;

/** The uniform block of runtime scalars: slot s is word s, i.e. [s / 4][s % 4]. */
export const uniformDecl = (binding: number, name: string, words: number): string =>
  `@group(0) @binding(${binding}) var<uniform> ${name}: array<vec4<u32>, ${Math.max(1, Math.ceil(words / 4))}>;`;

/** Runtime scalar `slot` of dtype `d` read from the uniform block `u`. */
export function paramExpr(u: string, slot: number, d: DType): string {
  const w = `${u}[${slot >> 2}][${slot & 3}]`;
  switch (computeType(d)) {
    case 'f32': return d === 'float32' ? `bitcast<f32>(${w})` : (d === 'float16' ? `rh_(bitcast<f32>(${w}))` : `rbf_(bitcast<f32>(${w}))`);
    case 'i32': return `bitcast<i32>(${w})`;
    case 'u32': return `select(0u, 1u, ${w} != 0u)`;
  }
}

/** The word `w` (a u32 expression) of storage `name`. */
const wordOf = (name: string, w: string): string => (isAtomic(name) ? `atomicLoad(&${name}[${w}])` : `${name}[${w}]`);

/** Element `index` (an i32 expression) of storage `name` holding `dtype`, as its compute type. */
export function loadExpr(name: string, index: string, dtype: DType): string {
  const n = perWord(dtype);
  if (n > 1) {
    // Element i of a packed dtype: bits (i % n) * (32 / n) of word i / n; extractBits sign-extends an i32.
    const i = `u32(${index})`, bits = 32 / n;
    const w = wordOf(name, `${i} >> ${n === 4 ? 2 : 1}u`), at = `(${i} & ${n - 1}u) * ${bits}u`;
    switch (dtype) {
      case 'int8': case 'int16': return `extractBits(bitcast<i32>(${w}), ${at}, ${bits}u)`;
      case 'uint8': return `i32(extractBits(${w}, ${at}, 8u))`;
      case 'float16': return `h2f_(extractBits(${w}, ${at}, 16u))`;
      default: return `bitcast<f32>(extractBits(${w}, ${at}, 16u) << 16u)`;
    }
  }
  switch (dtype) {
    case 'float32': return `bitcast<f32>(${wordOf(name, index)})`;
    case 'int64': return `bitcast<i32>(${wordOf(name, `2 * (${index})`)})`;
    case 'int32': return `bitcast<i32>(${wordOf(name, index)})`;
    case 'bool': return `select(0u, 1u, ${wordOf(name, index)} != 0u)`;
    default: return computeType(dtype);
  }
}

/** The bits (low 32 / perWord(dtype)) storing compute value `v` as packed `dtype`. */
function packedBits(dtype: DType, v: string): string {
  switch (dtype) {
    case 'float16': return `f2h_(${v})`;
    case 'bfloat16': return `f2bf_(${v})`;
    case 'int16': return `(bitcast<u32>(${v}) & 0xffffu)`;
    default: return `(bitcast<u32>(${v}) & 255u)`;
  }
}

/** The word(s) storing compute value `v` as `dtype`; narrow integers wrap as typed arrays do. */
export function storeStmt(name: string, index: string, dtype: DType, v: string): string {
  const n = perWord(dtype);
  if (n > 1) {
    if (!isAtomic(name)) throw new Error(`internal: packed ${dtype} stored into non-atomic binding ${name}`);
    // The value first: it may load from this very word. Then this element's bits cleared and set,
    // each one atomic, so other invocations' elements of the word are kept.
    const bits = 32 / n;
    return `{ let pv_ = ${packedBits(dtype, v)}; let pi_ = u32(${index}); let ps_ = (pi_ & ${n - 1}u) * ${bits}u; ` +
      `let pw_ = &${name}[pi_ >> ${n === 4 ? 2 : 1}u]; atomicAnd(pw_, ~(${bits === 8 ? '255u' : '0xffffu'} << ps_)); atomicOr(pw_, pv_ << ps_); }`;
  }
  switch (dtype) {
    case 'float32': case 'int32': return `${name}[${index}] = bitcast<u32>(${v});`;
    case 'bool': return `${name}[${index}] = select(0u, 1u, ${v} != 0u);`;
    // The high word sign-extends the low one: exact for |x| < 2^31.
    case 'int64': return `{ let w_: i32 = ${v}; ${name}[2 * (${index})] = bitcast<u32>(w_); ${name}[2 * (${index}) + 1] = bitcast<u32>(w_ >> 31u); }`;
    default: return computeType(dtype);
  }
}

/** A number as an exact WGSL constant of dtype `d`'s compute type. */
export function constExpr(v: number, d: DType): string {
  switch (computeType(d)) {
    case 'f32': return f32Lit(v);
    case 'u32': return v !== 0 ? '1u' : '0u';
    case 'i32': {
      // int64 constants keep their low word, as int64 values do.
      const w = Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? Number(BigInt.asIntN(32, BigInt(v))) : f2i32(v);
      return w === -2147483648 ? 'bitcast<i32>(0x80000000u)' : w < 0 ? `(${w}i)` : `${w}i`;
    }
  }
}

const f2i32 = (x: number): number => (x > -2147483649 && x < 2147483648 ? x | 0 : -2147483648);

const F32 = new Float32Array(1);

/**
 * An f32 literal that parses to exactly fround(v); -0 as its bits, NaN and ±Infinity read at run
 * time (WGSL has no literal for them, and a constant expression may not be one).
 */
export function f32Lit(v: number): string {
  F32[0] = v;
  const f = F32[0]!;
  if (Number.isNaN(f)) return 'nan_()';
  if (!Number.isFinite(f)) return f > 0 ? 'inf_()' : '(-inf_())';
  if (Object.is(f, -0)) return 'bitcast<f32>(0x80000000u)';
  // The shortest decimal of the double fround(v) reads back as that double, hence as that float.
  const s = String(f);
  return f < 0 ? `(${s}f)` : `${s}f`;
}

/** The zero of a compute type (masked loads, accumulators). */
export const zeroOf = (t: WgslType): string => (t === 'f32' ? '0.0f' : t === 'i32' ? '0i' : '0u');

/** A value of compute type `t` made `dtype`'s: half types round, narrow integers wrap. */
export function narrowWgsl(x: string, d: DType): string {
  switch (d) {
    case 'float16': return `rh_(${x})`;
    case 'bfloat16': return `rbf_(${x})`;
    case 'int16': return `((${x} << 16u) >> 16u)`;
    case 'int8': return `((${x} << 24u) >> 24u)`;
    case 'uint8': return `(${x} & 255i)`;
    default: return x;
  }
}

/**
 * A value of dtype `from` converted to `to` with PyTorch's rules (as castJs in
 * cpu-workers/codegen.ts): floats round to nearest even, float to integer truncates and gives the
 * most negative int32 out of range or for NaN (x86), int16/int8 wrap that, uint8 is 0 beyond
 * ±2^31, integers wrap, bool is x != 0 with NaN true.
 */
export function castWgsl(x: string, from: DType, to: DType): string {
  const ft = computeType(from);
  switch (to) {
    case 'float32': return ft === 'f32' ? x : `f32(${x})`;
    case 'float16': return `rh_(${ft === 'f32' ? x : `f32(${x})`})`;
    case 'bfloat16': return `rbf_(${ft === 'f32' ? x : `f32(${x})`})`;
    case 'bool':
      // Bits, not x != 0.0: a NaN must count as true whatever the compiler assumes about NaN.
      return ft === 'f32' ? `select(0u, 1u, (bitcast<u32>(${x}) & 0x7fffffffu) != 0u)` : ft === 'u32' ? x : `select(0u, 1u, ${x} != 0i)`;
    case 'float64': return computeType(to);
    default: break;
  }
  if (ft === 'f32') {
    switch (to) {
      case 'int32': return `f2i32_(${x})`;
      case 'int64': return `f2i64_(${x})`;
      case 'int16': return `((f2i32_(${x}) << 16u) >> 16u)`;
      case 'int8': return `((f2i32_(${x}) << 24u) >> 24u)`;
      case 'uint8': return `f2u8_(${x})`;
    }
  }
  const xi = ft === 'u32' ? `i32(${x})` : x;
  return to === 'int32' || to === 'int64' ? xi : narrowWgsl(xi, to);
}
