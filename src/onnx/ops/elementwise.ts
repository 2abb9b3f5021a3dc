/**
 * ONNX elementwise ops: arithmetic, math, activations, comparisons, logic, Where, Clip, Cast,
 * Identity. Integer/bool inputs known on the host compute on the host (shape arithmetic); the rest
 * records Born tensor ops. Inputs share a dtype (ONNX's type constraints), so Born's promotion never
 * changes a result type except where noted (integer Div, Pow).
 */
import { isFloat, isInt, type DType } from '../../graph/dtype.js';
import { where } from '../../tensor/elementwise.js';
import { full } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { hostable, hostMap, wideFloat } from '../host.js';
import { bornDType } from '../tensor-proto.js';
import { register, registerAny, type Build, type OpContext, type Value } from './registry.js';

type Num2 = (a: number, b: number) => number;

/**
 * Before opset 7, `broadcast=1, axis=k` aligned B's dims with A's starting at k (not at the end, as
 * numpy does): B gets trailing 1s so numpy's rule gives the same result.
 */
function legacyAligned(ctx: OpContext, a: Tensor, b: Tensor): Tensor {
  if (ctx.opset >= 7 || !ctx.attr.has('axis') || ctx.attr.int('broadcast', 0) !== 1) return b;
  const axis = ctx.attr.int('axis');
  const k = axis < 0 ? axis + a.ndim : axis;
  const pad = a.ndim - k - b.ndim;
  if (pad < 0) ctx.fail(`B of shape [${b.shape.join(', ')}] does not fit A's dims from axis ${axis}`);
  return pad ? b.reshape([...b.shape, ...Array<number>(pad).fill(1)]) : b;
}

/** A binary op: on the host when both are small integer host values and `h` is given, else on tensors. */
function binary(f: (a: Tensor, b: Tensor, ctx: OpContext) => Tensor, h?: Num2, out?: (d: DType) => DType): Build {
  return (ctx, ins) => {
    const a = ins[0], b = ins[1];
    if (h && hostable([a, b]) && !(ctx.opset < 7 && ctx.attr.has('axis'))) {
      const r = hostMap([a, b] as never, out ? out(a!.dtype) : a!.dtype, h);
      if (r) return [r];
    }
    const x = ctx.tensor(0);
    return [f(x, legacyAligned(ctx, x, ctx.tensor(1)), ctx)];
  };
}

function unary(f: (x: Tensor, ctx: OpContext) => Tensor, h?: (x: number) => number): Build {
  return (ctx, ins) => {
    if (h && hostable([ins[0]])) return [hostMap([ins[0]] as never, ins[0]!.dtype, h)!];
    return [f(ctx.tensor(0), ctx)];
  };
}

const float = (ctx: OpContext, x: Tensor, op: string): Tensor => (isFloat(x.dtype) ? x : ctx.fail(`${op} takes float tensors, got ${x.dtype}`));
/** The dtype ONNX keeps: Born's promotion may have widened an integer result to float. */
const keep = (t: Tensor, d: DType): Tensor => (t.dtype === d ? t : t.to(d));

// ---- arithmetic ----
register('Add', 1, binary((a, b) => a.add(b), (a, b) => a + b));
register('Sub', 1, binary((a, b) => a.sub(b), (a, b) => a - b));
register('Mul', 1, binary((a, b) => a.mul(b), (a, b) => a * b));
/** Integer Div truncates toward zero (C's rule), computed in float64 where the device has it (exact for |x| <= 2^53). */
register('Div', 1, binary((a, b) => (isFloat(a.dtype) ? a.div(b) : a.to(wideFloat(a)).div(b.to(wideFloat(a))).trunc().to(a.dtype)), (a, b) => Math.trunc(a / b)));
register('Pow', 1, binary((a, b) => keep(a.pow(b), a.dtype)));
register('Mod', 10, (ctx, ins) => {
  const fmod = ctx.attr.int('fmod', 0) === 1;
  if (!fmod && ins[0] && isFloat(ins[0].dtype)) ctx.fail('fmod=0 takes integer tensors (floats need fmod=1)');
  const h: Num2 = fmod ? (a, b) => a % b : (a, b) => { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; };
  return binary((a, b) => (fmod ? a.fmod(b) : a.remainder(b)), h)(ctx, ins);
});
register('Neg', 1, unary((x) => x.neg(), (x) => -x));
register('Abs', 1, unary((x) => x.abs(), Math.abs));
register('Sign', 9, unary((x) => x.sign(), Math.sign));
register('Reciprocal', 1, unary((x, c) => float(c, x, 'Reciprocal').reciprocal()));
register('Sqrt', 1, unary((x, c) => float(c, x, 'Sqrt').sqrt()));
register('Exp', 1, unary((x, c) => float(c, x, 'Exp').exp()));
register('Log', 1, unary((x, c) => float(c, x, 'Log').log()));
register('Erf', 9, unary((x) => keep(x.erf(), x.dtype)));
register('Floor', 1, unary((x) => x.floor()));
register('Ceil', 1, unary((x) => x.ceil()));
register('Round', 11, unary((x) => x.round()));
for (const op of ['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh'] as const) {
  const name = op[0]!.toUpperCase() + op.slice(1);
  register(name, name.endsWith('h') ? 9 : 7, unary((x, c) => float(c, x, name)[op]()));
}
// The inverse hyperbolics through logs: Born has no primitive for them.
register('Asinh', 9, unary((x, c) => { const v = float(c, x, 'Asinh'); return v.add(v.mul(v).add(1).sqrt()).log(); }));
register('Acosh', 9, unary((x, c) => { const v = float(c, x, 'Acosh'); return v.add(v.mul(v).sub(1).sqrt()).log(); }));
register('Atanh', 9, unary((x, c) => { const v = float(c, x, 'Atanh'); return v.add(1).div(v.neg().add(1)).log().mul(0.5); }));

