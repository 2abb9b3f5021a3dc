// Matmul prologues (src/scheduler/matmul-prologue.ts): an operand that is an elementwise
// function of one strided buffer read is applied as the operand is packed, not materialised.
// Kernel level (every backend and packing path) and graph level (fusion assertions, values,
// gradients) against a naive float64 matmul.
import v8 from 'node:v8';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { matmulSource, matmulWorkUnits, type MatmulOperand, type MatmulSpec } from '../src/devices/cpu-workers/matmul.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** C = f(A) g(B) through the operands' strides, in float64. */
function naive(spec: MatmulSpec, A: ArrayLike<number>, B: ArrayLike<number>, f: (x: number) => number, g: (x: number) => number): number[] {
  const { batch, M, N, K, a, b } = spec;
  const out: number[] = [];
  for (let t = 0; t < batch; t++) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += f(A[a.offset + t * a.sBatch + m * a.sRow + k * a.sCol]!) * g(B[b.offset + t * b.sBatch + k * b.sRow + n * b.sCol]!);
    out.push(s);
  }
  return out;
}

const rows = (r: number, c: number, batch = r * c): MatmulOperand => ({ offset: 0, sBatch: batch, sRow: c, sCol: 1 });
const cols = (r: number, c: number, batch = r * c): MatmulOperand => ({ offset: 0, sBatch: batch, sRow: 1, sCol: r });
/** Neither stride is 1 (every second element): packed element by element. */
const strided = (r: number, c: number): MatmulOperand => ({ offset: 1, sBatch: 0, sRow: 2 * c, sCol: 2 });
const reach = (op: MatmulOperand, batch: number, r: number, c: number): number =>
  op.offset + Math.max(0, batch - 1) * op.sBatch + (r - 1) * op.sRow + (c - 1) * op.sCol + 1;

const shapes: [string, number, number, number, number, (r: number, c: number) => MatmulOperand, (r: number, c: number) => MatmulOperand][] = [
  ['gemm', 1, 70, 45, 300, rows, rows],
  ['gemm, A transposed, B transposed', 1, 37, 29, 53, cols, cols],
  ['gemm, strided operands', 1, 21, 19, 17, strided, strided],
  ['batched gemm', 3, 9, 20, 11, rows, rows],
  ['one row (row kernel)', 1, 1, 70, 33, rows, rows],
  ['few rows, B transposed (dot kernel)', 1, 3, 13, 40, rows, cols],
  ['few rows, B unpacked', 1, 5, 24, 19, cols, rows],
  ['tiny (direct)', 1, 2, 3, 4, rows, rows],
];

describe('matmul prologues in the kernel', () => {
  for (const backend of ['auto', 'js', 'direct'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      test.each(shapes)(`${backend} ${dtype}: %s`, (_, batch, M, N, K, fa, fb) => {
        const a = fa(M, K), b = fb(K, N);
        const spec: MatmulSpec = {
          batch, M, N, K, dtype,
          a: { ...a, prologue: 'acc * 2 + 1' },
          b: { ...b, prologue: '(acc > 0 ? acc : 0.25 * acc)' },
          epilogue: { expr: 'acc - 3' },
        };
        const T = dtype === 'float64' ? Float64Array : Float32Array;
        const A = T.from(values(reach(a, batch, M, K), 1)), B = T.from(values(reach(b, batch, K, N), 2));
        const C = new T(batch * M * N).fill(NaN);
        const fn = new Function(`"use strict"; return (${matmulSource(spec, { backend })});`)() as (b: unknown[], s: number, e: number) => void;
        fn([C, A, B], 0, matmulWorkUnits(spec));
        const want = naive(spec, A, B, (x) => x * 2 + 1, (x) => (x > 0 ? x : 0.25 * x)).map((v) => v - 3);
        const tol = dtype === 'float64' ? 1e-11 : 2e-4;
        for (let i = 0; i < want.length; i++) expect(Math.abs(C[i]! - want[i]!)).toBeLessThan(tol * (1 + Math.abs(want[i]!)));
      });
    }
  }
});

