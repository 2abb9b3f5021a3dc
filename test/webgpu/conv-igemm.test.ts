/**
 * conv2d as implicit GEMM on WebGPU (src/scheduler/window-operand.ts, the window operand of the
 * WGSL matmul): the matmul reads its patches straight from the image, so WebGPU plans have no
 * im2col kernel, and the results equal the CPU device's (which still writes the patches) for
 * strides, padding, dilation, groups, kernels 1x1 / 3x3 / 5x5 / 3x2, batch 1 and more, odd
 * sizes, and an elementwise image (relu, read as the operand's prologue). Gradients:
 * conv-igemm-grad.test.ts. Float32 sums in another order: |gpu - cpu| <= 1e-5 of the output's
 * largest magnitude.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { Conv2dOptions } from '../../src/nn/conv.js';
import { both, noIm2col, within } from './conv-igemm.js';

const F = born.nn.functional;

describe('conv2d on webgpu as implicit GEMM', () => {
  // [x shape, weight shape, bias, relu of the image, options]
  const cases: [string, number[], number[], boolean, boolean, Conv2dOptions][] = [
    ['1x1, batch 1, odd sizes, bias', [1, 3, 5, 7], [4, 3, 1, 1], true, false, {}],
    ['3x3, padding 1, batch 2', [2, 3, 7, 6], [5, 3, 3, 3], true, false, { padding: 1 }],
    ['3x3, stride 2, padding 1, batch 3, odd sizes, relu image', [3, 2, 9, 11], [4, 2, 3, 3], false, true, { stride: 2, padding: 1 }],
    ['5x5, padding 2, batch 2', [2, 2, 8, 7], [3, 2, 5, 5], true, false, { padding: 2 }],
    ['3x2, stride [2, 1], padding [1, 0], dilation [2, 1]', [2, 3, 9, 8], [4, 3, 3, 2], false, false, { stride: [2, 1], padding: [1, 0], dilation: [2, 1] }],
    ['3x3, groups 2, dilation 2, padding 1', [2, 4, 7, 7], [6, 2, 3, 3], true, false, { groups: 2, dilation: 2, padding: 1 }],
  ];
  it.each(cases)('forward: %s', async (_, xs, ws, bias, relu, opts) => {
    const r = await both((at) => {
      const x = at(xs, 1);
      return [F.conv2d(relu ? x.relu() : x, at(ws, 2), bias ? at([ws[0]!], 3) : null, opts)];
    });
    noIm2col(r.ops);
    // relu is computed as the matmul reads the image, not by a kernel of its own.
    if (relu) expect(r.ops.filter((k) => k.includes('relu') && !k.includes('matmul'))).toEqual([]);
    within(r, 1e-5);
  });
});
