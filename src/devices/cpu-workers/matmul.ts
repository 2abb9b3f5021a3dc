/**
 * Matmul kernel of the CPU device, generated as JS source.
 *
 * `matmulSource(spec)` returns a JS expression that evaluates to a function
 * `(b, start, end) => void` computing the work units [start, end) of
 * C[bt, m, n] = epilogue(sum_k A[bt, m, k] * B[bt, k, n]), where C = b[0] is
 * contiguous [batch, M, N] and A = b[1], B = b[2] are read through arbitrary
 * element strides (transposed operands, broadcast batches with stride 0).
 *
 * Design (Goto/BLIS loop order, WebAssembly SIMD micro-kernel):
 * - A work unit is a block of RB rows of one batch item and one column block.
 *   Consecutive units of one range that share a batch item (and column block)
 *   merge into one "run", so that a thread packs B once per run, not per unit.
 * - A run copies KC x NC blocks of B and MC x KC blocks of A into one wasm
 *   memory per thread: whole contiguous stretches with `TypedArray.set`
 *   (memcpy), then a wasm function rearranges them into k-major panels NR
 *   columns wide (B) and strips MR rows high (A). A transposed operand is
 *   transposed by that rearrangement, so it costs the same as a plain one.
 *   Operands with no unit stride are packed element by element in JS.
 * - The micro-kernel is WebAssembly SIMD: an MR x NR tile (4 x 8 for float32,
 *   4 x 4 for float64) held in eight v128 accumulators, with relaxed-SIMD
 *   fused multiply-add where the engine validates it (Node 20 needs
 *   --experimental-wasm-relaxed-simd) and mul + add otherwise. Float32
 *   accumulates in float32, as BLAS does. It accumulates into a scratch C block
 *   that is copied out through the epilogue (memcpy when there is none).
 * - With few rows (M <= SMALL_M: batch-1 inference) B is not packed, since
 *   each element is used once or twice: one row against B rows runs a one-row
 *   kernel (axpy over 16 columns), B stored transposed runs SIMD dot products,
 *   other few-row cases run the micro-kernel straight from B's copy.
 * - The module's bytes are embedded (base64) in the source; the instance and
 *   its memory are created once per thread (cached on globalThis under a
 *   versioned key, shared by all matmul kernels of that thread, grown on
 *   demand, never shrunk). A call runs to completion synchronously, so
 *   sharing is safe; ranges in other threads have their own instance.
 * - Without WebAssembly the same loops drive a JS 4x8 register-tiled
 *   micro-kernel over a Float64Array scratch (~4 GFLOP/s instead of 30-40).
 * - K = 0 and tiny problems (<= DIRECT_MAX_MACS per batch item) run a direct
 *   JS loop.
 *
 * Single thread on a 2-vCPU Xeon (Sapphire Rapids), Node 20, float32:
 * 256/512/1024 square ~38-40 GFLOP/s with FMA (~30 with mul + add), 4x8 JS
 * tile ~4; two threads on disjoint ranges ~75 GFLOP/s at 1024.
 */

export interface MatmulOperand {
  offset: number;
  sBatch: number;
  sRow: number;
  sCol: number;
}

export interface MatmulSpec {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** A[bt, m, k] = b[1][a.offset + bt*a.sBatch + m*a.sRow + k*a.sCol] */
  a: MatmulOperand;
  /** B[bt, k, n] = b[2][b.offset + bt*b.sBatch + k*b.sRow + n*b.sCol] */
  b: MatmulOperand;
  /**
   * `expr` is a JS expression in `acc` (the dot product), `o` (flat output
   * index) and `b` (the buffer array); `prelude` holds statements run once at
   * the start of each call. Default expr: 'acc'.
   */
  epilogue?: { prelude?: string; expr: string };
  dtype?: 'float32' | 'float64';
}

/** Which kernel a generated source uses ('auto' chooses; tests force each one). */
export type MatmulBackend = 'auto' | 'wasm' | 'js' | 'direct';

export interface MatmulSourceOptions {
  backend?: MatmulBackend;
  /** Use relaxed-SIMD fused multiply-add where the engine validates it (default true). */
  fma?: boolean;
}

// ---------------------------------------------------------------------------
// Work decomposition (independent of the backend)

/** Rows of one batch item per work unit. */
const RB = 32;
/** Aim for at least this many units so that a pool can balance them. */
const MIN_UNITS = 8;
/** Column blocks are at least this wide when columns are split. */
const MIN_CB = 64;

interface Units {
  nRB: number;
  CB: number;
  nCB: number;
  total: number;
}

/**
 * Unit u = (bt * nCB + cb) * nRB + rb. Columns are split only when there are
 * too few row blocks to go round.
 */
