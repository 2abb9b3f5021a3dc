// PyTorch golden values, result dtypes and gradients (test/fixtures/math.json, written by
// test/fixtures/gen_math.py from torch 1.13) for the elementwise math ops: trigonometric and
// hyperbolic functions, logarithms, rounding, remainders, predicates, logical and bitwise ops,
// lerp, maskedFill, where as a method and the closeness tests; then call forms and bad input.
import { describe, expect, expectTypeOf, test } from 'vitest';
import * as born from '../src/index.js';
import { jsPrelude } from '../src/devices/cpu-workers/prelude.js';
import { ops } from '../src/graph/ops.js';
import type { Tensor } from './reference/check.js';
import { decode, expectGrads, expectMatches, gradsOf, inputsOf, mathCases, toTensor, type MathCase } from './reference/math-fixture.js';

type Ins = Record<string, Tensor>;
type P = Record<string, unknown>;
const other = (i: Ins, p: P): Tensor | number => i.y ?? (p.other as number);
const tol = (p: P) => ({ rtol: p.rtol as number | undefined, atol: p.atol as number | undefined, equalNan: p.equalNan as boolean | undefined });
const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Born's form of each op in the fixture. */
const OPS: Record<string, (i: Ins, p: P) => Tensor> = {
  tan: (i) => i.x!.tan(), asin: (i) => i.x!.asin(), acos: (i) => i.x!.acos(), atan: (i) => i.x!.atan(),
  sinh: (i) => i.x!.sinh(), cosh: (i) => i.x!.cosh(), log2: (i) => i.x!.log2(), log10: (i) => i.x!.log10(),
  expm1: (i) => i.x!.expm1(), square: (i) => i.x!.square(),
  round: (i, p) => (p.decimals === undefined ? i.x!.round() : i.x!.round({ decimals: p.decimals as number })),
  ceil: (i) => i.x!.ceil(), trunc: (i) => i.x!.trunc(),
  atan2: (i) => i.x!.atan2(i.y!),
  remainder: (i, p) => i.x!.remainder(other(i, p)), fmod: (i, p) => i.x!.fmod(other(i, p)),
  isnan: (i, _p) => i.x!.isnan(), isinf: (i) => i.x!.isinf(), isfinite: (i) => i.x!.isfinite(),
  logicalAnd: (i, p) => i.x!.logicalAnd(other(i, p)), logicalOr: (i, p) => i.x!.logicalOr(other(i, p)),
  logicalXor: (i, p) => i.x!.logicalXor(other(i, p)),
  bitwiseAnd: (i, p) => i.x!.bitwiseAnd(other(i, p)), bitwiseOr: (i, p) => i.x!.bitwiseOr(other(i, p)),
  bitwiseXor: (i, p) => i.x!.bitwiseXor(other(i, p)), bitwiseNot: (i) => i.x!.bitwiseNot(),
  lerp: (i, p) => i.x!.lerp(i.y!, i.w ?? (p.weight as number)),
  maskedFill: (i, p) => i.x!.maskedFill(toTensor(p.mask as never) as born.Tensor<'bool'>, i.v ?? decode(p.value as number)),
  where: (i, p) => i.x!.where(toTensor(p.cond as never) as born.Tensor<'bool'>, i.y ?? (p.other as number)),
  isclose: (i, p) => i.x!.isclose(i.y!, clean(tol(p))),
};

/** Inputs the fixture computes on inside a chain (x * 1e10), to see what a fused kernel does. */
const CHAINED: Record<string, (x: Tensor) => Tensor> = {
  'isnan overflowing chain': (x) => x.mul(1e10), 'isinf overflowing chain': (x) => x.mul(1e10),
  'isfinite overflowing chain': (x) => x.mul(1e10),
};

const valueCases = mathCases.filter((c) => c.op in OPS);

