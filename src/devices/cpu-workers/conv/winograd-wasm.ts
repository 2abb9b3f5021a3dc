// The WebAssembly module of one Winograd convolution (winograd.ts), generated for its geometry so
// every offset is a constant. Four images go through it side by side, one per v128 lane: the
// images are interleaved once, and from then on every load and store of the transforms is a
// whole vector, with no gathers. F(4x4, 3x3) (Lavin & Gray, 2016): a 6x6 input tile and a 3x3
// filter become 36 products per channel pair in place of 144 multiply-adds for 16 outputs.

import { microKernel } from '../matmul/kernels.js';
import { MR } from '../matmul/tuning.js';
import { Asm, linkModule, SIMD_CONST, SIMD_LOAD, SIMD_STORE } from '../matmul/wasm-asm.js';

/** Output tile side, filter side, input tile side. */
export const WM = 4, WR = 3, WA = WM + WR - 1;
/** Images per group: one per f32 lane. */
export const LANES = 4;

// Transform matrices: input Bᵀ (WA x WA), filter G (WA x WR), output Aᵀ (WM x WA).
const BT = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]];
const G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]];
const AT = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]];

/** Sizes the module is generated for (elements unless named bytes). */
export interface WinogradShape {
  C: number; O: number; H: number; W: number; Ho: number; Wo: number; ph: number; pw: number;
  /** Tiles per image down and across; padded interleaved image sides; GEMM columns per group, padded to the micro-kernel's 8. */
  tH: number; tW: number; Hp: number; Wp: number; T: number;
  /** O rounded up to the micro-kernel's strips. */
  Op: number;
}

export function winogradShape(C: number, O: number, g: { H: number; W: number; Ho: number; Wo: number; ph: number; pw: number }): WinogradShape {
  const tH = Math.ceil(g.Ho / WM), tW = Math.ceil(g.Wo / WM);
  return {
    C, O, H: g.H, W: g.W, Ho: g.Ho, Wo: g.Wo, ph: g.ph, pw: g.pw, tH, tW,
    Hp: Math.max(tH * WM + WR - 1, g.H + g.ph), Wp: Math.max(tW * WM + WR - 1, g.W + g.pw),
    T: Math.ceil((tH * tW * LANES) / 8) * 8, Op: Math.ceil(O / MR) * MR,
  };
}

const F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6, F32X4_NEG = 0xe1;
const F32_LOAD = 0x2a, F32_STORE = 0x38, I32_LT_S = 0x48;

function splat(w: Asm, c: number): void {
  w.simd(SIMD_CONST);
  const bytes = new Uint8Array(new Float32Array([c, c, c, c]).buffer);
  for (const x of bytes) w.code.push(x);
}

/**
 * Pushes Σ_k row[k]·term(k) as one v128 (`term` pushes the k-th vector); ±1 coefficients are
 * an add or a subtract. A row of zeros pushes zero.
 */
function combine(w: Asm, row: readonly number[], term: (k: number) => void): void {
  let first = true;
  row.forEach((c, k) => {
    if (c === 0) return;
    term(k);
    if (Math.abs(c) !== 1) { splat(w, first ? c : Math.abs(c)); w.simd(F32X4_MUL); }
    else if (first && c === -1) w.simd(F32X4_NEG);
    if (!first) w.simd(c < 0 ? F32X4_SUB : F32X4_ADD);
    first = false;
  });
  if (first) splat(w, 0);
}

/**
 * A separable 2-D transform Y = L X Rᵀ of one tile, a row of Y at a time: `load(k, j)` pushes
 * X[k][j] (k < L's columns, j < R's columns); `store(i, j)` is called with Y[i][j] in `out[j]`
 * (one local for all j, or one per j), and `rowDone(i)` after row i.
 */
function transform(w: Asm, L: readonly number[][], R: readonly number[][], load: (k: number, j: number) => void,
  store: (i: number, j: number) => void, rowLocals: number[], out: number | number[], rowDone?: (i: number) => void): void {
  const inner = R[0]!.length;
  L.forEach((lrow, i) => {
    for (let j = 0; j < inner; j++) {
      combine(w, lrow, (k) => load(k, j));
      w.set(rowLocals[j]!);
    }
    R.forEach((rrow, j) => {
      combine(w, rrow, (k) => w.get(rowLocals[k]!));
      w.set(typeof out === 'number' ? out : out[j]!);
      store(i, j);
    });
    rowDone?.(i);
  });
}

