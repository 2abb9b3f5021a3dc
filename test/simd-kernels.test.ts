// The WebAssembly SIMD kernels (src/devices/cpu-workers/simd/): every supported op through the
// SIMD path (forced on for every qualifying kernel, whatever its size) against float64
// references, over edge values (±0, ±Inf, NaN, denormals, the ends of the float32 range, the
// approximations' break points), ragged lengths, broadcast operands and rows longer than a block;
// with and without relaxed-SIMD multiply-add; and the kernels that must stay in JS.
import { beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { recordSimdKernels } from './reference/simd-kernels.js';
import { jsPrelude } from '../src/devices/cpu-workers/prelude.js';
import { planSimd, setSimdFma, setSimdMode, simdStats } from '../src/devices/cpu-workers/simd/index.js';
import { BLOCK } from '../src/devices/cpu-workers/simd/module.js';
import { SIMD_MARKER } from '../src/devices/cpu-workers/simd/source.js';
import { CpuDevice } from '../src/devices/cpu-workers/device.js';

const erf64 = new Function(`${jsPrelude}\nreturn erf64;`)() as (x: number) => number;
const f32 = Math.fround;

/** Values where approximations break or special cases live, then a spread of ordinary ones. */
const EDGES = [
  0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-40, -3e-39, 1.17549435e-38, 3.4028234e38, -3.4028234e38,
  88.72, 88.73, 89, -87.3, -88, -100, -103.9, -104, -110, 0.625, -0.625, 0.6249, 4, -4, 3.999, -4.001, 9,
  0.5, -0.5, 1.5, 2.5, -2.5, 1, -1, 2, 1e-7, -1e-7, 1e-20, 0.70710677, 0.7071068, 1e30, -1e30,
].map(f32);

function values(n: number, seed: number, scale = 4): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = i < EDGES.length ? EDGES[i]! : f32((u * 2 - 1) * scale * (i % 3 === 0 ? 10 : 1));
  }
  return out;
}

/** Within rtol·|want| + atol, NaN where NaN is wanted, infinities and signed zeros exactly. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string, x?: ArrayLike<number>): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = f32(want[i]!);
    const at = `${what} [${i}]${x ? ` x=${x[i]}` : ''}: got ${g}, want ${w}`;
    if (Number.isNaN(w)) { expect(Number.isNaN(g), at).toBe(true); continue; }
    if (!Number.isFinite(w) || w === 0) { expect(Object.is(g, w) || (w === 0 && Math.abs(g) <= atol && !Object.is(w, -0) === !Object.is(g, -0)), at).toBe(true); continue; }
    expect(Math.abs(g - w) <= atol + rtol * Math.abs(w), at).toBe(true);
  }
}

const kernels = recordSimdKernels();

/** Realises `f` and returns its values, checking how many kernels took the SIMD path. */
async function run(f: () => born.Tensor, simdKernels: number): Promise<Float32Array> {
  const before = simdStats.printed;
  const y = f();
  const out = (await y.data()) as Float32Array;
  expect(simdStats.printed - before, 'kernels printed as SIMD').toBe(simdKernels);
  return out;
}

