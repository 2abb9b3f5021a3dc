/**
 * The ONNX form of every elementwise primitive of graph/ops.ts, one row each: the table is typed
 * `Record<ElementwiseOp, …>`, so an op added there does not compile until it has an export here.
 * Operands are computed in the dtype onnxruntime's CPU kernels take (computeType): half types in
 * float32, rounded back after each op as Born's kernels round them, small integers and bool in
 * int32, wrapped back on the cast as Born wraps them.
 */
import { isFloat, type DType } from '../../graph/dtype.js';
import { ops, type ElementwiseOp } from '../../graph/ops.js';
import { onnxTypeOf } from '../tensor-proto.js';
import type { GraphBuilder } from './builder.js';
import { ExportError } from './errors.js';

/** The operand dtype (of the value operands: where's branches) and the node's own. */
export interface Io { readonly inDtype: DType; readonly outDtype: DType }
type Compute = (b: GraphBuilder, xs: readonly string[], c: DType) => string;
type Emit = (b: GraphBuilder, xs: readonly string[], io: Io) => string;

/** The dtype onnxruntime computes arithmetic on `d` in. */
export function computeType(d: DType): DType {
  switch (d) {
    case 'float16': case 'bfloat16': return 'float32';
    case 'int8': case 'int16': case 'uint8': case 'bool': return 'int32';
    default: return d;
  }
}

export const castTo = (b: GraphBuilder, x: string, from: DType, to: DType): string =>
  (from === to ? x : b.op('Cast', [x], { to: onnxTypeOf(to) }));

/**
 * `f` on operands cast to the compute dtype: of the result for ops whose result has the operand
 * dtype or is a float (div of integers), of the operands for comparisons (whose bool result
 * needs no cast back).
 */
const widened = (op: ElementwiseOp, f: Compute): Emit => (b, xs, io) => {
  const compare = ops[op].dtype === 'bool';
  const c = computeType(compare ? io.inDtype : io.outDtype);
  const r = f(b, xs.map((x) => castTo(b, x, io.inDtype, c)), c);
  return compare ? r : castTo(b, r, c, io.outDtype);
};

const same = (type: string): Compute => (b, xs) => b.op(type, xs);
/** Floor, Ceil, Round: integers pass through, as in Born. */
const rounding = (type: string): Compute => (b, [x], c) => (isFloat(c) ? b.op(type, [x!]) : x!);
const lnOf = (k: number): Compute => (b, [x], c) => b.op('Mul', [b.op('Log', [x!]), b.scalar(1 / Math.log(k), c)]);

/** atan2(y, x) from atan(y / x) and the quadrant corrections (y = ±0 as Math.atan2 treats +0). */
const atan2: Compute = (b, [y, x], c) => {
  const zero = b.scalar(0, c), pi = b.scalar(Math.PI, c), half = b.scalar(Math.PI / 2, c);
  const base = b.op('Atan', [b.op('Div', [y!, x!])]);
  const yNeg = b.op('Less', [y!, zero]);
  const shift = b.op('Where', [yNeg, b.op('Neg', [pi]), pi]);
  const xNeg = b.op('Less', [x!, zero]), xZero = b.op('Equal', [x!, zero]);
  const onAxis = b.op('Where', [yNeg, b.op('Neg', [half]), b.op('Where', [b.op('Equal', [y!, zero]), zero, half])]);
  return b.op('Where', [xZero, onAxis, b.op('Where', [xNeg, b.op('Add', [base, shift]), base])]);
};

/** Python's modulo: the sign of the divisor (rem_ in the CPU prelude). */
const remainder: Compute = (b, [x, y], c) => {
  if (!isFloat(c)) return b.op('Mod', [x!, y!], { fmod: 0 });
  const m = b.op('Mod', [x!, y!], { fmod: 1 });
  const zero = b.scalar(0, c);
  const fix = b.op('And', [b.op('Not', [b.op('Equal', [m, zero])]), b.op('Xor', [b.op('Less', [m, zero]), b.op('Less', [y!, zero])])]);
  return b.op('Where', [fix, b.op('Add', [m, y!]), m]);
};

