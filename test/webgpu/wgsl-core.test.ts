import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { ops, type BinaryOp, type UnaryOp } from '../../src/graph/ops.js';
import type { DType } from '../../src/graph/dtype.js';
import { binary, unary } from '../../src/tensor/elementwise.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { runOnGpu } from './plan-run.js';

const FLOATS = [-3.5, -2, -1, -0.5, -0, 0, 0.25, 0.5, 1, 2, 3, 7.5, NaN, Infinity, -Infinity];
const INTS = [-2147483648, -100, -7, -2, -1, 0, 1, 2, 3, 7, 100, 2147483647];
const TRANSCENDENTAL = new Set(['exp', 'log', 'log1p', 'sin', 'cos', 'tanh', 'erf', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'log2', 'log10', 'expm1', 'atan2', 'pow', 'sqrt']);

/** Indices where `got` differs from `want` beyond rtol/atol (NaN matches NaN; ±Infinity exactly). */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): number[] {
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w)) continue;
    bad.push(i);
  }
  return bad;
}

function report(name: string, ins: readonly ArrayLike<number>[], got: ArrayLike<number>, want: ArrayLike<number>, bad: number[]): string {
  return bad.slice(0, 6).map((i) => `${name}(${ins.map((x) => x[i]).join(', ')}) = ${got[i]} on webgpu, ${want[i]} on cpu`).join('\n');
}

/**
 * Where JS's Math differs from C (PyTorch): pow(1, y) and pow(±1, ±inf) are 1 in C, NaN in JS.
 * Returns the PyTorch value, or undefined where the CPU device's is right.
 */
function pytorchOverride(name: string, ins: readonly ArrayLike<number>[], i: number): number | undefined {
  if (name !== 'pow') return undefined;
  const a = ins[0]![i]!, b = ins[1]![i]!;
  return a === 1 || (Math.abs(a) === 1 && !Number.isFinite(b) && !Number.isNaN(b)) ? 1 : undefined;
}

async function expectSame(name: string, t: Tensor, ins: readonly ArrayLike<number>[], rtol = 0, atol = 0): Promise<void> {
  const r = await runOnGpu([t]);
  const got = r.gpu[0] as unknown as ArrayLike<number>;
  const want = Array.from(r.cpu[0] as unknown as ArrayLike<number>, (w, i) => pytorchOverride(name, ins, i) ?? w);
  const bad = mismatches(got, want, rtol, atol);
  expect(bad.length, report(name, ins, got, want, bad)).toBe(0);
}

const pairs = (v: readonly number[]): [number[], number[]] => [v.flatMap((a) => v.map(() => a)), v.flatMap(() => v)];
const BITWISE = new Set(['bitand', 'bitor', 'bitxor', 'bitnot']);
const unaries = (Object.keys(ops) as (keyof typeof ops)[]).filter((k) => ops[k].arity === 1) as UnaryOp[];
const binaries = (Object.keys(ops) as (keyof typeof ops)[]).filter((k) => ops[k].arity === 2) as BinaryOp[];

describe('elementwise ops: WGSL against the CPU device', () => {
  for (const op of unaries) {
    it(`${op} float32`, async () => {
      if (BITWISE.has(op)) return;
      const tol = TRANSCENDENTAL.has(op) ? 1e-4 : 1e-6;
      // logicalNot(NaN) is false on webgpu as in PyTorch; the CPU device gives true.
      const xs = op === 'not' ? FLOATS.filter((x) => !Number.isNaN(x)) : FLOATS;
      await expectSame(op, unary(op, born.tensor(xs)), [xs], tol, tol * 0.1);
    });
    it(`${op} int32`, async () => {
      // Trigonometry of ±2^31 needs a range reduction f32 GPU builtins do not make.
      const xs = TRANSCENDENTAL.has(op) ? INTS.filter((x) => Math.abs(x) <= 100) : INTS;
      await expectSame(op, unary(op, born.tensor(xs, { dtype: 'int32' })), [xs], 1e-4, 1e-5);
    });
  }
  for (const op of binaries) {
    it(`${op} float32`, async () => {
      if (BITWISE.has(op)) return;
      const [a, b] = pairs(FLOATS);
      const tol = TRANSCENDENTAL.has(op) ? 1e-4 : 1e-6;
      await expectSame(op, binary(op, born.tensor(a), born.tensor(b)), [a, b], tol, tol * 0.1);
    });
    it(`${op} int32`, async () => {
      const [a, b] = pairs(INTS);
      await expectSame(op, binary(op, born.tensor(a, { dtype: 'int32' }), born.tensor(b, { dtype: 'int32' })), [a, b], 1e-5, 0);
    });
  }
});

