/**
 * Gradients of conv2d on WebGPU with implicit GEMM (src/scheduler/window-operand.ts): the weight
 * gradient's matmul reads the patches (transposed) straight from the image too, the input
 * gradient stays the col2im kernel, and the input, weight and bias gradients equal the CPU
 * device's (which writes the patches). |gpu - cpu| <= 1e-5 of each gradient's largest magnitude.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { Conv2dOptions } from '../../src/nn/conv.js';
import { both, noIm2col, within } from './conv-igemm.js';

const F = born.nn.functional;

describe('conv2d gradients on webgpu with implicit GEMM', () => {
  it.each([
    ['3x3, stride 2, padding 1, relu image', [2, 3, 7, 7], [4, 3, 3, 3], { stride: 2, padding: 1 }],
    ['3x3, groups 2, dilation 2, padding 2', [2, 4, 6, 6], [4, 2, 3, 3], { groups: 2, dilation: 2, padding: 2 }],
  ] as [string, number[], number[], Conv2dOptions][])('input, weight and bias: %s', async (_, xs, ws, opts) => {
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
