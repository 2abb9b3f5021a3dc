// WebAssembly SIMD micro-kernels and packing routines, one Asm function each;
// wasm-module.ts links them into one module per dtype and FMA flavour.

import { MR } from './tuning.js';
import { Asm, SIMD_CONST, SIMD_LOAD, SIMD_LOAD32_SPLAT, SIMD_LOAD64_SPLAT, SIMD_STORE } from './wasm-asm.js';

/**
 * g(ap, bp, bk, bs, cp, ldc, mt, nt, kc, accum): for j < nt, i < mt, the C tile
 * (MR x NR at cp + i*MR*ldc + j*NR*S, rows ldc bytes apart) = (accum ? C : 0)
 * + (A strip i: MR-high k-major at ap + i*kc*MR*S) x (B strip j: at bp + j*bs,
 * NR contiguous elements per k, k rows bk bytes apart). All pointers in bytes.
 */
export function microKernel(f64: boolean, relaxed: boolean): Asm {
  const S = f64 ? 8 : 4;
  const V = 2; // v128 vectors per tile row
  const NR = (16 / S) * V;
  const fadd = f64 ? 0xf0 : 0xe4, fmul = f64 ? 0xf2 : 0xe6, fmadd = f64 ? 0x107 : 0x105;
  const w = new Asm(10);
  const [ap, bp, bk, bs, cp, ldc, mt, nt, kc, accum] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const j = w.i32Local(), i = w.i32Local(), k = w.i32Local(), pa = w.i32Local(), pb = w.i32Local();
  const pr = w.i32Local(), t = w.i32Local();
  const c: number[][] = [];
  for (let r = 0; r < MR; r++) c.push([w.v128Local(), w.v128Local()]);
  const bv = [w.v128Local(), w.v128Local()];
  const av = w.v128Local();
  const rowPtr = (r: number) => { // t = pr + r*ldc
    w.get(pr);
    if (r > 0) { w.get(ldc); if (r > 1) w.i32(r).mul(); w.add(); }
    w.set(t);
  };
  w.upto(j, nt, () => {
    w.upto(i, mt, () => {
      w.get(ap).get(i).get(kc).mul().i32(MR * S).mul().add().set(pa);
      w.get(bp).get(j).get(bs).mul().add().set(pb);
      w.get(cp).get(i).i32(MR).mul().get(ldc).mul().add().get(j).i32(NR * S).mul().add().set(pr);
      w.get(accum).if();
      for (let r = 0; r < MR; r++) {
        rowPtr(r);
        for (let v = 0; v < V; v++) w.get(t).simdMem(SIMD_LOAD, 4, v * 16).set(c[r]![v]!);
      }
      w.else();
      for (let r = 0; r < MR; r++) {
        for (let v = 0; v < V; v++) {
          w.simd(SIMD_CONST);
          for (let z = 0; z < 16; z++) w.code.push(0);
          w.set(c[r]![v]!);
        }
      }
      w.end();
      w.countdown(k, () => w.get(kc), () => {
        for (let v = 0; v < V; v++) w.get(pb).simdMem(SIMD_LOAD, 4, v * 16).set(bv[v]!);
        for (let r = 0; r < MR; r++) {
          w.get(pa).simdMem(f64 ? SIMD_LOAD64_SPLAT : SIMD_LOAD32_SPLAT, f64 ? 3 : 2, r * S).set(av);
          for (let v = 0; v < V; v++) {
            if (relaxed) w.get(av).get(bv[v]!).get(c[r]![v]!).simd(fmadd);
            else w.get(c[r]![v]!).get(av).get(bv[v]!).simd(fmul).simd(fadd);
            w.set(c[r]![v]!);
          }
        }
        w.inc(pa, MR * S).inc(pb, () => w.get(bk));
      });
      for (let r = 0; r < MR; r++) {
        rowPtr(r);
        for (let v = 0; v < V; v++) w.get(t).get(c[r]![v]!).simdMem(SIMD_STORE, 4, v * 16);
      }
    });
  });
  return w;
}

/** Columns per strip of the one-row kernel: four v128. */
export const G1_VECTORS = 4;