describe('math ops against PyTorch', () => {
  test('the fixture covers every op', () => {
    expect(new Set(valueCases.map((c) => c.op))).toEqual(new Set(Object.keys(OPS)));
  });
  test.each(valueCases.map((c) => [c.name, c] as [string, MathCase]))('%s', async (_name, c) => {
    const ins = inputsOf(c);
    const pre = CHAINED[c.name];
    const run = pre ? { ...ins, x: pre(ins.x!) } : ins;
    const out = OPS[c.op]!(run, c.params);
    const grads = gradsOf(c, out, ins);
    await born.realize(out, ...Object.values(grads));
    await expectMatches(out, c.out!, c.name, c.signed_zero);
    await expectGrads(c, grads);
  });
});

describe('allclose and equal against PyTorch', () => {
  const cases = mathCases.filter((c) => c.op === 'allclose' || c.op === 'equal');
  test.each(cases.map((c) => [c.name, c] as [string, MathCase]))('%s', async (_name, c) => {
    const { x, y } = inputsOf(c);
    const got = c.op === 'equal' ? x!.equal(y!) : x!.allclose(y!, clean(tol(c.params)));
    expect(got).toBeInstanceOf(Promise);
    expect(await got).toBe(c.value);
  });
});

describe('call forms', () => {
  const x = born.tensor([-2, -0.5, 0, 0.5, 2]);
  test('isclose and allclose take PyTorch positional tolerances too', async () => {
    const y = x.add(0.01);
    expect(await x.isclose(y, 0.1, 0.01).tolist()).toEqual(await x.isclose(y, { rtol: 0.1, atol: 0.01 }).tolist());
    expect(await x.allclose(y, 0, 0.02)).toBe(true);
    expect(await x.allclose(y)).toBe(false);
  });
  test('isclose against a number', async () => {
    expect(await x.isclose(0.5).tolist()).toEqual([0, 0, 0, 1, 0]);
  });
  test('round keeps integer dtypes and ceil/trunc too', () => {
    const i = born.tensor([1, -2], { dtype: 'int16' });
    expect([i.round().dtype, i.ceil().dtype, i.trunc().dtype]).toEqual(['int16', 'int16', 'int16']);
  });
  test('bool operands stay bool in bitwise ops, count as int32 in square', () => {
    const b = born.tensor([true, false]);
    expect(b.bitwiseXor(true).dtype).toBe('bool');
    expect(b.square().dtype).toBe('int32');
  });
  test('a fused float32 chain rounds before ceil, as PyTorch op by op (0.1f * 3 * 10 is exactly 3)', async () => {
    expect(await born.tensor([0.1]).mul(3).mul(10).ceil().tolist()).toEqual([3]);
    expect(await born.tensor([2.5]).mul(1).round().tolist()).toEqual([2]);
  });
  test('maskedFill and where broadcast and keep gradients flowing to the unmasked elements', async () => {
    const w = born.tensor([[1, 2, 3], [4, 5, 6]]);
    const m = born.tensor([true, false, true]);
    const [g] = born.grad(w.maskedFill(m, 0).sum(), [w]);
    expect(await g!.tolist()).toEqual([[0, 1, 0], [0, 1, 0]]);
    expect(await w.where(m, -1).tolist()).toEqual([[1, -1, 3], [4, -1, 6]]);
  });
  test('remainder and fmod by a tensor broadcast like add', async () => {
    const a = born.tensor([[5], [-5]]);
    expect(await a.remainder(born.tensor([3, -3])).tolist()).toEqual([[2, -1], [1, -2]]);
    expect(await a.fmod(born.tensor([3, -3])).tolist()).toEqual([[2, 2], [-2, -2]]);
  });
  test('second derivatives flow through the new primitives (d²/dx² tan x = 2 tan x sec² x)', async () => {
    const v = born.tensor([0.3], { dtype: 'float64' });
    const [d1] = born.grad(v.tan().sum(), [v]);
    const [d2] = born.grad(d1!.sum(), [v]);
    const t = Math.tan(0.3);
    expect((await d2!.data())[0]).toBeCloseTo(2 * t * (1 + t * t), 12);
  });
});

