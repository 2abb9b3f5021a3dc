// randn's integer sampler (kernel/normal.ts) against float64 Box–Muller on the same Philox words,
// its distribution over 10^6 draws, and the mapping from (seed, element index) to the draw. The
// sampler is the kernels' own prelude source, evaluated here on the main thread.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { jsPrelude } from '../src/devices/cpu-workers/prelude.js';

interface Sampler {
  /** The sampler on raw words: [r·cos, r·sin] for Philox words (w0, w1). */
  of(w0: number, w1: number): [number, number];
  /** Both Philox words at flat counter `ctr` under `key`. */
  words(key: number, ctr: number): [number, number];
}
const S = new Function(`${jsPrelude}
  return {
    of: (w0, w1) => { const z0 = normalOf(w0, w1); return [z0, pn1]; },
    words: (key, ctr) => { const w0 = philox2x32(key, ctr, Math.floor(ctr / 4294967296)); return [w0, phw1]; },
  };`)() as Sampler;

/** float64 Box–Muller on the sampler's u = (w0 | 1) / 2^32 and angle 2π w1 / 2^32. */
function reference(w0: number, w1: number): [number, number] {
  const r = Math.sqrt(-2 * Math.log(((w0 | 1) >>> 0) / 2 ** 32));
  const t = (2 * Math.PI * w1) / 2 ** 32;
  return [r * Math.cos(t), r * Math.sin(t)];
}

/** Born's seed to key mixing (as test/philox.test.ts). */
function keyOf(seed: number): number {
  let h = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The largest |sampler - reference| over the pairs, and the largest error in float32 ulps of the
 * reference where |z| >= 2^-2 (nearer 0 the fixed-point result keeps absolute, not relative, precision).
 */
function worst(pairs: Iterable<[number, number]>): { abs: number; ulps: number; notF32: number } {
  let abs = 0, ulps = 0, notF32 = 0;
  for (const [w0, w1] of pairs) {
    const got = S.of(w0, w1), want = reference(w0, w1);
    for (let j = 0; j < 2; j++) {
      const e = Math.abs(got[j]! - want[j]!);
      if (Math.fround(got[j]!) !== got[j]!) notF32++; // a float32 value, no rounding left to a device
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want[j]!) || 1)) - 23);
      abs = Math.max(abs, e);
      if (Math.abs(want[j]!) >= 2 ** -2) ulps = Math.max(ulps, e / ulp);
    }
  }
  return { abs, ulps, notF32 };
}

// Φ by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): far below the KS bound tested.
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x / 2);
  return 0.5 * (1 + (x >= 0 ? y : -y));
}

describe('the integer sampler against float64 Box–Muller', () => {
  test('Philox words of 200,000 counters: within 1 float32 ulp, ~2.5e-7 absolute', () => {
    const pairs = function* (): Generator<[number, number]> { for (let i = 0; i < 200_000; i++) yield S.words(0x2545f491, i); };
    const w = worst(pairs());
    console.log(`random words: max abs error ${w.abs.toExponential(3)}, max ${w.ulps.toFixed(3)} float32 ulps (|z| >= 1/4)`);
    expect(w.abs).toBeLessThan(3e-7);
    expect(w.ulps).toBeLessThanOrEqual(1);
    expect(w.notF32).toBe(0);
  });

  test('the hard words: u near 0 (the largest radius), near 1/2, near 1 (a tiny radius), at the series switch, every octant edge', () => {
    const w0s = [0, 1, 2, 3, 0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0x40000000, 0x3fffffff];
    for (let i = 0; i < 64; i++) w0s.push((0xffc00000 + i - 32) >>> 0, (0xffffffff - 2 * i) >>> 0, 1 << (i % 32));
    const w1s: number[] = [];
    for (let o = 0; o < 8; o++) for (const d of [-1, 0, 1, 12345]) w1s.push((o * 2 ** 29 + d) >>> 0);
    const pairs: [number, number][] = [];
    for (const a of w0s) for (const b of w1s) pairs.push([a, b]);
    const w = worst(pairs);
    expect(w.notF32).toBe(0);
    console.log(`hard words: max abs error ${w.abs.toExponential(3)}, max ${w.ulps.toFixed(3)} float32 ulps (|z| >= 1/4)`);
    expect(w.abs).toBeLessThan(3e-7);
    // u = 2^-32 (w0 0 or 1) gives the largest radius, finite: sqrt(64 ln 2).
    const [z] = S.of(0, 0);
    expect(z).toBeCloseTo(Math.sqrt(64 * Math.LN2), 6);
    // u nearest 1 gives the smallest, still to float32 precision.
    const [c] = S.of(0xffffffff, 0);
    expect(Math.abs(c / reference(0xffffffff, 0)[0] - 1)).toBeLessThan(2 ** -22);
  });
});

