/**
 * WGSL helper functions a kernel may call, the twins of cpu-workers/prelude.ts, emitted only
 * where a kernel's code names them. NaN tests read the bits: WGSL lets implementations assume
 * that floats are never NaN, so `x != x` may fold to false.
 */

import { COS_Q31, INV_LN2_Q31, SERIES_BELOW, SIN_Q31, SQRT_2LN2_Q31 } from '../../../kernel/normal.js';

interface Helper { readonly deps: readonly string[]; readonly code: string }

// A NaN or infinite constant expression is a shader-creation error: read the bits at run time.
const NAN = 'nan_()';
const INF = 'inf_()';

const HELPERS: Record<string, Helper> = {
  nan_: { deps: [], code: `var<private> nan_bits_: u32 = 0x7fc00000u;\nfn nan_() -> f32 { return bitcast<f32>(nan_bits_); }` },
  inf_: { deps: [], code: `var<private> inf_bits_: u32 = 0x7f800000u;\nfn inf_() -> f32 { return bitcast<f32>(inf_bits_); }` },
  isnan_: { deps: [], code: `fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }` },
  isinf_: { deps: [], code: `fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }` },
  // PyTorch's maximum/minimum: a NaN on either side wins (WGSL's max(NaN, 0) may give 0).
  max_: { deps: ['isnan_'], code: `fn max_(a: f32, b: f32) -> f32 { return select(b, a, a > b || isnan_(a)); }` },
  min_: { deps: ['isnan_'], code: `fn min_(a: f32, b: f32) -> f32 { return select(b, a, a < b || isnan_(a)); }` },
  // Math.sign: NaN and ±0 pass through.
  sign_: { deps: ['isnan_'], code: `fn sign_(x: f32) -> f32 { return select(sign(x), x, x == 0.0 || isnan_(x)); }` },
  erf32_: {
    deps: [], code: `// The rational approximation of prelude.ts's erf32 on [-4, 4]; beyond, erf is ±1 in f32.
fn erf32_(x: f32) -> f32 {
  let x2 = x * x;
  if (x2 >= 16.0) { return select(-1.0, 1.0, x > 0.0); }
  var p = -2.72614225801306e-10;
  p = p * x2 + 2.77068142495902e-08; p = p * x2 - 2.10102402082508e-06; p = p * x2 - 5.69250639462346e-05;
  p = p * x2 - 7.34990630326855e-04; p = p * x2 - 2.95459980854025e-03; p = p * x2 - 1.60960333262415e-02;
  var q = -1.45660718464996e-05;
  q = q * x2 - 2.13374055278905e-04; q = q * x2 - 1.68282697438203e-03; q = q * x2 - 7.37332916720468e-03;
  q = q * x2 - 1.42647390514189e-02;
  return (x * p) / q;
}`,
  },
  pow_: {
    deps: ['inf_', 'nan_', 'isnan_', 'isinf_'], code: `// C's pow (PyTorch's): WGSL's pow is exp2(y * log2(x)), undefined for x < 0. Integer exponents
// up to 64 multiply by squaring (exact signs, pow(-2, 2) = 4); 0, ±inf and NaN as C99 Annex F.
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (isnan_(x) || isnan_(y)) { return ${NAN}; }
  let ax = abs(x);
  let ay = abs(y);
  if (isinf_(y)) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, ${INF}, (ax > 1.0) == (y > 0.0));
  }
  let yint = trunc(y) == y;
  let odd = yint && ay < 16777216.0 && (u32(ay) & 1u) == 1u;
  let neg = odd && (bitcast<u32>(x) >> 31u) == 1u;
  var r: f32;
  if (ax == 0.0) {
    r = select(${INF}, 0.0, y > 0.0);
  } else if (isinf_(ax)) {
    r = select(0.0, ${INF}, y > 0.0);
  } else if (yint && ay <= 64.0) {
    var b = ax;
    var e = u32(ay);
    r = 1.0;
    loop {
      if ((e & 1u) != 0u) { r = r * b; }
      e = e >> 1u;
      if (e == 0u) { break; }
      b = b * b;
    }
    if (y < 0.0) { r = 1.0 / r; }
  } else {
    if (x < 0.0 && !yint) { return ${NAN}; }
    r = exp2(y * log2(ax));
  }
  return select(r, -r, neg);
}`,
  },
  // Lavapipe's atan family is off by ~2e-4 (WGSL allows 4096 ulp): Cephes' atanf, a few ulp.
  atan_: {
    deps: [], code: `fn atan_(x: f32) -> f32 {
  let ax = abs(x);
  var y = 0.0;
  var z = ax;
  if (ax > 2.414213562373095) { y = 1.5707963267948966; z = -1.0 / ax; }
  else if (ax > 0.4142135623730950) { y = 0.7853981633974483; z = (ax - 1.0) / (ax + 1.0); }
  let w = z * z;
  y = y + ((((8.05374449538e-2 * w - 1.38776856032e-1) * w + 1.99777106478e-1) * w - 3.33329491539e-1) * w * z + z);
  return select(y, -y, x < 0.0);
}`,
  },
  atan2_: {
    deps: ['atan_', 'isnan_', 'isinf_', 'nan_'], code: `// C's atan2, signed zeros and infinities included.
fn atan2_(y: f32, x: f32) -> f32 {
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  let xneg = (bitcast<u32>(x) >> 31u) == 1u;
  var a: f32;
  if (y == 0.0) { a = select(0.0, 3.141592653589793, xneg); }
  else if (isinf_(x) && isinf_(y)) { a = select(0.7853981633974483, 2.356194490192345, xneg); }
  else if (x == 0.0 || isinf_(y)) { a = 1.5707963267948966; }
  else if (isinf_(x)) { a = select(0.0, 3.141592653589793, xneg); }
  else {
    let ax = abs(x);
    let ay = abs(y);
    a = select(atan_(ay / ax), 1.5707963267948966 - atan_(ax / ay), ay > ax);
    if (xneg) { a = 3.141592653589793 - a; }
  }
  return select(a, -a, (bitcast<u32>(y) >> 31u) == 1u);
}`,
  },
  asin_: { deps: ['atan2_'], code: `fn asin_(x: f32) -> f32 { return atan2_(x, sqrt((1.0 - x) * (1.0 + x))); }` },
  acos_: { deps: ['atan2_'], code: `fn acos_(x: f32) -> f32 { return atan2_(sqrt((1.0 - x) * (1.0 + x)), x); }` },
  // Float to integer as x86 converts for PyTorch: truncation, the most negative int out of range.
  f2i32_: { deps: ['isnan_'], code: `fn f2i32_(x: f32) -> i32 { if (!isnan_(x) && x >= -2147483648.0 && x < 2147483648.0) { return i32(x); } return bitcast<i32>(0x80000000u); }` },
  f2u8_: { deps: ['isnan_'], code: `fn f2u8_(x: f32) -> i32 { if (!isnan_(x) && abs(x) < 2147483648.0) { return i32(x) & 255; } return 0; }` },
  f2i64_: {
    deps: ['isnan_'], code: `// The low word of the int64 truncation (0 out of range, the low word of the most negative int64).
fn f2i64_(x: f32) -> i32 {
  if (isnan_(x) || !(abs(x) < 9223372036854775808.0)) { return 0; }
  if (abs(x) < 2147483648.0) { return i32(x); }
  return bitcast<i32>(u32(x - 4294967296.0 * floor(x / 4294967296.0)));
}`,
  },
  f2h_: {
    deps: [], code: `// f32 -> float16 bits, round to nearest even (prelude.ts's f2h on u32).
fn f2h_(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let ex = i32((b >> 23u) & 0xffu);
  var mant = b & 0x7fffffu;
  if (ex == 255) { return sign | 0x7c00u | select(0u, 0x200u, mant != 0u); }
  let e = ex - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var h = mant >> shift;
    if (rest > half || (rest == half && (h & 1u) != 0u)) { h = h + 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) { h = h + 1u; }
  return sign | h;
}`,
  },
  h2f_: {
    deps: ['inf_', 'nan_'], code: `fn h2f_(h: u32) -> f32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { let v = f32(m) * 5.960464477539063e-8; return select(v, -v, s != 0u); }
  if (e == 31u) { return select(bitcast<f32>(s | 0x7f800000u), ${NAN}, m != 0u); }
  return bitcast<f32>(s | ((e + 112u) << 23u) | (m << 13u));
}`,
  },
  f2bf_: {
    deps: [], code: `fn f2bf_(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return ((b >> 16u) | 0x40u) & 0xffffu; }
  return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}`,
  },
  // A value rounded to what a half type holds (every op on a half type rounds).
  rh_: { deps: ['f2h_', 'h2f_'], code: `fn rh_(x: f32) -> f32 { return h2f_(f2h_(x)); }` },
  rbf_: { deps: ['f2bf_'], code: `fn rbf_(x: f32) -> f32 { return bitcast<f32>(f2bf_(x) << 16u); }` },
  // Integer % by 0 gives 0 as the CPU device does (PyTorch raises); i32 min % -1 is 0.
  ifmod_: { deps: [], code: `fn ifmod_(a: i32, b: i32) -> i32 { if (b == 0 || b == -1) { return 0; } return a % b; }` },
  irem_: {
    deps: ['ifmod_'], code: `// Python's modulo: the sign of the divisor.
fn irem_(a: i32, b: i32) -> i32 { let m = ifmod_(a, b); return select(m, m + b, m != 0 && ((m < 0) != (b < 0))); }`,
  },
  ffmod_: {
    deps: ['nan_', 'isnan_', 'isinf_'], code: `// C's fmod. WGSL's % is x - y * trunc(x / y), off by y where x / y rounds across an integer:
// fma gives the remainder of the truncated quotient, then one correction step.
fn ffmod_(a: f32, b: f32) -> f32 {
  if (isnan_(a) || isnan_(b) || isinf_(a) || b == 0.0) { return ${NAN}; }
  if (isinf_(b) || a == 0.0) { return a; }
  let ab = abs(b);
  let s = select(-1.0, 1.0, a > 0.0);
  var r = fma(-trunc(a / b), b, a);
  if (r != 0.0 && ((r < 0.0) != (a < 0.0))) { r = r + s * ab; }
  if (abs(r) >= ab) { r = r - s * ab; }
  if (r == 0.0) { return bitcast<f32>(bitcast<u32>(a) & 0x80000000u); }
  return r;
}`,
  },
  frem_: {
    deps: ['ffmod_'], code: `fn frem_(a: f32, b: f32) -> f32 { let m = ffmod_(a, b); return select(m, m + b, m != 0.0 && ((m < 0.0) != (b < 0.0))); }`,
  },
  mulhi_: {
    deps: [], code: `// The high word of a 32 x 32-bit product, from 16-bit halves (WGSL has no 64-bit integers).
fn mulhi_(a: u32, b: u32) -> u32 {
  let alo = a & 0xffffu; let ahi = a >> 16u; let blo = b & 0xffffu; let bhi = b >> 16u;
  let lolo = alo * blo; let hilo = ahi * blo; let lohi = alo * bhi;
  let mid = (hilo & 0xffffu) + (lohi & 0xffffu) + (lolo >> 16u);
  return ahi * bhi + (hilo >> 16u) + (lohi >> 16u) + (mid >> 16u);
}`,
  },
  philox2_: {
    deps: ['mulhi_'], code: `// Philox-2x32-10 as prelude.ts's philox2x32: both words of one evaluation at counter (c0, c1).
fn philox2_(key: u32, c0_: u32, c1_: u32) -> vec2<u32> {
  var k = key; var c0 = c0_; var c1 = c1_;
  for (var r = 0; r < 10; r = r + 1) {
    let lo = 0xd256d193u * c0;
    c0 = mulhi_(0xd256d193u, c0) ^ k ^ c1;
    c1 = lo;
    k = k + 0x9e3779b9u;
  }
  return vec2<u32>(c0, c1);
}`,
  },
  // The twin of cpu-workers/prelude.ts's normal2 (steps and constants: kernel/normal.ts): both
  // words of one draw to (r·cos, r·sin), in u32 arithmetic only, so the bits match the CPU's.
  nlog2frac_: {
    deps: ['mulhi_'], code: `fn nlog2frac_(x_: u32) -> u32 {
  var x = x_; var f = 0u;
  for (var i = 0; i < 31; i = i + 1) {
    let sq = mulhi_(x, x);
    if (sq >= 0x80000000u) { f = f * 2u + 1u; x = sq; } else { f = f * 2u; x = sq << 1u; }
  }
  return f;
}`,
  },
  nradius_: {
    deps: ['mulhi_', 'nlog2frac_'], code: `// (R, k): the radius is R · 2^-(k + 1).
fn nradius_(w0: u32) -> vec2<u32> {
  let m = w0 | 1u;
  let c = countLeadingZeros(m);
  var M: u32; var p: i32;
  if (c > 0u) { M = (c << 26u) + ((0x80000000u - nlog2frac_(m << c)) >> 5u); p = 26; }
  else {
    let d = 0u - m;
    if (d >= ${SERIES_BELOW}u) { M = 0x80000000u - nlog2frac_(m); p = 31; }
    else {
      let cz = countLeadingZeros(d);
      M = mulhi_(d << cz, mulhi_(0x80000000u + (d >> 2u), ${INV_LN2_Q31}u));
      p = 30 + i32(cz);
    }
  }
  var sh = i32(countLeadingZeros(M));
  if (((sh + p) & 1) != 0) { sh = sh - 1; }
  if (sh < 0) { M = M >> 1u; p = p - 1; sh = 0; } else { M = M << u32(sh); }
  let E = p + sh;
  var rem = 0u; var root = 0u;
  for (var i = 0u; i < 29u; i = i + 1u) {
    var two = 0u;
    if (i < 16u) { two = (M >> (30u - 2u * i)) & 3u; }
    rem = (rem << 2u) | two;
    let trial = (root << 2u) | 1u;
    if (rem >= trial) { rem = rem - trial; root = (root << 1u) | 1u; } else { root = root << 1u; }
  }
  return vec2<u32>(mulhi_(root << 3u, ${SQRT_2LN2_Q31}u), u32(14 + E / 2));
}`,
  },
  nscale_: {
    deps: ['mulhi_'], code: `fn nscale_(R: u32, mag: u32, neg: bool, k: u32) -> f32 {
  var Z = mulhi_(R, mag);
  let nb = 32u - countLeadingZeros(Z);
  if (nb > 24u) { let s = nb - 24u; Z = (((Z >> (s - 1u)) + 1u) >> 1u) << s; }
  let v = f32(Z) * bitcast<f32>((127u - k) << 23u);
  return select(v, -v, neg && Z != 0u);
}`,
  },
  normal2_: {
    deps: ['mulhi_', 'nradius_', 'nscale_'], code: `fn normal2_(w: vec2<u32>) -> vec2<f32> {
  let rk = nradius_(w.x);
  let v = w.y;
  let o = v >> 29u; let f = v & 0x1fffffffu;
  var g = f;
  if ((o & 1u) != 0u) { g = 0x20000000u - f; }
  let Y = g << 2u;
  let W = mulhi_(Y, Y) << 1u;
  var ac = ${COS_Q31[5]}u; var as_ = ${SIN_Q31[5]}u;
${[4, 3, 2, 1, 0].map((k) => `  ac = ${COS_Q31[k]}u - (mulhi_(W, ac) << 1u); as_ = ${SIN_Q31[k]}u - (mulhi_(W, as_) << 1u);`).join('\n')}
  let cp = ac; let sp = mulhi_(Y, as_) << 1u;
  let q = o >> 1u; let swap = ((q ^ o) & 1u) != 0u;
  return vec2<f32>(nscale_(rk.x, select(cp, sp, swap), q == 1u || q == 2u, rk.y),
                   nscale_(rk.x, select(sp, cp, swap), q >= 2u, rk.y));
}`,
  },
};

