/**
 * Helper functions every generated JS kernel can call. Kept as source so one string serves the
 * main thread and the workers; the WGSL printer has its own twins of these.
 */
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
`;
