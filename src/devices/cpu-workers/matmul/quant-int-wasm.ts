// WebAssembly SIMD integer dot products of packed q8_0 / q4_0 weight rows with activation
// vectors quantised to q8_0 blocks (ggml's vec_dot_q8_0_q8_0 / vec_dot_q4_0_q8_0): per 32-weight
// block the int8 products are summed exactly in int32, and only that sum is turned into float
// and scaled, so a weight costs a fraction of the float path's widening and multiplies
// (quant-wasm.ts, which q4_K keeps: its activations would be q8_K blocks).

import { QUANT_FORMATS, type QuantFormat } from '../../../kernel/quant.js';
import { Asm, SIMD_CONST, SIMD_LOAD, SIMD_LOAD32_SPLAT, SIMD_STORE } from './wasm-asm.js';
import { cachedDotModule } from './quant-wasm.js';

const I8X16_SPLAT = 0x0f, F32X4_EXTRACT = 0x1f, V128_AND = 0x4e, I8X16_SHR_U = 0x6d, I8X16_SUB = 0x71;
const I16X8_EXTEND_LOW_S = 0x87, I16X8_EXTEND_HIGH_S = 0x88, I32X4_ADD = 0xae, I32X4_DOT_S = 0xba;
const F32X4_ADD = 0xe4, F32X4_MUL = 0xe6, F32X4_CONVERT = 0xfa, F32X4_MADD = 0x105;
const F32_ADD = 0x92, F32_STORE = 0x38, F32X4_SPLAT = 0x13;
const I32_LOAD16_U = 0x2f, I32_AND = 0x71, I32_OR = 0x72, I32_SHL = 0x74, F32_CONST = 0x43, F32_MUL = 0x94;
const I32_REINTERPRET_F32 = 0xbc, F32_REINTERPRET_I32 = 0xbe;

/**
 * The f16 at byte p as an f32 on the stack (h: a scratch i32 local): its magnitude bits shifted
 * into an f32's place are the value times 2^-112, subnormals included, so one multiply by 2^112
 * rescales it exactly; then the sign. An infinite or NaN scale (exponent 31) would come out as
 * a finite 2^16 · (1 + m / 1024): quantisers never write one.
 */
function halfScale(w: Asm, p: number, h: number): void {
  w.get(p).mem(I32_LOAD16_U, 1, 0).set(h);
  w.get(h).i32(0x7fff).code.push(I32_AND);
  w.i32(13).code.push(I32_SHL, F32_REINTERPRET_I32, F32_CONST, 0x00, 0x00, 0x80, 0x77, F32_MUL, I32_REINTERPRET_F32);
  w.get(h).i32(0x8000).code.push(I32_AND);
  w.i32(16).code.push(I32_SHL, I32_OR, F32_REINTERPRET_I32);
}

/**
 * Bytes of one quantised activation block's quants: stored as i16, so that each product is one
 * i32x4.dot_i16x8_s (pmaddwd) against weights sign-extended once for every vector. (Multiplying
 * int8 by int8, i16x8.extmul_low/high_i8x16_s then i32x4.extadd_pairwise_i16x8_s, measured
 * slower: 8.2 against 10.0 GB/s of q8_0 blocks for one vector, bench/quant-dot.ts.)
 */
export const ACT_BLOCK_BYTES = 64;

/**
 * q(wp, xp, xsp, op, nr, nb, rs), for nv activation vectors of nb q8_0 blocks stored block by
 * block, the nv vectors' block b side by side (quants at xp + (b·nv + v)·64 as i16, scales f32 at
 * xsp + 4·(b·nv + v)): for r < nr, f32 at op + 4·(r·nv + v) = Σ over blocks of
 * d_w · d_x · Σ q_w q_x, for W's row r (nb blocks from wp + r·rs, as the file holds them; nb
 * may be a part of the row, so that a caller can take a long row in pieces). Each weight block is loaded and widened once for all nv vectors, and its f16 scale
 * turned into f32 here (halfScale) rather than by the caller, whose JS loop over the blocks took
 * as long as the dot. For nv > 1 the vectors' int32 block sums are reduced into one i32x4 (lane v:
 * vector v), so one convert, one scale multiply and one accumulator serve them all (one
 * accumulator per vector spilled registers: 4 vectors took 4.9 times one); the rows' results are
 * stored as whole v128s, each over the unused lanes of the last (16 bytes past the end too).
 */