async function close(t: Tensor, want: number[], tol = 1e-5): Promise<void> {
  const got = [...(await t.data())] as number[];
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(tol * (1 + Math.abs(want[i]!)));
}

/** Row-major [M, K] x [K, N] in float64. */
function mm(a: number[], b: number[], M: number, K: number, N: number): number[] {
  const spec: MatmulSpec = { batch: 1, M, N, K, a: rows(M, K), b: rows(K, N) };
  return naive(spec, a, b, (x) => x, (x) => x);
}

describe('matmul prologues in the graph', () => {
  test('x.mul(2).matmul(w) is one kernel', async () => {
    const [M, K, N] = [37, 53, 29];
    const xv = values(M * K, 3), wv = values(K * N, 4);
    const x = born.tensor(xv, { shape: [M, K] }), w = born.tensor(wv, { shape: [K, N] });
    await born.realize(x, w);
    const y = x.mul(2).matmul(w);
    const plan = born.explain(y).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['mul', 'matmul']);
    await close(y, mm(xv.map((v) => Math.fround(v) * 2), wv.map(Math.fround), M, K, N));
  });

  test('prologues on both operands (one transposed), with an epilogue and a transposed output, float64', async () => {
    const [M, K, N] = [19, 70, 33];
    const xv = values(M * K, 5), wv = values(N * K, 6), bv = values(N, 7);
    const x = born.tensor(xv, { shape: [M, K], dtype: 'float64' });
    const w = born.tensor(wv, { shape: [N, K], dtype: 'float64' });
    const bias = born.tensor(bv, { shape: [N], dtype: 'float64' });
    await born.realize(x, w, bias);
    const y = x.sub(0.5).abs().matmul(w.T.neg()).add(bias).relu();
    const plan = born.explain(y).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['sub', 'abs', 'neg', 'matmul', 'add', 'relu']);
    const wT: number[] = [];
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) wT.push(-wv[n * K + k]!);
    const c = mm(xv.map((v) => Math.abs(v - 0.5)), wT, M, K, N).map((v, i) => Math.max(0, v + bv[i % N]!));
    await close(y, c, 1e-12);
    const t = x.mul(3).matmul(w.T).T;
    expect(born.explain(t).kernels).toHaveLength(1);
    const c2 = mm(xv.map((v) => v * 3), wT.map((v) => -v), M, K, N);
    const want: number[] = [];
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) want.push(c2[m * N + n]!);
    await close(t, want, 1e-12);
  });

  test('batched: a square prologue against a broadcast operand, and a prologue under a broadcast', async () => {
    const [B, M, K, N] = [3, 10, 12, 7];
    const av = values(B * M * K, 8), wv = values(K * N, 9);
    const a = born.tensor(av, { shape: [B, M, K] }), w = born.tensor(wv, { shape: [K, N] });
    await born.realize(a, w);
    const y = a.square().matmul(w);
    expect(born.explain(y).kernels).toHaveLength(1);
    // A prologue under a broadcast: the function commutes with the view above it.
    const z = a.matmul(w.add(1));
    expect(born.explain(z).kernels).toHaveLength(1);
    const want: number[] = [];
    const wantZ: number[] = [];
    for (let t = 0; t < B; t++) {
      const at = av.slice(t * M * K, (t + 1) * M * K).map(Math.fround);
      want.push(...mm(at.map((v) => v ** 2), wv.map(Math.fround), M, K, N));
      wantZ.push(...mm(at, wv.map((v) => Math.fround(v) + 1), M, K, N));
    }
    await close(y, want);
    await close(z, wantZ);
  });

  test('a cast or dequantise prologue: int8 and bool operands, float32 under float64', async () => {
    const [M, K, N] = [9, 33, 6];
    const qv = values(M * K, 16).map((v) => Math.round(v * 127)), wv = values(K * N, 17);
    const q = born.tensor(qv, { shape: [M, K], dtype: 'int8' }), w = born.tensor(wv, { shape: [K, N] });
    const mask = born.tensor(qv.map((v) => (v > 0 ? 1 : 0)), { shape: [M, K], dtype: 'bool' });
    await born.realize(q, w, mask);
    const y = q.to('float32').mul(0.02).matmul(w);
    const plan = born.explain(y).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['mul', 'matmul']);
    const wf = wv.map(Math.fround);
    await close(y, mm(qv.map((v) => Math.fround(v * Math.fround(0.02))), wf, M, K, N));
    const z = mask.to('float32').matmul(w);
    expect(born.explain(z).kernels).toHaveLength(1);
    await close(z, mm(qv.map((v) => (v > 0 ? 1 : 0)), wf, M, K, N));
    const d = w.to('float64').T.matmul(q.to('float64').T);
    expect(born.explain(d).kernels).toHaveLength(1);
    const wT: number[] = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wT.push(wf[k * N + n]!);
    const qT: number[] = [];
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) qT.push(qv[m * K + k]!);
    await close(d, mm(wT, qT, N, K, M), 1e-12);
  });

  test('an operand reading two buffers, or a broadcast one, is still materialised, with the same values', async () => {
    const [M, K, N] = [6, 8, 5];
    const xv = values(M * K, 10), yv = values(M * K, 11), sv = values(K, 12), wv = values(K * N, 13);
    const x = born.tensor(xv, { shape: [M, K] }), y = born.tensor(yv, { shape: [M, K] });
    const s = born.tensor(sv, { shape: [K] }), w = born.tensor(wv, { shape: [K, N] });
    await born.realize(x, y, s, w);
    const p = x.mul(y).matmul(w), q = x.mul(s).matmul(w);
    // Padding would need coordinates (f(0) is not 0): materialised too.
    const pv = values((K + 1) * N, 18);
    const r = x.add(1).pad([1, 0]).matmul(born.tensor(pv, { shape: [K + 1, N] }));
    expect(born.explain(r).kernels).toHaveLength(3);
    const xp: number[] = [];
    for (let m = 0; m < M; m++) xp.push(0, ...xv.slice(m * K, (m + 1) * K).map((v) => Math.fround(Math.fround(v) + 1)));
    await close(r, mm(xp, pv.map(Math.fround), M, K + 1, N));
    expect(born.explain(p).kernels).toHaveLength(2);
    expect(born.explain(q).kernels).toHaveLength(2);
    await close(p, mm(xv.map((v, i) => Math.fround(Math.fround(v) * Math.fround(yv[i]!))), wv.map(Math.fround), M, K, N));
    await close(q, mm(xv.map((v, i) => Math.fround(Math.fround(v) * Math.fround(sv[i % K]!))), wv.map(Math.fround), M, K, N));
  });

  test('gradients through a prologue: d/dw sum((3x) w) = (3x)^T 1, d/dx = 3 (1 w^T)', async () => {
    const [M, K, N] = [5, 7, 4];
    const xv = values(M * K, 14), wv = values(K * N, 15);
    const x = born.tensor(xv, { shape: [M, K] }).requiresGrad_(), w = born.tensor(wv, { shape: [K, N] }).requiresGrad_();
    await born.realize(x, w);
    const [gx, gw] = born.grad(x.mul(3).matmul(w).sum(), [x, w]);
    const colSum = Array.from({ length: K }, (_, k) => xv.filter((_, i) => i % K === k).reduce((s, v) => s + 3 * Math.fround(v), 0));
    const rowSum = Array.from({ length: K }, (_, k) => wv.slice(k * N, (k + 1) * N).reduce((s, v) => s + Math.fround(v), 0));
    await close(gw!, Array.from({ length: K * N }, (_, i) => colSum[Math.floor(i / N)]!));
    await close(gx!, Array.from({ length: M * K }, (_, i) => 3 * rowSum[i % K]!));
  });
});
