// The WebAssembly SIMD forms of the forward window kernels (conv/window-simd.ts): im2col, max and
// average pooling printed both ways from the same IR and run on the same input, which must agree
// bit for bit (NaN with NaN) over strides, padding, dilation, rectangular and odd sizes, planes
// larger than a call's block, contiguous and permuted sources and any split of the planes; then
// through the public ops against naive loops, and the kernels that must stay in JS.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { printJs } from '../src/devices/cpu-workers/codegen.js';
import { compileKernel } from '../src/devices/cpu-workers/compile.js';
import { SIMD_MARKER, setSimdMode, simdStats } from '../src/devices/cpu-workers/simd/index.js';
import type { Index, Kernel, WindowGeom, WindowOp } from '../src/kernel/ir.js';

beforeAll(() => setSimdMode('always'));
afterAll(() => setSimdMode('auto'));

const v = (name: string): Index => ({ k: 'var', name });
const mul = (a: Index, n: number): Index => ({ k: 'mul', a, n });
const add = (a: Index, b: Index): Index => ({ k: 'add', a, b });

function geom(H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh = 1, dw = 1): WindowGeom {
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  return { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw };
}

/** A window kernel reading planes of input 1 at wn·sN + wc·sC + offset (sN = H·W: a permuted view). */
function windowKernel(op: WindowOp, N: number, C: number, g: WindowGeom, permuted: boolean, offset = 0): Kernel {
  const HW = g.H * g.W;
  const [sN, sC] = permuted ? [HW, N * HW] : [C * HW, HW];
  const index = add(add(add(add(v('ww'), mul(v('wh'), g.W)), mul(v('wn'), sN)), mul(v('wc'), sC)), { k: 'num', n: offset });
  const shape = op === 'im2col' ? [C, g.kh * g.kw, N, g.Ho, g.Wo] : [N, C, g.Ho, g.Wo];
  return {
    name: `WN_${op}_test`, out: { dtype: 'float32', shape }, inputs: ['float32'], loop: shape, reduce: null, matmul: null,
    value: { k: 'const', value: 0, dtype: 'float32' },
    window: { op, N, C, geom: g, args: [{ k: 'load', input: 1, index, dtype: 'float32' }] },
    params: [], outIndex: null, ops: [op], flops: 0, bytes: 0,
  };
}

/** Pseudo-random values with NaN, ±Infinity, ±0 and ties sprinkled in. */
function values(n: number, seed: number): Float32Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1, 1];
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return u < 0.1 ? special[Math.floor(u * 70)]! : Math.round((u - 0.5) * 40) / 4;
  });
}

/** Runs both printings of `k` on one input (SIMD over the given cuts of its planes); returns the mismatches. */
function compare(k: Kernel, cuts: readonly number[], seed: number): { simd: boolean; bad: string[] } {
  setSimdMode('never');
  const js = printJs(k);
  setSimdMode('always');
  const sm = printJs(k);
  const n = k.out.shape.reduce((a, b) => a * b, 1);
  const w = k.window!;
  const offset = 3;
  const x = values(w.N * w.C * w.geom.H * w.geom.W + offset, seed);
  const want = new Float32Array(n).fill(7), got = new Float32Array(n).fill(7);
  compileKernel(js.source)([want, x], 0, js.units);
  const f = compileKernel(sm.source);
  const points = [0, ...cuts.filter((c) => c > 0 && c < sm.units), sm.units];
  for (let i = 1; i < points.length; i++) f([got, x], points[i - 1]!, points[i]!);
  expect(sm.units).toBe(js.units);
  const a = new Uint32Array(want.buffer), b = new Uint32Array(got.buffer);
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 5; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(want[i]) && Number.isNaN(got[i]))) bad.push(`[${i}] js ${want[i]} simd ${got[i]}`);
  }
  return { simd: sm.source.includes(SIMD_MARKER), bad };
}

