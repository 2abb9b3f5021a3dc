// The activation side of the integer dot (quant-int-wasm.ts): each float32 vector becomes q8_0
// blocks as ggml's quantize_row_q8_0_ref makes them (d = amax / 127 rounded to f16 as the block
// stores it, q = roundf(x / d) with 1/d in float32, half away from zero), so that Born's
// quantised matmuls compute what llama.cpp's do. It runs once per vector per kernel call, in
// WebAssembly SIMD: in JS it took ~9 ns a value, and at batch 8 the quantising of the 8 vectors
// was more than half of a 768 x 768 product's time (0.3-0.5 ms of 0.77 on the 100M model).

import { Asm, SIMD_CONST, SIMD_LOAD, SIMD_STORE } from './wasm-asm.js';
import { cachedDotModule } from './quant-wasm.js';

const F32X4_EXTRACT = 0x1f, F32X4_LT = 0x43, F32X4_GT = 0x44, F32X4_GE = 0x46;
const V128_AND = 0x4e, V128_OR = 0x50, V128_BITSELECT = 0x52, I16X8_NARROW_S = 0x85;
const F32X4_TRUNC = 0x69, F32X4_NEAREST = 0x6a, I32X4_SHR_U = 0xad, I32X4_ADD = 0xae;
const F32X4_ABS = 0xe0, F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6, F32X4_DIV = 0xe7, F32X4_MAX = 0xe9;
const I32X4_TRUNC_SAT_S = 0xf8, F32_STORE = 0x38;

/** v128.const of four equal 32-bit lanes (the float's bits, or an integer's). */
function splat(w: Asm, value: number, float = true): void {
  const b = new Uint8Array(4);
  if (float) new DataView(b.buffer).setFloat32(0, value, true); else new DataView(b.buffer).setUint32(0, value >>> 0, true);
  w.simd(SIMD_CONST);
  for (let l = 0; l < 4; l++) w.code.push(...b);
}

/**
 * q(xp, nb, qp, sp, qs, ss): the nb blocks of 32 f32 from xp as q8_0 blocks, block b's 32 quants
 * as i16 at qp + b·qs and its scale (the f16 value, as f32) at sp + b·ss. NaN anywhere in a block
 * makes its scale NaN (f32x4.max propagates it) and its quants 0, as the float path would see it.
 */
function quantiser(): Asm {
  const w = new Asm(6);
  const [xp, nb, qp, sp, qs, ss] = [0, 1, 2, 3, 4, 5];
  const b = w.i32Local();
  const xv = Array.from({ length: 8 }, () => w.v128Local());
  const m = w.v128Local(), d = w.v128Local(), id = w.v128Local(), v = w.v128Local(), t = w.v128Local();
  // bitselect(a, b, mask) takes a where the mask is set: push a, b, then the mask.
  // x · (1/d) rounded half away from zero, as i32x4: trunc(v), plus copysign(1, v) where |v - trunc(v)| ≥ 0.5.
  // (A NaN lane converts to 0.)
  const quant = (x: number): void => {
    w.get(x).get(id).simd(F32X4_MUL).set(v);
    w.get(v).simd(F32X4_TRUNC).set(t);
    w.get(t);
    w.get(v); splat(w, 0x80000000, false); w.simd(V128_AND); splat(w, 1); w.simd(V128_OR);
    w.get(v).get(t).simd(F32X4_SUB).simd(F32X4_ABS); splat(w, 0.5); w.simd(F32X4_GE);
    w.simd(V128_AND).simd(F32X4_ADD).set(v);
    // ±Inf (1/d overflowed, for a block of float32 subnormals) becomes 0, as JS's ToInt16 makes it.
    w.get(v).get(v).simd(F32X4_ABS); splat(w, 128); w.simd(F32X4_LT).simd(V128_AND).simd(I32X4_TRUNC_SAT_S);
  };
  w.upto(b, nb, () => {
    for (let i = 0; i < 8; i++) w.get(xp).simdMem(SIMD_LOAD, 0, 16 * i).set(xv[i]!);
    w.get(xv[0]!).simd(F32X4_ABS);
    for (let i = 1; i < 8; i++) w.get(xv[i]!).simd(F32X4_ABS).simd(F32X4_MAX);
    w.set(m);
    w.get(m).get(m).shuffle([2, 3, 0, 1], 4).get(m).simd(F32X4_MAX).set(m);
    w.get(m).get(m).shuffle([1, 0, 3, 2], 4).get(m).simd(F32X4_MAX).set(m);
    // d = amax / 127; 1/d where d > 0, else 0 (for 0 and NaN, as ggml's `d ? 1/d : 0`)
    w.get(m); splat(w, 127); w.simd(F32X4_DIV).set(d);
    splat(w, 1); w.get(d).simd(F32X4_DIV); splat(w, 0); w.get(d); splat(w, 0); w.simd(F32X4_GT).simd(V128_BITSELECT).set(id);
    // The scale rounded to f16, ties to even: below 2^-14 to a multiple of 2^-24 (f16's
    // subnormals), else 13 mantissa bits dropped with rounding; from 65,520 up +Inf; 0, NaN and
    // +Inf as they are.
    w.get(sp);
    w.get(d); splat(w, 2 ** 24); w.simd(F32X4_MUL).simd(F32X4_NEAREST); splat(w, 2 ** -24); w.simd(F32X4_MUL);
    w.get(d); splat(w, 0x0fff, false); w.simd(I32X4_ADD);
    w.get(d).i32(13).simd(I32X4_SHR_U); splat(w, 1, false); w.simd(V128_AND).simd(I32X4_ADD);
    splat(w, 0xffffe000, false); w.simd(V128_AND);
    w.get(d); splat(w, 2 ** -14); w.simd(F32X4_LT).simd(V128_BITSELECT).set(t);
    splat(w, Infinity); w.get(t).get(d); splat(w, 65520); w.simd(F32X4_GE).simd(V128_BITSELECT).set(t);
    w.get(t).get(d).get(d); splat(w, 0); w.simd(F32X4_GT).get(d); splat(w, Infinity); w.simd(F32X4_LT).simd(V128_AND).simd(V128_BITSELECT);
    w.simd(F32X4_EXTRACT).code.push(0);
    w.mem(F32_STORE, 2, 0);
    for (let j = 0; j < 4; j++) {
      w.get(qp);
      quant(xv[2 * j]!); quant(xv[2 * j + 1]!);
      w.simd(I16X8_NARROW_S).simdMem(SIMD_STORE, 0, 16 * j);
    }
    w.inc(xp, 128).inc(qp, () => w.get(qs)).inc(sp, () => w.get(ss));
  });
  return w;
}

/** The module exporting `f` = the quantiser, or null without wasm SIMD. */
export const quantiserModule = (): Uint8Array | null => cachedDotModule('act/q8_0', 6, () => quantiser());