// ---- activations ----
register('Sigmoid', 1, unary((x, c) => float(c, x, 'Sigmoid').sigmoid()));
register('Tanh', 1, unary((x, c) => float(c, x, 'Tanh').tanh()));
register('Relu', 1, unary((x) => x.relu()));
register('LeakyRelu', 1, unary((x, c) => float(c, x, 'LeakyRelu').leakyRelu(c.attr.float('alpha', 0.01))));
register('Elu', 1, unary((x, c) => float(c, x, 'Elu').elu(c.attr.float('alpha', 1))));
register('Celu', 12, unary((x, c) => float(c, x, 'Celu').celu(c.attr.float('alpha', 1))));
register('Selu', 1, unary((x, c) => {
  const alpha = c.attr.float('alpha', 1.67326319217681884765625), gamma = c.attr.float('gamma', 1.05070102214813232421875);
  const v = float(c, x, 'Selu');
  return where(v.gt(0), v, v.exp().sub(1).mul(alpha)).mul(gamma);
}));
register('HardSigmoid', 1, unary((x, c) => float(c, x, 'HardSigmoid').mul(c.attr.float('alpha', 0.2)).add(c.attr.float('beta', 0.5)).clamp(0, 1)));
register('HardSwish', 14, unary((x, c) => float(c, x, 'HardSwish').hardswish()));
register('Softplus', 1, unary((x, c) => { const v = float(c, x, 'Softplus'); return v.exp().add(1).log(); }));
register('Softsign', 1, unary((x, c) => { const v = float(c, x, 'Softsign'); return v.div(v.abs().add(1)); }));
register('ThresholdedRelu', 10, unary((x, c) => { const v = float(c, x, 'ThresholdedRelu'); return where(v.gt(c.attr.float('alpha', 1)), v, 0); }));
// Before opset 7 a 1-D slope of C values applies along dim 1 (channels).
register('PRelu', 1, binary((x, s, ctx) => {
  const slope = ctx.opset < 7 && s.ndim === 1 && x.ndim > 2 && s.shape[0] === x.shape[1] && s.shape[0] !== 1 ? s.reshape([s.shape[0]!, ...Array<number>(x.ndim - 2).fill(1)]) : s;
  return where(x.lt(0), x.mul(slope), x);
}));

// ---- variadic ----
function variadic(f: (a: Tensor, b: Tensor) => Tensor, h?: Num2, finish?: (t: Tensor, n: number) => Tensor): Build {
  return (ctx, ins) => {
    if (!ins.length) ctx.fail('needs at least one input');
    if (h && hostable(ins) && !finish) {
      let acc: Value = ins[0]!;
      for (const v of ins.slice(1)) acc = hostMap([acc, v] as never, acc.dtype, h)!;
      if (acc) return [acc];
    }
    let t = ctx.tensor(0);
    for (let i = 1; i < ins.length; i++) t = f(t, ctx.tensor(i));
    return [finish ? finish(t, ins.length) : ins.length === 1 ? t.clone() : t];
  };
}
register('Max', 1, variadic((a, b) => a.maximum(b), Math.max));
register('Min', 1, variadic((a, b) => a.minimum(b), Math.min));
register('Sum', 1, variadic((a, b) => a.add(b), (a, b) => a + b));
register('Mean', 1, variadic((a, b) => a.add(b), undefined, (t, n) => t.div(n)));