const GEOMS: [string, WindowGeom][] = [
  ['3x3', geom(13, 13, 3, 3, 1, 1, 0, 0)],
  ['2x2 stride 2', geom(26, 26, 2, 2, 2, 2, 0, 0)],
  ['3x3 stride 2 padding 1, odd', geom(9, 7, 3, 3, 2, 2, 1, 1)],
  ['3x2 stride (3, 1) padding 1, wide rows', geom(5, 40, 3, 2, 3, 1, 1, 1)],
  ['3x3 padding 1 on a 3x3 plane', geom(3, 3, 3, 3, 1, 1, 1, 1)],
  ['stride 3 across, padding (1, 0)', geom(40, 50, 3, 3, 1, 3, 1, 0)],
  ['1x1', geom(6, 5, 1, 1, 1, 1, 0, 0)],
  ['1x1 stride 2', geom(7, 9, 1, 1, 2, 2, 0, 0)],
  ['2x2 padding 1, stride 1', geom(4, 6, 2, 2, 1, 1, 1, 1)],
  ['3x3 padding 1 stride 3 (rows narrower than four)', geom(4, 5, 3, 3, 3, 3, 1, 1)],
  ['2x3 padding (1, 1) stride 2 on 1-row planes', geom(1, 9, 2, 3, 2, 2, 1, 1)],
  ['2x2 stride 2 on a plane larger than a block', geom(130, 140, 2, 2, 2, 2, 0, 0)],
  ['3x3 padding 1 on a plane larger than a block', geom(70, 300, 3, 3, 1, 1, 1, 1)],
  ['dilation 2, padding 2', geom(10, 9, 3, 3, 1, 1, 2, 2, 2, 2)],
  ['5x5 stride 2 padding 2', geom(17, 19, 5, 5, 2, 2, 2, 2)],
];
const SHAPES: [number, number][] = [[3, 2], [5, 7], [1, 3], [4, 1], [64, 3]];

describe('SIMD window kernels agree with the JS ones bit for bit', () => {
  for (const op of ['im2col', 'maxPool', 'avgPool'] as const) {
    for (const [name, g] of GEOMS) {
      test(`${op}, ${name}`, () => {
        for (const [N, C] of g.H * g.W > 5000 ? [[2, 3]] as [number, number][] : SHAPES) {
          for (const permuted of [false, true]) {
            const k = windowKernel(op, N, C, g, permuted);
            const units = N * C;
            for (const cuts of [[], [1], [Math.floor(units / 3) + 1, units - 1], [C + 1, 2 * C + 3]]) {
              const r = compare(k, cuts, N * 31 + C);
              expect(r.simd, 'printed as SIMD').toBe(true);
              expect(r.bad, `N=${N} C=${C} permuted=${permuted} cuts=${cuts.join(',')}`).toEqual([]);
            }
          }
        }
      });
    }
  }

  test('random geometries (fast-check)', () => {
    const arb = fc.record({
      op: fc.constantFrom('im2col' as const, 'maxPool' as const, 'avgPool' as const),
      H: fc.integer({ min: 1, max: 20 }), W: fc.integer({ min: 1, max: 40 }),
      kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 4 }),
      ph: fc.integer({ min: 0, max: 2 }), pw: fc.integer({ min: 0, max: 2 }),
      dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
      N: fc.integer({ min: 1, max: 9 }), C: fc.integer({ min: 1, max: 9 }),
      permuted: fc.boolean(), cut: fc.nat(), seed: fc.nat(),
    }).filter((c) => c.H + 2 * c.ph >= c.dh * (c.kh - 1) + 1 && c.W + 2 * c.pw >= c.dw * (c.kw - 1) + 1);
    fc.assert(fc.property(arb, (c) => {
      const g = geom(c.H, c.W, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw);
      const r = compare(windowKernel(c.op, c.N, c.C, g, c.permuted), [c.cut % (c.N * c.C)], c.seed);
      return r.simd && r.bad.length === 0;
    }), { numRuns: 150 });
  });
});

/** Naive NCHW pooling in float64: the max (NaN wins, padding skipped) or the mean (padding as zeros). */
function naivePool(x: Float32Array, [N, C, H, W]: number[], k: number, s: number, p: number, op: 'max' | 'avg'): Float32Array {
  const Ho = Math.floor((H! + 2 * p - k) / s) + 1, Wo = Math.floor((W! + 2 * p - k) / s) + 1;
  const out = new Float32Array(N! * C! * Ho * Wo);
  let o = 0;
  for (let nc = 0; nc < N! * C!; nc++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let m = NaN, sum = 0, first = true;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      const h = i * s - p + a, w = j * s - p + b;
      if (h < 0 || h >= H! || w < 0 || w >= W!) continue;
      const e = x[(nc * H! + h) * W! + w]!;
      sum += e;
      if (first || e > m || Number.isNaN(e)) m = e;
      first = false;
    }
    out[o++] = op === 'max' ? m : sum / (k * k);
  }
  return out;
}

