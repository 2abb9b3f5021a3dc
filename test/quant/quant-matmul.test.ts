// Packed ggml weights on the CPU (src/quant, scheduler/quant-operand.ts, cpu-workers/matmul/quant.ts):
// x Wᵀ read straight from q8_0 / q4_0 block bytes against a naive dequantise-then-matmul written
// from ggml's layout (reference.ts), for batch 1 and 8, rows that fill no whole work unit, a
// [B, T, in] input, bias; the plan is one matmul kernel over the uint8 bytes (no float copy of
// W anywhere); the input's gradient (g W, W read without the transpose); and the errors.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { quantize, quantizedWeight, quantLinear, QuantizedLinear } from '../../src/quant/index.js';
import { SwiGLU } from '../../src/nn/llama.js';
import { Linear } from '../../src/nn/layers.js';
import { dequantize, matmulT, quantizedActivations, randomBlocks, randomInput, relError, type Format } from './reference.js';

const FORMATS: Format[] = ['q8_0', 'q4_0'];

describe.each(['q8_0', 'q4_0', 'q4_K'] as Format[])('%s: x Wᵀ from packed blocks on the CPU', (format) => {
  // [x rows, out (W rows), in]
  const shapes: [number, number, number][] = format === 'q4_K'
    ? [[1, 37, 256], [8, 19, 512], [1, 1, 256], [3, 40, 768]]
    : [[1, 37, 64], [8, 50, 96], [1, 300, 256], [8, 19, 128], [1, 1, 32], [3, 5, 32]];
  const inF = (k: number): number => (format === 'q4_K' ? k * 4 : k);
  // q8_0 and q4_0 run the integer dot: x is quantised to q8_0 blocks first, as in llama.cpp.
  const xq = (x: Float32Array): ArrayLike<number> => (format === 'q4_K' ? x : quantizedActivations(x));
  test.each(shapes)('x [%i, in] · W [%i, %i]ᵀ', async (m, n, k) => {
    const bytes = randomBlocks(format, n, k, n * 31 + k);
    const x = randomInput(m * k, m + n);
    const y = quantLinear(born.tensor(x, { shape: [m, k] }), quantizedWeight(bytes, format, [n, k]));
    expect(y.shape).toEqual([m, n]);
    const ref = matmulT(xq(x), dequantize(bytes, format, n, k), m, n, k);
    expect(relError(await y.data() as Float32Array, ref)).toBeLessThan(2e-6);
  });

  test('one matmul kernel reads the uint8 blocks; a bias and a [B, T, in] input fuse into it', async () => {
    const [n, k] = [40, inF(64)];
    const bytes = randomBlocks(format, n, k, 7);
    const w = quantizedWeight(bytes, format, [n, k]);
    const xs = randomInput(2 * 3 * k, 8), bs = randomInput(n, 9);
    const y = quantLinear(born.tensor(xs, { shape: [2, 3, k] }), w, born.tensor(bs));
    const plan = born.explain(y).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(expect.arrayContaining(['matmul', 'add']));
    // The only inputs: x, the packed bytes (exactly their size: no float W was made) and the bias.
    expect(w.nbytes).toBe(bytes.length);
    const ref = matmulT(xq(xs), dequantize(bytes, format, n, k), 6, n, k).map((v, i) => v + bs[i % n]!);
    expect(y.shape).toEqual([2, 3, n]);
    expect(relError(await y.data() as Float32Array, ref)).toBeLessThan(2e-6);
  });

  test('a batch-1 product large enough for the worker pool splits the rows over it', async () => {
    const [n, k] = [2600, 4096];
    const bytes = randomBlocks(format, n, k, 5);
    const x = randomInput(k, 6);
    const y = quantLinear(born.tensor(x, { shape: [1, k] }), quantizedWeight(bytes, format, [n, k]));
    expect(born.explain(y).kernels[0]!.placement).toMatch(/^pool/);
    expect(relError(await y.data() as Float32Array, matmulT(xq(x), dequantize(bytes, format, n, k), 1, n, k))).toBeLessThan(2e-6);
  });

  test('the input gets its gradient (g W, the weight read untransposed); the weight is frozen', async () => {
    const [m, n, k] = [3, 21, inF(64)];
    const bytes = randomBlocks(format, n, k, 11);
    const w = quantizedWeight(bytes, format, [n, k]);
    const x = born.tensor(randomInput(m * k, 12), { shape: [m, k] }).requiresGrad_();
    const g = randomInput(m * n, 13);
    quantLinear(x, w).mul(born.tensor(g, { shape: [m, n] })).sum().backward();
    const W = dequantize(bytes, format, n, k);
    const ref = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) ref[i * k + t] += g[i * n + j]! * W[j * k + t]!;
    expect(relError(await x.grad!.data() as Float32Array, ref)).toBeLessThan(2e-6);
    expect(() => w.requiresGrad_()).toThrow(/frozen/);
  });
});

