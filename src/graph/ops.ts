/**
 * The op table: every elementwise primitive is one row, with its arity, dtype rule and the scalar
 * expression each code generator prints (JS for the CPU device, WGSL for WebGPU). Nothing else in
 * the code base lists elementwise ops. Reductions, views, sources, matmul and gather are structural
 * (they shape loops, not expressions) and live in node.ts.
 */
import { isFloat, type DType } from './dtype.js';

type Print1 = (a: string, dtype: DType) => string;
type Print2 = (a: string, b: string, dtype: DType) => string;
type Print3 = (a: string, b: string, c: string, dtype: DType) => string;

/** How the result dtype follows from the (already promoted) input dtype. */
export type DTypeRule = 'same' | 'bool' | 'float';

export interface UnaryDef { arity: 1; js: Print1; wgsl: Print1; dtype: DTypeRule; floatOnly?: boolean; flops: number }
export interface BinaryDef { arity: 2; js: Print2; wgsl: Print2; dtype: DTypeRule; flops: number }
export interface TernaryDef { arity: 3; js: Print3; wgsl: Print3; dtype: DTypeRule; flops: number }
export type OpDef = UnaryDef | BinaryDef | TernaryDef;

const unary = (d: Omit<UnaryDef, 'arity' | 'dtype' | 'flops'> & { dtype?: DTypeRule; flops?: number }): UnaryDef =>
  ({ arity: 1, dtype: 'same', flops: 1, ...d });
const binary = (d: Omit<BinaryDef, 'arity' | 'dtype' | 'flops'> & { dtype?: DTypeRule; flops?: number }): BinaryDef =>
  ({ arity: 2, dtype: 'same', flops: 1, ...d });
const floatUnary = (js: string, wgsl: string, flops = 8): UnaryDef =>
  unary({ js: (a) => `${js}(${a})`, wgsl: (a) => `${wgsl}(${a})`, floatOnly: true, flops });
// WGSL: the result is a bool (u32 0/1). ne is the negation of an ordered ==, so NaN != NaN holds
// without relying on unordered compares (WGSL may assume there are no NaNs).
const compare = (sym: string, wgsl: (a: string, b: string) => string): BinaryDef =>
  binary({ js: (a, b) => `(${a} ${sym} ${b} ? 1 : 0)`, wgsl, dtype: 'bool' });

/**
 * The WGSL compute type class of a dtype (see devices/webgpu/wgsl/storage-wgsl.ts): floats in
 * f32, bool in u32, integers in i32. WGSL printers receive their input dtype and pick overloads by it;
 * the helpers they call (max_, pow_, erf32_, ...) live in devices/webgpu/wgsl/prelude.ts.
 */
const wk = (d: DType): 'f' | 'i' | 'u' => (isFloat(d) ? 'f' : d === 'bool' ? 'u' : 'i');
/** By compute type: a float form, an integer form, and a bool form (default: the integer one). */
const byType = (d: DType, f: string, i: string, u: string = i): string => { const k = wk(d); return k === 'f' ? f : k === 'i' ? i : u; };