// ---- comparisons and logic (bool results) ----
const b2 = (p: (a: number, b: number) => boolean): Num2 => (a, b) => (p(a, b) ? 1 : 0);
register('Equal', 1, binary((a, b) => a.eq(b), b2((a, b) => a === b), () => 'bool'));
register('Less', 1, binary((a, b) => a.lt(b), b2((a, b) => a < b), () => 'bool'));
register('LessOrEqual', 12, binary((a, b) => a.le(b), b2((a, b) => a <= b), () => 'bool'));
register('Greater', 1, binary((a, b) => a.gt(b), b2((a, b) => a > b), () => 'bool'));
register('GreaterOrEqual', 12, binary((a, b) => a.ge(b), b2((a, b) => a >= b), () => 'bool'));
register('And', 1, binary((a, b) => a.logicalAnd(b), b2((a, b) => !!a && !!b)));
register('Or', 1, binary((a, b) => a.logicalOr(b), b2((a, b) => !!a || !!b)));
register('Xor', 1, binary((a, b) => a.logicalXor(b), b2((a, b) => !!a !== !!b)));
register('Not', 1, unary((x) => x.logicalNot(), (x) => (x ? 0 : 1)));
// Opset 18's bitwise family: integers (and bool, as Born's bitwise ops keep it) on tensors only,
// so int64 values beyond 2^31 keep every bit (host numbers would go through int32).
register('BitwiseAnd', 18, binary((a, b) => a.bitwiseAnd(b)));
register('BitwiseOr', 18, binary((a, b) => a.bitwiseOr(b)));
register('BitwiseXor', 18, binary((a, b) => a.bitwiseXor(b)));
register('BitwiseNot', 18, unary((x) => x.bitwiseNot()));
register('IsNaN', 9, unary((x) => x.isnan()));
register('IsInf', 10, unary((x, c) => {
  const neg = c.attr.int('detect_negative', 1) === 1, pos = c.attr.int('detect_positive', 1) === 1;
  if (neg && pos) return x.isinf();
  if (!neg && !pos) return full(x.shape, false, { dtype: 'bool', device: x.device });
  return x.isinf().logicalAnd(pos ? x.gt(0) : x.lt(0));
}));
/** Shifts of unsigned integers as multiplication / floor division by powers of two (exact to 2^53). */
register('BitShift', 11, (ctx, ins) => {
  const left = ctx.attr.string('direction') === 'LEFT';
  if (ins[0] && !isInt(ins[0].dtype)) ctx.fail(`takes unsigned integer tensors, got ${ins[0].dtype}`);
  return binary((a, b) => {
    const f = full([], 2, { dtype: wideFloat(a), device: a.device }).pow(b.to(wideFloat(a)));
    const x = a.to(wideFloat(a));
    return (left ? x.mul(f) : x.div(f).floor()).to(a.dtype);
  }, left ? (a, b) => a * 2 ** b : (a, b) => Math.floor(a / 2 ** b))(ctx, ins);
});

register('Where', 9, (ctx, ins) => {
  if (hostable(ins)) {
    const r = hostMap(ins as never, ins[1]!.dtype, (c, a, b) => (c ? a : b));
    if (r) return [r];
  }
  return [where(ctx.tensor(0), ctx.tensor(1), ctx.tensor(2))];
});

// ---- Clip: bounds as attributes before opset 11, optional inputs from 11 ----
register('Clip', [
  [1, (ctx) => [ctx.tensor(0).clamp(ctx.attr.float('min', -Infinity), ctx.attr.float('max', Infinity))]],
  [11, (ctx) => {
    const x = ctx.tensor(0);
    const lo = ctx.has(1) ? ctx.tensor(1) : undefined, hi = ctx.has(2) ? ctx.tensor(2) : undefined;
    if (!lo && !hi) return [x.clone()];
    return [keep(x.clamp(lo, hi), x.dtype)];
  }],
]);

// ---- Cast, CastLike, Identity ----
/** Cast's `to`: a DataType number (opset 6+) or, before opset 6, its name. */
function castTarget(ctx: OpContext): DType {
  if (ctx.opset < 6) {
    const name = ctx.attr.string('to');
    const num = ({ FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13 } as Record<string, number>)[name.toUpperCase()];
    return bornDType(num, 'Cast\'s target');
  }
  return bornDType(ctx.attr.int('to'), 'Cast\'s target');
}
function castTo(ctx: OpContext, v: Value, to: DType): Value {
  if (hostable([v])) return hostMap([v] as never, to, (x) => x)!;
  const t = ctx.tensorOf(v, 0);
  return t.dtype === to ? t : t.to(to);
}
register('Cast', 1, (ctx, [x]) => [castTo(ctx, x ?? ctx.fail('input 0 is required'), castTarget(ctx))]);
register('CastLike', 15, (ctx, [x, like]) => [castTo(ctx, x ?? ctx.fail('input 0 is required'), (like ?? ctx.fail('input 1 is required')).dtype)]);
// Identity passes sequences and optionals through too (opset 14+ and 16+ types).
registerAny('Identity', 1, (ctx, [x]) => [x ?? ctx.fail('input 0 is required')]);