const gelu = (x: number): number => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const UNARY: [string, (t: born.Tensor) => born.Tensor, (x: number) => number, number, number][] = [
  // name, Born op, float64 reference, rtol, atol
  ['exp', (t) => t.exp(), Math.exp, 2e-7, 3e-45],
  ['log', (t) => t.log(), Math.log, 2e-7, 1e-7],
  ['tanh', (t) => t.tanh(), Math.tanh, 3e-7, 1e-45],
  ['erf', (t) => t.erf(), (x) => (x === 0 ? x : erf64(x)), 1e-6, 2e-7],
  ['sqrt', (t) => t.sqrt(), Math.sqrt, 1e-7, 0],
  ['abs', (t) => t.abs(), Math.abs, 0, 0],
  ['neg', (t) => t.neg(), (x) => -x, 0, 0],
  ['sign', (t) => t.sign(), Math.sign, 0, 0],
  ['relu', (t) => t.relu(), (x) => (x > 0 || Number.isNaN(x) ? x : 0), 0, 0],
  ['floor', (t) => t.floor(), Math.floor, 0, 0],
  ['ceil', (t) => t.ceil(), Math.ceil, 0, 0],
  ['trunc', (t) => t.trunc(), Math.trunc, 0, 0],
  ['round', (t) => t.round(), (x) => { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r; }, 0, 0],
  ['reciprocal', (t) => t.reciprocal(), (x) => 1 / x, 1e-7, 0],
  // Below float32's normal range, 0 (as float32 arithmetic gives) is as good as the JS path's denormal.
  ['sigmoid', (t) => t.sigmoid(), (x) => 1 / (1 + Math.exp(-x)), 5e-7, 1.2e-38],
  // 1 + erf(x/√2) cancels for x < -3: the float32 tolerance's atol, as the JS path needs too.
  ['gelu', (t) => t.gelu(), gelu, 1e-6, 1e-6],
  ['gelu tanh', (t) => t.gelu('tanh'), (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 3e-6, 1e-6],
  ['silu', (t) => t.silu(), (x) => x / (1 + Math.exp(-x)), 5e-7, 1.2e-38],
];

describe.each([['plain SIMD', false], ['relaxed-SIMD multiply-add', true]] as const)('%s', (_name, fma) => {
  // Distinct lengths per pass: compiled kernels are cached by their IR, not by how they were printed.
  const n = fma ? 1037 : 1031;
  beforeAll(() => setSimdFma(fma));

  test.each(UNARY)('%s over edge values, a ragged length', async (_op, f, ref, rtol, atol) => {
    const x = values(n, 7);
    const got = await run(() => f(born.tensor(x)), 1);
    expectClose(got, Array.from(x, ref), rtol, atol, _op, x);
  });

  test('log of positive values across the range, denormals included', async () => {
    const x = new Float32Array(n + 2).map((_, i) => f32(2 ** (-149 + (i * 277) / n)));
    const got = await run(() => born.tensor(x).log(), 1);
    expectClose(got, Array.from(x, Math.log), 2e-7, 1e-7, 'log', x);
  });

  test('exp across its whole domain, overflow and gradual underflow included', async () => {
    const x = new Float32Array(n + 4).map((_, i) => f32(-110 + (i * 200) / n));
    const got = await run(() => born.tensor(x).exp(), 1);
    expectClose(got, Array.from(x, Math.exp), 2e-7, 3e-45, 'exp', x);
  });

  test.each([
    ['add', (a: born.Tensor, b: born.Tensor) => a.add(b), (a: number, b: number) => a + b],
    ['sub', (a: born.Tensor, b: born.Tensor) => a.sub(b), (a: number, b: number) => a - b],
    ['mul', (a: born.Tensor, b: born.Tensor) => a.mul(b), (a: number, b: number) => a * b],
    ['div', (a: born.Tensor, b: born.Tensor) => a.div(b), (a: number, b: number) => a / b],
    ['maximum', (a: born.Tensor, b: born.Tensor) => a.maximum(b), (a: number, b: number) => (a > b || a !== a ? a : b)],
    ['minimum', (a: born.Tensor, b: born.Tensor) => a.minimum(b), (a: number, b: number) => (a < b || a !== a ? a : b)],
  ] as const)('%s: same shape, row and column broadcast, scalar', async (_op, f, ref) => {
    const R = 7, C = fma ? 131 : 133;
    const a = values(R * C, 3), b = values(R * C, 11).reverse(), row = values(C, 5).reverse(), col = values(R, 9);
    const A = born.tensor(a, { shape: [R, C] });
    const cases: [born.Tensor, (i: number) => number][] = [
      [born.tensor(b, { shape: [R, C] }), (i) => b[i]!],
      [born.tensor(row, { shape: [C] }), (i) => row[i % C]!],
      [born.tensor(col, { shape: [R, 1] }), (i) => col[Math.floor(i / C)]!],
    ];
    for (const [B, at] of cases) {
      const got = await run(() => f(A, B), 1);
      expectClose(got, Array.from(a, (v, i) => ref(v, at(i))), 1e-7, 0, _op);
    }
    const got = await run(() => f(A, born.tensor(f32(0.75))), 1);
    expectClose(got, Array.from(a, (v) => ref(v, 0.75)), 1e-7, 0, `${_op} scalar`);
  });

  test('a fused chain over rows longer than a block, with a transposed operand that stays in JS', async () => {
    const C = 2 * BLOCK + (fma ? 5 : 3);
    const x = values(2 * C, 13, 2);
    const X = born.tensor(x, { shape: [2, C] });
    const got = await run(() => X.mul(1.5).add(0.5).exp().mul(X).sub(X.tanh()), 1);
    expectClose(got, Array.from(x, (v) => Math.exp(f32(f32(v * 1.5) + 0.5)) * v - Math.tanh(v)), 2e-6, 1e-6, 'chain', x);
    // Reading x transposed is not contiguous along the output's rows: JS.
    const T = born.tensor(x.slice(0, 64 * 32), { shape: [64, 32] });
    const tg = await run(() => T.transpose(0, 1).exp(), 0);
    expectClose(tg, Array.from({ length: 64 * 32 }, (_, i) => Math.exp(x[(i % 64) * 32 + Math.floor(i / 64)]!)), 2e-7, 0, 'transposed');
  });
});

describe('sums over the innermost dim', () => {
  test.each([[64, 4096], [3, 2 * BLOCK + 7], [37, 101], [5, 1]] as const)('the bench chain over [%i, %i] against a float64 sum', async (R, C) => {
    const x = values(R * C, 21, 2).map((v) => (Number.isFinite(v) && Math.abs(v) < 10 ? v : 0.25));
    const X = born.tensor(x, { shape: [R, C] });
    const got = await run(() => X.mul(1.5).add(0.5).gelu().mul(X).sum({ dim: 1 }), C > 1 ? 1 : 0);
    for (let r = 0; r < R; r++) {
      let want = 0, mag = 0;
      for (let c = 0; c < C; c++) {
        const v = x[r * C + c]!, t = gelu(f32(f32(v * 1.5) + 0.5)) * v;
        want += t; mag += Math.abs(t);
      }
      expect(Math.abs(got[r]! - want), `row ${r}: got ${got[r]}, want ${want}`).toBeLessThanOrEqual(2e-6 * mag + 1e-6);
    }
  });

  test('sum over the last two dims, mean, and NaN / Inf terms', async () => {
    const x = values(6 * 9 * 23, 4).map((v) => (Number.isFinite(v) ? v : 1));
    x[5] = NaN; x[9 * 23 + 4] = Infinity; x[2 * 9 * 23 + 7] = Infinity; x[2 * 9 * 23 + 8] = -Infinity;
    const X = born.tensor(x, { shape: [6, 9, 23] });
    const want = (r: number): number => { let s = 0; for (let i = 0; i < 9 * 23; i++) s += x[r * 9 * 23 + i]!; return s; };
    const sums = await run(() => X.sum({ dim: [1, 2] }), 1);
    const means = await run(() => X.mean({ dim: [1, 2] }), 1);
    for (let r = 0; r < 6; r++) {
      const w = want(r);
      if (!Number.isFinite(w)) { expect(Object.is(sums[r], f32(w)), `row ${r}`).toBe(true); continue; }
      expect(Math.abs(sums[r]! - w)).toBeLessThanOrEqual(1e-5 * Math.abs(w) + 1e-5);
      expect(Math.abs(means[r]! - w / 207)).toBeLessThanOrEqual(1e-5 * Math.abs(w / 207) + 1e-6);
    }
    expect(Number.isNaN(sums[0])).toBe(true);
    expect(sums[1]).toBe(Infinity);
    expect(Number.isNaN(sums[2])).toBe(true);
  });

  test('a sum whose term reads a broadcast row stays exact to float64 accumulation', async () => {
    const R = 9, C = 999;
    const x = values(R * C, 8).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e6 ? v : 2));
    const w = values(C, 12).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e6 ? v : 3));
    const got = await run(() => born.tensor(x, { shape: [R, C] }).mul(born.tensor(w)).sum({ dim: 1 }), 1);
    for (let r = 0; r < R; r++) {
      let s = 0, mag = 0;
      for (let c = 0; c < C; c++) { s += x[r * C + c]! * w[c]!; mag += Math.abs(x[r * C + c]! * w[c]!); }
      expect(Math.abs(got[r]! - s)).toBeLessThanOrEqual(1e-6 * mag);
    }
  });
});

