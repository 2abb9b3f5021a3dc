// Activations against PyTorch (test/fixtures/math.json, written by test/fixtures/gen_math.py
// from torch 1.13): nn.functional forms with gradients, including PyTorch's conventions at the
// kinks; the Tensor methods and the modules on the same cases; PReLU's parameter; float64
// finite-difference checks of the composites; call forms and bad input.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { awayFromZero, f64, gradcheck, weightedSum } from './reference/gradcheck.js';
import { GRAD_TOL, VALUE_TOL, expectGrads, expectMatches, gradsOf, inputsOf, mathCases, type MathCase } from './reference/math-fixture.js';

const { nn } = born;
const F = nn.functional;
type P = Record<string, unknown>;
const num = (p: P, k: string): number | undefined => p[k] as number | undefined;
const opts = (p: P): P => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));

/** Each activation three ways: nn.functional (with gradients), the Tensor method, the module. */
const ACT: Record<string, { fn: (x: Tensor, p: P, w?: Tensor) => Tensor; method?: (x: Tensor, p: P) => Tensor; module?: (p: P) => born.nn.Module }> = {
  leakyRelu: {
    fn: (x, p) => F.leakyRelu(x, num(p, 'negativeSlope')),
    method: (x, p) => x.leakyRelu(opts(p)),
    module: (p) => nn.LeakyReLU(opts(p)),
  },
  elu: { fn: (x, p) => F.elu(x, num(p, 'alpha')), method: (x, p) => x.elu(num(p, 'alpha')), module: (p) => nn.ELU(opts(p)) },
  celu: { fn: (x, p) => F.celu(x, opts(p)), method: (x, p) => x.celu(opts(p)), module: (p) => new nn.CELU(num(p, 'alpha')) },
  selu: { fn: (x) => F.selu(x), method: (x) => x.selu(), module: () => nn.SELU() },
  logSigmoid: { fn: (x) => F.logSigmoid(x), method: (x) => x.logSigmoid(), module: () => nn.LogSigmoid() },
  hardtanh: {
    fn: (x, p) => F.hardtanh(x, num(p, 'minVal'), num(p, 'maxVal')),
    method: (x, p) => x.hardtanh(opts(p)),
    module: (p) => nn.Hardtanh(num(p, 'minVal'), num(p, 'maxVal')),
  },
  relu6: { fn: (x) => F.relu6(x), module: () => nn.ReLU6() },
  hardswish: { fn: (x) => F.hardswish(x), method: (x) => x.hardswish(), module: () => nn.Hardswish() },
  hardsigmoid: { fn: (x) => F.hardsigmoid(x), method: (x) => x.hardsigmoid(), module: () => new nn.Hardsigmoid() },
  mish: { fn: (x) => F.mish(x), method: (x) => x.mish(), module: () => nn.Mish() },
  softmax: { fn: (x, p) => F.softmax(x, p.dim as number), module: (p) => nn.Softmax(p.dim as number) },
  logSoftmax: { fn: (x, p) => F.logSoftmax(x, { dim: p.dim as number }), module: (p) => nn.LogSoftmax({ dim: p.dim as number }) },
  prelu: { fn: (x, _p, w) => F.prelu(x, w!) },
};

/**
 * Where Born is more accurate than PyTorch, by design: the ELU family uses expm1 where PyTorch's
 * kernel computes exp(x) − 1, which cancels for small |x| (elu(−1e−30) is 0 there): an absolute
 * tolerance of float32's epsilon. PyTorch's float64 hardsigmoid gradient multiplies by the
 * float32 constant 1.0f / 6.0f (relative error 3e−8).
 */
const VALUE_ATOL: Record<string, number> = { elu: 1.2e-7, selu: 1.2e-7 * 1.76, celu: 1.2e-7 };
const GRAD_RTOL: Record<string, number> = { hardsigmoid: 1e-7 };

