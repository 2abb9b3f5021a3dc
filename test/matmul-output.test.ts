// The matmul output view pass (src/scheduler/matmul-output.ts): a matmul read only through a
// transpose of its last two dims is computed as B^T A^T, writing the transposed layout itself,
// so no copy kernel follows it. Values against a naive float64 matmul.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { transposesMatmul } from '../src/scheduler/matmul-output.js';
import type { Tensor } from '../src/index.js';

/** Deterministic data in [-1, 1), as a plain array. */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** C[bt] = A[bt] B[bt] in float64, row-major [batch, M, N]. */
function naive(a: number[], b: number[], batch: number, M: number, K: number, N: number): number[] {
  const c = new Array<number>(batch * M * N).fill(0);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[(t * M + i) * K + k]! * b[(t * K + k) * N + j]!;
        c[(t * M + i) * N + j] = s;
      }
    }
  }
  return c;
}

/** The last two dims of a row-major [batch, R, C] array swapped. */
function swapLast(x: number[], batch: number, R: number, C: number): number[] {
  const y = new Array<number>(x.length);
  for (let t = 0; t < batch; t++) for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[(t * C + c) * R + r] = x[(t * R + r) * C + c]!;
  return y;
}

async function expectClose(t: Tensor, want: number[], tol: number): Promise<void> {
  const got = [...(await t.data())] as number[];
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
}

const mmKernels = (t: Tensor): { name: string; ops: readonly string[] }[] => born.explain(t).kernels.map((k) => ({ name: k.name, ops: k.ops }));

describe('matmul written transposed', () => {
  test.each([
    ['float32', 37, 53, 29, 1e-5],
    ['float64', 19, 70, 33, 1e-12],
    ['float32', 1, 40, 9, 1e-5],
    ['float32', 130, 3, 67, 1e-5],
  ] as const)('%s [%i, %i] x [%i, ..]: (a b)^T is one kernel with the exact values', async (dtype, M, K, N, tol) => {
    const av = values(M * K, 1), bv = values(K * N, 2);
    const a = born.tensor(av, { shape: [M, K], dtype }), b = born.tensor(bv, { shape: [K, N], dtype });
    await born.realize(a, b);
    const y = a.matmul(b).T;
    const plan = mmKernels(y);
    expect(plan).toHaveLength(1);
    expect(plan[0]!.name).toBe(`MM_1_${N}_${M}_${K}`);
    await expectClose(y, swapLast(naive(av, bv, 1, M, K, N), 1, M, N), tol);
  });

  test('batched, with transposed and broadcast operands, epilogue before and after the transpose', async () => {
    const [B, M, K, N] = [3, 21, 18, 35];
    const av = values(B * M * K, 3), bv = values(N * K, 4), biasv = values(N, 5), rowv = values(M, 6);
    const a = born.tensor(av, { shape: [B, M, K] });
    const bt = born.tensor(bv, { shape: [N, K] }); // read as B = bt^T, broadcast over the batch
    const bias = born.tensor(biasv, { shape: [N] }), row = born.tensor(rowv, { shape: [M] });
    await born.realize(a, bt, bias, row);
    const y = a.matmul(bt.T).add(bias).relu().transpose(-1, -2).mul(row);
    const plan = mmKernels(y);
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['matmul', 'add', 'relu', 'mul']);
    const bFull: number[] = [];
    for (let t = 0; t < B; t++) bFull.push(...swapLast(bv, 1, N, K));
    const c = naive(av, bFull, B, M, K, N).map((v, i) => Math.max(0, v + biasv[i % N]!));
    const want = swapLast(c, B, M, N).map((v, i) => v * rowv[i % M]!);
    await expectClose(y, want, 1e-5);
  });

  test('a transpose that is not of the last two dims, or one of two, still reads a contiguous result', async () => {
    const [B, M, K, N] = [4, 6, 5, 7];
    const av = values(B * M * K, 7), bv = values(B * K * N, 8);
    const a = born.tensor(av, { shape: [B, M, K] }), b = born.tensor(bv, { shape: [B, K, N] });
    await born.realize(a, b);
    const c = naive(av, bv, B, M, K, N);
    const p = a.matmul(b).permute(1, 0, 2);
    expect(mmKernels(p)).toHaveLength(2);
    const want: number[] = [];
    for (let i = 0; i < M; i++) for (let t = 0; t < B; t++) for (let j = 0; j < N; j++) want.push(c[(t * M + i) * N + j]!);
    await expectClose(p, want, 1e-5);
    // Transposed twice: the first transpose is the kernel's, the second a copy.
    await expectClose(a.matmul(b).transpose(1, 2).transpose(1, 2), c, 1e-5);
  });

  test('a matmul read both plainly and transposed is written once, plainly', async () => {
    const a = born.randn([9, 4], { seed: 1 }), b = born.randn([4, 11], { seed: 2 });
    await born.realize(a, b);
    const c = a.matmul(b);
    const s = c.add(c.T.sum({ dim: 1 }).reshape([1, 11]));
    expect(born.explain(s).kernels.filter((k) => k.ops.includes('matmul'))).toHaveLength(1);
    const cv = [...(await c.data())] as number[];
    const colSums = Array.from({ length: 11 }, (_, j) => cv.filter((_, i) => i % 11 === j).reduce((x, y) => x + y, 0));
    await expectClose(s, cv.map((v, i) => v + colSums[i % 11]!), 1e-5);
  });

  test('transposesMatmul accepts only the last-two-dims swap of a matmul layout', () => {
    const a = born.randn([2, 3, 4]), b = born.randn([2, 4, 5]);
    const x = a.matmul(b);
    expect(transposesMatmul(x.transpose(-1, -2).node, x.node)).toBe(true);
    expect(transposesMatmul(x.permute(1, 0, 2).node, x.node)).toBe(false);
    expect(transposesMatmul(x.reshape([6, 5]).T.node, x.node)).toBe(false);
    expect(transposesMatmul(a.transpose(-1, -2).node, a.node)).toBe(false);
  });

  test('the MLP backward makes no transpose copies, and its weight gradients are right', async () => {
    born.manualSeed(3);
    const model = born.nn.Sequential(born.nn.Linear(12, 8), born.nn.ReLU(), born.nn.Linear(8, 5));
    const x = born.randn([6, 12], { seed: 9 });
    await born.realize(x);
    const y = model.forward(x).square().sum();
    const params = model.parameters();
    const gs = born.grad(y, params);
    const plan = born.explain(...gs).kernels;
    expect(plan.filter((k) => k.ops.length === 0)).toEqual([]);
    expect(plan.filter((k) => k.ops.includes('matmul'))).toHaveLength(5);
    // Against finite differences of the loss in float64 on the first layer's weight.
    const w1 = params[0]!;
    const g1 = [...(await gs[0]!.data())] as number[];
    const wv = [...(await w1.data())] as number[];
    const loss = async (w: number[]): Promise<number> => {
      const w64 = born.tensor(w, { shape: [8, 12], dtype: 'float64' });
      const p = params.slice(1).map((t) => t.to('float64'));
      const h = x.to('float64').matmul(w64.T).add(p[0]!).relu().matmul(p[1]!.T).add(p[2]!);
      return Number(await h.square().sum().item());
    };
    for (const idx of [0, 13, 95]) {
      const up = [...wv], dn = [...wv];
      up[idx]! += 1e-4;
      dn[idx]! -= 1e-4;
      const fd = ((await loss(up)) - (await loss(dn))) / 2e-4;
      expect(g1[idx]!).toBeCloseTo(fd, 2);
    }
  });
});
