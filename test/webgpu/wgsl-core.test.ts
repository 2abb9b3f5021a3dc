import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { ops, type BinaryOp, type UnaryOp } from '../../src/graph/ops.js';
import type { DType } from '../../src/graph/dtype.js';
import { binary, unary } from '../../src/tensor/elementwise.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { assignAll, storeNode } from '../../src/tensor/assign.js';
import { runOnGpu } from './plan-run.js';

const FLOATS = [-100, -3.5, -2, -1, -0.5, -0, 0, 0.25, 0.5, 1, 2, 3, 7.5, 50, NaN, Infinity, -Infinity];
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
  it('every op on bool operands', async () => {
    const [a, b] = pairs([0, 1]);
    const ta = born.tensor(a).gt(0.5), tb = born.tensor(b).gt(0.5);
    for (const op of unaries) await expectSame(op, unary(op, ta), [a], 1e-5, 1e-6);
    for (const op of binaries) await expectSame(op, binary(op, ta, tb), [a, b], 1e-5, 1e-6);
    await expectSame('where', born.where(ta, tb, ta.logicalNot()), [a, b]);
  });
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
      // Many short outputs: an invocation each (no workgroup tree).
      const perOutput = [await expectClose(call(src([3000, 20], 6), 1), 1e-5, 1e-6, `${op} many inner`),
        await expectClose(call(src([40, 3000], 7), 0), 1e-5, 1e-6, `${op} many columns`)];
      expect(perOutput.map((r) => r.programs.some((q) => q.code.includes('part_')))).toEqual([false, false]);
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

const CAST_DTYPES: DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
const CAST_VALUES = [-3.7, -2.5, -1, -0.5, -0, 0, 0.5, 1.5, 2.5, 127.9, 128, 255.5, 256, 300, -129, -32769, 40000, 65504, 70000,
  0.1, 1e-8, 3.3e9, -3.3e9, NaN, Infinity, -Infinity];