function units(spec: MatmulSpec): Units {
  const { batch, M, N } = spec;
  if (batch === 0 || M === 0 || N === 0) return { nRB: 0, CB: 0, nCB: 0, total: 0 };
  const nRB = Math.ceil(M / RB);
  const rowUnits = batch * nRB;
  let nCB = 1;
  if (rowUnits < MIN_UNITS) nCB = Math.max(1, Math.min(Math.ceil(MIN_UNITS / rowUnits), Math.floor(N / MIN_CB)));
  let CB = N;
  if (nCB > 1) {
    CB = Math.ceil(Math.ceil(N / nCB) / 8) * 8;
    nCB = Math.ceil(N / CB);
  }
  return { nRB, CB, nCB, total: batch * nCB * nRB };
}

/** `total` for the range split of `matmulSource(spec)`'s kernel. */
export function matmulWorkUnits(spec: MatmulSpec): number {
  validate(spec);
  return units(spec).total;
}

function validate(spec: MatmulSpec): void {
  const ints: [string, number][] = [
    ['batch', spec.batch], ['M', spec.M], ['N', spec.N], ['K', spec.K],
    ['a.offset', spec.a.offset], ['a.sBatch', spec.a.sBatch], ['a.sRow', spec.a.sRow], ['a.sCol', spec.a.sCol],
    ['b.offset', spec.b.offset], ['b.sBatch', spec.b.sBatch], ['b.sRow', spec.b.sRow], ['b.sCol', spec.b.sCol],
  ];
  for (const [what, v] of ints) {
    if (!Number.isSafeInteger(v)) throw new Error(`matmul: ${what} must be an integer, got ${String(v)}`);
  }
  for (const [what, v] of ints.slice(0, 4)) {
    if (v < 0) throw new Error(`matmul: ${what} must be >= 0, got ${v}`);
  }
  if (spec.dtype !== undefined && spec.dtype !== 'float32' && spec.dtype !== 'float64') {
    throw new Error(`matmul: dtype must be 'float32' or 'float64', got ${String(spec.dtype)}`);
  }
  if (spec.batch * spec.M * spec.N > MAX_INT32) {
    throw new Error(`matmul: output of ${spec.batch}x${spec.M}x${spec.N} elements is too large`);
  }
}

// ---------------------------------------------------------------------------
// Tuning (measured on a 2-vCPU Xeon (Sapphire Rapids, 2.3 GHz), Node 20).
// 4 x 8 tiles beat 3, 5 and 6 rows (5 and 6 spill: V8 gives wasm 15 xmm
// registers) and beat unrolling k by two; KC 128..384 and MC 32..128 measured
// flat. Invariants: MC and RS are multiples of MR (a block's padded rows must
// not spill into the next block's rows of the C scratch).

/** Micro-tile height. */
const MR = 4;
/** K block: a KC x NR panel of B stays in L1 while MR-row strips of A stream past it. */
const KC = 256;
/** Row block of packed A (MC x KC), kept in L2. */
const MC = 64;
/** Column block of packed B (KC x NC). */
const NC = 2048;
/** Row super-block: rows accumulated in the scratch C block before copy-out. */
const RS = 512;
/** Up to this many rows per batch item, B is used without packing. */
const SMALL_M = 8;
/** K block when B is not packed (no reuse to keep in cache; fewer, longer copies). */
const KC_SMALL = 2048;
/** Problems with at most this many multiply-adds per batch item run the direct JS loop. */
const DIRECT_MAX_MACS = 128;
/** Rows shorter than this are copied by a JS loop rather than `set` (~80 ns per call). */
const SET_MIN = 32;

const MAX_INT32 = 2 ** 31 - 1;

// ---------------------------------------------------------------------------
// WebAssembly module