function intDot(format: 'q8_0' | 'q4_0', relaxed: boolean, nv: number): Asm {
  const { blockBytes } = QUANT_FORMATS[format];
  const w = new Asm(7);
  const [wp, xp, xsp, op, nr, nb, rs] = [0, 1, 2, 3, 4, 5, 6];
  const r = w.i32Local(), b = w.i32Local(), p = w.i32Local(), h = w.i32Local(), x = w.i32Local(), xs = w.i32Local();
  // One accumulator per four vectors (lane v % 4: vector v).
  const accs = Array.from({ length: Math.ceil(nv / 4) }, () => w.v128Local());
  const raw = w.v128Local(), sw = w.v128Local();
  const lanes = [w.v128Local(), w.v128Local()];
  const wide = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const sums = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const zero = (): void => {
    w.simd(SIMD_CONST);
    for (let z = 0; z < 16; z++) w.code.push(0);
  };
  // Σ q_w q_x of one block against vector v, as i32x4 on the stack.
  const blockSum = (v: number): void => {
    for (let g = 0; g < 4; g++) {
      w.get(wide[g]!).get(x).simdMem(SIMD_LOAD, 0, v * ACT_BLOCK_BYTES + 16 * g).simd(I32X4_DOT_S);
      if (g & 1) w.simd(I32X4_ADD);
    }
    w.simd(I32X4_ADD);
  };
  // [a0 + a2, b0 + b2, a1 + a3, b1 + b3] of the i32x4s in locals a and b (absent: zero).
  const fold = (a: number, bl: number | null): void => {
    const pair = (lanesOf: number[]): void => {
      w.get(a);
      if (bl === null) zero(); else w.get(bl);
      w.shuffle(lanesOf, 4);
    };
    pair([0, 4, 1, 5]); pair([2, 6, 3, 7]); w.simd(I32X4_ADD);
  };
  w.upto(r, nr, () => {
    w.get(wp).get(r).get(rs).mul().add().set(p);
    for (const acc of accs) { zero(); w.set(acc); }
    w.get(xp).set(x).get(xsp).set(xs);
    w.upto(b, nb, () => {
      if (format === 'q8_0') {
        w.get(p).simdMem(SIMD_LOAD, 0, 2).set(lanes[0]!);
        w.get(p).simdMem(SIMD_LOAD, 0, 18).set(lanes[1]!);
      } else {
        // Low nibbles are weights 0..15, high nibbles 16..31, each biased by 8.
        w.get(p).simdMem(SIMD_LOAD, 0, 2).set(raw);
        w.get(raw).i32(15).simd(I8X16_SPLAT).simd(V128_AND).i32(8).simd(I8X16_SPLAT).simd(I8X16_SUB).set(lanes[0]!);
        w.get(raw).i32(4).simd(I8X16_SHR_U).i32(8).simd(I8X16_SPLAT).simd(I8X16_SUB).set(lanes[1]!);
      }
      for (let g = 0; g < 4; g++) w.get(lanes[g >> 1]!).simd(g & 1 ? I16X8_EXTEND_HIGH_S : I16X8_EXTEND_LOW_S).set(wide[g]!);
      halfScale(w, p, h);
      w.simd(F32X4_SPLAT).set(sw);
      accs.forEach((acc, g) => {
        const c = Math.min(4, nv - 4 * g);
        if (nv === 1) {
          // lanes: partial sums of the one vector, added at the end
          blockSum(0);
          w.simd(F32X4_CONVERT);
          w.get(sw).get(xs).simdMem(SIMD_LOAD32_SPLAT, 2, 0).simd(F32X4_MUL);
        } else {
          for (let v = 0; v < c; v++) { blockSum(4 * g + v); w.set(sums[v]!); }
          fold(sums[0]!, c > 1 ? sums[1]! : null); w.set(sums[0]!);
          if (c > 2) fold(sums[2]!, c > 3 ? sums[3]! : null); else zero();
          w.set(sums[2]!);
          // [S0, S1, S2, S3] = the two folds' low halves plus their high halves
          w.get(sums[0]!).get(sums[2]!).shuffle([0, 1, 4, 5], 4);
          w.get(sums[0]!).get(sums[2]!).shuffle([2, 3, 6, 7], 4);
          w.simd(I32X4_ADD).simd(F32X4_CONVERT);
          // lane v's scale d_w · d_x(v); lanes past nv read the next block's and are never stored
          w.get(sw).get(xs).simdMem(SIMD_LOAD, 0, 16 * g).simd(F32X4_MUL);
        }
        if (relaxed) w.get(acc).simd(F32X4_MADD);
        else w.simd(F32X4_MUL).get(acc).simd(F32X4_ADD);
        w.set(acc);
      });
      w.inc(x, nv * ACT_BLOCK_BYTES).inc(xs, nv * 4).inc(p, blockBytes);
    });
    w.get(op).get(r).i32(4 * nv).mul().add();
    const acc = accs[0]!;
    if (nv === 1) {
      w.get(acc).simd(F32X4_EXTRACT).code.push(0);
      w.get(acc).simd(F32X4_EXTRACT).code.push(1);
      w.code.push(F32_ADD);
      w.get(acc).simd(F32X4_EXTRACT).code.push(2);
      w.get(acc).simd(F32X4_EXTRACT).code.push(3);
      w.code.push(F32_ADD, F32_ADD);
      w.mem(F32_STORE, 2, 0);
    } else {
      // in order: each store's lanes past nv are the next one's (or the next row's) to write
      w.set(h);
      accs.forEach((a, g) => w.get(h).get(a).simdMem(SIMD_STORE, 0, 16 * g));
    }
  });
  return w;
}

/** Vectors one call of the integer dot takes at most (batch 8 decoding: one call per staged row block). */
export const INT_DOT_VECTORS = 8;

/** The formats the integer dot reads (q4_K keeps the float dot: its activations would be q8_K). */
export const intDotFormat = (format: QuantFormat): format is 'q8_0' | 'q4_0' => format === 'q8_0' || format === 'q4_0';

/** The module exporting `f` = q for `format` and nv vectors, or null without wasm SIMD. */
export const intDotModule = (format: 'q8_0' | 'q4_0', nv: number): Uint8Array | null =>
  cachedDotModule(`int/${format}/${nv}`, 7, (relaxed) => intDot(format, relaxed, nv));