const cases = mathCases.filter((c) => c.op in ACT);
const valueTol = (c: MathCase) => ({ float32: { ...VALUE_TOL.float32!, atol: VALUE_ATOL[c.op] ?? VALUE_TOL.float32!.atol }, float64: VALUE_TOL.float64! });
const gradTol = (c: MathCase) => ({ float32: GRAD_TOL.float32!, float64: { ...GRAD_TOL.float64!, rtol: GRAD_RTOL[c.op] ?? GRAD_TOL.float64!.rtol } });
const each = cases.map((c) => [c.name, c] as [string, MathCase]);

describe('activations against PyTorch', () => {
  test('the fixture covers every activation', () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(new Set(Object.keys(ACT)));
  });
  test.each(each)('nn.functional: %s', async (_n, c) => {
    const ins = inputsOf(c);
    const out = ACT[c.op]!.fn(ins.x!, c.params, ins.w);
    const grads = gradsOf(c, out, ins);
    await born.realize(out, ...Object.values(grads));
    await expectMatches(out, c.out!, c.name, false, valueTol(c));
    await expectGrads(c, grads, gradTol(c));
  });
  test.each(each.filter(([, c]) => ACT[c.op]!.method))('Tensor method: %s', async (_n, c) => {
    await expectMatches(ACT[c.op]!.method!(inputsOf(c).x!, c.params), c.out!, c.name, false, valueTol(c));
  });
  test.each(each.filter(([, c]) => ACT[c.op]!.module))('module: %s', async (_n, c) => {
    await expectMatches(ACT[c.op]!.module!(c.params).forward(inputsOf(c).x!), c.out!, c.name, false, valueTol(c));
  });
});

describe('PReLU', () => {
  test('a learnable weight named as PyTorch, init 0.25, one per channel', async () => {
    const m = nn.PReLU(3);
    expect(m).toBeInstanceOf(nn.PReLU);
    expect(m.numParameters).toBe(3);
    expect(m.namedParameters().map(([k, p]) => [k, [...p.shape]])).toEqual([['weight', [3]]]);
    expect(await m.weight.tolist()).toEqual([0.25, 0.25, 0.25]);
    expect(await nn.PReLU({ init: 0.1 }).weight.tolist()).toEqual([0.1].map(Math.fround));
    expect(Object.keys(m.stateDict())).toEqual(['weight']);
  });
  test('its weight gradient matches PyTorch after loading the fixture weight', async () => {
    const c = mathCases.find((k) => k.name === 'prelu channels')!;
    const ins = inputsOf(c);
    const m = nn.PReLU(3);
    m.loadStateDict({ weight: ins.w! });
    const out = m.forward(ins.x!);
    const grads = gradsOf(c, out, { x: ins.x!, w: m.weight });
    await expectMatches(out, c.out!, 'PReLU(3)');
    await expectGrads(c, grads);
  });
  test('refuses an input whose channels do not match', () => {
    expect(() => nn.PReLU(3).forward(born.zeros([2, 4]))).toThrow(/prelu: a weight of shape \[3\] needs an input with 3 channels in dim 1, got shape \[2, 4\]/);
    expect(() => nn.PReLU(0)).toThrow(/PReLU: numParameters must be at least 1/);
    expect(() => nn.PReLU(1.5)).toThrow(/PReLU: numParameters must be an integer/);
  });
});

describe('float64 finite-difference gradients of the composites', () => {
  const away = awayFromZero([6], 3, 0.1, 2.5);
  const unary: [string, (x: Tensor) => Tensor][] = [
    ['leakyRelu', (x) => x.leakyRelu(0.3)], ['elu', (x) => x.elu(0.7)], ['celu', (x) => x.celu(1.5)], ['selu', (x) => x.selu()],
    ['logSigmoid', (x) => x.logSigmoid()], ['mish', (x) => x.mish()], ['hardswish', (x) => x.hardswish()],
    ['tan', (x) => x.mul(0.5).tan()], ['atan', (x) => x.atan()], ['sinh', (x) => x.sinh()], ['expm1', (x) => x.expm1()],
    ['log2', (x) => x.abs().log2()], ['asin', (x) => x.mul(0.3).asin()],
  ];
  test.each(unary)('%s', async (_n, f) => {
    await gradcheck((x) => weightedSum(f(x)), [away]);
  });
  test('atan2, lerp with a tensor weight, remainder', async () => {
    await gradcheck((a, b) => weightedSum(a.atan2(b)), [f64([2, 3], 1), awayFromZero([3], 2)]);
    await gradcheck((a, b, w) => weightedSum(a.lerp(b, w)), [f64([4], 4), f64([4], 5), f64([4], 6, -1, 2)]);
    await gradcheck((a, b) => weightedSum(a.remainder(b)), [f64([4], 7, 0.1, 0.9), f64([4], 8, 1.5, 2)]);
  });
});