/** Transposes the 4x4 f32 matrix in locals r (row-major: r[i] lane j) into locals c. */
function transpose4(w: Asm, r: readonly number[], c: readonly number[], t: readonly number[]): void {
  w.get(r[0]!).get(r[1]!).shuffle([0, 4, 1, 5], 4).set(t[0]!);
  w.get(r[0]!).get(r[1]!).shuffle([2, 6, 3, 7], 4).set(t[1]!);
  w.get(r[2]!).get(r[3]!).shuffle([0, 4, 1, 5], 4).set(t[2]!);
  w.get(r[2]!).get(r[3]!).shuffle([2, 6, 3, 7], 4).set(t[3]!);
  w.get(t[0]!).get(t[2]!).shuffle([0, 1, 4, 5], 4).set(c[0]!);
  w.get(t[0]!).get(t[2]!).shuffle([2, 3, 6, 7], 4).set(c[1]!);
  w.get(t[1]!).get(t[3]!).shuffle([0, 1, 4, 5], 4).set(c[2]!);
  w.get(t[1]!).get(t[3]!).shuffle([2, 3, 6, 7], 4).set(c[3]!);
}

/** w(src, dst): filters [C][9][Op] (lane = output channel) → U, per ξ the micro-kernel's A strips (Op/MR strips of [C][MR]). */
function filterTransform(s: WinogradShape): Asm {
  const w = new Asm(2);
  const [src, dst] = [0, 1];
  const st = w.i32Local(), c = w.i32Local(), p = w.i32Local(), q = w.i32Local(), nS = w.i32Local(), nC = w.i32Local();
  const row = [w.v128Local(), w.v128Local(), w.v128Local()];
  const out = w.v128Local();
  const strips = s.Op / MR;
  w.i32(strips).set(nS).i32(s.C).set(nC);
  w.upto(st, nS, () => {
    w.upto(c, nC, () => {
      w.get(src).get(c).i32(WR * WR * s.Op * 4).mul().add().get(st).i32(MR * 4).mul().add().set(p);
      w.get(dst).get(st).i32(s.C).mul().get(c).add().i32(16).mul().add().set(q);
      transform(w, G, G, (k, j) => w.get(p).simdMem(SIMD_LOAD, 4, (k * WR + j) * s.Op * 4),
        (i, j) => w.get(q).get(out).simdMem(SIMD_STORE, 4, (i * WA + j) * strips * s.C * 16), row, out);
    });
  });
  return w;
}

/**
 * x(src, dst): images [LANES][C][H][W] → interleaved [C][Hp][Wp][LANES] at the padding's offset
 * (the rest stays as it was: zero). Four pixels of the four images at a time, transposed.
 */
function interleave(s: WinogradShape): Asm {
  const w = new Asm(2);
  const [src, dst] = [0, 1];
  const c = w.i32Local(), h = w.i32Local(), x = w.i32Local(), p = w.i32Local(), q = w.i32Local();
  const nC = w.i32Local(), nH = w.i32Local(), nV = w.i32Local();
  const r = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const t = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const o = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const image = s.C * s.H * s.W * 4, vectors = Math.floor(s.W / 4);
  w.i32(s.C).set(nC).i32(s.H).set(nH).i32(vectors).set(nV);
  w.upto(c, nC, () => {
    w.upto(h, nH, () => {
      // p: this row of image 0; q = dst + ((c·Hp + h + ph)·Wp + pw)·16
      w.get(src).get(c).i32(s.H).mul().get(h).add().i32(s.W * 4).mul().add().set(p);
      w.get(dst).get(c).i32(s.Hp).mul().get(h).add().i32(s.ph).add().i32(s.Wp * 16).mul().add().i32(s.pw * 16).add().set(q);
      w.upto(x, nV, () => {
        for (let l = 0; l < LANES; l++) w.get(p).simdMem(SIMD_LOAD, 2, l * image).set(r[l]!);
        transpose4(w, r, o, t);
        for (let j = 0; j < 4; j++) w.get(q).get(o[j]!).simdMem(SIMD_STORE, 4, j * 16);
        w.inc(p, 16).inc(q, 64);
      });
      for (let j = 0; j < s.W - vectors * 4; j++) {
        for (let l = 0; l < LANES; l++) w.get(q).get(p).mem(F32_LOAD, 2, l * image + j * 4).mem(F32_STORE, 2, j * 16 + l * 4);
      }
    });
  });
  return w;
}

