// The CPU's Winograd convolution (src/devices/cpu-workers/conv/winograd.ts): a forward 3x3
// stride-1 conv2d of float32 with at least 8 input channels and 4 images runs as one Winograd
// kernel (no im2col kernel), and equals a naive float64 convolution to F(4x4, 3x3)'s rounding,
// for every image-count remainder, padding, odd sizes, strided images, a prologue on the image
// (relu of a pooled map), and epilogues (bias, relu after). Everything else keeps im2col.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { winogradStats } from '../src/devices/cpu-workers/conv/winograd.js';
import type { Tensor } from '../src/tensor/tensor.js';

const F = born.nn.functional;

/** conv2d in float64 loops: x [N, C, H, W], w [O, C, 3, 3], stride 1. */
function naiveConv(x: Float32Array, w: Float32Array, bias: Float32Array | null, N: number, C: number, H: number, W: number, O: number, pad: number): Float64Array {
  const Ho = H + 2 * pad - 2, Wo = W + 2 * pad - 2;
  const y = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let acc = bias ? bias[o]! : 0;
    for (let c = 0; c < C; c++) for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) {
      const h = i + p - pad, v = j + q - pad;
      if (h >= 0 && h < H && v >= 0 && v < W) acc += x[((n * C + c) * H + h) * W + v]! * w[((o * C + c) * 3 + p) * 3 + q]!;
    }
    y[((n * O + o) * Ho + i) * Wo + j] = acc;
  }
  return y;
}

/**
 * Max |got - want| over the largest |want|: F(4x4, 3x3)'s transforms scale terms by up to 8·8
 * and back, so its rounding is a few 1e-6 of the output's magnitude (a direct float32 product's
 * is about 1e-7); that of a wrong tile, lane or channel is of the order of 1.
 */
function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let e = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return e / scale;
}