function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function wasmName(s: string, out: number[]): void {
  uleb(s.length, out);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

const I32 = 0x7f;
const V128 = 0x7b;

/** A function body under construction: locals are numbered params first. */
class Asm {
  readonly code: number[] = [];
  private nextLocal: number;
  private readonly i32Locals: number[] = [];
  private readonly v128Locals: number[] = [];
  constructor(readonly nParams: number) {
    this.nextLocal = nParams;
  }
  i32Local(): number {
    const l = this.nextLocal++;
    this.i32Locals.push(l);
    return l;
  }
  v128Local(): number {
    const l = this.nextLocal++;
    this.v128Locals.push(l);
    return l;
  }
  get(l: number): this { this.code.push(0x20); uleb(l, this.code); return this; }
  set(l: number): this { this.code.push(0x21); uleb(l, this.code); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(v, this.code); return this; }
  add(): this { this.code.push(0x6a); return this; }
  sub(): this { this.code.push(0x6b); return this; }
  mul(): this { this.code.push(0x6c); return this; }
  geu(): this { this.code.push(0x4f); return this; }
  eqz(): this { this.code.push(0x45); return this; }
  block(): this { this.code.push(0x02, 0x40); return this; }
  loop(): this { this.code.push(0x03, 0x40); return this; }
  if(): this { this.code.push(0x04, 0x40); return this; }
  else(): this { this.code.push(0x05); return this; }
  end(): this { this.code.push(0x0b); return this; }
  br(d: number): this { this.code.push(0x0c); uleb(d, this.code); return this; }
  brIf(d: number): this { this.code.push(0x0d); uleb(d, this.code); return this; }
  /** Scalar memory op (0x28 i32.load ... 0x37 i64.store) with memarg. */
  mem(op: number, align: number, offset: number): this {
    this.code.push(op);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }
  simd(op: number): this { this.code.push(0xfd); uleb(op, this.code); return this; }
  /** i8x16.shuffle of the two v128 on the stack, lanes given as `laneBytes`-byte lanes. */
  shuffle(lanes: number[], laneBytes: number): this {
    this.simd(0x0d);
    for (const l of lanes) for (let x = 0; x < laneBytes; x++) this.code.push(l * laneBytes + x);
    return this;
  }
  simdMem(op: number, align: number, offset: number): this {
    this.simd(op);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }
  /** local += c */
  inc(l: number, c: number | (() => void)): this {
    this.get(l);
    if (typeof c === 'number') this.i32(c);
    else c();
    return this.add().set(l);
  }
  /** `for (l = n; l != 0; l--) body()` */
  countdown(l: number, n: () => void, body: () => void): this {
    n();
    this.set(l).block().loop();
    this.get(l).eqz().brIf(1);
    body();
    this.get(l).i32(1).sub().set(l).br(0).end().end();
    return this;
  }
  /** `for (l = 0; l < n; l++) body()` */
  upto(l: number, n: number, body: () => void): this {
    this.i32(0).set(l).block().loop();
    this.get(l).get(n).geu().brIf(1);
    body();
    this.inc(l, 1).br(0).end().end();
    return this;
  }
  body(): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    if (this.i32Locals.length) groups.push([this.i32Locals.length, I32]);
    if (this.v128Locals.length) groups.push([this.v128Locals.length, V128]);
    // Locals are declared in groups by type, so i32 locals must precede v128 ones.
    const order = [...this.i32Locals, ...this.v128Locals];
    for (let x = 0; x < order.length; x++) {
      if (order[x] !== this.nParams + x) throw new Error('matmul: wasm locals declared out of order');
    }
    uleb(groups.length, out);
    for (const [n, t] of groups) { uleb(n, out); out.push(t); }
    out.push(...this.code, 0x0b);
    return out;
  }
}

const SIMD_LOAD = 0x00, SIMD_LOAD32_SPLAT = 0x09, SIMD_LOAD64_SPLAT = 0x0a, SIMD_STORE = 0x0b, SIMD_CONST = 0x0c;

/**
 * g(ap, bp, bk, bs, cp, ldc, mt, nt, kc, accum): for j < nt, i < mt, the C tile
 * (MR x NR at cp + i*MR*ldc + j*NR*S, rows ldc bytes apart) = (accum ? C : 0)
 * + (A strip i: MR-high k-major at ap + i*kc*MR*S) x (B strip j: at bp + j*bs,
 * NR contiguous elements per k, k rows bk bytes apart). All pointers in bytes.
 */