/** The helper names `code` calls (what wgslPrelude needs for it). */
export function helpersIn(code: string): Set<string> {
  const out = new Set<string>();
  for (const m of code.matchAll(/\b([a-z0-9]+_)\(/g)) if (m[1]! in HELPERS) out.add(m[1]!);
  return out;
}

/** The helpers named in `needs` and those they call, in dependency order. */
export function wgslPrelude(needs: Iterable<string>): string {
  const done = new Set<string>();
  const out: string[] = [];
  const add = (n: string): void => {
    if (done.has(n)) return;
    const h = HELPERS[n];
    if (!h) throw new Error(`internal: no WGSL helper ${n}`);
    done.add(n);
    h.deps.forEach(add);
    out.push(h.code);
  };
  for (const n of needs) add(n);
  return out.join('\n');
}

/**
 * The index-check helper of a kernel with an error record `err` (Kernel.indexChecks): the first
 * violation claims word 0 (check + 1) and writes the value to word 1; the read uses 0 instead.
 */
export function indexCheckWgsl(err: string): string {
  return `fn ix_(v: i32, hi: i32, code: i32) -> i32 {
  if (v >= 0 && v < hi) { return v; }
  loop {
    let r = atomicCompareExchangeWeak(&${err}[0], 0, code);
    if (r.exchanged) { atomicStore(&${err}[1], v); break; }
    if (r.old_value != 0) { break; }
  }
  return 0;
}`;
}