const same = (got: Float32Array, want: Float32Array): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) throw new Error(`[${i}] got ${got[i]}, want ${want[i]}`);
  }
};

describe('through the public ops', () => {
  const cases: [number[], number, number, number][] = [[[2, 3, 8, 9], 2, 2, 0], [[3, 2, 9, 7], 3, 2, 1], [[2, 2, 10, 11], 3, 1, 1], [[1, 4, 5, 5], 2, 1, 1]];
  for (const [shape, k, s, p] of cases) {
    test(`maxPool2d and avgPool2d ${shape.join('x')}, kernel ${k}, stride ${s}, padding ${p}: exact, and printed as SIMD`, async () => {
      const xs = values(shape.reduce((a, b) => a * b), k * 7 + s);
      const x = born.tensor(xs, { shape });
      const before = simdStats.printed;
      const mx = (await born.nn.functional.maxPool2d(x, k, { stride: s, padding: p }).data()) as Float32Array;
      const av = (await born.nn.functional.avgPool2d(x, k, { stride: s, padding: p }).data()) as Float32Array;
      expect(simdStats.printed - before).toBe(2);
      same(mx, naivePool(xs, shape, k, s, p, 'max'));
      same(av, naivePool(xs, shape, k, s, p, 'avg'));
    });
  }

  test('conv2d through the SIMD im2col (padding 1, stride 2) against a naive convolution', async () => {
    const [N, C, H, W, O] = [3, 4, 9, 8, 5];
    const xs = Float32Array.from({ length: N * C * H * W }, (_, i) => Math.sin(i * 0.37));
    const ws = Float32Array.from({ length: O * C * 9 }, (_, i) => Math.cos(i * 0.11));
    const before = simdStats.printed;
    const y = (await born.nn.functional.conv2d(born.tensor(xs, { shape: [N, C, H, W] }), born.tensor(ws, { shape: [O, C, 3, 3] }), null, { stride: 2, padding: 1 }).data()) as Float32Array;
    expect(simdStats.printed - before).toBeGreaterThanOrEqual(1);
    const Ho = 5, Wo = 4;
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
      let sum = 0;
      for (let c = 0; c < C; c++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        const h = i * 2 - 1 + a, w = j * 2 - 1 + b;
        if (h >= 0 && h < H && w >= 0 && w < W) sum += xs[((n * C + c) * H + h) * W + w]! * ws[((o * C + c) * 3 + a) * 3 + b]!;
      }
      expect(Math.abs(y[((n * O + o) * Ho + i) * Wo + j]! - sum)).toBeLessThan(1e-4);
    }
  });

  test('float64 pooling and the max-pool gradient stay in JS', async () => {
    const x = born.tensor(values(2 * 3 * 8 * 8, 5), { shape: [2, 3, 8, 8], dtype: 'float64' });
    const before = simdStats.printed;
    await born.nn.functional.maxPool2d(x, 2).data();
    expect(simdStats.printed - before).toBe(0);
    const g = geom(8, 8, 2, 2, 2, 2, 0, 0);
    const k = windowKernel('maxPool', 2, 3, g, false);
    const grad: Kernel = { ...k, out: { dtype: 'float32', shape: [2, 3, 8, 8] }, loop: [2, 3, 8, 8],
      window: { ...k.window!, op: 'maxPoolGrad', args: [k.window!.args[0]!, { k: 'load', input: 2, index: add(v('wj'), mul(v('wi'), 4)), dtype: 'float32' }] } };
    expect(printJs({ ...grad, inputs: ['float32', 'float32'] }).source).not.toContain(SIMD_MARKER);
    const fused: Kernel = { ...k, window: { ...k.window!, args: [{ k: 'op', op: 'relu', args: [k.window!.args[0]!], dtype: 'float32' }] } };
    expect(printJs(fused).source).not.toContain(SIMD_MARKER);
  });

  test("mode 'never' prints the JS kernel, and 'auto' leaves small outputs to it", () => {
    const k = windowKernel('maxPool', 2, 3, geom(8, 8, 2, 2, 2, 2, 0, 0), false);
    try {
      setSimdMode('never');
      expect(printJs(k).source).not.toContain(SIMD_MARKER);
      setSimdMode('auto');
      expect(printJs(k).source).not.toContain(SIMD_MARKER);
      expect(printJs(windowKernel('maxPool', 64, 32, geom(26, 26, 2, 2, 2, 2, 0, 0), true)).source).toContain(SIMD_MARKER);
    } finally {
      setSimdMode('always');
    }
  });
});
