/**
 * conv2d as implicit GEMM on WebGPU (src/scheduler/window-operand.ts, the window operand of the
 * WGSL matmul): the matmul reads its patches straight from the image, so WebGPU plans have no
 * im2col kernel, and the results equal the CPU device's (which still writes the patches) for
 * strides, padding, dilation, groups, kernels 1x1 / 3x3 / 5x5 / 3x2, batch 1 and more, odd
 * sizes, an elementwise image (a prologue) — and so do the gradients (the input's through col2im).
 * Float32 sums in another order: |gpu - cpu| <= 1e-5 of the output's largest magnitude.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { Conv2dOptions } from '../../src/nn/conv.js';

const F = born.nn.functional;

function lcg(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
type Device = 'cpu' | 'webgpu';
const f32 = (shape: number[], seed: number, device: Device = 'cpu'): Tensor =>
  born.tensor(lcg(shape.reduce((a, d) => a * d, 1), seed), { shape, device });

/** Builds the graph on a device; `at` makes its inputs there (leaves of its own, not transfers). */
type Make = (at: (shape: number[], seed: number) => Tensor) => Tensor[];

/** The outputs of `make` on both devices, and the WebGPU plan's kernels. */
async function both(make: Make): Promise<{ cpu: number[][]; gpu: number[][]; ops: string[][] }> {
  const cpu = make((shape, seed) => f32(shape, seed)), gpu = make((shape, seed) => f32(shape, seed, 'webgpu'));
  gpu.forEach((t) => expect(t.device).toBe('webgpu'));
  const ops = born.explain(...gpu).kernels.map((k) => [...k.ops]);
  const read = (ts: Tensor[]): Promise<number[][]> => Promise.all(ts.map(async (t) => Array.from(await t.data() as Float32Array, Number)));
  return { cpu: await read(cpu), gpu: await read(gpu), ops };
}

function within(r: { cpu: number[][]; gpu: number[][] }, rel: number): void {
  r.cpu.forEach((c, i) => {
    const scale = Math.max(1e-30, ...c.map(Math.abs));
    expect(r.gpu[i]!.length).toBe(c.length);
    r.gpu[i]!.forEach((g, j) => {
      if (!(Math.abs(g - c[j]!) <= rel * scale)) expect({ output: i, at: j, gpu: g, cpu: c[j] }).toBe('within tolerance');
    });
  });
}

const noIm2col = (ops: string[][]): void => {
  expect(ops.some((k) => k.includes('im2col') && k.includes('matmul'))).toBe(true);
  expect(ops.filter((k) => k.includes('im2col') && !k.includes('matmul'))).toEqual([]);
};

describe('conv2d on webgpu as implicit GEMM', () => {
  // [x shape, weight shape, bias, options]
  const cases: [string, number[], number[], boolean, Conv2dOptions][] = [
    ['1x1, batch 1, odd sizes, bias', [1, 3, 5, 7], [4, 3, 1, 1], true, {}],
    ['3x3, padding 1, batch 2', [2, 3, 7, 6], [5, 3, 3, 3], true, { padding: 1 }],
    ['3x3, stride 2, padding 1, batch 3, odd sizes', [3, 2, 9, 11], [4, 2, 3, 3], false, { stride: 2, padding: 1 }],
    ['5x5, padding 2, batch 2', [2, 2, 8, 7], [3, 2, 5, 5], true, { padding: 2 }],
    ['3x2, stride [2, 1], padding [1, 0], dilation [2, 1]', [2, 3, 9, 8], [4, 3, 3, 2], false, { stride: [2, 1], padding: [1, 0], dilation: [2, 1] }],
    ['3x3, groups 2, dilation 2, padding 1', [2, 4, 7, 7], [6, 2, 3, 3], true, { groups: 2, dilation: 2, padding: 1 }],
  ];
  it.each(cases)('forward: %s', async (_, xs, ws, bias, opts) => {
    const r = await both((at) => [F.conv2d(at(xs, 1), at(ws, 2), bias ? at([ws[0]!], 3) : null, opts)]);
    noIm2col(r.ops);
    within(r, 1e-5);
  });

  it('forward of relu(x) (the image as the operand\'s prologue), 3x3 stride 2 padding 1, batch 2', async () => {
    const r = await both((at) => [F.conv2d(at([2, 3, 8, 8], 4).relu(), at([4, 3, 3, 3], 5), null, { stride: 2, padding: 1 })]);
    noIm2col(r.ops);
    expect(r.ops.filter((k) => k.includes('relu') && !k.includes('matmul'))).toEqual([]);
    within(r, 1e-5);
  });

  it.each([
    ['3x3, stride 2, padding 1, relu image', [2, 3, 7, 7], [4, 3, 3, 3], { stride: 2, padding: 1 }],
    ['3x3, groups 2, dilation 2, padding 2', [2, 4, 6, 6], [4, 2, 3, 3], { groups: 2, dilation: 2, padding: 2 }],
  ] as [string, number[], number[], Conv2dOptions][])('gradients of input, weight and bias: %s', async (_, xs, ws, opts) => {
    const r = await both((at) => {
      const [x, w, b] = [at(xs, 6).requiresGrad_(), at(ws, 7).requiresGrad_(), at([ws[0]!], 8).requiresGrad_()];
      const y = F.conv2d(opts.groups ? x : x.relu(), w, b, opts);
      // A weighted sum, so every output element has a gradient of its own.
      const loss = y.mul(at([...y.shape], 9)).sum().add(y.square().sum().mul(0.1));
      return born.grad(loss, [x, w, b]);
    });
    noIm2col(r.ops);
    expect(r.ops.filter((k) => k.includes('col2im'))).toHaveLength(1);
    within(r, 1e-5);
  });
});