const data = async (t: Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

/** Runs f, returning its values and how many Winograd kernels were compiled meanwhile. */
async function counted(f: () => Tensor): Promise<{ y: Float32Array; kernels: number }> {
  const before = winogradStats.kernels;
  const y = await data(born.noGrad(f));
  return { y, kernels: winogradStats.kernels - before };
}

describe('Winograd F(4x4, 3x3) convolution on the CPU', () => {
  const cases: [string, number, number, number, number, number, number][] = [
    // name, N, C, H, W, O, padding
    ['a batch of 4, no padding', 4, 8, 10, 10, 8, 0],
    ['a batch of 5 (one image in the last group), padding 1, odd sides', 5, 9, 7, 11, 6, 1],
    ['a batch of 7, tiles overhanging the output on both sides', 7, 16, 13, 13, 12, 0],
    ['16 images like the CNN\'s second layer', 16, 32, 13, 13, 64, 0],
    ['output channels not a multiple of 4, one output pixel', 6, 8, 3, 3, 5, 0],
  ];
  for (const [name, N, C, H, W, O, pad] of cases) {
    test(name, async () => {
      const x = born.randn([N, C, H, W], { seed: 11 }), w = born.randn([O, C, 3, 3], { seed: 12 }), b = born.randn([O], { seed: 13 });
      const want = naiveConv(await data(x), await data(w), await data(b), N, C, H, W, O, pad);
      const { y, kernels } = await counted(() => F.conv2d(x, w, b, { padding: pad }));
      expect(kernels).toBe(1);
      expect(maxRelErr(y, want)).toBeLessThan(1e-5);
    });
  }

  test('a prologue on the image and an epilogue after: conv(relu(maxPool(x))) then relu', async () => {
    const N = 6, C = 8, O = 8;
    const x = born.randn([N, C, 14, 12], { seed: 21 }), w = born.randn([O, C, 3, 3], { seed: 22 }), b = born.randn([O], { seed: 23 });
    const pooled = await data(F.relu(F.maxPool2d(x, 2)));
    const want = naiveConv(pooled, await data(w), await data(b), N, C, 7, 6, O, 1).map((v) => Math.max(v, 0));
    const { y, kernels } = await counted(() => F.relu(F.conv2d(F.relu(F.maxPool2d(x, 2)), w, b, { padding: 1 })));
    expect(kernels).toBe(1);
    expect(maxRelErr(y, want)).toBeLessThan(1e-5);
  });

  test('a strided (permuted) image', async () => {
    const N = 4, C = 8, H = 6, W = 9, O = 4;
    const xt = born.randn([C, N, H, W], { seed: 31 }), w = born.randn([O, C, 3, 3], { seed: 32 });
    const x = xt.permute([1, 0, 2, 3]);
    const want = naiveConv(await data(x.contiguous()), await data(w), null, N, C, H, W, O, 0);
    const { y, kernels } = await counted(() => F.conv2d(x, w, null));
    expect(kernels).toBe(1);
    expect(maxRelErr(y, want)).toBeLessThan(1e-5);
  });

  test('NaN and infinity in the image reach exactly the outputs whose window holds them', async () => {
    const N = 4, C = 8, H = 9, W = 9, O = 4;
    const xs = await data(born.randn([N, C, H, W], { seed: 41 }));
    xs[((1 * C + 2) * H + 4) * W + 4] = NaN;
    const x = born.tensor(xs, { shape: [N, C, H, W] }), w = born.randn([O, C, 3, 3], { seed: 42 });
    const { y } = await counted(() => F.conv2d(x, w, null));
    const want = naiveConv(xs, await data(w), null, N, C, H, W, O, 0);
    // Image 1's outputs in the 3x3 around (3, 3) are NaN, and, since a tile's transform mixes its
    // whole 6x6 input, so may the others of the tiles that read the NaN; no other image's are.
    for (let n = 0; n < N; n++) for (let i = 0; i < O * 49; i++) {
      const at = n * O * 49 + i;
      if (n !== 1) expect(y[at]).toBeCloseTo(want[at]!, 3);
      else if (Number.isNaN(want[at]!)) expect(y[at]).toBeNaN();
    }
  });

  test('what stays im2col + matmul: 3 images, 4 channels, stride 2, 5x5, dilation, groups, float64, gradients', async () => {
    const shapes: [() => Tensor][] = [
      [() => F.conv2d(born.randn([3, 8, 8, 8], { seed: 1 }), born.randn([4, 8, 3, 3], { seed: 2 }), null)],
      [() => F.conv2d(born.randn([4, 4, 8, 8], { seed: 1 }), born.randn([4, 4, 3, 3], { seed: 2 }), null)],
      [() => F.conv2d(born.randn([4, 8, 9, 9], { seed: 1 }), born.randn([4, 8, 3, 3], { seed: 2 }), null, { stride: 2 })],
      [() => F.conv2d(born.randn([4, 8, 9, 9], { seed: 1 }), born.randn([4, 8, 5, 5], { seed: 2 }), null)],
      [() => F.conv2d(born.randn([4, 8, 9, 9], { seed: 1 }), born.randn([4, 8, 3, 3], { seed: 2 }), null, { dilation: 2 })],
      [() => F.conv2d(born.randn([4, 16, 9, 9], { seed: 1 }), born.randn([4, 8, 3, 3], { seed: 2 }), null, { groups: 2 })],
      [() => F.conv2d(born.randn([4, 8, 9, 9], { seed: 1, dtype: 'float64' }), born.randn([4, 8, 3, 3], { seed: 2, dtype: 'float64' }), null)],
    ];
    for (const [f] of shapes) expect((await counted(f)).kernels).toBe(0);
    // Training reads the patches again for the weight gradient: the forward keeps its im2col.
    const x = born.randn([4, 8, 9, 9], { seed: 51 }), w = born.randn([4, 8, 3, 3], { seed: 52 }).requiresGrad_();
    const before = winogradStats.kernels;
    const [gw] = born.grad(F.conv2d(x, w, null).square().sum(), [w]);
    await gw!.data();
    expect(winogradStats.kernels - before).toBe(0);
  });
  for (const busy of [false, true]) {
    test(`weights updated in place between calls are read (U is kept only while they are unchanged)${busy ? ', in chains on the workers' : ''}`, async () => {
      const N = 8, C = 16, H = 9, W = 9, O = 12;
      const device = born.engine.cpu();
      const x = born.randn([N, C, H, W], { seed: 31 }), w = born.randn([O, C, 3, 3], { seed: 32 }), b = born.randn([O], { seed: 33 });
      await born.realize(x, w, b);
      const xs = await data(x);
      const check = async (): Promise<void> => {
        const { y, kernels } = await counted(() => F.conv2d(x, w, b).relu());
        expect(kernels).toBeLessThanOrEqual(1);
        const want = naiveConv(xs, await data(w), await data(b), N, C, H, W, O, 0).map((v) => Math.max(v, 0));
        expect(maxRelErr(y, want)).toBeLessThan(1e-5);
      };
      if (busy) device.callerBusy++;
      try {
        for (let i = 0; i < 3; i++) await check();
        born.noGrad(() => w.mul_(-0.5));
        await check();
        await check();
        born.noGrad(() => w.add_(0.25));
        await check();
      } finally {
        if (busy) device.callerBusy--;
      }
    });
  }
});
