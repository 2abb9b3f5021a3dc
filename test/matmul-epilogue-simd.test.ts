// A matmul's fused epilogue run as a WebAssembly SIMD map over the C block
// (src/devices/cpu-workers/simd/epilogue.ts, matmul/epilogue-out.ts), against naive float64
// loops: per-row and per-column biases, activations, a residual operand, batches, a
// convolution's channel-major output, rows longer than a SIMD block and ragged column blocks;
// and the epilogues that stay in JS.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { recordSimdKernels } from './reference/simd-kernels.js';
import { planMatmulEpilogue } from '../src/devices/cpu-workers/simd/epilogue.js';
import { simdStats } from '../src/devices/cpu-workers/simd/index.js';
import { BLOCK } from '../src/devices/cpu-workers/simd/module.js';
import { expectClose, naive, values } from './reference/matmul-check.js';

const kernels = recordSimdKernels();

/** Realises `f`, checking that its matmul's epilogue took the SIMD path exactly `n` times. */
async function epilogues(f: () => Tensor, n: number): Promise<Tensor> {
  const before = simdStats.epilogues;
  const y = f();
  await y.data();
  expect(simdStats.epilogues - before, 'matmul epilogues printed as SIMD').toBe(n);
  return y;
}

const relu = (x: number): number => (x > 0 ? x : 0);

describe('matmul epilogue as a SIMD map', () => {
  test('a bias along the columns and relu (a linear layer), with column blocks that end ragged', async () => {
    const [M, K, N] = [37, 19, 2053];
    const a = values(M * K, 1), w = values(K * N, 2), bias = values(N, 3);
    const ref = naive(a, w, 1, M, K, N).map((v, i) => relu(v + bias[i % N]!));
    const y = await epilogues(() => born.tensor(a, { shape: [M, K] }).matmul(born.tensor(w, { shape: [K, N] })).add(born.tensor(bias)).relu(), 1);
    await expectClose(y, ref, K);
  });

  test('a bias along the rows (a convolution\'s channels) over rows longer than a block', async () => {
    const [M, K, N] = [6, 9, 2 * BLOCK + 77];
    const a = values(M * K, 4), b = values(K * N, 5), bias = values(M, 6);
    const ref = naive(a, b, 1, M, K, N).map((v, i) => v + bias[Math.floor(i / N)]!);
    const y = await epilogues(() => born.tensor(a, { shape: [M, K] }).matmul(born.tensor(b, { shape: [K, N] })).add(born.tensor(bias, { shape: [M, 1] })), 1);
    await expectClose(y, ref, K);
  });

  test('a residual operand of the output\'s shape, a scale and tanh, over a batch', async () => {
    const [T, M, K, N] = [3, 9, 33, 130];
    const a = values(T * M * K, 7), b = values(T * K * N, 8), r = values(T * M * N, 9);
    const ref = naive(a, b, T, M, K, N).map((v, i) => Math.tanh(0.5 * v + r[i]!));
    const y = await epilogues(() => born.tensor(a, { shape: [T, M, K] }).matmul(born.tensor(b, { shape: [T, K, N] }))
      .mul(0.5).add(born.tensor(r, { shape: [T, M, N] })).tanh(), 1);
    await expectClose(y, ref, K);
  });

  test('a convolution with bias, its output read channel-major, equals the naive convolution', async () => {
    const [Nb, C, H, W, O] = [5, 3, 17, 19, 8];
    const x = values(Nb * C * H * W, 10), w = values(O * C * 9, 11), bias = values(O, 12);
    const Ho = H - 2, Wo = W - 2;
    const ref = new Float64Array(Nb * O * Ho * Wo);
    for (let n = 0; n < Nb; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
      let s = bias[o]!;
      for (let c = 0; c < C; c++) for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) {
        s += x[((n * C + c) * H + i + p) * W + j + q]! * w[((o * C + c) * 3 + p) * 3 + q]!;
      }
      ref[((n * O + o) * Ho + i) * Wo + j] = s;
    }
    const before = kernels.length;
    const y = await epilogues(() => born.nn.functional.conv2d(born.tensor(x, { shape: [Nb, C, H, W] }), born.tensor(w, { shape: [O, C, 3, 3] }), born.tensor(bias)), 1);
    expect(kernels.slice(before).some((k) => k.matmul !== null && planMatmulEpilogue(k) !== null)).toBe(true);
    await expectClose(y, ref, C * 9);
  });

  test('NaN and infinities pass through the epilogue as in the JS expression', async () => {
    const [M, K, N] = [4, 2, 96];
    const a = values(M * K, 13), b = values(K * N, 14), bias = values(N, 15);
    bias[0] = NaN; bias[1] = Infinity; bias[2] = -Infinity;
    const y = await epilogues(() => born.tensor(a, { shape: [M, K] }).matmul(born.tensor(b, { shape: [K, N] })).add(born.tensor(bias)).relu(), 1);
    const got = (await y.data()) as Float32Array;
    for (let m = 0; m < M; m++) {
      expect(Number.isNaN(got[m * N]!)).toBe(true);
      expect(got[m * N + 1]).toBe(Infinity);
      expect(got[m * N + 2]).toBe(0);
    }
  });

  test('epilogues without a lane-wise form stay in JS and are still right', async () => {
    const [M, K, N] = [8, 5, 300];
    const a = values(M * K, 16), b = values(K * N, 17);
    // sin has no lane-wise form; a float64 matmul has no float32 lanes.
    const ref = naive(a, b, 1, M, K, N);
    const y = await epilogues(() => born.tensor(a, { shape: [M, K] }).matmul(born.tensor(b, { shape: [K, N] })).sin(), 0);
    await expectClose(y, ref.map(Math.sin), K);
    const y64 = await epilogues(() => born.tensor(a, { shape: [M, K], dtype: 'float64' }).matmul(born.tensor(b, { shape: [K, N], dtype: 'float64' })).add(1), 0);
    await expectClose(y64, ref.map((v) => v + 1), K);
    // A plain matmul has no epilogue to plan.
    await epilogues(() => born.tensor(a, { shape: [M, K] }).matmul(born.tensor(b, { shape: [K, N] })), 0);
  });
});