describe('randn draws the sampler at the element index', () => {
  test('element i is word 0 of the draw at counter i, keyed by the seed; shape and slicing change nothing', async () => {
    const n = 600;
    const got = await born.randn([n], { seed: 21 }).data();
    const want = Float32Array.from({ length: n }, (_, i) => S.of(...S.words(keyOf(21), i))[0]);
    expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
    expect(await born.randn([20, 30], { seed: 21 }).reshape([n]).data()).toEqual(got);
    expect(await born.randn([n], { seed: 21 }).slice(0, 100, 137).data()).toEqual(got.slice(100, 137));
    // A fused consumer sees the materialised value: 2z is exact.
    expect(await born.randn([n], { seed: 21 }).mul(2).data()).toEqual(got.map((v) => 2 * v));
  });

  test('read by two consumers, a randn is computed once: its sampler is no cheap node to repeat', () => {
    const x = born.randn([64, 64], { seed: 1 });
    const plan = born.explain(x.mul(2).add(x.exp()).sum());
    expect(plan.kernels.length).toBe(2);
    expect(plan.kernels[0]!.ops).toContain('randn');
    expect(plan.kernels[1]!.ops).not.toContain('randn');
    // Read once, it fuses into its consumer.
    expect(born.explain(born.randn([64, 64], { seed: 1 }).mul(2).sum()).kernels.length).toBe(1);
  });

  test('the same seed gives the same numbers, another seed others; the global stream repeats after manualSeed', async () => {
    const a = await born.randn([256], { seed: 8 }).data();
    expect(await born.randn([256], { seed: 8 }).data()).toEqual(a);
    expect(await born.randn([256], { seed: 9 }).data()).not.toEqual(a);
    born.manualSeed(3);
    const g1 = await born.randn([64]).data(), g2 = await born.randn([64]).data();
    born.manualSeed(3);
    expect(await born.randn([64]).data()).toEqual(g1);
    expect(await born.randn([64]).data()).toEqual(g2);
    expect(g1).not.toEqual(g2);
  });

  test('other dtypes are the float32 sample cast: float64 holds it exactly', async () => {
    const f32 = await born.randn([300], { seed: 4 }).data();
    expect(Array.from(await born.randn([300], { seed: 4, dtype: 'float64' }).data())).toEqual(Array.from(f32));
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const t = born.randn([300], { seed: 4, dtype });
      expect(t.dtype).toBe(dtype);
      expect(await t.data()).toEqual(await born.tensor(f32).to(dtype).data());
    }
  });
});

describe('the distribution of 10^6 draws', () => {
  test('moments, tail counts and the Kolmogorov–Smirnov distance to N(0, 1)', async () => {
    const N = 1_000_000;
    const d = await born.randn([N], { seed: 2026 }).data();
    let s1 = 0, s2 = 0, s3 = 0, s4 = 0, beyond3 = 0, beyond4 = 0, infinite = 0;
    for (const v of d) {
      if (!Number.isFinite(v)) infinite++;
      s1 += v; s2 += v * v; s3 += v ** 3; s4 += v ** 4;
      if (Math.abs(v) > 3) beyond3++;
      if (Math.abs(v) > 4) beyond4++;
    }
    expect(infinite).toBe(0);
    const mean = s1 / N, variance = s2 / N - mean * mean;
    // Standard errors at N = 1e6: mean 1e-3, variance 1.4e-3, skewness 2.4e-3, kurtosis 4.9e-3.
    expect(Math.abs(mean)).toBeLessThan(5e-3);
    expect(Math.abs(variance - 1)).toBeLessThan(7e-3);
    expect(Math.abs(s3 / N)).toBeLessThan(0.015);
    expect(Math.abs(s4 / N - 3)).toBeLessThan(0.05);
    // P(|z| > 3) = 2.700e-3 (2700 ± 52 expected), P(|z| > 4) = 6.33e-5 (63 ± 8).
    expect(Math.abs(beyond3 - 2700)).toBeLessThan(250);
    expect(Math.abs(beyond4 - 63)).toBeLessThan(35);
    const sorted = Float64Array.from(d).sort();
    let ks = 0;
    for (let i = 0; i < N; i += 7) ks = Math.max(ks, Math.abs(phi(sorted[i]!) - (i + 0.5) / N));
    // The 0.1 % critical value of the KS statistic is 1.95 / sqrt(N).
    console.log(`N=${N}: mean ${mean.toExponential(2)}, var ${variance.toFixed(5)}, skew ${(s3 / N).toFixed(4)}, kurt ${(s4 / N).toFixed(4)}, |z|>3 ${beyond3}, |z|>4 ${beyond4}, KS ${ks.toExponential(3)}`);
    expect(ks).toBeLessThan(1.95 / Math.sqrt(N));
  });
});