describe('call forms and bad input', () => {
  const x = born.tensor([-2, -0.5, 0, 0.5, 2]);
  test('positional and options forms agree', async () => {
    expect(await F.leakyRelu(x, 0.2).tolist()).toEqual(await F.leakyRelu(x, { negativeSlope: 0.2 }).tolist());
    expect(await F.hardtanh(x, -0.5, 1).tolist()).toEqual(await x.hardtanh({ minVal: -0.5, maxVal: 1 }).tolist());
    expect(await nn.ELU(0.5).forward(x).tolist()).toEqual(await new nn.ELU({ alpha: 0.5 }).forward(x).tolist());
    expect(nn.LeakyReLU().negativeSlope).toBe(0.01);
    expect(nn.Hardtanh(-2, 3).maxVal).toBe(3);
  });
  test('the existing activations are in nn.functional too', async () => {
    expect(await F.relu(x).tolist()).toEqual(await x.relu().tolist());
    expect(await F.gelu(x, { approximate: 'tanh' }).tolist()).toEqual(await x.gelu({ approximate: 'tanh' }).tolist());
    expect(await F.silu(x).tolist()).toEqual(await x.silu().tolist());
    expect(await F.sigmoid(x).tolist()).toEqual(await x.sigmoid().tolist());
    expect(await F.tanh(x).tolist()).toEqual(await x.tanh().tolist());
    expect(await F.softplus(x).tolist()).toEqual(await x.softplus().tolist());
  });
  test('softmax needs its dim (PyTorch picks one implicitly, and differently)', () => {
    expect(() => F.softmax(x, undefined as never)).toThrow(/softmax: give the dim/);
    expect(() => (nn.Softmax as unknown as () => unknown)()).toThrow(/Softmax: give the dim/);
    expect(() => nn.LogSoftmax({ axis: 1 } as never)).toThrow(/LogSoftmax: unknown option 'axis' \(valid options: dim\)/);
  });
  test('misspelt options and wrong types are TypeErrors naming the op', () => {
    expect(() => nn.LeakyReLU({ slope: 0.2 } as never)).toThrow(/LeakyReLU: unknown option 'slope' \(valid options: negativeSlope\)/);
    expect(() => x.elu('1' as never)).toThrow(/elu: alpha must be a number, got string "1"/);
    expect(() => (F.hardtanh as (...a: unknown[]) => unknown)(x, 1, 2, 3)).toThrow(/hardtanh: expected at most 2 arguments/);
  });
  test('invalid parameters are refused', () => {
    expect(() => nn.Hardtanh(2, 1)).toThrow(/Hardtanh: minVal \(2\) must not be greater than maxVal \(1\)/);
    expect(() => x.hardtanh(2, 1)).toThrow(/hardtanh: minVal/);
    expect(() => nn.CELU(0)).toThrow(/CELU: alpha must not be 0/);
    expect(() => x.celu(0)).toThrow(/celu: alpha must not be 0/);
  });
  test('integer inputs compute in float32; hardtanh keeps integers', () => {
    const i = born.tensor([-3, 0, 4], { dtype: 'int32' });
    expect(i.leakyRelu().dtype).toBe('float32');
    expect(i.mish().dtype).toBe('float32');
    expect(i.hardtanh(-2, 2).dtype).toBe('int32');
  });
});
