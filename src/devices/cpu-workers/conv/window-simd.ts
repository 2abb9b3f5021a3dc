/**
 * WebAssembly SIMD forms of the float32 forward window kernels: im2col, maxPool and avgPool
 * (kernel/ir.ts WindowSpec; the JS forms are window.ts). The driver takes the JS kernel's planes
 * [start, end), stages a block of whole input planes in the thread's wasm memory (one `set` per
 * run of planes that are neighbours in the source), calls f(A, B) on the staged block and copies
 * the results out in runs: the output layout and the split over threads are the JS kernel's.
 *
 * With padding, f first copies each plane into a padded scratch plane whose border holds the
 * padding's identity (0 for im2col and avgPool, -Infinity for maxPool), so every tap is read
 * unchecked. Rows of outputs are computed four at a time; a row whose width is not a multiple of
 * four ends with a group that overlaps the previous one (the same values written twice), so
 * nothing is written past a row. Reads may run a few floats past a plane: the regions have slack.
 *
 * maxPool keeps the JS rule exactly, signed zeros included: a pmax chain (v > m takes v: the first
 * of equal values stays, -0 before +0 gives -0) alongside a max chain, which is NaN when any tap
 * is, and the result is the max chain's NaN where there is one. avgPool adds its taps in tap order
 * in float64 (f64x2 halves) and divides there, as the JS kernel does, so it is bit-exact too.
 */
import { numel } from '../../../graph/shape.js';
import type { Kernel, WindowGeom } from '../../../kernel/ir.js';
import { Asm, oneFunctionModule } from '../matmul/wasm-asm.js';
import { Op } from '../simd/builder.js';
import { simdMode, simdStats, valid } from '../simd/index.js';
import { affine, type Affine } from '../simd/plan.js';
import { affineJs, simdKernelSource } from '../simd/source.js';

type SimdWindowOp = 'im2col' | 'maxPool' | 'avgPool';

interface WindowSimdPlan {
  readonly op: SimdWindowOp;
  readonly N: number; readonly C: number;
  readonly g: WindowGeom;
  readonly input: number;
  /** A plane's first input element, over wn and wc. */
  readonly base: Affine;
  /** The padded plane's rows and columns (H and W without padding). */
  readonly Hp: number; readonly Wp: number;
  readonly padded: boolean;
  /**
   * A call's planes: Ab outer by Bb inner ones at most (outer, inner: wc, wn for im2col, whose
   * planes go batch-fastest; wn, wc for the pools). `transposed`: staged inner-major, because
   * the source is contiguous along the outer coordinate (a permuted view), so one `set` copies
   * a column of the group instead of each plane.
   */
  readonly Ab: number; readonly Bb: number; readonly transposed: boolean;
  /** Byte offsets: staged planes, padded scratch, results; the memory the kernel needs. */
  readonly IN: number; readonly SCR: number; readonly OUT: number; readonly bytes: number;
}

/**
 * Floats a call may stage and write. Copies into and out of wasm memory cost ~0.3 µs a call on
 * top of ~0.3 ns an element (8k-float runs; 170-float runs cost ~2 ns an element), so a call
 * takes as many planes as fit, while a group's inputs and results stay within L2.
 */
const IN_FLOATS = 16384, OUT_FLOATS = 32768;
/** 'auto' mode: smaller outputs stay in JS, where a call's fixed costs are not worth paying. */
export const MIN_WINDOW_OUTPUT = 4096;
/** Output groups of four up to which a row is unrolled (constant offsets) rather than looped. */
const UNROLL = 8;

