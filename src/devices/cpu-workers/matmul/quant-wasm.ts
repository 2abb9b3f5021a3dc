// WebAssembly SIMD dot products of packed weight rows (ggml q8_0 / q4_0 blocks, kernel/quant.ts)
// with one float32 vector: the quants are widened to float32 in registers, so the weights are
// read once, packed, and never written out as floats.

import { QUANT_FORMATS, type QuantFormat } from '../../../kernel/quant.js';
import { Asm, I32, oneFunctionModule, SIMD_CONST, SIMD_LOAD, SIMD_LOAD32_SPLAT } from './wasm-asm.js';
import { valid } from '../simd/index.js';

const I8X16_SPLAT = 0x0f, F32X4_EXTRACT = 0x1f, V128_AND = 0x4e, I8X16_SHR_U = 0x6d, I8X16_SUB = 0x71;
const I16_LOW = 0x87, I16_HIGH = 0x88, I32_LOW = 0xa7, I32_HIGH = 0xa8;
const F32X4_ADD = 0xe4, F32X4_MUL = 0xe6, F32X4_CONVERT = 0xfa, F32X4_MADD = 0x105;
const F32_ADD = 0x92, F32_SUB = 0x93, F32_STORE = 0x38;

/**
 * q(wp, sp, xp, op, nr, nb, xsp, xstride, xsstride), for nv vectors x_v (K = nb · blockSize f32
 * at xp + v·xstride): for r < nr, f32 at op + 4·(r·nv + v) = the dot product of W's row r with
 * x_v. Row r's blocks start at wp + r·nb·blockBytes. The caller turns the scales into f32 (the
 * kernel skips the f16 bytes): q8_0 and q4_0 one per block at sp + 4·(r·nb + block); q4_K a
 * (scale, min) pair per 32-weight sub-block at sp + 8·(r·nb·8 + sub), whose weights are
 * scale · q - min, so it also reads x_v's sums over each sub-block, f32 at xsp + v·xsstride.
 * Each weight is widened to float once for all nv vectors. All pointers in bytes.
 */
