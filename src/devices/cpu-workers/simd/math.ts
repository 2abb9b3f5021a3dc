/**
 * Lane-wise forms of the elementwise ops in f32x4, with the JS path's results for special values
 * (NaN, ±Infinity, -0, denormals): exp, log and tanh as Cephes' single-precision polynomials
 * (about 1 ulp), erf as the same rational approximation the JS kernels use (prelude.ts erf32),
 * evaluated in float32 as Eigen does.
 */
import { Op, type V, type VecBuilder } from './builder.js';
import type { SimdOp } from './plan.js';

const SIGN = 0x80000000;
const INF = 0x7f800000;

/** x with the sign of s. */
function copySign(b: VecBuilder, x: V, s: V): V {
  return b.bin(Op.or, b.bin(Op.andNot, x, b.bits(SIGN)), b.bin(Op.and, s, b.bits(SIGN)));
}

/** JS's `a > b || a !== a ? a : b` (prelude.ts max_): NaN wins, ties keep b. */
function pick(b: VecBuilder, cmp: number, x: V, y: V): V {
  const m = b.bin(Op.or, b.bin(cmp, x, y), b.bin(Op.f32Ne, x, x));
  return b.select(m, x, y);
}

/** 2^n for integer-valued lanes n in [-150, 128], as two factors so that denormal results round once. */
function exp2i(b: VecBuilder, n: V): [V, V] {
  const ni = b.un(Op.i32TruncSatF32S, n);
  const n1 = b.shift(Op.i32ShrS, ni, 1);
  const n2 = b.bin(Op.i32Sub, ni, n1);
  const bias = b.bits(127);
  return [b.shift(Op.i32Shl, b.bin(Op.i32Add, n1, bias), 23), b.shift(Op.i32Shl, b.bin(Op.i32Add, n2, bias), 23)];
}

export function exp(b: VecBuilder, x0: V): V {
  // exp(-104) rounds to 0 and exp(89) overflows; min/max keep NaN.
  const x = b.bin(Op.f32Min, b.bin(Op.f32Max, x0, b.f32(-104)), b.f32(89));
  const n = b.un(Op.f32Nearest, b.mul(x, b.f32(1.44269504088896341)));
  // r = x - n·ln2, ln2 in two parts so that the product is exact.
  const r = b.madd(n, b.f32(2.12194440e-4), b.madd(n, b.f32(-0.693359375), x));
  const p = b.poly(r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
  const y = b.add(b.madd(b.mul(p, r), r, r), b.f32(1));
  const [s1, s2] = exp2i(b, n);
  return b.mul(b.mul(y, s1), s2);
}

export function log(b: VecBuilder, x: V): V {
  // Denormals are scaled into the normal range first.
  const den = b.bin(Op.f32Lt, x, b.f32(1.17549435e-38));
  const xs = b.select(den, b.mul(x, b.f32(8388608)), x);
  const e0 = b.bin(Op.i32Sub, b.shift(Op.i32ShrU, xs, 23), b.bits(126));
  let e = b.sub(b.un(Op.f32ConvertI32S, e0), b.bin(Op.and, den, b.f32(23)));
  let m = b.bin(Op.or, b.bin(Op.and, xs, b.bits(0x007fffff)), b.bits(0x3f000000));
  // m in [sqrt(1/2), sqrt(2)) - 1.
  const low = b.bin(Op.f32Lt, m, b.f32(0.707106781186547524));
  e = b.sub(e, b.bin(Op.and, low, b.f32(1)));
  m = b.sub(b.add(m, b.bin(Op.and, low, m)), b.f32(1));
  const z = b.mul(m, m);
  const p = b.poly(m, [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]);
  let y = b.mul(b.mul(m, z), p);
  y = b.madd(e, b.f32(-2.12194440e-4), y);
  y = b.madd(z, b.f32(-0.5), y);
  let r = b.madd(e, b.f32(0.693359375), b.add(m, y));
  r = b.select(b.bin(Op.f32Eq, x, b.bits(INF)), x, r);
  r = b.select(b.bin(Op.f32Eq, x, b.f32(0)), b.bits(0xff800000), r);
  // Negative and NaN lanes: NaN.
  return b.select(b.un(Op.not, b.bin(Op.f32Ge, x, b.f32(0))), b.bits(0x7fc00000), r);
}

export function tanh(b: VecBuilder, x: V): V {
  const ax = b.un(Op.f32Abs, x);
  const z = b.mul(x, x);
  const p = b.poly(z, [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]);
  // The sign restored: x + x·z·p is +0 for x = -0.
  const small = copySign(b, b.madd(b.mul(x, z), p, x), x);
  // 1 - 2 / (exp(2|x|) + 1): 1 once exp overflows, NaN for NaN.
  const e = exp(b, b.add(ax, ax));
  const large = copySign(b, b.sub(b.f32(1), b.div(b.f32(2), b.add(e, b.f32(1)))), x);
  return b.select(b.bin(Op.f32Lt, ax, b.f32(0.625)), small, large);
}

export function erf(b: VecBuilder, x: V): V {
  const xc = b.bin(Op.f32Min, b.bin(Op.f32Max, x, b.f32(-4)), b.f32(4));
  const x2 = b.mul(xc, xc);
  const p = b.poly(x2, [-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02]);
  const q = b.poly(x2, [-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02]);
  const r = b.div(b.mul(xc, p), q);
  // |x| >= 4: exactly ±1, as erf32 gives.
  return b.select(b.bin(Op.f32Ge, b.un(Op.f32Abs, x), b.f32(4)), copySign(b, b.f32(1), x), r);
}

/** The lanes of one op applied to already computed operands. */
export function emitOp(b: VecBuilder, op: SimdOp, a: readonly V[]): V {
  const [x, y] = [a[0]!, a[1]!];
  switch (op) {
    case 'neg': return b.un(Op.f32Neg, x);
    case 'abs': return b.un(Op.f32Abs, x);
    case 'sqrt': return b.un(Op.f32Sqrt, x);
    case 'floor': return b.un(Op.f32Floor, x);
    case 'ceil': return b.un(Op.f32Ceil, x);
    case 'trunc': return b.un(Op.f32Trunc, x);
    // Ties to even, -0 kept: prelude.ts rne_.
    case 'round': return b.un(Op.f32Nearest, x);
    case 'recip': return b.div(b.f32(1), x);
    // Math.sign: ±1, with 0, -0 and NaN passed through.
    case 'sign': {
      const keep = b.bin(Op.or, b.bin(Op.f32Eq, x, b.f32(0)), b.bin(Op.f32Ne, x, x));
      return b.select(keep, x, copySign(b, b.f32(1), x));
    }
    // x > 0 or NaN: x; otherwise 0 (so relu(-0) is 0).
    case 'relu': return b.bin(Op.and, x, b.bin(Op.or, b.bin(Op.f32Gt, x, b.f32(0)), b.bin(Op.f32Ne, x, x)));
    case 'exp': return exp(b, x);
    case 'log': return log(b, x);
    case 'tanh': return tanh(b, x);
    case 'erf': return erf(b, x);
    case 'add': return b.add(x, y);
    case 'sub': return b.sub(x, y);
    case 'mul': return b.mul(x, y);
    case 'div': return b.div(x, y);
    case 'maximum': return pick(b, Op.f32Gt, x, y);
    case 'minimum': return pick(b, Op.f32Lt, x, y);
  }
}
