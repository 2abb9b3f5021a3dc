// The scheduling rule of src/scheduler/window-operand.ts (implicit GEMM) on its own: with the
// device's gate on, a convolution's im2col patches that only matmuls read get no kernel and no
// buffer, and the matmuls read them through a window operand; with it off (the CPU device) the
// plan keeps its im2col kernel. Plans only: the WGSL that reads through the window is tested
// against the CPU in test/webgpu/conv-igemm.test.ts.
import { beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import type { Kernel } from '../src/kernel/ir.js';
import { plan, walk } from '../src/scheduler/schedule.js';

const F = born.nn.functional;

function kernelsOf(ts: readonly Tensor[], windowOperands: boolean): Kernel[] {
  const nodes = ts.map((t) => t.node);
  return plan(nodes, walk(nodes), { windowOperands }).steps.map((s) => s.kernel);
}

const im2cols = (ks: readonly Kernel[]): Kernel[] => ks.filter((k) => k.window?.op === 'im2col');
const windowed = (ks: readonly Kernel[]): Kernel[] => ks.filter((k) => k.matmul && (k.matmul.a.window || k.matmul.b.window));

describe('im2col folded into the matmul operand (window-operand.ts)', () => {
  const x = born.randn([2, 3, 9, 8], { seed: 1 }), w = born.randn([4, 3, 3, 3], { seed: 2 }), b = born.randn([4], { seed: 3 });
  const x2 = born.randn([2, 3, 9, 8], { seed: 8 }), xg = born.randn([1, 4, 6, 6], { seed: 4 }), wg = born.randn([6, 2, 3, 3], { seed: 5 });
  const wp = born.randn([4, 3, 3, 3], { seed: 6 }).requiresGrad_(), xp = born.randn([2, 3, 7, 7], { seed: 7 }).requiresGrad_();
  beforeAll(() => born.realize(x, w, b, x2, xg, wg, wp, xp));

  test('gate on: no im2col kernel and no patch buffer; the matmul reads the image through the window', () => {
    const y = F.conv2d(x, w, b, { stride: [2, 1], padding: 1, dilation: [1, 2] });
    const off = kernelsOf([y], false);
    expect(im2cols(off)).toHaveLength(1);
    expect(windowed(off)).toHaveLength(0);
    const on = kernelsOf([y], true);
    expect(im2cols(on)).toHaveLength(0);
    expect(on).toHaveLength(off.length - 1);
    const [mm] = windowed(on);
    expect(mm!.ops).toEqual(expect.arrayContaining(['im2col', 'matmul']));
    const op = mm!.matmul!.b;
    expect(op.window).toMatchObject({ N: 2, C: 3, geom: { H: 9, W: 8, kh: 3, kw: 3, sh: 2, sw: 1, ph: 1, pw: 1, dh: 1, dw: 2 } });
    // The image is x itself, contiguous [2, 3, 9, 8]; the strides address the [3, 9, 2, Ho, Wo] patches as [27, 2·Ho·Wo].
    expect(op.window).toMatchObject({ offset: 0, sN: 3 * 9 * 8, sC: 9 * 8, sH: 8, sW: 1 });
    const P = 2 * 5 * 6;
    expect(mm!.matmul).toMatchObject({ M: 4, N: P, K: 27 });
    expect(op).toMatchObject({ offset: 0, sRow: P, sCol: 1 });
    // No buffer of the patches' size anywhere in the plan.
    expect(on.every((k) => k.out.shape.reduce((a, d) => a * d, 1) !== 27 * P)).toBe(true);
  });

  test('groups: the matmul batch runs over groups, the patch strides step a group\'s channels', () => {
    const [mm] = windowed(kernelsOf([F.conv2d(xg, wg, null, { groups: 2 })], true));
    expect(mm!.matmul).toMatchObject({ batch: 2, M: 3, K: 18, N: 16 });
    expect(mm!.matmul!.b).toMatchObject({ sBatch: 18 * 16, sRow: 16, sCol: 1, window: { C: 4, N: 1 } });
  });

  test('the weight gradient reads the patches transposed through the window; the input gradient stays col2im', () => {
    const loss = F.conv2d(xp, wp, null, { padding: 1 }).square().sum();
    const [gw, gx] = born.grad(loss, [wp, xp]);
    const on = kernelsOf([gw!, gx!], true);
    expect(im2cols(on)).toHaveLength(0);
    expect(on.filter((k) => k.window?.op === 'col2im')).toHaveLength(1);
    // Forward (for the output gradient) and weight gradient: both read x through a window.
    const reads = windowed(on);
    expect(reads).toHaveLength(2);
    const dW = reads.find((k) => k.matmul!.K === 2 * 7 * 7)!;
    expect(dW.matmul!.b).toMatchObject({ sRow: 1, sCol: 2 * 7 * 7 });
  });

  test('an elementwise image becomes the operand\'s prologue; a two-buffer image is materialised first', () => {
    const relu = kernelsOf([F.conv2d(x.relu(), w, null)], true);
    // The matmul and the copy that permutes its [O, N, Ho, Wo] output to [N, O, Ho, Wo]; relu is in the matmul.
    expect(relu).toHaveLength(2);
    expect(relu.filter((k) => k.ops.includes('relu'))).toEqual(windowed(relu));
    expect(windowed(relu)[0]!.matmul!.b.prologue).toBeDefined();
    expect(kernelsOf([F.conv2d(x.relu(), w, null)], false)).toHaveLength(4);
    const sum = kernelsOf([F.conv2d(x.add(x2), w, null)], true);
    expect(im2cols(sum)).toHaveLength(0);
    expect(sum.filter((k) => k.ops.includes('add') && !k.matmul)).toHaveLength(1);
    expect(windowed(sum)[0]!.matmul!.b.prologue).toBeUndefined();
  });

  test('an image computed by a matmul (a linear layer reshaped, or its transpose) is read where its kernel writes it', () => {
    const a = born.randn([6, 5], { seed: 11 }), m = born.randn([5, 72], { seed: 12 });
    for (const img of [a.matmul(m).reshape([2, 3, 9, 8]), m.T.matmul(a.T).reshape([2, 3, 9, 8]).add(1)]) {
      const ks = kernelsOf([F.conv2d(img, w, null, { padding: 1 })], true);
      expect(im2cols(ks)).toHaveLength(0);
      expect(windowed(ks)).toHaveLength(1);
    }
  });

  test('patches read by anything but a matmul, or requested, keep their kernel', () => {
    const y = F.conv2d(x, w, null);
    const patches = new Tensor(findIm2col(y));
    const summed = kernelsOf([y, patches.sum()], true);
    expect(im2cols(summed)).toHaveLength(1);
    expect(windowed(summed)).toHaveLength(0);
    expect(im2cols(kernelsOf([y, patches], true))).toHaveLength(1);
    // Two convolutions of one image, each its own patches: both folded.
    expect(im2cols(kernelsOf([y, F.conv2d(x, w, null, { padding: 2 })], true))).toHaveLength(0);
  });
});

/** The im2col node under a conv2d's output. */
function findIm2col(t: Tensor): Tensor['node'] {
  const stack = [t.node];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.arg.kind === 'window' && n.arg.op === 'im2col') return n;
    stack.push(...n.srcs);
  }
  throw new Error('no im2col under the tensor');
}