/**
 * One-row kernel g1(ap, bp, ldb, cp, nt, kc, accum): C[0, j] = (accum ? C : 0)
 * + sum_k A[k] * B[k, j] for the nt strips of G1_VECTORS v128 of columns;
 * A contiguous at ap, B row k at bp + k*ldb, C contiguous at cp (bytes).
 */
export function rowKernel(f64: boolean, relaxed: boolean): Asm {
  const S = f64 ? 8 : 4;
  const fadd = f64 ? 0xf0 : 0xe4, fmul = f64 ? 0xf2 : 0xe6, fmadd = f64 ? 0x107 : 0x105;
  const w = new Asm(7);
  const [ap, bp, ldb, cp, nt, kc, accum] = [0, 1, 2, 3, 4, 5, 6];
  const j = w.i32Local(), k = w.i32Local(), pa = w.i32Local(), pb = w.i32Local(), pc = w.i32Local();
  const c: number[] = [];
  for (let v = 0; v < G1_VECTORS; v++) c.push(w.v128Local());
  const av = w.v128Local();
  w.upto(j, nt, () => {
    w.get(ap).set(pa);
    w.get(bp).get(j).i32(G1_VECTORS * 16).mul().add().set(pb);
    w.get(cp).get(j).i32(G1_VECTORS * 16).mul().add().set(pc);
    w.get(accum).if();
    for (let v = 0; v < G1_VECTORS; v++) w.get(pc).simdMem(SIMD_LOAD, 0, v * 16).set(c[v]!);
    w.else();
    for (let v = 0; v < G1_VECTORS; v++) {
      w.simd(SIMD_CONST);
      for (let z = 0; z < 16; z++) w.code.push(0);
      w.set(c[v]!);
    }
    w.end();
    w.countdown(k, () => w.get(kc), () => {
      w.get(pa).simdMem(f64 ? SIMD_LOAD64_SPLAT : SIMD_LOAD32_SPLAT, 0, 0).set(av);
      for (let v = 0; v < G1_VECTORS; v++) {
        if (relaxed) w.get(av).get(pb).simdMem(SIMD_LOAD, 0, v * 16).get(c[v]!).simd(fmadd);
        else w.get(c[v]!).get(av).get(pb).simdMem(SIMD_LOAD, 0, v * 16).simd(fmul).simd(fadd);
        w.set(c[v]!);
      }
      w.inc(pa, S).inc(pb, () => w.get(ldb));
    });
    for (let v = 0; v < G1_VECTORS; v++) w.get(pc).get(c[v]!).simdMem(SIMD_STORE, 0, v * 16);
  });
  return w;
}

/**
 * Dot-product kernel d(ap, lda, bp, ldb, cp, ldc, m, ng, kv, accum), for B
 * stored transposed: C[i, j] = (accum ? C : 0) + sum_k A[i, k] * Bt[j, k] for
 * i < m and ng groups of L = 16/S columns; rows of A at ap + i*lda, rows of Bt
 * at bp + j*ldb, each kv v128 long (zero-padded), C rows ldc bytes apart.
 */