export const ops = {
  neg: unary({ js: (a) => `(-${a})`, wgsl: (a, d) => byType(d, `(-${a})`, `(-${a})`, a) }),
  abs: unary({ js: (a) => `Math.abs(${a})`, wgsl: (a, d) => byType(d, `abs(${a})`, `abs(${a})`, a) }),
  sign: unary({ js: (a) => `Math.sign(${a})`, wgsl: (a, d) => byType(d, `sign_(${a})`, `select(select(0i, 1i, ${a} > 0i), -1i, ${a} < 0i)`, a) }),
  recip: unary({ js: (a) => `(1 / ${a})`, wgsl: (a) => `(1.0 / ${a})`, floatOnly: true }),
  exp: floatUnary('Math.exp', 'exp'),
  log: floatUnary('Math.log', 'log'),
  log1p: unary({ js: (a) => `Math.log1p(${a})`, wgsl: (a) => `log(1.0 + ${a})`, floatOnly: true, flops: 8 }),
  sqrt: floatUnary('Math.sqrt', 'sqrt', 2),
  sin: floatUnary('Math.sin', 'sin'),
  cos: floatUnary('Math.cos', 'cos'),
  tanh: floatUnary('Math.tanh', 'tanh'),
  // float32 kernels use a rational approximation (no transcendental call); float64 a series
  // accurate to ~1e-15, because float64 exists for finite-difference gradient checks.
  erf: unary({
    js: (a, d) => (d === 'float64' ? `erf64(${a})` : `erf32(${a})`),
    wgsl: (a) => `erf32_(${a})`, floatOnly: true, flops: 16,
  }),
  // A primitive rather than maximum(x, 0): its gradient reads only the output (what PyTorch keeps),
  // and is 0 at 0 as in PyTorch.
  relu: unary({ js: (a) => `(${a} > 0 || ${a} !== ${a} ? ${a} : 0)`, wgsl: (a, d) => byType(d, `select(0.0f, ${a}, ${a} > 0.0f || isnan_(${a}))`, `max(${a}, 0i)`, a) }),
  floor: unary({ js: (a) => `Math.floor(${a})`, wgsl: (a, d) => byType(d, `floor(${a})`, a) }),
  // WGSL: a NaN counts as true, so not(NaN) is 0 as in PyTorch (the JS form gives 1).
  not: unary({ js: (a) => `(${a} ? 0 : 1)`, wgsl: (a, d) => byType(d, `select(0u, 1u, ${a} == 0.0f)`, `select(0u, 1u, ${a} == 0i)`, `(${a} ^ 1u)`), dtype: 'bool' }),

  add: binary({ js: (a, b) => `(${a} + ${b})`, wgsl: (a, b) => `(${a} + ${b})` }),
  sub: binary({ js: (a, b) => `(${a} - ${b})`, wgsl: (a, b) => `(${a} - ${b})` }),
  mul: binary({ js: (a, b, d) => (d === 'int32' ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`), wgsl: (a, b) => `(${a} * ${b})` }),
  div: binary({ js: (a, b) => `(${a} / ${b})`, wgsl: (a, b) => `(${a} / ${b})`, dtype: 'float' }),
  pow: binary({ js: (a, b) => `Math.pow(${a}, ${b})`, wgsl: (a, b) => `pow_(${a}, ${b})`, dtype: 'float', flops: 8 }),
  maximum: binary({ js: (a, b) => `max_(${a}, ${b})`, wgsl: (a, b, d) => byType(d, `max_(${a}, ${b})`, `max(${a}, ${b})`) }),
  minimum: binary({ js: (a, b) => `min_(${a}, ${b})`, wgsl: (a, b, d) => byType(d, `min_(${a}, ${b})`, `min(${a}, ${b})`) }),
  eq: compare('===', (a, b) => `select(0u, 1u, ${a} == ${b})`),
  ne: compare('!==', (a, b) => `select(1u, 0u, ${a} == ${b})`),
  lt: compare('<', (a, b) => `select(0u, 1u, ${a} < ${b})`),
  le: compare('<=', (a, b) => `select(0u, 1u, ${a} <= ${b})`),

  where: {
    arity: 3, dtype: 'same', flops: 1,
    js: (c, a, b) => `(${c} ? ${a} : ${b})`,
    wgsl: (c, a, b) => `select(${b}, ${a}, ${c} != 0u)`,
  } satisfies TernaryDef,

  // ---- more math ----
  // Each a Math call of its own rather than a composite: one rounding (log2(8) is exactly 3,
  // expm1 keeps its digits near 0 where exp(x) - 1 loses them), and WGSL has most as builtins.
  tan: floatUnary('Math.tan', 'tan'),
  asin: floatUnary('Math.asin', 'asin_'),
  acos: floatUnary('Math.acos', 'acos_'),
  atan: floatUnary('Math.atan', 'atan_'),
  sinh: floatUnary('Math.sinh', 'sinh'),
  cosh: floatUnary('Math.cosh', 'cosh'),
  log2: floatUnary('Math.log2', 'log2'),
  log10: unary({ js: (a) => `Math.log10(${a})`, wgsl: (a) => `(log2(${a}) * 0.3010299956639812)`, floatOnly: true, flops: 8 }),
  expm1: unary({ js: (a) => `Math.expm1(${a})`, wgsl: (a) => `(exp(${a}) - 1.0)`, floatOnly: true, flops: 8 }),
  atan2: binary({ js: (a, b) => `Math.atan2(${a}, ${b})`, wgsl: (a, b) => `atan2_(${a}, ${b})`, dtype: 'float', flops: 8 }),
  // Half to even, as PyTorch (std::nearbyint) and WGSL's round; integers pass through unchanged.
  round: unary({ js: (a) => `rne_(${a})`, wgsl: (a, d) => byType(d, `round(${a})`, a), flops: 2 }),
  ceil: unary({ js: (a) => `Math.ceil(${a})`, wgsl: (a, d) => byType(d, `ceil(${a})`, a) }),
  trunc: unary({ js: (a) => `Math.trunc(${a})`, wgsl: (a, d) => byType(d, `trunc(${a})`, a) }),
  // Python's modulo (the sign of the divisor) and C's fmod (the sign of the dividend).
  remainder: binary({ js: (a, b) => `rem_(${a}, ${b})`, wgsl: (a, b, d) => byType(d, `frem_(${a}, ${b})`, `irem_(${a}, ${b})`), flops: 3 }),
  fmod: binary({ js: (a, b) => `(${a} % ${b})`, wgsl: (a, b, d) => byType(d, `ffmod_(${a}, ${b})`, `ifmod_(${a}, ${b})`), flops: 2 }),
  // Integers and bool only (callers refuse floats). int64 values beyond int32 go through BigInt.
  bitand: binary({ js: (a, b, d) => (d === 'int64' ? `band64_(${a}, ${b})` : `(${a} & ${b})`), wgsl: (a, b) => `(${a} & ${b})` }),
  bitor: binary({ js: (a, b, d) => (d === 'int64' ? `bor64_(${a}, ${b})` : `(${a} | ${b})`), wgsl: (a, b) => `(${a} | ${b})` }),
  bitxor: binary({ js: (a, b, d) => (d === 'int64' ? `bxor64_(${a}, ${b})` : `(${a} ^ ${b})`), wgsl: (a, b) => `(${a} ^ ${b})` }),
  // ~x = -x - 1 is exact for every integer a kernel holds (int64 too); on bool it is logical not.
  bitnot: unary({
    js: (a, d) => (d === 'bool' ? `(${a} ^ 1)` : d === 'int64' ? `(-${a} - 1)` : `(~${a})`),
    wgsl: (a, d) => (d === 'bool' ? `(${a} ^ 1u)` : `(~${a})`),
  }),
} satisfies Record<string, OpDef>;

export type ElementwiseOp = keyof typeof ops;
export type UnaryOp = { [K in ElementwiseOp]: (typeof ops)[K] extends UnaryDef ? K : never }[ElementwiseOp];
export type BinaryOp = { [K in ElementwiseOp]: (typeof ops)[K] extends BinaryDef ? K : never }[ElementwiseOp];

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';
export const reduceIdentity: Record<ReduceOp, number> = { sum: 0, max: -Infinity, min: Infinity, prod: 1 };

/**
 * Per-row ops over the last dim (the 'row' node kind, RowSpec in kernel/ir.ts): inclusive scans,
 * and stable argsorts ascending or descending.
 */
export type RowOp = 'cumsum' | 'cumprod' | 'argsort' | 'argsortDescending';