describe('bad input names the op and what would be valid', () => {
  const x = born.tensor([1.5, 2]);
  const i = born.tensor([1, 2], { dtype: 'int32' });
  test('bitwise ops refuse floats', () => {
    expect(() => x.bitwiseAnd(i)).toThrow(/bitwiseAnd: .*integer or bool.*float32/);
    expect(() => i.bitwiseOr(2.5)).toThrow(/bitwiseOr: .*float32/);
    expect(() => x.bitwiseNot()).toThrow(/bitwiseNot: .*float32/);
    expect(() => i.bitwiseXor(x)).toThrow(born.DTypeError);
  });
  test('rounding refuses bool, as PyTorch', () => {
    expect(() => born.tensor([true]).round()).toThrow(/round: not defined for bool/);
    expect(() => born.tensor([true]).ceil()).toThrow(/ceil: not defined for bool/);
    expect(() => i.round({ decimals: 1 })).toThrow(/round: decimals needs a floating-point tensor/);
    expect(() => x.round({ digits: 1 } as never)).toThrow(/round: unknown option 'digits' \(valid options: decimals\)/);
  });
  test('operands must be tensors, numbers, booleans or nested arrays of numbers', async () => {
    const valid = /expected a tensor, a number, a boolean or a nested array of numbers as operand, got/;
    expect(() => x.atan2({} as never)).toThrow(/atan2: /);
    expect(() => x.atan2({} as never)).toThrow(valid);
    expect(() => x.remainder(undefined as never)).toThrow(/remainder: .*got undefined/);
    expect(() => x.logicalAnd('1' as never)).toThrow(/logicalAnd: .*got string "1"/);
    expect(() => x.lerp(x, null as never)).toThrow(/lerp: .*got null/);
    expect(() => x.maskedFill(born.tensor([true, false]), 'a' as never)).toThrow(/maskedFill: .*got string "a"/);
    // A nested array is a tensor, as born.tensor makes it.
    expect(Array.from(await born.tensor([1, -1]).atan2([1, 1]).data())).toEqual([Math.fround(Math.PI / 4), Math.fround(-Math.PI / 4)]);
  });
  test('masks must be bool tensors', () => {
    expect(() => x.maskedFill(i as never, 0)).toThrow(/maskedFill: mask must be a bool tensor, got int32/);
    expect(() => x.maskedFill([true, false] as never, 0)).toThrow(/maskedFill: mask must be a bool Tensor/);
    expect(() => x.where(i as never, 0)).toThrow(/where: mask must be a bool tensor/);
    expect(() => x.maskedFill(born.tensor([true, false]), born.tensor([1, 2]))).toThrow(/maskedFill: value must be a number or a 0-d tensor/);
  });
  test('isclose needs one dtype and valid tolerances', () => {
    expect(() => x.isclose(i)).toThrow(/isclose: both tensors must have the same dtype, got float32 and int32/);
    expect(() => x.allclose(i)).toThrow(/allclose: both tensors must have the same dtype/);
    expect(() => x.isclose(x, { rtol: -1 })).toThrow(/isclose: rtol and atol must be non-negative/);
    expect(() => x.isclose(x, { tol: 1 } as never)).toThrow(/isclose: unknown option 'tol' \(valid options: rtol, atol, equalNan\)/);
    expect(() => x.isclose(x, { equalNan: 1 } as never)).toThrow(/isclose: equalNan must be true or false/);
    expect(() => x.equal([1.5, 2] as never)).toThrow(/equal: other must be a Tensor/);
  });
  test('lerp needs a floating-point start, as PyTorch', () => {
    expect(() => i.lerp(i, 0.5)).toThrow(/lerp: expected a floating-point tensor, got int32/);
  });
  test('shapes that do not broadcast name the op', () => {
    expect(() => x.atan2(born.tensor([1, 2, 3]))).toThrow(/atan2/);
    expect(() => i.bitwiseAnd(born.tensor([1, 2, 3], { dtype: 'int32' }))).toThrow(/bitwiseAnd/);
    expect(() => x.logicalOr(born.tensor([1, 2, 3]))).toThrow(/logicalOr/);
  });
});