function plan(k: Kernel): WindowSimdPlan | null {
  const w = k.window;
  if (!w || k.out.dtype !== 'float32' || k.outIndex || k.extraOutputs?.length || (k.indexChecks?.length ?? 0) > 0) return null;
  if (w.op !== 'im2col' && w.op !== 'maxPool' && w.op !== 'avgPool') return null;
  const src = w.args[0]!;
  if (src.k !== 'load' || src.dtype !== 'float32' || k.inputs[src.input - 1] !== 'float32') return null;
  const a = affine(src.index);
  const g = w.geom;
  const { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  // A plane must be one contiguous row-major H x W run of the input.
  if (!a || (W > 1 && a.coef.get('ww') !== 1) || (H > 1 && a.coef.get('wh') !== W)) return null;
  if ([...a.coef.keys()].some((v) => !['ww', 'wh', 'wn', 'wc'].includes(v))) return null;
  if (Math.min(H, W, Ho, Wo, kh, kw, sh, sw, dh, dw) < 1 || Math.min(ph, pw) < 0) return null;
  const Hp = H + 2 * ph, Wp = W + 2 * pw;
  // Every tap inside the padded plane (no ceil-mode windows reaching past it).
  if ((Ho - 1) * sh + (kh - 1) * dh >= Hp || (Wo - 1) * sw + (kw - 1) * dw >= Wp) return null;
  const padded = ph > 0 || pw > 0;
  const plane = padded && w.op === 'im2col' ? Hp * Wp : H * W;
  const outPlane = (w.op === 'im2col' ? kh * kw : 1) * Ho * Wo;
  const G = Math.max(1, Math.min(Math.floor(IN_FLOATS / plane), Math.floor(OUT_FLOATS / outPlane), w.N * w.C));
  const im2col = w.op === 'im2col';
  const [outer, inner] = im2col ? ['wc', 'wn'] : ['wn', 'wc'];
  const [nOuter, nInner] = im2col ? [w.C, w.N] : [w.N, w.C];
  const cOuter = a.coef.get(outer) ?? 0, cInner = a.coef.get(inner) ?? 0;
  // The block shape and staging order with the fewest copies per plane: each copy costs about a
  // third of a microsecond whatever its length. im2col keeps to one channel a call: its tap runs
  // then stay long, and blocks of several channels measured slower (64 x 32 planes of 13 x 13, 3 x 3:
  // 4.1 ms in blocks of 2 x 15 against 2.3 in rows of 30).
  let best = { cost: Infinity, Ab: 1, Bb: 1, transposed: false };
  for (let Ab = 1; Ab <= Math.min(im2col ? 1 : nOuter, G); Ab++) {
    const Bb = Math.min(nInner, Math.floor(G / Ab));
    const copiesOut = Bb === nInner ? 1 : im2col ? Ab * kh * kw : Ab;
    for (const transposed of [false, true]) {
      const runs = transposed ? (cOuter === H * W ? Bb : Ab * Bb) : cInner === H * W ? (cOuter === nInner * H * W || Ab === 1 ? 1 : Ab) : Ab * Bb;
      const cost = (runs + copiesOut) / (Ab * Bb);
      if (cost < best.cost - 1e-9) best = { cost, Ab, Bb, transposed };
    }
  }
  const { Ab, Bb, transposed } = best;
  const slack = 4 * (4 * sw + kw * dw + 16);
  const round = (n: number): number => Math.ceil(n / 16) * 16;
  const IN = 0;
  const SCR = round(IN + G * H * W * 4 + slack);
  const OUT = round(SCR + (!padded ? 0 : (w.op === 'im2col' ? G : 1) * Hp * Wp * 4 + slack));
  const base: Affine = { c: a.c, coef: new Map([...a.coef].filter(([v, n]) => n !== 0 && (v === 'wn' || v === 'wc'))) };
  return { op: w.op, N: w.N, C: w.C, g, input: src.input, base, Hp, Wp, padded, Ab, Bb, transposed, IN, SCR, OUT, bytes: round(OUT + G * outPlane * 4 + 16) };
}

/** A v128 constant of four equal 32-bit lanes, or two equal 64-bit ones. */
function vconst(a: Asm, bits32: number | null, f64?: number): void {
  const bytes = new Uint8Array(16);
  if (bits32 !== null) new DataView(bytes.buffer).setUint32(0, bits32, true);
  for (let l = 0; l < 4 && bits32 !== null; l++) bytes.copyWithin(l * 4, 0, 4);
  if (f64 !== undefined) { const v = new DataView(bytes.buffer); v.setFloat64(0, f64, true); v.setFloat64(8, f64, true); }
  a.simd(Op.const);
  a.code.push(...bytes);
}

const EVEN = [0, 2, 4, 6], ODD = [1, 3, 5, 7];

/** Params: A, B (the group is A outer by B inner planes). */
const A = 0, B = 1;

function functionBody(p: WindowSimdPlan): number[] {
  const { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = p.g;
  const a = new Asm(2);
  const ga = a.i32Local(), gb = a.i32Local(), g = a.i32Local(), n = a.i32Local(), i = a.i32Local(), src = a.i32Local(), dst = a.i32Local();
  const ps = a.i32Local(), pd = a.i32Local(), ls = a.i32Local(), ld = a.i32Local(), k = a.i32Local(), end = a.i32Local();
  // v128 locals, reused by every group of four outputs.
  const pool: number[] = [];
  let used = 0;
  const vloc = (): number => { if (used === pool.length) pool.push(a.v128Local()); return pool[used++]!; };
  const put = (): number => { const l = vloc(); a.set(l); return l; };
  /** The staged position of plane (ga, gb), into g. */
  const staged = (): void => {
    if (p.transposed) a.get(gb).get(A).mul().get(ga).add().set(g);
    else a.get(ga).get(B).mul().get(gb).add().set(g);
  };

  /** Four floats `stride` apart from s + off; `pairs` shares the two loads of a stride-2 read between taps. */
  const read = (s: number, off: number, stride: number, pairs?: Map<number, number[]>): number => {
    if (stride === 1) { a.get(s).simdMem(Op.load, 2, off); return put(); }
    if (stride === 2) {
      const hit = pairs?.get(off - 4);
      if (hit) { a.get(hit[0]!).get(hit[1]!).shuffle(ODD, 4); return put(); }
      a.get(s).simdMem(Op.load, 2, off); const l0 = put();
      a.get(s).simdMem(Op.load, 2, off + 16); const l1 = put();
      pairs?.set(off, [l0, l1]);
      a.get(l0).get(l1).shuffle(EVEN, 4);
      return put();
    }
    a.get(s).simdMem(Op.load32Zero, 2, off); const v = put();
    for (let l = 1; l < 4; l++) { a.get(s).get(v).simdMem(Op.load32Lane, 2, off + 4 * l * stride); a.code.push(l); a.set(v); }
    return v;
  };

  /** A row of `count` values, four at a time: value(s, off) reads the group at s + off (off = 4·stride·j). */
  const row = (count: number, stride: number, s: number, d: number, value: (s: number, off: number) => number): void => {
    const group = (gs: number, sOff: number, gd: number, dOff: number, lanes: number): void => {
      used = 0;
      const v = value(gs, sOff);
      if (lanes === 4) { a.get(gd).get(v).simdMem(Op.store, 2, dOff); return; }
      for (let l = 0; l < lanes; l++) { a.get(gd).get(v).simdMem(Op.store32Lane, 2, dOff + 4 * l); a.code.push(l); }
    };
    if (count < 4) { group(s, 0, d, 0, count); return; }
    const full = Math.floor(count / 4);
    if (full <= UNROLL) {
      for (let q = 0; q < full; q++) group(s, 16 * stride * q, d, 16 * q, 4);
    } else {
      a.get(s).set(ls).get(d).set(ld);
      a.countdown(k, () => a.i32(full), () => {
        group(ls, 0, ld, 0, 4);
        a.inc(ls, 16 * stride).inc(ld, 16);
      });
    }
    if (count % 4) group(s, 4 * stride * (count - 4), d, 4 * (count - 4), 4);
  };

  /** Fills [start, end) with a constant, 16 bytes at a time (the last store may run into the slack). */
  const fill = (start: number, bits: number): void => {
    a.i32(start).set(ls);
    a.block().loop().get(ls).get(end).geu().brIf(1);
    a.get(ls); vconst(a, bits); a.simdMem(Op.store, 2, 0);
    a.inc(ls, 16).br(0).end().end();
  };

  /** Copies staged plane g into its padded scratch plane at `to` (bytes, plus g · `step`). */
  const pad = (to: number, step: number): void => {
    a.get(g).i32(H * W * 4).mul().i32(p.IN).add().set(ps);
    a.get(g).i32(step).mul().i32(to + (ph * p.Wp + pw) * 4).add().set(pd);
    a.countdown(i, () => a.i32(H), () => {
      row(W, 1, ps, pd, (s, off) => read(s, off, 1));
      a.inc(ps, W * 4).inc(pd, p.Wp * 4);
    });
  };

  const plane = p.padded ? p.Wp : W;
  const identity = p.op === 'maxPool' ? 0xff800000 : 0;
  a.get(A).get(B).mul().set(n);
  a.i32(p.OUT).set(dst);
  if (p.op === 'im2col') {
    const PL = p.padded ? p.Hp * p.Wp * 4 : H * W * 4, from = p.padded ? p.SCR : p.IN;
    if (p.padded) {
      a.get(n).i32(PL).mul().i32(p.SCR).add().set(end);
      fill(p.SCR, identity);
      a.upto(g, n, () => pad(p.SCR, PL));
    }
    // Per outer plane, tap-major, as the patches are: each (tap, plane) writes Ho·Wo consecutive values.
    a.upto(ga, A, () => {
      for (let ta = 0; ta < kh; ta++) for (let tb = 0; tb < kw; tb++) {
        a.upto(gb, B, () => {
          staged();
          a.get(g).i32(PL).mul().i32(from + (ta * dh * plane + tb * dw) * 4).add().set(src);
          a.countdown(i, () => a.i32(Ho), () => {
            row(Wo, sw, src, dst, (s, off) => read(s, off, sw));
            a.inc(src, sh * plane * 4).inc(dst, Wo * 4);
          });
        });
      }
    });
  } else {
    if (p.padded) { a.i32(p.SCR + p.Hp * p.Wp * 4).set(end); fill(p.SCR, identity); }
    const taps = Array.from({ length: kh * kw }, (_, t) => (Math.floor(t / kw) * dh * plane + (t % kw) * dw) * 4);
    const value = p.op === 'maxPool' ? (s: number, off: number): number => {
      const pairs = new Map<number, number[]>();
      const m = read(s, off + taps[0]!, sw, pairs);
      if (taps.length === 1) return m;
      a.get(m); const x = put();
      for (const t of taps.slice(1)) {
        const v = read(s, off + t, sw, pairs);
        a.get(m).get(v).simd(Op.f32Pmax).set(m);
        a.get(x).get(v).simd(Op.f32Max).set(x);
      }
      a.get(x).get(m).get(x).get(x).simd(Op.f32Ne).simd(Op.bitselect);
      return put();
    } : (s: number, off: number): number => {
      const pairs = new Map<number, number[]>();
      vconst(a, 0); const lo = put();
      vconst(a, 0); const hi = put();
      for (const t of taps) {
        const v = read(s, off + t, sw, pairs);
        a.get(lo).get(v).simd(Op.f64PromoteLow).simd(Op.f64Add).set(lo);
        a.get(hi).get(v).get(v).shuffle([2, 3, 0, 1], 4).simd(Op.f64PromoteLow).simd(Op.f64Add).set(hi);
      }
      for (const h of [lo, hi]) { a.get(h); vconst(a, null, kh * kw); a.simd(Op.f64Div).simd(Op.f32DemoteF64Zero).set(h); }
      a.get(lo).get(hi).shuffle([0, 1, 4, 5], 4);
      return put();
    };
    a.upto(ga, A, () => a.upto(gb, B, () => {
      staged();
      if (p.padded) { pad(p.SCR, 0); a.i32(p.SCR).set(src); } else a.get(g).i32(H * W * 4).mul().i32(p.IN).add().set(src);
      a.countdown(i, () => a.i32(Ho), () => {
        row(Wo, sw, src, dst, value);
        a.inc(src, sh * plane * 4).inc(dst, Wo * 4);
      });
    }));
  }
  return a.body();
}

/**
 * The driver. Planes [start, end) in the JS kernel's order are outer-by-inner rows: a partial row
 * at either end goes in single-row groups, the whole rows between in blocks of Ab by Bb.
 */
function driver(p: WindowSimdPlan): string[] {
  const { Ho, Wo, kh, kw, H, W } = p.g;
  const T = kh * kw, HoWo = Ho * Wo, N = p.N, C = p.C;
  const im2col = p.op === 'im2col';
  const I = im2col ? N : C;
  const [outer, inner] = im2col ? ['wc', 'wn'] : ['wn', 'wc'];
  const OUT = p.OUT / 4;
  const b = `b${p.input}`;
  const position = p.transposed ? 'const ga = u % nA, gb = (u / nA) | 0;' : 'const ga = (u / nB) | 0, gb = u - ga * nB;';
  const copyOut = im2col ? [
    `if (nB === ${N}) out.set(F.subarray(${OUT}, ${OUT} + nA * ${T * N * HoWo}), a0 * ${T * N * HoWo});`,
    `else for (let ga = 0; ga < nA; ga++) for (let t = 0; t < ${T}; t++) out.set(F.subarray(${OUT} + (ga * ${T} + t) * nB * ${HoWo}, ${OUT} + (ga * ${T} + t + 1) * nB * ${HoWo}), (((a0 + ga) * ${T} + t) * ${N} + b0) * ${HoWo});`,
  ] : [
    `if (nB === ${C}) out.set(F.subarray(${OUT}, ${OUT} + nA * ${C * HoWo}), a0 * ${C * HoWo});`,
    `else for (let ga = 0; ga < nA; ga++) out.set(F.subarray(${OUT} + ga * nB * ${HoWo}, ${OUT} + (ga + 1) * nB * ${HoWo}), ((a0 + ga) * ${C} + b0) * ${HoWo});`,
  ];
  return [
    'const group = (a0, b0, nA, nB) => {',
    // Stages the planes in order, one copy per run of them that are neighbours in the source.
    `let s0 = 0, len = 0, at = ${p.IN / 4};`,
    'for (let u = 0; u < nA * nB; u++) {',
    position,
    `const ${outer} = a0 + ga, ${inner} = b0 + gb;`,
    `const s = ${affineJs(p.base)};`,
    `if (len > 0 && s === s0 + len) { len += ${H * W}; continue; }`,
    `if (len > 0) { F.set(${b}.subarray(s0, s0 + len), at); at += len; }`,
    `s0 = s; len = ${H * W};`,
    '}',
    `F.set(${b}.subarray(s0, s0 + len), at);`,
    'f(nA, nB);',
    ...copyOut,
    '};',
    'const run = (from, to) => {',
    `for (let q = from; q < to;) { const a0 = (q / ${I}) | 0, nB = Math.min(to - q, ${p.Ab * p.Bb}); group(a0, q - a0 * ${I}, 1, nB); q += nB; }`,
    '};',
    `const r0 = Math.ceil(start / ${I}), r1 = Math.floor(end / ${I});`,
    'if (r0 > r1) run(start, end);',
    'else {',
    `run(start, r0 * ${I});`,
    `for (let a0 = r0; a0 < r1; a0 += ${p.Ab}) for (let b0 = 0; b0 < ${I}; b0 += ${p.Bb}) group(a0, b0, Math.min(${p.Ab}, r1 - a0), Math.min(${p.Bb}, ${I} - b0));`,
    `run(r1 * ${I}, end);`,
    '}',
  ];
}

/**
 * The SIMD form of a forward float32 window kernel reading its planes straight from one input,
 * or null (the JS kernel then): other ops and dtypes, fused sources, planes that are not
 * contiguous runs, SIMD mode 'never', small outputs in 'auto', an engine without wasm SIMD.
 */
export function printWindowSimd(k: Kernel): string | null {
  if (simdMode() === 'never') return null;
  const p = plan(k);
  if (!p || (simdMode() === 'auto' && numel(k.out.shape) < MIN_WINDOW_OUTPUT)) return null;
  const bytes = oneFunctionModule([2, 0x7f, 0x7f, 0], functionBody(p));
  if (!valid(bytes)) return null;
  simdStats.printed++;
  return simdKernelSource(k, bytes, p.bytes, driver(p));
}