/** Deterministic values in [-1, 1) with some structure (no Math.random: failures reproduce). */
const ramp = (n: number, salt = 1): number[] => Array.from({ length: n }, (_, i) => (((i * 7919 + salt * 104729) % 2003) / 1001.5) - 1);

async function expectClose(t: Tensor, rtol: number, atol: number, label = 'value'): Promise<import('./plan-run.js').GpuRun> {
  const r = await runOnGpu([t]);
  const got = r.gpu[0] as unknown as ArrayLike<number>, want = r.cpu[0] as unknown as ArrayLike<number>;
  const bad = mismatches(got, want, rtol, atol);
  expect(bad.length, bad.slice(0, 5).map((i) => `${label}[${i}] = ${got[i]} on webgpu, ${want[i]} on cpu`).join('\n')).toBe(0);
  return r;
}

describe('reductions: WGSL against the CPU device', () => {
  const x = (shape: number[], salt = 1): Tensor => born.tensor(ramp(shape.reduce((a, b) => a * b, 1), salt)).reshape(shape);
  for (const op of ['sum', 'amax', 'amin', 'prod'] as const) {
    it(`${op}: inner, column, all dims, short and long`, async () => {
      const call = (t: Tensor, dim?: number): Tensor => (dim === undefined ? (t as never as Record<string, () => Tensor>)[op]!.call(t) : (t as never as Record<string, (d: number) => Tensor>)[op]!.call(t, dim));
      const pr = op === 'prod';
      // prod of many values in [-1, 1) underflows: keep it to short rows of values near 1.
      const src = (shape: number[], salt: number): Tensor => (pr ? x(shape, salt).mul(0.1).add(1) : x(shape, salt));
      await expectClose(call(src([6, 33], 1), 1), 1e-5, 1e-6, `${op} inner`);
      await expectClose(call(src([33, 6], 2), 0), 1e-5, 1e-6, `${op} column`);
      await expectClose(call(src([3, 1000], 3), 1), 1e-5, 1e-5, `${op} long inner`);
      await expectClose(call(src([700, 5], 4), 0), 1e-5, 1e-5, `${op} long column`);
      if (!pr) await expectClose(call(src([50, 400], 5)), 1e-4, 1e-4, `${op} all`);
    });
  }
  it('int32 sums and maxima are exact, bool counts', async () => {
    const xi = born.tensor(ramp(3000, 9).map((v) => Math.round(v * 1e6)), { dtype: 'int32' }).reshape([3, 1000]);
    await expectClose(xi.sum(1), 0, 0, 'int sum');
    await expectClose(xi.amax(1), 0, 0, 'int max');
    await expectClose(xi.amin(0), 0, 0, 'int min');
    await expectClose(xi.gt(0).sum(1), 0, 0, 'bool count');
  });
  it('NaN propagates through max, min and sum', async () => {
    const v = ramp(600, 3); v[17] = NaN; v[450] = Infinity;
    const t = born.tensor(v).reshape([2, 300]);
    await expectClose(t.amax(1), 0, 0, 'max');
    await expectClose(t.amin(1), 0, 0, 'min');
    await expectClose(t.sum(1), 1e-5, 1e-5, 'sum');
    await expectClose(born.tensor(v).reshape([300, 2]).amax(0), 0, 0, 'column max');
  });
  it('softmax: short rows (an invocation each) and long rows (a workgroup each)', async () => {
    await expectClose(x([7, 10], 2).softmax(1), 1e-5, 1e-6, 'short');
    await expectClose(x([3, 2000], 6).mul(5).softmax(-1), 1e-5, 1e-7, 'long');
    await expectClose(x([4, 5, 300], 7).softmax(1), 1e-5, 1e-6, 'middle dim');
  });
});