describe('the op-table rows', () => {
  const NEW = ['tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'log2', 'log10', 'expm1', 'atan2', 'round', 'ceil', 'trunc',
    'remainder', 'fmod', 'bitand', 'bitor', 'bitxor', 'bitnot'] as const;
  const dtypes = ['float32', 'float64', 'int32', 'int64', 'uint8', 'bool'] as const;
  test.each(NEW)('%s prints JS that runs with the kernel prelude, and WGSL over its arguments only', (op) => {
    const def = ops[op];
    for (const d of dtypes) {
      const js = def.arity === 1 ? def.js('a', d) : def.js('a', 'b', d);
      const f = new Function('a', 'b', `${jsPrelude}\nreturn ${js};`) as (a: number, b: number) => number;
      expect(typeof f(6, 4), `${op} ${d}: ${js}`).toBe('number');
      const wgsl = def.arity === 1 ? def.wgsl('a', d) : def.wgsl('a', 'b', d);
      const depth = [...wgsl].reduce((n, ch) => (n < 0 ? n : n + (ch === '(' ? 1 : ch === ')' ? -1 : 0)), 0);
      expect(depth, `${op} ${d}: balanced parentheses in ${wgsl}`).toBe(0);
      expect(wgsl.replace(/\b(a|b)\b/g, '').match(/\b[a-z]\b/g), `${op} ${d}: ${wgsl} reads only its arguments`).toBeNull();
    }
  });
});

describe('result types', () => {
  const f = born.zeros([2]);
  const i = born.zeros([2], { dtype: 'int32' });
  const b = born.zeros([2], { dtype: 'bool' });
  test('follow PyTorch: predicates are bool, atan2 and log2 of ints float32, rounding keeps the dtype', () => {
    expectTypeOf(f.isnan()).toEqualTypeOf<born.Tensor<'bool'>>();
    expectTypeOf(i.logicalXor(f)).toEqualTypeOf<born.Tensor<'bool'>>();
    expectTypeOf(i.atan2(i)).toEqualTypeOf<born.Tensor<'float32'>>();
    expectTypeOf(i.log2()).toEqualTypeOf<born.Tensor<'float32'>>();
    expectTypeOf(i.round()).toEqualTypeOf<born.Tensor<'int32'>>();
    expectTypeOf(f.remainder(2)).toEqualTypeOf<born.Tensor<'float32'>>();
    expectTypeOf(b.square()).toEqualTypeOf<born.Tensor<'int32'>>();
    expectTypeOf(i.bitwiseAnd(3)).toEqualTypeOf<born.Tensor<'int32'>>();
    expectTypeOf(f.allclose(f)).toEqualTypeOf<Promise<boolean>>();
    expect(i.atan2(i).dtype).toBe('float32');
  });
});

describe('floor, like ceil, round and trunc', () => {
  test('its gradient is zeros (PyTorch), so the input stays in the graph', async () => {
    const x = born.tensor([0.1, 0.7, -0.3]);
    const [g] = born.grad(x.floor().sum(), [x]);
    expect(Array.from(await g!.data())).toEqual([0, 0, 0]);
  });
  test('a fused float32 chain is rounded to float32 before it is floored, as a stored tensor is', async () => {
    // In double, float32(0.7) · 3 · 10 is just below 21 (floor 20); rounded to float32 at each op, as
    // PyTorch computes it, it is 21.
    const x = born.tensor([0.1, 0.7, -0.3]);
    expect(Array.from(await x.mul(3).mul(10).floor().data())).toEqual([3, 21, -9]);
  });
  test('integers pass through; bool is refused as PyTorch refuses it', async () => {
    expect(Array.from(await born.tensor([1, -2], { dtype: 'int32' }).floor().data())).toEqual([1, -2]);
    expect(() => born.tensor([true]).floor()).toThrow(/floor/);
  });
});