function microKernel(f64: boolean, relaxed: boolean): Asm {
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
const G1_VECTORS = 4;

/**
 * One-row kernel g1(ap, bp, ldb, cp, nt, kc, accum): C[0, j] = (accum ? C : 0)
 * + sum_k A[k] * B[k, j] for the nt strips of G1_VECTORS v128 of columns;
 * A contiguous at ap, B row k at bp + k*ldb, C contiguous at cp (bytes).
 */
function rowKernel(f64: boolean, relaxed: boolean): Asm {
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
function dotKernel(f64: boolean, relaxed: boolean): Asm {
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
function packCopy(W: number, S: number): Asm {
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
function packTranspose(W: number, S: number): Asm {
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

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

/** Exports g (micro-kernel), g1 (one row), d (dot products), pa1/pa2 (A strips, W = MR), pb1/pb2 (B panels, W = NR); imports memory e.m. */
function matmulModule(f64: boolean, relaxed: boolean): Uint8Array {
  const S = f64 ? 8 : 4;
  const NR = 32 / S;
  const fns: [string, Asm][] = [
    ['g', microKernel(f64, relaxed)],
    ['g1', rowKernel(f64, relaxed)],
    ['d', dotKernel(f64, relaxed)],
    ['pa1', packCopy(MR, S)],
    ['pa2', packTranspose(MR, S)],
    ['pb1', packCopy(NR, S)],
    ['pb2', packTranspose(NR, S)],
  ];
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const [, f] of fns) {
    types.push(0x60);
    uleb(f.nParams, types);
    for (let p = 0; p < f.nParams; p++) types.push(I32);
    types.push(0);
  }
  section(1, types, out);
  const imports: number[] = [1];
  wasmName('e', imports);
  wasmName('m', imports);
  imports.push(0x02, 0x00, 0x01); // memory, min 1 page, no max
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, x) => uleb(x, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(fns.length, exports);
  fns.forEach(([n], x) => { wasmName(n, exports); exports.push(0x00); uleb(x, exports); });
  section(7, exports, out);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const [, f] of fns) {
    const body = f.body();
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return new Uint8Array(out);
}

interface WasmFlavour { bytes: Uint8Array; key: string; NR: number }
const wasmCache = new Map<string, WasmFlavour | null>();

/** The module for a dtype (with FMA where allowed and the engine has relaxed SIMD), or null without wasm SIMD. */
function wasmFlavour(f64: boolean, fma: boolean): WasmFlavour | null {
  const id = f64 ? 'f64' : 'f32';
  const hit = wasmCache.get(id + fma);
  if (hit !== undefined) return hit;
  let found: WasmFlavour | null = null;
  // Typed structurally: the project's libs (ES2022, no DOM) do not declare WebAssembly's values.
  const wasm = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  if (wasm !== undefined) {
    for (const relaxed of fma ? [true, false] : [false]) {
      const bytes = matmulModule(f64, relaxed);
      let ok = false;
      try {
        ok = wasm.validate(bytes);
      } catch {
        ok = false;
      }
      if (ok) {
        found = { bytes, key: `__bornMatmul_${id}_${relaxed ? 'fma' : 'mul'}_v3`, NR: f64 ? 4 : 8 };
        break;
      }
    }
  }
  wasmCache.set(id + fma, found);
  return found;
}

// ---------------------------------------------------------------------------
// Source generation

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** `base + c1*v1 + ...` with zero terms dropped, for baking strides into the source. */
function lin(terms: [number, string][], base = 0): string {
  const parts: string[] = [];
  if (base !== 0) parts.push(String(base));
  for (const [c, v] of terms) {
    if (c === 0) continue;
    parts.push(c === 1 ? v : `${c} * ${v}`);
  }
  return parts.length === 0 ? '0' : parts.join(' + ');
}

/**
 * Statements copying `h` rows of `w` elements (row r of the source starts at
 * `src + r*stride`, elements contiguous) into $F at `dst`, rows dense.
 */
function stage(X: string, src: string, stride: number, h: string, w: string, dst: string): string {
  return `{
          const $s0 = ${src}, $h = ${h}, $w = ${w}, $d0 = ${dst};
          if (${stride} === $w || $h === 1) $F.set(${X}.subarray($s0, $s0 + $h * $w), $d0);
          else if ($w >= ${SET_MIN}) for (let $r = 0; $r < $h; $r++) { const $s = $s0 + $r * ${stride}; $F.set(${X}.subarray($s, $s + $w), $d0 + $r * $w); }
          else for (let $r = 0; $r < $h; $r++) { const $s = $s0 + $r * ${stride}, $d = $d0 + $r * $w; for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${X}[$s + $i]; }
        }`;
}

/**
 * Like `stage`, for rows whose elements are `colStride` apart, written `wp`
 * apart with the padding [w, wp) of each row zeroed.
 */
function stageRows(X: string, src: string, rowStride: number, colStride: number, h: string, w: string, wp: string, dst: string): string {
  if (colStride === 1) {
    return `if (${w} === ${wp}) ${stage(X, src, rowStride, h, w, dst)}
          else {
            const $s0 = ${src}, $h = ${h}, $w = ${w}, $wp = ${wp}, $d0 = ${dst};
            for (let $r = 0; $r < $h; $r++) {
              const $s = $s0 + $r * ${rowStride}, $d = $d0 + $r * $wp;
              if ($w >= ${SET_MIN}) $F.set(${X}.subarray($s, $s + $w), $d);
              else for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${X}[$s + $i];
              $F.fill(0, $d + $w, $d + $wp);
            }
          }`;
  }
  return `{
          const $s0 = ${src}, $h = ${h}, $w = ${w}, $wp = ${wp}, $d0 = ${dst};
          for (let $r = 0; $r < $h; $r++) {
            const $s = $s0 + $r * ${rowStride}, $d = $d0 + $r * $wp;
            for (let $i = 0; $i < $w; $i++) $F[$d + $i] = ${X}[$s + $i * ${colStride}];
            $F.fill(0, $d + $w, $d + $wp);
          }
        }`;
}

export function matmulSource(spec: MatmulSpec, options: MatmulSourceOptions = {}): string {
  validate(spec);
  const u = units(spec);
  const f64 = spec.dtype === 'float64';
  const expr = spec.epilogue?.expr?.trim() || 'acc';
  const prelude = spec.epilogue?.prelude ?? '';
  const plainEpilogue = expr === 'acc';
  if (u.total === 0) return '(function (b, start, end) {})';
  const { a, b, M, N, K } = spec;

  let backend = options.backend ?? 'auto';
  if (K === 0) backend = 'direct';
  if (backend === 'auto') backend = M * N * K <= DIRECT_MAX_MACS ? 'direct' : 'wasm';
  let flavour: WasmFlavour | null = null;
  if (backend === 'wasm') {
    flavour = wasmFlavour(f64, options.fma ?? true);
    if (flavour === null) backend = 'js';
  }

  // Decomposition of [start, end) into runs: sets $bt, $m0, $m1, $n0, $n1.
  const decode = u.nRB > 1
    ? `const $bc = Math.floor($u / ${u.nRB});
      const $ue = Math.min(($bc + 1) * ${u.nRB}, end);
      const $bt = Math.floor($bc / ${u.nCB}), $cb = $bc - $bt * ${u.nCB};
      const $m0 = ($u - $bc * ${u.nRB}) * ${RB}, $m1 = Math.min(($ue - $bc * ${u.nRB}) * ${RB}, ${M});
      const $n0 = $cb * ${u.CB}, $n1 = Math.min($n0 + ${u.CB}, ${N});`
    : `const $bt = Math.floor($u / ${u.nCB});
      const $ue = Math.min(($bt + 1) * ${u.nCB}, end);
      const $m0 = 0, $m1 = ${M};
      const $n0 = ($u - $bt * ${u.nCB}) * ${u.CB}, $n1 = Math.min(($ue - $bt * ${u.nCB}) * ${u.CB}, ${N});`;
  const runLoop = (body: string) => `
    for (let $u = start; $u < end;) {
      ${decode}
      $u = $ue;
      ${body}
    }`;
  const head = `const $C = b[0], $A = b[1], $B = b[2];`;

  if (backend === 'direct') {
    return `(function (b, start, end) {
  "use strict";
  ${prelude}
  ${head}
  ${runLoop(directRun(spec, expr))}
})`;
  }

  // Packed backends ('wasm' or 'js').
  const NR = flavour ? flavour.NR : 8;
  const S = f64 ? 8 : 4;
  const L = 16 / S; // elements per v128
  const G1C = (G1_VECTORS * 16) / S; // columns per strip of the one-row kernel
  // How each operand gets into the scratch: staged by memcpy + wasm rearrangement, or packed by JS.
  const aMode = !flavour ? 'js' : a.sCol === 1 ? 'rows' : a.sRow === 1 ? 'cols' : 'js';
  const bMode = !flavour ? 'js' : b.sCol === 1 ? 'rows' : b.sRow === 1 ? 'cols' : 'js';
  // Few rows: B is not worth packing. One row against B rows: the one-row kernel; B stored
  // transposed: dot products; otherwise the micro-kernel reads B straight from its copy.
  const small = flavour !== null && M <= SMALL_M;
  const kind = !small ? 'gemm' : M === 1 && bMode === 'rows' ? 'row' : bMode === 'cols' ? 'dot' : 'gemm';
  const bUnpacked = small && kind === 'gemm' && bMode === 'rows';
  // K blocks of (nearly) equal length: 784 = 4 x 196 rather than 3 x 256 + 16.
  const kcLimit = small ? KC_SMALL : KC;
  const kcBlock = K <= kcLimit ? Math.max(K, 1) : Math.ceil(K / Math.ceil(K / kcLimit));
  // Runs merge column blocks when there is one row block.
  const ncMax = Math.min(NC, u.nRB === 1 ? N : u.CB);
  const NCpad = Math.ceil(ncMax / Math.max(NR, G1C)) * Math.max(NR, G1C);
  const kcMax = Math.min(kcBlock, K);
  const kcPadMax = Math.ceil(kcMax / L) * L;
  const rsMax = Math.min(RS, M);
  const RSpad = Math.ceil(rsMax / MR) * MR;
  const MCpad = Math.ceil(Math.min(MC, rsMax) / MR) * MR;
  // Scratch layout, in elements: AP packed A | BP packed B | AS staged A | BS staged B | CP C block.
  const packsA = kind === 'gemm', packsB = kind === 'gemm' && !bUnpacked;
  const stagesA = kind !== 'gemm' || aMode !== 'js', stagesB = kind !== 'gemm' || bMode !== 'js';
  const AP = 0;
  const BP = AP + (packsA ? MCpad * kcMax : 0);
  const AS = BP + (packsB ? kcMax * NCpad : 0);
  const BS = AS + (stagesA ? MCpad * kcPadMax : 0);
  const CP = BS + (stagesB ? kcPadMax * NCpad : 0);
  const need = CP + RSpad * NCpad;
  if (need * S > MAX_INT32) throw new Error('matmul: scratch too large');

  const aBase = lin([[a.sBatch, '$bt']], a.offset);
  const bBase = lin([[b.sBatch, '$bt']], b.offset);
  const accumArg = '$pc > 0 ? 1 : 0';
  const cTile = `(${CP} + ($ic - $rs) * $ldc) * ${S}`;

  let loadB: string, loadA: string, gcall: string;
  if (kind === 'row') {
    loadB = stageRows('$B', `$bB + ${lin([[b.sRow, '$pc']])} + $jc`, b.sRow, 1, '$kc', '$nc', '$nc', String(BS));
    loadA = stageRows('$A', `$aB + ${lin([[a.sCol, '$pc']])}`, 0, a.sCol, '1', '$kc', '$kc', String(AS));
    gcall = `$W.g1(${AS * S}, ${BS * S}, $nc * ${S}, ${cTile}, Math.ceil($nc / ${G1C}), $kc, ${accumArg});`;
  } else if (kind === 'dot') {
    loadB = `const $kcp = Math.ceil($kc / ${L}) * ${L};
            ${stageRows('$B', `$bB + ${lin([[b.sCol, '$jc']])} + $pc`, b.sCol, 1, '$nc', '$kc', '$kcp', String(BS))}`;
    loadA = stageRows('$A', `$aB + ${lin([[a.sRow, '$ic'], [a.sCol, '$pc']])}`, a.sRow, a.sCol, '$mc', '$kc', '$kcp', String(AS));
    gcall = `$W.d(${AS * S}, $kcp * ${S}, ${BS * S}, $kcp * ${S}, ${cTile}, $ldc * ${S}, $mc, Math.ceil($nc / ${L}), $kcp / ${L}, ${accumArg});`;
  } else {
    // B[bt, pc:pc+kc, jc:jce] -> NR-wide k-major panels at BP (or staged rows at BS when unpacked).
    if (bMode === 'rows') {
      loadB = stage('$B', `$bB + ${lin([[b.sRow, '$pc']])} + $jc`, b.sRow, '$kc', '$nc', String(BS));
      if (!bUnpacked) loadB += `\n        $W.pb1(${BS * S}, $nc * ${S}, ${BP * S}, $kc, $nt);`;
    } else if (bMode === 'cols') {
      loadB = stage('$B', `$bB + ${lin([[b.sCol, '$jc']])} + $pc`, b.sCol, '$nc', '$kc', String(BS));
      loadB += `\n        $W.pb2(${BS * S}, $kc * ${S}, ${BP * S}, $kc, $nt);`;
    } else {
      loadB = `{
        let $d = ${BP};
        for (let $s = $jc; $s < $jce; $s += ${NR}) {
          let $src = $bB + ${lin([[b.sRow, '$pc'], [b.sCol, '$s']])};
          if ($s + ${NR} <= $jce) {
            for (let $k = 0; $k < $kc; $k++) {
              ${Array.from({ length: NR }, (_, j) => `$F[$d + ${j}] = $B[$src${j ? ` + ${j * b.sCol}` : ''}];`).join(' ')}
              $d += ${NR}; $src += ${b.sRow};
            }
          } else {
            const $w = $jce - $s;
            for (let $k = 0; $k < $kc; $k++) {
              for (let $j = 0; $j < ${NR}; $j++) $F[$d + $j] = $j < $w ? $B[$src + $j * ${b.sCol}] : 0;
              $d += ${NR}; $src += ${b.sRow};
            }
          }
        }
      }`;
    }
    // A[bt, ic:ic+mc, pc:pc+kc] -> MR-high k-major strips at AP.
    if (aMode === 'rows') {
      loadA = stage('$A', `$aB + ${lin([[a.sRow, '$ic'], [a.sCol, '$pc']])}`, a.sRow, '$mc', '$kc', String(AS));
      loadA += `\n          $W.pa2(${AS * S}, $kc * ${S}, ${AP * S}, $kc, $mt);`;
    } else if (aMode === 'cols') {
      loadA = stage('$A', `$aB + ${lin([[a.sCol, '$pc'], [a.sRow, '$ic']])}`, a.sCol, '$kc', '$mc', String(AS));
      loadA += `\n          $W.pa1(${AS * S}, $mc * ${S}, ${AP * S}, $kc, $mt);`;
    } else {
      loadA = `{
          let $d = ${AP};
          const $ie = $ic + $mc;
          for (let $r = $ic; $r < $ie; $r += ${MR}) {
            let $src = $aB + ${lin([[a.sRow, '$r'], [a.sCol, '$pc']])};
            if ($r + ${MR} <= $ie) {
              for (let $k = 0; $k < $kc; $k++) {
                ${Array.from({ length: MR }, (_, i) => `$F[$d + ${i}] = $A[$src${i ? ` + ${i * a.sRow}` : ''}];`).join(' ')}
                $d += ${MR}; $src += ${a.sCol};
              }
            } else {
              const $h = $ie - $r;
              for (let $k = 0; $k < $kc; $k++) {
                for (let $i = 0; $i < ${MR}; $i++) $F[$d + $i] = $i < $h ? $A[$src + $i * ${a.sRow}] : 0;
                $d += ${MR}; $src += ${a.sCol};
              }
            }
          }
        }`;
    }
    gcall = flavour
      ? (bUnpacked
        ? `$g(${AP * S}, ${BS * S}, $nc * ${S}, ${NR * S}, ${cTile}, $ldc * ${S}, $mt, $nt, $kc, ${accumArg});`
        : `$g(${AP * S}, ${BP * S}, ${NR * S}, $kc * ${NR * S}, ${cTile}, $ldc * ${S}, $mt, $nt, $kc, ${accumArg});`)
      : `$g(${AP}, ${BP}, ${CP} + ($ic - $rs) * $ldc, $mt, $nt, $kc, $ldc, $pc > 0);`;
  }
  const copyOut = plainEpilogue
    ? `{
          const $o0 = ($bt * ${M} + $rs) * ${N} + $jc;
          if ($nc === ${N} && $ldc === $nc) $C.set($F.subarray(${CP}, ${CP} + ($rse - $rs) * $nc), $o0);
          else for (let $m = 0; $m < $rse - $rs; $m++) {
            const $s = ${CP} + $m * $ldc, $o = $o0 + $m * ${N};
            ${flavour && ncMax >= SET_MIN
              ? `$C.set($F.subarray($s, $s + $nc), $o);`
              : `for (let $n = 0; $n < $nc; $n++) $C[$o + $n] = $F[$s + $n];`}
          }
        }`
    : `for (let $m = $rs; $m < $rse; $m++) {
          const $s = ${CP} + ($m - $rs) * $ldc, $o = ($bt * ${M} + $m) * ${N} + $jc;
          for (let $n = 0; $n < $nc; $n++) {
            const o = $o + $n, acc = $F[$s + $n];
            $C[o] = (${expr});
          }
        }`;
  const run = `
      const $aB = ${aBase}, $bB = ${bBase};
      for (let $rs = $m0; $rs < $m1; $rs += ${RS}) {
        const $rse = Math.min($rs + ${RS}, $m1);
        for (let $jc = $n0; $jc < $n1; $jc += ${NC}) {
          const $jce = Math.min($jc + ${NC}, $n1), $nc = $jce - $jc;
          const $nt = Math.ceil($nc / ${NR}), $ldc = $nt * ${NR};
          for (let $pc = 0; $pc < ${K}; $pc += ${kcBlock}) {
            const $kc = Math.min(${kcBlock}, ${K} - $pc);
            ${loadB}
            for (let $ic = $rs; $ic < $rse; $ic += ${MC}) {
              const $mc = Math.min(${MC}, $rse - $ic), $mt = Math.ceil($mc / ${MR});
              ${loadA}
              ${gcall}
            }
          }
          ${copyOut}
        }
      }`;

  if (flavour) {
    const T = f64 ? 'Float64Array' : 'Float32Array';
    return `(() => {
  "use strict";
  const $key = ${JSON.stringify(flavour.key)};
  let $W = globalThis[$key];
  if ($W === undefined) {
    const mem = new WebAssembly.Memory({ initial: 1 });
    const bytes = Uint8Array.from(atob(${JSON.stringify(base64(flavour.bytes))}), (c) => c.charCodeAt(0));
    const x = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: mem } }).exports;
    $W = { mem, f: new ${T}(mem.buffer), g: x.g, g1: x.g1, d: x.d, pa1: x.pa1, pa2: x.pa2, pb1: x.pb1, pb2: x.pb2 };
    globalThis[$key] = $W;
  }
  const $g = $W.g;
  return function (b, start, end) {
    ${prelude}
    ${head}
    if ($W.mem.buffer.byteLength < ${need * S}) {
      $W.mem.grow(Math.ceil((${need * S} - $W.mem.buffer.byteLength) / 65536));
      $W.f = new ${T}($W.mem.buffer);
    }
    const $F = $W.f;
    ${runLoop(run)}
  };
})()`;
  }

  // JS fallback: the same loops over a Float64Array scratch, JS micro-kernel.
  return `(() => {
  "use strict";
  const $key = "__bornMatmul_js_v2";
  let $W = globalThis[$key];
  if ($W === undefined) { $W = { f: new Float64Array(0) }; globalThis[$key] = $W; }
  ${jsMicroKernel(NR)}
  return function (b, start, end) {
    ${prelude}
    ${head}
    if ($W.f.length < ${need}) $W.f = new Float64Array(${need});
    const $F = $W.f;
    ${runLoop(run)}
  };
})()`;
}

/** JS micro-kernel over the scratch `$W.f`: the wasm `g` over packed B, in elements. */
function jsMicroKernel(NR: number): string {
  const cs: string[] = [];
  for (let i = 0; i < MR; i++) for (let j = 0; j < NR; j++) cs.push(`c${i}_${j}`);
  const rows = (f: (i: number) => string) => Array.from({ length: MR }, (_, i) => f(i)).join('\n');
  const cols = (f: (j: number) => string) => Array.from({ length: NR }, (_, j) => f(j)).join(' ');
  const at = (i: number, j: number) => `F[pr + ${i ? `${i} * ldc + ` : ''}${j}]`;
  return `function $g(ap, bp, cp, mt, nt, kc, ldc, accum) {
    const F = $W.f;
    for (let j = 0; j < nt; j++) {
      for (let i = 0; i < mt; i++) {
        let pa = ap + i * kc * ${MR}, pb = bp + j * kc * ${NR};
        const pr = cp + i * ${MR} * ldc + j * ${NR};
        let ${cs.map((c) => `${c} = 0`).join(', ')};
        if (accum) {
${rows((i) => cols((j) => `c${i}_${j} = ${at(i, j)};`))}
        }
        for (let k = 0; k < kc; k++) {
          ${rows((i) => `const a${i} = F[(pa + ${i}) | 0];`)}
          ${cols((j) => `const b${j} = F[(pb + ${j}) | 0];`)}
${rows((i) => cols((j) => `c${i}_${j} += a${i} * b${j};`))}
          pa = (pa + ${MR}) | 0; pb = (pb + ${NR}) | 0;
        }
${rows((i) => cols((j) => `${at(i, j)} = c${i}_${j};`))}
      }
    }
  }`;
}

/**
 * Unpacked JS loop for tiny problems and K = 0: dot products over k, 4-way
 * unrolled, reading A and B through their strides.
 */
function directRun(spec: MatmulSpec, expr: string): string {
  const { a, b, K, M, N } = spec;
  const aRow = lin([[a.sBatch, '$bt'], [a.sRow, '$m']], a.offset);
  const out = `($bt * ${M} + $m) * ${N}`;
  if (K === 0) {
    return `for (let $m = $m0; $m < $m1; $m++) {
        const $o = ${out};
        for (let $n = $n0; $n < $n1; $n++) { const o = $o + $n, acc = 0; $C[o] = (${expr}); }
      }`;
  }
  const bCol = lin([[b.sBatch, '$bt'], [b.sCol, '$n']], b.offset);
  const K4 = K - (K % 4);
  return `for (let $m = $m0; $m < $m1; $m++) {
        const $pa0 = ${aRow};
        const $o = ${out};
        for (let $n = $n0; $n < $n1; $n++) {
          let $pa = $pa0, $pb = ${bCol};
          let $s0 = 0, $s1 = 0, $s2 = 0, $s3 = 0;
          for (let $k = 0; $k < ${K4}; $k += 4) {
            $s0 += $A[$pa] * $B[$pb];
            $s1 += $A[$pa + ${a.sCol}] * $B[$pb + ${b.sRow}];
            $s2 += $A[$pa + ${2 * a.sCol}] * $B[$pb + ${2 * b.sRow}];
            $s3 += $A[$pa + ${3 * a.sCol}] * $B[$pb + ${3 * b.sRow}];
            $pa += ${4 * a.sCol}; $pb += ${4 * b.sRow};
          }
          for (let $k = ${K4}; $k < ${K}; $k++, $pa += ${a.sCol}, $pb += ${b.sRow}) $s0 += $A[$pa] * $B[$pb];
          const o = $o + $n, acc = ($s0 + $s1) + ($s2 + $s3);
          $C[o] = (${expr});
        }
      }`;
}