/** i(src, dst): interleaved images → V, per ξ a [C][T] row-major matrix (column = tile·LANES + lane). */
function inputTransform(s: WinogradShape): Asm {
  const w = new Asm(2);
  const [src, dst] = [0, 1];
  const c = w.i32Local(), th = w.i32Local(), tw = w.i32Local(), p = w.i32Local(), q = w.i32Local();
  const nC = w.i32Local(), nH = w.i32Local(), nW = w.i32Local();
  const row = Array.from({ length: WA }, () => w.v128Local());
  const out = w.v128Local();
  w.i32(s.C).set(nC).i32(s.tH).set(nH).i32(s.tW).set(nW);
  w.upto(c, nC, () => {
    w.upto(th, nH, () => {
      w.upto(tw, nW, () => {
        w.get(src).get(c).i32(s.Hp).mul().get(th).i32(WM).mul().add().i32(s.Wp).mul().get(tw).i32(WM).mul().add().i32(16).mul().add().set(p);
        w.get(dst).get(c).i32(s.T).mul().get(th).i32(s.tW).mul().get(tw).add().i32(LANES).mul().add().i32(4).mul().add().set(q);
        transform(w, BT, BT, (k, j) => w.get(p).simdMem(SIMD_LOAD, 4, (k * s.Wp + j) * 16),
          (i, j) => w.get(q).get(out).simdMem(SIMD_STORE, 4, (i * WA + j) * s.C * s.T * 4), row, out);
      });
    });
  });
  return w;
}

/**
 * o(src, dst): products M (per ξ [Op][T]) → output block [O][LANES][Ho·Wo + 4] (row = output
 * channel), a tile's rows as whole vectors (its four lanes transposed to four pixels of each
 * image). Rows below Ho are skipped; a row's pixels past Wo spill into the next row, which the
 * tile owning it writes later (tiles go down, and right to left within a row of tiles), or
 * into the four slack elements after each image.
 */
function outputTransform(s: WinogradShape): Asm {
  const w = new Asm(2);
  const [src, dst] = [0, 1];
  const o = w.i32Local(), th = w.i32Local(), tw = w.i32Local(), p = w.i32Local(), q = w.i32Local();
  const hv = w.i32Local(), nO = w.i32Local(), nH = w.i32Local();
  const row = Array.from({ length: WA }, () => w.v128Local());
  const y = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const t = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const px = [w.v128Local(), w.v128Local(), w.v128Local(), w.v128Local()];
  const lane = outputLane(s), ldc = LANES * lane;
  w.i32(s.O).set(nO).i32(s.tH).set(nH);
  w.upto(o, nO, () => {
    w.upto(th, nH, () => {
      w.i32(s.Ho).get(th).i32(WM).mul().sub().set(hv);
      w.countdown(tw, () => w.i32(s.tW), () => {
        // tw counts down from tW: the tile is tw - 1.
        w.get(src).get(o).i32(s.T).mul().get(th).i32(s.tW).mul().get(tw).add().i32(1).sub().i32(LANES).mul().add().i32(4).mul().add().set(p);
        w.get(dst).get(o).i32(ldc).mul().get(th).i32(WM * s.Wo).mul().add().get(tw).i32(1).sub().i32(WM).mul().add().i32(4).mul().add().set(q);
        transform(w, AT, AT, (k, j) => w.get(p).simdMem(SIMD_LOAD, 4, (k * WA + j) * s.Op * s.T * 4), () => {}, row, y, (i) => {
          w.i32(i).get(hv).code.push(I32_LT_S);
          w.if();
          transpose4(w, y, px, t);
          for (let l = 0; l < LANES; l++) w.get(q).get(px[l]!).simdMem(SIMD_STORE, 2, (l * lane + i * s.Wo) * 4);
          w.end();
        });
      });
    });
  });
  return w;
}

/** Elements per image in the output block: its Ho·Wo pixels and the slack a tile's row may spill into. */
export const outputLane = (s: WinogradShape): number => s.Ho * s.Wo + WM;

/** The module: w, x, i, o above and the matmul micro-kernel g, on imported memory e.m. */
export function winogradModule(s: WinogradShape, relaxed: boolean): Uint8Array {
  return linkModule([
    ['w', filterTransform(s)], ['x', interleave(s)], ['i', inputTransform(s)], ['o', outputTransform(s)],
    ['g', microKernel(false, relaxed)],
  ]);
}