describe('quantize (ggml reference rounding) and QuantizedLinear', () => {
  test('quantize: each weight within half a step of its block (q4_0: or clipped at 7 steps)', () => {
    const [n, k] = [3, 64];
    const v = Float32Array.from(randomInput(n * k, 21), (x) => x * 3);
    for (const format of FORMATS) {
      const back = dequantize(quantize(v, format, [n, k]), format, n, k);
      for (let b = 0; b < n * k; b += 32) {
        const amax = Math.max(...Array.from(v.subarray(b, b + 32), Math.abs));
        const step = format === 'q8_0' ? amax / 127 : amax / 8;
        // q4_0 spans -8 to 7 steps: values beyond 7 steps opposite the largest one clip there.
        // The step is stored as f16 (relative error 2^-11), the rounding used the float32 one.
        const bound = (x: number): number => Math.max(step / 2, format === 'q4_0' ? Math.abs(x) - 7 * step : 0) * (1 + 2e-3) + Math.abs(x) * 2 ** -11 * 1.01 + 1e-7;
        for (let j = b; j < b + 32; j++) expect(Math.abs(back[j]! - v[j]!)).toBeLessThanOrEqual(bound(v[j]!));
      }
    }
    // q8_0 of a block whose largest value is 127 steps of a power of two: exact.
    const exact = Float32Array.from({ length: 32 }, (_, j) => (j - 16) / 8);
    exact[31] = 127 / 8;
    expect(Array.from(dequantize(quantize(exact, 'q8_0', [1, 32]), 'q8_0', 1, 32))).toEqual(Array.from(exact));
  });

  test('QuantizedLinear.fromLinear, and LLaMA blocks run on packed weights through project()', async () => {
    const ff = new SwiGLU(64, 96);
    const x = born.tensor(randomInput(2 * 64, 31), { shape: [1, 2, 64] });
    const q = (l: Linear | QuantizedLinear) => QuantizedLinear.fromLinear(l as Linear, 'q8_0');
    const [w1, w2, w3] = await Promise.all([q(ff.w1), q(ff.w2), q(ff.w3)]);
    // The float model with the dequantised weights is the reference.
    const deq = async (l: QuantizedLinear): Promise<born.Tensor> => {
      const bytes = await l.weight.bytes.data() as Uint8Array;
      return born.tensor(Float32Array.from(dequantize(bytes, 'q8_0', l.outFeatures, l.inFeatures)), { shape: [l.outFeatures, l.inFeatures] });
    };
    const ref = new SwiGLU(64, 96);
    const set = (m: SwiGLU, k: 'w1' | 'w2' | 'w3', v: unknown): void => { Object.defineProperty(m, k, { value: v }); };
    for (const [k, l] of [['w1', w1], ['w2', w2], ['w3', w3]] as const) {
      set(ref, k, { weight: await deq(l) });
      set(ff, k, l);
    }
    expect(w1.extraRepr()).toBe('in_features=64, out_features=96, format=q8_0, bias=False');
    // The blocks are a buffer of the module (state dict, .to(device)), not a parameter.
    expect(w1.parameters()).toEqual([]);
    expect(Object.keys(w1.stateDict())).toEqual(['qweight']);
    expect(w1.stateDict()['qweight']!.dtype).toBe('uint8');
    const a = await ff.forward(x).data() as Float32Array, b = await ref.forward(x).data() as Float32Array;
    // The packed matmuls quantise their inputs to q8_0 blocks (half a step of amax / 127 each),
    // the float model does not: measured 7.6e-3 through the two layers.
    expect(relError(a, b)).toBeLessThan(2e-2);
  });
});

describe('errors', () => {
  test('bad shapes, byte counts, formats and inputs', () => {
    expect(() => quantizedWeight(new Uint8Array(34), 'q8_0', [1, 48])).toThrow(/multiple of 32/);
    expect(() => quantizedWeight(new Uint8Array(33), 'q8_0', [1, 32])).toThrow(/takes 34 bytes .*got 33/);
    expect(() => quantizedWeight(new Uint8Array(36), 'q4_0', [2, 32])).not.toThrow();
    expect(() => quantizedWeight(new Uint8Array(35), 'q4_0', [2, 32])).toThrow(/takes 36 bytes/);
    expect(() => quantizedWeight(new Uint8Array(144), 'q4_K', [1, 128])).toThrow(/blocks of 256 weights, so in \(128\) must be a multiple of 256/);
    expect(() => quantizedWeight(new Uint8Array(143), 'q4_K', [1, 256])).toThrow(/takes 144 bytes \(1 rows of 1 blocks\), got 143/);
    expect(() => quantize(new Float32Array(256), 'q4_K', [1, 256])).toThrow(/q4_K is read/);
    expect(() => quantizedWeight(new Uint8Array(34), 'q5_9' as Format, [1, 32])).toThrow(/unknown format/);
    expect(() => quantizedWeight(new Uint8Array(34), 'q8_0', [32] as unknown as [number, number])).toThrow(/shape \[out, in\]/);
    const w = quantizedWeight(new Uint8Array(68), 'q8_0', [2, 32]);
    expect(() => quantLinear(born.zeros([1, 64]), w)).toThrow(/should end in 32/);
    expect(() => quantLinear(born.zeros([1, 32], { dtype: 'float64' }), w)).toThrow(/float32 input/);
    expect(() => quantize(new Float32Array(10), 'q8_0', [1, 32])).toThrow(/do not fill/);
  });
});