/** Bitwise ops: logical ones on bool; on integers the Bitwise* ops, which opset 18 added. */
const bitwise = (op: string, logical: string): Emit => (b, xs, io) => {
  if (io.inDtype === 'bool') return b.op(logical, xs);
  if (b.opset < 18) {
    throw new ExportError(`bitwise ${op.slice(7).toLowerCase()} of ${io.inDtype} tensors needs ONNX opset 18 or newer (Bitwise${op.slice(7)}); pass { opset: 18 }`);
  }
  return b.op(op, xs);
};

export const ELEMENTWISE: Record<ElementwiseOp, Emit> = {
  neg: widened('neg', same('Neg')),
  abs: widened('abs', same('Abs')),
  sign: widened('sign', same('Sign')),
  recip: widened('recip', same('Reciprocal')),
  exp: widened('exp', same('Exp')),
  log: widened('log', same('Log')),
  log1p: widened('log1p', (b, [x], c) => b.op('Log', [b.op('Add', [x!, b.scalar(1, c)])])),
  sqrt: widened('sqrt', same('Sqrt')),
  sin: widened('sin', same('Sin')),
  cos: widened('cos', same('Cos')),
  tanh: widened('tanh', same('Tanh')),
  erf: widened('erf', same('Erf')),
  relu: widened('relu', same('Relu')),
  floor: widened('floor', rounding('Floor')),
  not: (b, [x], io) => (io.inDtype === 'bool' ? b.op('Not', [x!])
    : b.op('Equal', [castTo(b, x!, io.inDtype, computeType(io.inDtype)), b.scalar(0, computeType(io.inDtype))])),

  add: widened('add', same('Add')),
  sub: widened('sub', same('Sub')),
  mul: widened('mul', same('Mul')),
  div: widened('div', same('Div')),
  pow: widened('pow', same('Pow')),
  maximum: widened('maximum', same('Max')),
  minimum: widened('minimum', same('Min')),
  eq: widened('eq', same('Equal')),
  ne: widened('ne', (b, xs) => b.op('Not', [b.op('Equal', xs)])),
  lt: widened('lt', same('Less')),
  le: widened('le', same('LessOrEqual')),
  // The condition arrives cast to bool (emit.ts); onnxruntime's Where takes branches of these dtypes.
  where: (b, [c, x, y], io) => {
    const t = ['float32', 'float64', 'int32', 'int64', 'uint8'].includes(io.inDtype) ? io.inDtype : computeType(io.inDtype);
    const r = b.op('Where', [c!, castTo(b, x!, io.inDtype, t), castTo(b, y!, io.inDtype, t)]);
    return castTo(b, r, t, io.outDtype);
  },

  tan: widened('tan', same('Tan')),
  asin: widened('asin', same('Asin')),
  acos: widened('acos', same('Acos')),
  atan: widened('atan', same('Atan')),
  sinh: widened('sinh', same('Sinh')),
  cosh: widened('cosh', same('Cosh')),
  log2: widened('log2', lnOf(2)),
  log10: widened('log10', lnOf(10)),
  expm1: widened('expm1', (b, [x], c) => b.op('Sub', [b.op('Exp', [x!]), b.scalar(1, c)])),
  atan2: widened('atan2', atan2),
  round: widened('round', rounding('Round')),
  ceil: widened('ceil', rounding('Ceil')),
  trunc: widened('trunc', (b, [x], c) => (isFloat(c)
    ? b.op('Where', [b.op('Less', [x!, b.scalar(0, c)]), b.op('Ceil', [x!]), b.op('Floor', [x!])]) : x!)),
  remainder: widened('remainder', remainder),
  fmod: widened('fmod', (b, xs) => b.op('Mod', xs, { fmod: 1 })),
  bitand: bitwise('BitwiseAnd', 'And'),
  bitor: bitwise('BitwiseOr', 'Or'),
  bitxor: bitwise('BitwiseXor', 'Xor'),
  bitnot: bitwise('BitwiseNot', 'Not'),
};
