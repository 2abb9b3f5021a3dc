/**
 * Helper functions every generated JS kernel can call. Kept as source so one string serves the
 * main thread and the workers; the WGSL printer has its own twins of these.
 */
import { COS_Q31, INV_LN2_Q31, SERIES_BELOW, SIN_Q31, SQRT_2LN2_Q31 } from '../../kernel/normal.js';

export const jsPrelude = String.raw`
const max_ = (a, b) => (a > b || a !== a ? a : b);
const min_ = (a, b) => (a < b || a !== a ? a : b);
// Rational approximation on [-4, 4] (beyond, erf is 1 to float32 precision): no Math call, so the
// fused gelu chain stays arithmetic-bound.
function erf32(x) {
  const x2 = x * x;
  if (x2 >= 16) return x > 0 ? 1 : -1;
  let p = -2.72614225801306e-10;
  p = p * x2 + 2.77068142495902e-08; p = p * x2 - 2.10102402082508e-06; p = p * x2 - 5.69250639462346e-05;
  p = p * x2 - 7.34990630326855e-04; p = p * x2 - 2.95459980854025e-03; p = p * x2 - 1.60960333262415e-02;
  let q = -1.45660718464996e-05;
  q = q * x2 - 2.13374055278905e-04; q = q * x2 - 1.68282697438203e-03; q = q * x2 - 7.37332916720468e-03;
  q = q * x2 - 1.42647390514189e-02;
  return (x * p) / q;
}
// Taylor series near 0, continued fraction for erfc in the tails: ~1e-14 relative, for float64.
function erf64(x) {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = x * x;
    let sum = x, term = x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return sum * 1.1283791670955126;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  let f = 0;
  for (let n = 80; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / (ax + f) / 1.7724538509055159;
  return x > 0 ? 1 - erfc : erfc - 1;
}
// Round half to even (Math.round rounds half up); keeps -0 (round(-0.4) is -0, as in PyTorch).
function rne_(x) { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; }
// Python's modulo: the result takes the divisor's sign (fmod, then shifted by one divisor).
function rem_(a, b) { const m = a % b; return m !== 0 && (m < 0) !== (b < 0) ? m + b : m; }
// int64 bitwise ops on the integers a kernel holds as numbers: the 32-bit operators where both fit.
const fits32_ = (a, b) => (a | 0) === a && (b | 0) === b;
function band64_(a, b) { return fits32_(a, b) ? a & b : Number(BigInt(a) & BigInt(b)); }
function bor64_(a, b) { return fits32_(a, b) ? a | b : Number(BigInt(a) | BigInt(b)); }
function bxor64_(a, b) { return fits32_(a, b) ? a ^ b : Number(BigInt(a) ^ BigInt(b)); }
// ---- storage conversions: half types are stored as bits and computed in float32 ----
const hv_f = new Float32Array(1), hv_u = new Uint32Array(hv_f.buffer);
let H2F = null;
function buildH2F() {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 5.960464477539063e-8 : e === 31 ? (m ? NaN : s * Infinity) : s * (1024 + m) * Math.pow(2, e - 25);
  }
  return t;
}
// float16 bits -> value, by a table shared by every kernel of the thread.
function h2f(h) { return (H2F ??= (globalThis.__born_h2f_v1 ??= buildH2F()))[h]; }
// value -> float16 bits: rounded to float32 first (as c10::Half(float) sees it), then to nearest even.
function f2h(x) {
  hv_f[0] = x;
  const b = hv_u[0], sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e, half = 1 << (shift - 1), rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}
function bf2f(h) { hv_u[0] = h << 16; return hv_f[0]; }
function f2bf(x) {
  hv_f[0] = x;
  const b = hv_u[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
// A value rounded to what a half type holds (every op on a half type rounds, as PyTorch's do).
function rh(x) { return h2f(f2h(x)); }
function rbf(x) { return bf2f(f2bf(x)); }
// Float to integer as x86 converts for PyTorch 1.13: truncation, and the most negative value
// for NaN, ±inf and anything out of range.
function f2i32(x) { return x > -2147483649 && x < 2147483648 ? x | 0 : -2147483648; }
function f2i64(x) { return Math.abs(x) < 9223372036854775808 ? Math.trunc(x) : -9223372036854775808; }
// A computed int64 value into a BigInt64Array element (which wraps modulo 2^64).
function i64s(x) { return x - x === 0 ? BigInt(Math.trunc(x)) : -9223372036854775808n; }
function mulhi32(a, b) {
  const alo = a & 0xffff, ahi = a >>> 16, blo = b & 0xffff, bhi = b >>> 16;
  const lolo = alo * blo, hilo = ahi * blo, lohi = alo * bhi;
  return (ahi * bhi + (hilo >>> 16) + Math.floor(((hilo & 0xffff) + lohi + (lolo >>> 16)) / 65536)) >>> 0;
}
// Philox-2x32-10 (Salmon et al. 2011): counter-based, so element i's number depends only on
// (key, i) — the same on every device, worker count and range split. philox2x32 is the bare
// bijection on 32-bit words (the one Random123's known-answer vectors test): it returns word 0
// and leaves word 1 in phw1.
let phw1 = 0;
function philox2x32(key, c0, c1) {
  let k = key >>> 0;
  c0 >>>= 0; c1 >>>= 0;
  for (let r = 0; r < 10; r++) {
    const lo = Math.imul(0xd256d193, c0) >>> 0;
    c0 = (mulhi32(0xd256d193, c0) ^ k ^ c1) >>> 0;
    c1 = lo;
    k = (k + 0x9e3779b9) >>> 0;
  }
  phw1 = c1;
  return c0;
}
// The counter is c0 = ctr's low 32 bits, c1 = its high bits. Both words of a draw come out of one
// evaluation (randn's Box–Muller reads both), each as its top 24 bits scaled to [0, 1): word 0 is
// returned, word 1 left in ph1.
let ph1 = 0;
function philox2(key, ctr) {
  const w0 = philox2x32(key, ctr, Math.floor(ctr / 4294967296));
  ph1 = (phw1 >>> 8) * 5.960464477539063e-8;
  return (w0 >>> 8) * 5.960464477539063e-8;
}
function philox(key, word, ctr) {
  const w0 = philox2(key, ctr);
  return word === 0 ? w0 : ph1;
}
// A standard normal in integer arithmetic from both words of one draw: kernel/normal.ts gives the
// steps and the constants; webgpu/wgsl/prelude.ts's normal2_ is the twin. normalOf returns r·cos
// (word 0) and leaves r·sin (word 1) in pn1. Every value is a u32 held in a double (>>> 0 after
// shifts), so it wraps as WGSL's u32 does.
function nlog2frac(x) {
  let f = 0;
  for (let i = 0; i < 31; i++) {
    const sq = mulhi32(x, x);
    if (sq >= 0x80000000) { f = f * 2 + 1; x = sq; } else { f = f * 2; x = (sq << 1) >>> 0; }
  }
  return f;
}
let nrk = 0;
function nradius(w0) {
  const m = (w0 | 1) >>> 0;
  const c = Math.clz32(m);
  let M, p;
  if (c > 0) { M = ((c << 26) + ((0x80000000 - nlog2frac((m << c) >>> 0)) >>> 5)) >>> 0; p = 26; }
  else {
    const d = (-m) >>> 0;
    if (d >= ${SERIES_BELOW}) { M = 0x80000000 - nlog2frac(m); p = 31; }
    else {
      const cz = Math.clz32(d);
      M = mulhi32((d << cz) >>> 0, mulhi32(0x80000000 + (d >>> 2), ${INV_LN2_Q31}));
      p = 30 + cz;
    }
  }
  let sh = Math.clz32(M);
  if (((sh + p) & 1) !== 0) sh -= 1;
  if (sh < 0) { M = M >>> 1; p -= 1; sh = 0; } else M = (M << sh) >>> 0;
  const E = p + sh;
  let rem = 0, root = 0;
  for (let i = 0; i < 29; i++) {
    const two = i < 16 ? (M >>> (30 - 2 * i)) & 3 : 0;
    rem = ((rem << 2) | two) >>> 0;
    const trial = ((root << 2) | 1) >>> 0;
    if (rem >= trial) { rem = rem - trial; root = ((root << 1) | 1) >>> 0; } else root = (root << 1) >>> 0;
  }
  nrk = 14 + E / 2;
  return mulhi32((root << 3) >>> 0, ${SQRT_2LN2_Q31});
}
function nscale(R, mag, neg, k) {
  let Z = mulhi32(R, mag);
  const nb = 32 - Math.clz32(Z);
  if (nb > 24) { const s = nb - 24; Z = ((((Z >>> (s - 1)) + 1) >>> 1) << s) >>> 0; }
  const v = Z * 2 ** -k;
  return neg && Z !== 0 ? -v : v;
}
let pn1 = 0;
function normalOf(w0, v) {
  const R = nradius(w0);
  const o = v >>> 29, f = v & 0x1fffffff;
  const Y = (((o & 1) !== 0 ? 0x20000000 - f : f) << 2) >>> 0;
  const W = (mulhi32(Y, Y) << 1) >>> 0;
  let ac = ${COS_Q31[5]}, as = ${SIN_Q31[5]};
${[4, 3, 2, 1, 0].map((k) => `  ac = (${COS_Q31[k]} - mulhi32(W, ac) * 2) >>> 0; as = (${SIN_Q31[k]} - mulhi32(W, as) * 2) >>> 0;`).join('\n')}
  const cp = ac, sp = (mulhi32(Y, as) * 2) >>> 0;
  const q = o >>> 1, swap = ((q ^ o) & 1) !== 0;
  pn1 = nscale(R, swap ? cp : sp, q >= 2, nrk);
  return nscale(R, swap ? sp : cp, q === 1 || q === 2, nrk);
}
function normal2(key, ctr) {
  const w0 = philox2x32(key, ctr, Math.floor(ctr / 4294967296));
  return normalOf(w0, phw1);
}
function normalw(key, word, ctr) {
  const z0 = normal2(key, ctr);
  return word === 0 ? z0 : pn1;
}
`;
