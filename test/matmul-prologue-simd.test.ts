// A matmul operand's prologue run as a WebAssembly SIMD map over each staged block
// (src/devices/cpu-workers/matmul/prologue-simd.ts) against naive float64 loops: relu of a linear
// layer's activations (NaN kept, as PyTorch's relu keeps it), a scale and shift, a runtime scalar
// whose new value compiles nothing, a transposed operand, a prologue on B, one row (the row
// kernel) and runs shorter than the SIMD threshold; and a prologue with no lane-wise form.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { simdStats } from '../src/devices/cpu-workers/simd/index.js';
import { expectClose, naive, values } from './reference/matmul-check.js';

/** Realises `f`, checking that it is one matmul kernel whose prologues took the SIMD form `n` times. */
async function prologues(f: () => Tensor, n: number): Promise<Tensor> {
  const before = simdStats.prologues;
  const y = f();
  expect(born.explain(y).kernels.map((k) => k.ops.includes('matmul'))).toEqual([true]);
  await y.data();
  expect(simdStats.prologues - before, 'prologues printed as SIMD').toBe(n);
  return y;
}

const relu = (x: number): number => (Number.isNaN(x) || x > 0 ? x : 0);
const t32 = (v: Float32Array, shape: number[]): Tensor => born.tensor(v, { shape });

describe('matmul prologue as a SIMD map', () => {
  test('relu of a linear layer\'s activations, past K blocks, with NaN in one row', async () => {
    const [M, K, N] = [64, 1600, 128];
    const x = values(M * K, 1), w = values(N * K, 2), bias = values(N, 3);
    x[5 * K + 17] = NaN;
    const wT = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wT[k * N + n] = w[n * K + k]!;
    const ref = naive(x, wT, 1, M, K, N, relu).map((v, i) => v + bias[i % N]!);
    const y = await prologues(() => t32(x, [M, K]).relu().matmul(t32(w, [N, K]).T).add(born.tensor(bias)), 1);
    await expectClose(y, ref, K);
    const got = (await y.data()) as Float32Array;
    expect(got.slice(5 * N, 6 * N).every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(got[4 * N]!)).toBe(false);
  });

  test('a scale and shift, and a runtime scalar whose next value compiles nothing', async () => {
    const [M, K, N] = [40, 300, 70];
    const x = t32(values(M * K, 4), [M, K]), w = t32(values(K * N, 5), [K, N]);
    await born.realize(x, w);
    const xv = (await x.data()) as Float32Array, wv = (await w.data()) as Float32Array;
    const y = await prologues(() => x.mul(0.75).sub(0.125).matmul(w), 1);
    await expectClose(y, naive(xv, wv, 1, M, K, N, (v) => Math.fround(v * 0.75) - 0.125), K);
    for (const s of [2, -3]) {
      const before = born.engine.stats().kernelCompiles;
      const z = x.mul(born.scalar(s)).matmul(w);
      await expectClose(z, naive(xv, wv, 1, M, K, N, (v) => v * s), K);
      if (s === -3) expect(born.engine.stats().kernelCompiles - before, 'a new scalar value compiles no kernel').toBe(0);
    }
  });

  test('a transposed operand, a prologue on B, and one row (the row kernel)', async () => {
    const [M, K, N] = [33, 500, 45];
    const xt = values(K * M, 6), w = values(K * N, 7);
    const x = new Float32Array(M * K);
    for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) x[m * K + k] = xt[k * M + m]!;
    const y = await prologues(() => t32(xt, [K, M]).T.abs().matmul(t32(w, [K, N])), 1);
    await expectClose(y, naive(x, w, 1, M, K, N, Math.abs), K);
    const z = await prologues(() => t32(x, [M, K]).matmul(t32(w, [K, N]).neg().relu()), 1);
    await expectClose(z, naive(x, w, 1, M, K, N, (v) => v, (v) => relu(-v)), K);
    const row = x.subarray(0, K);
    const r = await prologues(() => t32(row, [1, K]).relu().matmul(t32(w, [K, N])), 1);
    await expectClose(r, naive(row, w, 1, 1, K, N, relu), K);
  });

  test('runs shorter than the SIMD threshold and a prologue with no lane-wise form keep the JS function', async () => {
    const [M, K, N] = [3, 40, 9];
    const x = values(M * K, 8), w = values(K * N, 9);
    const y = await prologues(() => t32(x, [M, K]).relu().matmul(t32(w, [K, N])), 1);
    await expectClose(y, naive(x, w, 1, M, K, N, relu), K);
    const [M2, K2, N2] = [20, 300, 30];
    const x2 = values(M2 * K2, 10), w2 = values(K2 * N2, 11);
    const z = await prologues(() => t32(x2, [M2, K2]).sin().matmul(t32(w2, [K2, N2])), 0);
    await expectClose(z, naive(x2, w2, 1, M2, K2, N2, Math.sin), K2);
  });
});