/** Exact equality of two storages: bits for half types (any NaN matches any NaN), values otherwise. */
function sameStorage(d: DType, got: ArrayLike<unknown>, want: ArrayLike<unknown>): number[] {
  const bad: number[] = [];
  const halfNaN = (b: number): boolean => (d === 'float16' ? (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0 : (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (d === 'float16' || d === 'bfloat16' ? g === w || (halfNaN(g as number) && halfNaN(w as number)) : Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
    bad.push(i);
  }
  return bad;
}

describe('casts between every dtype webgpu stores: exact', () => {
  for (const from of CAST_DTYPES) {
    it(`from ${from}`, async () => {
      // int64 is exact on webgpu for |x| < 2^31 (kernels compute on its low word).
      const vals = CAST_VALUES.filter((v) => !(from === 'int64' && !(Math.abs(v) < 2 ** 31)));
      const src = born.tensor(vals).to(from);
      const held = Array.from(await src.data() as ArrayLike<number | bigint>, Number);
      for (const to of CAST_DTYPES) {
        if (to === from) continue;
        const r = await runOnGpu([src.to(to)]);
        const got = r.gpu[0] as unknown as ArrayLike<unknown>, want = r.cpu[0] as unknown as ArrayLike<unknown>;
        // ... and a float beyond int32 (or NaN, ±inf) cast to int64 keeps only the low word there.
        const bad = sameStorage(to, got, want).filter((i) => !(to === 'int64' && !(Math.abs(held[i]!) < 2 ** 31)));
        expect(bad.length, bad.slice(0, 5).map((i) => `${from} ${vals[i]} -> ${to}: ${String(got[i])} on webgpu, ${String(want[i])} on cpu`).join('\n')).toBe(0);
      }
    });
  }
});

describe('kernels of other shapes', () => {
  it('half types round after every op; narrow integers wrap', async () => {
    for (const d of ['float16', 'bfloat16'] as const) {
      const a = born.tensor(ramp(64, 1).map((v) => v * 300)).to(d), b = born.tensor(ramp(64, 2).map((v) => v * 7)).to(d);
      const r = await runOnGpu([a.mul(b).add(a).sub(b.mul(3))]);
      expect(sameStorage(d, r.gpu[0] as never, r.cpu[0] as never)).toEqual([]);
    }
    for (const d of ['int8', 'uint8', 'int16'] as const) {
      const a = born.tensor(ramp(64, 3).map((v) => Math.round(v * 100))).to(d), b = born.tensor(ramp(64, 4).map((v) => Math.round(v * 90))).to(d);
      const r = await runOnGpu([a.mul(b).add(a).sub(b.mul(3)), a.abs().neg(), binary('remainder', a, b), binary('fmod', a, b)]);
      for (let j = 0; j < r.gpu.length; j++) expect(sameStorage(d, r.gpu[j] as never, r.cpu[j] as never), `${d} output ${j}`).toEqual([]);
    }
  });

  it('pow of negative bases with integer exponents, and NaN/Inf through a fused chain', async () => {
    const base = [-2, -2, -2, -3, -0.5, -1, -0, -Infinity, -8, 2];
    const ex = [2, 3, -1, 4, 3, 0.5, -3, 3, 1 / 3, 0.5];
    const r = await runOnGpu([binary('pow', born.tensor(base), born.tensor(ex))]);
    const g = Array.from(r.gpu[0] as Float32Array);
    expect(g.slice(0, 9).join(' ')).toBe([4, -8, -0.5, 81, -0.125, NaN, -Infinity, -Infinity, NaN].join(' '));
    expect(g[9]).toBeCloseTo(Math.SQRT2, 6); // exp2(y · log2(x)): a few ulp
    const v = born.tensor([NaN, Infinity, -Infinity, 1, -1, 0]);
    await expectClose(v.exp().mul(v).add(1).relu().maximum(v).minimum(born.tensor([0, 0, 0, 0, 0, NaN])).sqrt(), 0, 0, 'chain');
  });

  it('a store kernel writes at its output index, a slice store at a runtime start', async () => {
    const target = born.tensor(ramp(24, 5)).reshape([4, 6]);
    const value = born.tensor(ramp(8, 6)).reshape([4, 2]);
    await born.realize(target, value);
    const v1 = value.mul(2).add(target.slice(1, 3, 5));
    const r = await runOnGpu([storeNode(target, v1, { dim: 1, start: 3 })], { cpu: false });
    expect(r.kernels.some((k) => k.outIndex !== null)).toBe(true);
    await born.realize(target.sliceAssign_(1, 3, v1) as Tensor);
    expect(Array.from(r.gpu[0] as Float32Array)).toEqual(Array.from(await target.data() as Float32Array));
    const t2 = born.tensor(ramp(24, 5)).reshape([4, 6]);
    await born.realize(t2);
    const at = born.tensor(2, { dtype: 'int32' });
    const r2 = await runOnGpu([storeNode(t2, value.mul(3), { dim: 1, start: at })], { cpu: false });
    expect(r2.kernels.some((k) => k.params.length > 0 || k.inputs.length > 1)).toBe(true);
    await born.realize(t2.sliceAssign_(1, at, value.mul(3)) as Tensor);
    expect(Array.from(r2.gpu[0] as Float32Array)).toEqual(Array.from(await t2.data() as Float32Array));
  });

  it('a reduction stored into a slice of an existing buffer', async () => {
    const target = born.tensor(ramp(12, 1)).reshape([2, 6]);
    const x = born.tensor(ramp(2 * 3 * 40, 2)).reshape([2, 3, 40]);
    await born.realize(target, x);
    const v = x.sum(2).mul(target.slice(1, 1, 4));
    const r = await runOnGpu([storeNode(target, v, { dim: 1, start: 1 })], { cpu: false });
    expect(r.kernels.some((k) => k.reduce !== null && k.outIndex !== null)).toBe(true);
    await born.realize(target.sliceAssign_(1, 1, v) as Tensor);
    expect(mismatches(r.gpu[0] as Float32Array, await target.data() as Float32Array, 1e-6, 1e-6)).toEqual([]);
  });

  it('a multi-output kernel reads every old value before it writes (a swap)', async () => {
    const a = born.tensor(ramp(20, 1)).reshape([4, 5]), b = born.tensor(ramp(20, 2)).reshape([4, 5]), x = born.tensor(ramp(20, 3)).reshape([4, 5]);
    await born.realize(a, b, x);
    const r = await runOnGpu([storeNode(a, b.add(x)), storeNode(b, a.mul(x))], { cpu: false });
    expect(r.kernels.map((k) => k.extraOutputs?.length ?? 0)).toEqual([1]);
    await assignAll([[a, b.add(x)], [b, a.mul(x)]]);
    expect(Array.from(r.gpu[0] as Float32Array)).toEqual(Array.from(await a.data() as Float32Array));
    expect(Array.from(r.gpu[1] as Float32Array)).toEqual(Array.from(await b.data() as Float32Array));
  });

  it('gather records an out-of-range index in the error record and reads index 0', async () => {
    const src = born.tensor(ramp(12, 1)).reshape([3, 4]);
    const ok = born.tensor([[0, 2, 1, 0], [2, 2, 0, 1]], { dtype: 'int64' });
    const r = await runOnGpu([src.gather(0, ok).mul(2)]);
    expect(Array.from(r.errors[0]!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(r.gpu[0] as Float32Array)).toEqual(Array.from(r.cpu[0] as Float32Array));
    const bad = born.tensor([[0, 2, 7, 3], [2, 2, 0, 1]], { dtype: 'int64' });
    const [k] = (await import('../../src/scheduler/realize.js')).planFor([src.gather(0, bad).node]).steps.map((s) => s.kernel);
    const { printWgsl } = await import('../../src/devices/webgpu/wgsl/index.js');
    const { runProgram } = await import('./run-program.js');
    const { wgslOptions } = await import('./plan-run.js');
    const p = printWgsl(k!, await wgslOptions([0, 1, 2, 3]));
    const srcData = await src.data() as Float32Array, badData = await bad.data() as BigInt64Array;
    const ins = k!.inputs.map((d) => (d === 'int64' ? { dtype: d, data: badData } : { dtype: d, data: srcData }));
    const out = await runProgram(p, [{ dtype: 'float32', count: 8 }, ...ins, { dtype: 'int32', count: 4 }]);
    expect(Array.from(out[3] as Int32Array)).toEqual([1, 7, 0, 0]);
    const g = out[0] as Float32Array, s = await src.data() as Float32Array;
    expect(g[2]).toBe(s[2]); // row 0 read instead of row 7
    expect(g[1]).toBe(s[2 * 4 + 1]);
  });

  it('rand and randn are bit-identical to the CPU device', async () => {
    const r = await runOnGpu([born.rand([1000], { seed: 7 })]);
    expect(Array.from(r.gpu[0] as Float32Array)).toEqual(Array.from(r.cpu[0] as Float32Array));
    // A large seed (past int32), and randn fused with a uniform draw: one rounding of two equal values.
    const n = await runOnGpu([born.randn([257], { seed: 123456789 }).mul(born.rand([257], { seed: 3 }))]);
    const u32 = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
    expect(u32(n.gpu[0] as Float32Array)).toEqual(u32(n.cpu[0] as Float32Array));
  });

  it('a 2-D dispatch covers more than 65,535 workgroups', async () => {
    // Loops this long compute 4 elements an invocation, in workgroups of 64.
    const n = 65535 * 64 * 4 + 100;
    const x = born.arange(n).mul(3).sub(1);
    const r = await runOnGpu([x]);
    expect(r.programs[0]!.workgroups[1]).toBeGreaterThan(1);
    const g = r.gpu[0] as Float32Array, c = r.cpu[0] as Float32Array;
    expect(g.length).toBe(n);
    let bad = 0;
    for (let i = 0; i < n; i++) if (g[i] !== c[i]) bad++;
    expect(bad).toBe(0);
  });
});

describe('graphs of several kernels', () => {
  const F = born.nn.functional;
  const x = (shape: number[], salt = 1): Tensor => born.tensor(ramp(shape.reduce((a, b) => a * b, 1), salt)).reshape(shape);
  it('layer norm, log-softmax and a padded sum', async () => {
    await expectClose(F.layerNorm(x([6, 40], 1).mul(3), 40), 1e-4, 1e-5, 'layerNorm');
    await expectClose(F.layerNorm(x([2, 600], 2), 600), 1e-4, 1e-5, 'layerNorm long');
    await expectClose(x([5, 300], 3).logSoftmax(1), 1e-5, 1e-5, 'logSoftmax');
    await expectClose(x([4, 300], 4).pad([2, 3]).sum(1), 1e-5, 1e-5, 'padded sum');
  });
  it('an embedding lookup summed (checked gather inside a reduction), and a float16 sum', async () => {
    const w = x([10, 300], 5);
    const idx = born.tensor([[1, 9, 3], [0, 0, 7]], { dtype: 'int64' });
    const r = await expectClose(F.embedding(idx, w).sum(1), 1e-5, 1e-5, 'embedding sum');
    expect(r.errors.every((e) => e[0] === 0)).toBe(true);
    const h = x([3, 500], 6).to('float16');
    const rh = await runOnGpu([h.sum(1), h.amax(1)]);
    for (let j = 0; j < 2; j++) expect(mismatches(Array.from(rh.gpu[j] as Uint16Array), Array.from(rh.cpu[j] as Uint16Array), 0, 1)).toEqual([]);
  });
  it('rand from the global generator and dropout agree bit for bit', async () => {
    born.manualSeed(11);
    const t = born.rand([300]);
    const r = await runOnGpu([t]);
    expect(Array.from(r.gpu[0] as Float32Array)).toEqual(Array.from(r.cpu[0] as Float32Array));
    born.manualSeed(12);
    const d = await runOnGpu([F.dropout(x([40, 10], 2), 0.3)]);
    expect(Array.from(d.gpu[0] as Float32Array)).toEqual(Array.from(d.cpu[0] as Float32Array));
  });
});