export function dotKernel(f64: boolean, relaxed: boolean): Asm {
  const S = f64 ? 8 : 4;
  const L = 16 / S;
  const fadd = f64 ? 0xf0 : 0xe4, fmul = f64 ? 0xf2 : 0xe6, fmadd = f64 ? 0x107 : 0x105;
  const w = new Asm(10);
  const [ap, lda, bp, ldb, cp, ldc, m, ng, kv, accum] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const jg = w.i32Local(), i = w.i32Local(), q = w.i32Local(), pa = w.i32Local(), t = w.i32Local();
  const pb: number[] = [];
  for (let l = 0; l < L; l++) pb.push(w.i32Local());
  const c: number[] = [];
  for (let l = 0; l < L; l++) c.push(w.v128Local());
  const av = w.v128Local(), t0 = w.v128Local(), t1 = w.v128Local();
  w.upto(jg, ng, () => {
    w.upto(i, m, () => {
      w.get(ap).get(i).get(lda).mul().add().set(pa);
      for (let l = 0; l < L; l++) {
        w.get(bp).get(jg).i32(L).mul();
        if (l > 0) w.i32(l).add();
        w.get(ldb).mul().add().set(pb[l]!);
      }
      for (let l = 0; l < L; l++) {
        w.simd(SIMD_CONST);
        for (let z = 0; z < 16; z++) w.code.push(0);
        w.set(c[l]!);
      }
      w.countdown(q, () => w.get(kv), () => {
        w.get(pa).simdMem(SIMD_LOAD, 0, 0).set(av);
        for (let l = 0; l < L; l++) {
          if (relaxed) w.get(av).get(pb[l]!).simdMem(SIMD_LOAD, 0, 0).get(c[l]!).simd(fmadd);
          else w.get(c[l]!).get(av).get(pb[l]!).simdMem(SIMD_LOAD, 0, 0).simd(fmul).simd(fadd);
          w.set(c[l]!);
          w.inc(pb[l]!, 16);
        }
        w.inc(pa, 16);
      });
      // Horizontal sums: one v128 holding the L dot products.
      if (f64) {
        w.get(c[0]!).get(c[1]!).shuffle([0, 2], 8).get(c[0]!).get(c[1]!).shuffle([1, 3], 8).simd(fadd).set(t0);
      } else {
        w.get(c[0]!).get(c[1]!).shuffle([0, 4, 1, 5], 4).get(c[0]!).get(c[1]!).shuffle([2, 6, 3, 7], 4).simd(fadd).set(t0);
        w.get(c[2]!).get(c[3]!).shuffle([0, 4, 1, 5], 4).get(c[2]!).get(c[3]!).shuffle([2, 6, 3, 7], 4).simd(fadd).set(t1);
        w.get(t0).get(t1).shuffle([0, 1, 4, 5], 4).get(t0).get(t1).shuffle([2, 3, 6, 7], 4).simd(fadd).set(t0);
      }
      w.get(cp).get(i).get(ldc).mul().add().get(jg).i32(16).mul().add().set(t);
      w.get(accum).if().get(t0).get(t).simdMem(SIMD_LOAD, 0, 0).simd(fadd).set(t0).end();
      w.get(t).get(t0).simdMem(SIMD_STORE, 0, 0);
    });
  });
  return w;
}

/**
 * Panel copy p1(src, lds, dst, kc, ns): strip s, row k = the W elements at
 * src + k*lds + s*W*S, written to dst consecutively (strip-major, k-major).
 */
export function packCopy(W: number, S: number): Asm {
  const w = new Asm(5);
  const [src, lds, dst, kc, ns] = [0, 1, 2, 3, 4];
  const s = w.i32Local(), q = w.i32Local(), k = w.i32Local();
  const chunks = (W * S) / 16;
  w.upto(s, ns, () => {
    w.get(src).get(s).i32(W * S).mul().add().set(q);
    w.countdown(k, () => w.get(kc), () => {
      for (let x = 0; x < chunks; x++) w.get(dst).get(q).simdMem(SIMD_LOAD, 0, x * 16).simdMem(SIMD_STORE, 0, x * 16);
      w.inc(q, () => w.get(lds)).inc(dst, W * S);
    });
  });
  return w;
}

/**
 * Panel transpose p2(src, lds, dst, kc, ns): strip s, row k = element k of
 * source rows s*W .. s*W+W-1 (rows lds bytes apart), written consecutively.
 */
export function packTranspose(W: number, S: number): Asm {
  const w = new Asm(5);
  const [src, lds, dst, kc, ns] = [0, 1, 2, 3, 4];
  const s = w.i32Local(), k = w.i32Local(), kk = w.i32Local();
  const rows: number[] = [];
  for (let x = 0; x < W; x++) rows.push(w.i32Local());
  const load = S === 8 ? 0x29 : 0x28, store = S === 8 ? 0x37 : 0x36, align = S === 8 ? 3 : 2;
  w.upto(s, ns, () => {
    for (let x = 0; x < W; x++) {
      w.get(src).get(s).i32(W).mul();
      if (x > 0) w.i32(x).add();
      w.get(lds).mul().add().set(rows[x]!);
    }
    w.i32(0).set(kk);
    w.countdown(k, () => w.get(kc), () => {
      for (let x = 0; x < W; x++) w.get(dst).get(rows[x]!).get(kk).add().mem(load, align, 0).mem(store, align, x * S);
      w.inc(kk, S).inc(dst, W * S);
    });
  });
  return w;
}
