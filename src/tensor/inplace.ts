/**
 * In-place ops (fill_, zero_, add_, sub_, mul_, div_, clamp_) on the core's store node, with
 * PyTorch's rules: the target keeps its shape (only the operand broadcasts) and its dtype (a
 * result that cannot be cast back, a float into an int tensor, is an error), the target's buffer
 * is written (views sharing it see the new values in schedules started afterwards, reads started
 * before see the old ones), and autodiff does not record them, so a tensor that requires grad
 * (or an operand that does) is refused unless gradients are off (noGrad).
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { gradMode } from '../graph/node.js';
import { describeArg, isPlainObject, options } from './args.js';
import { assignAll, ensureBuffer } from './assign.js';
import { broadcastTo, cast, full } from './make.js';
import * as E from './elementwise.js';
import { Tensor } from './tensor.js';

export type InPlaceOperand = Tensor | number | boolean;

/** An operand as every elementwise op takes it (a nested array becomes a tensor on t's device). */
const operand = (op: string, y: unknown, t: Tensor): InPlaceOperand => E.operand(op, y, t.device);

/** The operand must broadcast to the target's shape: the target never grows. */
function checkBroadcast(op: string, t: Tensor, operands: readonly unknown[]): void {
  for (const y of operands) {
    if (!(y instanceof Tensor)) continue;
    const off = t.ndim - y.ndim;
    if (off < 0 || y.shape.some((d, i) => d !== 1 && d !== t.shape[off + i])) {
      throw new ShapeError(`${op}: an operand of shape ${fmt(y.shape)} does not broadcast to the target's shape ${fmt(t.shape)} ` +
        '(an in-place op keeps the target\'s shape: only the operand broadcasts, its sizes matching or 1)');
    }
  }
}

function checkGrad(op: string, t: Tensor, operands: readonly unknown[]): void {
  checkBroadcast(op, t, operands);
  if (!gradMode.enabled) return;
  if (t.requiresGrad) {
    throw new Error(`${op}: the tensor of shape ${fmt(t.shape)} requires grad, and in-place ops are not recorded for autodiff ` +
      `(as PyTorch refuses them on leaves): update it inside born.noGrad(() => …), or use the out-of-place op (x = x.${op.slice(0, -1)}(…))`);
  }
  if (operands.some((o) => o instanceof Tensor && o.requiresGrad)) {
    throw new Error(`${op}: the operand requires grad, and in-place ops are not recorded for autodiff: ` +
      `use the out-of-place op (x.${op.slice(0, -1)}(…)) to keep the gradient, or run it inside born.noGrad(() => …)`);
  }
}

/** PyTorch's can_cast: no float into an integer or bool tensor, no integer into a bool tensor. */
function castsInto(from: DType, to: DType): boolean {
  if (isFloat(from)) return isFloat(to);
  if (from !== 'bool') return to !== 'bool';
  return true;
}

/** Writes `value` (computed from t and the operands) into t's buffer, after PyTorch's shape and dtype checks. */
function write(op: string, t: Tensor, value: Tensor): Tensor {
  if (value.shape.length !== t.shape.length || value.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(`${op}: the result has shape ${fmt(value.shape)}, but an in-place op keeps the target's shape ${fmt(t.shape)} ` +
      '(only the operand broadcasts)');
  }
  if (!castsInto(value.dtype, t.dtype)) {
    throw new DTypeError(`${op}: the result type ${value.dtype} can't be cast to the target's dtype ${t.dtype} ` +
      `(a float result needs a float target, an integer one a non-bool target): convert the target first (x = x.to('${value.dtype}'))`);
  }
  ensureBuffer(t, op);
  assignAll([[t, cast(value, t.dtype)]]).catch(() => {}); // a failure surfaces when t is read
  return t;
}

/** t = value everywhere (the value cast to t's dtype, as PyTorch's fill_). */
export function fill(t: Tensor, value: unknown, op: 'fill_' | 'zero_' = 'fill_'): Tensor {
  const v = operand(op, value, t);
  if (v instanceof Tensor && v.ndim !== 0) throw new ShapeError(`${op}: the value must be a number or a 0-d tensor, got a tensor of shape ${fmt(v.shape)}`);
  checkGrad(op, t, [v]);
  const filled = v instanceof Tensor ? broadcastTo(cast(v, t.dtype), t.shape) : full(t.shape, Number(v), t.dtype);
  ensureBuffer(t, op);
  assignAll([[t, filled]]).catch(() => {});
  return t;
}

/** add_ / sub_: t ± alpha · y. */
export function addSub(op: 'add_' | 'sub_', t: Tensor, y: unknown, opts: unknown): Tensor {
  const v = operand(op, y, t);
  const alphaOpts = isPlainObject(opts) || opts === undefined ? options<{ alpha?: number }>(op, opts, ['alpha']) : { alpha: opts as number };
  const alpha = alphaOpts.alpha ?? 1;
  if (typeof alpha !== 'number') throw new TypeError(`${op}: alpha must be a number, got ${describeArg(alpha)}`);
  if (!Number.isInteger(alpha) && !isFloat(t.dtype)) {
    throw new DTypeError(`${op}: a non-integer alpha ${alpha} cannot be used with a ${t.dtype} tensor (as in PyTorch)`);
  }
  checkGrad(op, t, [v]);
  const scaled = alpha === 1 ? v : v instanceof Tensor ? v.mul(alpha) : Number(v) * alpha;
  return write(op, t, op === 'add_' ? t.add(scaled) : t.sub(scaled));
}

/** mul_ / div_: t · y, t / y (true division: a float result, so div_ needs a float target). */
export function mulDiv(op: 'mul_' | 'div_', t: Tensor, y: unknown): Tensor {
  const v = operand(op, y, t);
  checkGrad(op, t, [v]);
  return write(op, t, op === 'mul_' ? t.mul(v) : t.div(v));
}

export interface ClampOptions { min?: number | Tensor; max?: number | Tensor }

/** clamp_(min, max) or clamp_({ min, max }): t limited to [min, max]. */
export function clampInPlace(t: Tensor, minOrOpts: unknown, max: unknown): Tensor {
  const o = isPlainObject(minOrOpts)
    ? (max !== undefined
      ? (() => { throw new TypeError('clamp_: pass max inside the options object or positionally, not both'); })()
      : options<ClampOptions>('clamp_', minOrOpts, ['min', 'max']))
    : { min: minOrOpts, max } as { min?: unknown; max?: unknown };
  const lo = o.min === undefined || o.min === null ? undefined : operand('clamp_', o.min, t);
  const hi = o.max === undefined || o.max === null ? undefined : operand('clamp_', o.max, t);
  if (lo === undefined && hi === undefined) throw new TypeError(`clamp_: give at least one of min and max (tensor of shape ${fmt(t.shape)})`);
  checkGrad('clamp_', t, [lo, hi]);
  const num = (v: InPlaceOperand | undefined): number | Tensor | undefined => (typeof v === 'boolean' ? Number(v) : v);
  return write('clamp_', t, t.clamp({ ...(lo === undefined ? {} : { min: num(lo)! }), ...(hi === undefined ? {} : { max: num(hi)! }) }));
}