describe('kernels that stay in JS', () => {
  test('other dtypes, ops without a lane-wise form, row max (column reductions: simd-columns.test.ts)', async () => {
    const x = values(300, 2);
    const X = born.tensor(x, { shape: [10, 30] });
    await run(() => X.sin(), 0);
    await run(() => born.tensor(x, { dtype: 'float64' }).exp(), 0);
    await run(() => X.amax({ dim: 1 }), 0);
    await run(() => born.tensor(new Int32Array(300).fill(3)).mul(2).to('float32'), 0);
  });

  test('the SIMD source is marked, and planSimd says why a kernel is refused', async () => {
    kernels.length = 0;
    const X = born.tensor(values(4096, 1), { shape: [64, 64] });
    await run(() => X.exp().sin(), 0);
    const k = kernels.find((q) => q.ops.includes('sin'))!;
    expect(planSimd(k)).toBe('op sin');
    kernels.length = 0;
    await run(() => X.exp().mul(3), 1);
    const dev = new CpuDevice(1);
    const compiled = dev.compile(kernels[kernels.length - 1]!) as unknown as { source: string };
    expect(compiled.source).toContain(SIMD_MARKER);
    await dev.destroy();
  });

  test("mode 'never' prints JS for a kernel that qualifies", async () => {
    setSimdMode('never');
    try {
      const x = values(999, 3);
      const got = await run(() => born.tensor(x).mul(2.5).exp(), 0);
      expectClose(got, Array.from(x, (v) => Math.exp(v * 2.5)), 2e-7, 3e-45, 'js');
    } finally {
      setSimdMode('always');
    }
  });
});