function quantDot(format: QuantFormat, relaxed: boolean, nv: number): Asm {
  const { blockBytes } = QUANT_FORMATS[format];
  const w = new Asm(9);
  const [wp, sp, xp, op, nr, nb, xsp, xstride, xsstride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const r = w.i32Local(), b = w.i32Local(), p = w.i32Local(), s = w.i32Local();
  const vs = Array.from({ length: nv }, (_, v) => v);
  const x = vs.map(() => w.i32Local()), xs = vs.map(() => w.i32Local());
  const acc = vs.map(() => w.v128Local()), mins = vs.map(() => w.v128Local());
  const raw = w.v128Local(), raw2 = w.v128Local(), scale = w.v128Local(), min = w.v128Local();
  const lanes = [w.v128Local(), w.v128Local()];
  const h = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const wf = Array.from({ length: 8 }, () => w.v128Local());
  const madd = (into: number): void => {
    if (relaxed) w.get(into).simd(F32X4_MADD);
    else w.simd(F32X4_MUL).get(into).simd(F32X4_ADD);
    w.set(into);
  };
  // 32 weights (16 int8 lanes in each of `lanes`) widened to 8 f32x4 once, then against each
  // x_v at xOff, into acc with the scale at s + sOff. Each vector's products are summed as a
  // tree, so that no multiply waits on the one before (a chain of dependent adds made the loop
  // latency-bound: 1 weight per ns instead of ~2).
  const thirtyTwo = (xOff: number, sOff: number): void => {
    for (let g = 0; g < 4; g++) w.get(lanes[g >> 1]!).simd(g & 1 ? I16_HIGH : I16_LOW).set(h[g]!);
    for (let q = 0; q < 8; q++) w.get(h[q >> 1]!).simd(q & 1 ? I32_HIGH : I32_LOW).simd(F32X4_CONVERT).set(wf[q]!);
    w.get(s).simdMem(SIMD_LOAD32_SPLAT, 2, sOff).set(scale);
    for (const v of vs) {
      const prod = (q: number): void => { w.get(wf[q]!).get(x[v]!).simdMem(SIMD_LOAD, 0, xOff + q * 16).simd(F32X4_MUL); };
      const pair = (q: number): void => { prod(q); prod(q + 1); w.simd(F32X4_ADD); };
      pair(0); pair(2); w.simd(F32X4_ADD);
      pair(4); pair(6); w.simd(F32X4_ADD);
      w.simd(F32X4_ADD);
      w.get(scale);
      madd(acc[v]!);
    }
  };
  const zero = (l: number): void => {
    w.simd(SIMD_CONST);
    for (let z = 0; z < 16; z++) w.code.push(0);
    w.set(l);
  };
  w.get(wp).set(p).get(sp).set(s);
  w.upto(r, nr, () => {
    for (const v of vs) {
      zero(acc[v]!);
      zero(mins[v]!);
      w.get(xp); if (v) w.get(xstride).i32(v).mul().add(); w.set(x[v]!);
      w.get(xsp); if (v) w.get(xsstride).i32(v).mul().add(); w.set(xs[v]!);
    }
    w.upto(b, nb, () => {
      if (format === 'q8_0') {
        w.get(p).simdMem(SIMD_LOAD, 0, 2).set(lanes[0]!);
        w.get(p).simdMem(SIMD_LOAD, 0, 18).set(lanes[1]!);
        thirtyTwo(0, 0);
        w.inc(s, 4);
      } else if (format === 'q4_0') {
        // Low nibbles are weights 0..15, high nibbles 16..31, each biased by 8.
        w.get(p).simdMem(SIMD_LOAD, 0, 2).set(raw);
        w.get(raw).i32(15).simd(I8X16_SPLAT).simd(V128_AND).i32(8).simd(I8X16_SPLAT).simd(I8X16_SUB).set(lanes[0]!);
        w.get(raw).i32(4).simd(I8X16_SHR_U).i32(8).simd(I8X16_SPLAT).simd(I8X16_SUB).set(lanes[1]!);
        thirtyTwo(0, 0);
        w.inc(s, 4);
      } else {
        // q4_K: after d, dmin and the 12 scale bytes, 4 chunks of 32 bytes; chunk c holds
        // sub-block 2c in its low nibbles and 2c + 1 in its high ones, unbiased (0..15).
        for (let c = 0; c < 4; c++) {
          w.get(p).simdMem(SIMD_LOAD, 0, 16 + 32 * c).set(raw);
          w.get(p).simdMem(SIMD_LOAD, 0, 32 + 32 * c).set(raw2);
          for (const high of [false, true]) {
            const sub = 2 * c + (high ? 1 : 0);
            for (const [i, v] of [raw, raw2].entries()) {
              if (high) w.get(v).i32(4).simd(I8X16_SHR_U);
              else w.get(v).i32(15).simd(I8X16_SPLAT).simd(V128_AND);
              w.set(lanes[i]!);
            }
            thirtyTwo(sub * 128, sub * 8);
            // mins += min · Σ x_v over the sub-block
            w.get(s).simdMem(SIMD_LOAD32_SPLAT, 2, sub * 8 + 4).set(min);
            for (const v of vs) { w.get(min).get(xs[v]!).simdMem(SIMD_LOAD32_SPLAT, 2, sub * 4); madd(mins[v]!); }
          }
        }
        w.inc(s, 64);
        for (const v of vs) w.inc(xs[v]!, 32);
      }
      w.inc(p, blockBytes);
      for (const v of vs) w.inc(x[v]!, format === 'q4_K' ? 1024 : 128);
    });
    // op[r·nv + v] = horizontal sum of acc_v, less the mins' term
    for (const v of vs) {
      w.get(op).get(r).i32(4 * nv).mul().add();
      w.get(acc[v]!).simd(F32X4_EXTRACT).code.push(0);
      w.get(acc[v]!).simd(F32X4_EXTRACT).code.push(1);
      w.code.push(F32_ADD);
      w.get(acc[v]!).simd(F32X4_EXTRACT).code.push(2);
      w.get(acc[v]!).simd(F32X4_EXTRACT).code.push(3);
      w.code.push(F32_ADD, F32_ADD);
      if (format === 'q4_K') { w.get(mins[v]!).simd(F32X4_EXTRACT).code.push(0); w.code.push(F32_SUB); }
      w.mem(F32_STORE, 2, 4 * v);
    }
  });
  return w;
}

/** Vectors one call of the dot takes at most (batch 8 decoding: two calls per staged row block). */
export const QUANT_DOT_VECTORS = 4;

const cache = new Map<string, Uint8Array | null>();

/**
 * The one-function module of `nParams` i32 parameters whose body `build(relaxed)` gives, cached
 * under `key`, over the shared arena memory (quant.ts reads packed weights where they lie): with
 * relaxed-SIMD FMA where the engine validates it, else without; null without wasm SIMD.
 */
export function cachedDotModule(key: string, nParams: number, build: (relaxed: boolean) => Asm): Uint8Array | null {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let found: Uint8Array | null = null;
  for (const relaxed of [true, false]) {
    const bytes = oneFunctionModule([nParams, ...new Array<number>(nParams).fill(I32), 0], build(relaxed).body(), 'f', true);
    if (valid(bytes)) { found = bytes; break; }
  }
  cache.set(key, found);
  return found;
}

/** The module exporting `f` = q for `format` and nv vectors, or null without wasm SIMD. */
export const quantDotModule = (format: QuantFormat, nv: number): Uint8Array | null =>
  cachedDotModule(`float/${format}/${nv}`, 9, (relaxed) => quantDot(format, relaxed, nv));
