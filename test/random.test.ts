// Random sources: determinism by seed and by manualSeed, ranges, dtypes, and
// loose statistical checks on 100k samples (bounds are several sigma wide).
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

const N = 100_000;

async function values(t: ReturnType<typeof born.tensor>): Promise<number[]> {
  return Array.from(await t.data());
}

function stats(xs: ArrayLike<number>): { mean: number; variance: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i]!;
    min = Math.min(min, xs[i]!);
    max = Math.max(max, xs[i]!);
  }
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / (xs.length - 1), min, max };
}

function lagCorrelation(xs: ArrayLike<number>, lag = 1): number {
  const { mean, variance } = stats(xs);
  let c = 0;
  for (let i = 0; i + lag < xs.length; i++) c += (xs[i]! - mean) * (xs[i + lag]! - mean);
  return c / (xs.length - lag) / variance;
}

describe('rand', () => {
  test('shape, dtype float32, values in [0, 1)', async () => {
    const t = born.rand([3, 4, 5], { seed: 1 });
    expect(t.shape).toEqual([3, 4, 5]);
    expect(t.dtype).toBe('float32');
    const d = await t.data();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d).filter((v) => !(v >= 0 && v < 1))).toEqual([]);
  });

  test('same seed, same numbers; different seeds, different numbers', async () => {
    const a = await values(born.rand([1000], { seed: 7 }));
    const b = await values(born.rand([1000], { seed: 7 }));
    const c = await values(born.rand([1000], { seed: 8 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const same = a.filter((v, i) => v === c[i]).length;
    expect(same).toBeLessThan(10);
  });

  test('the elements of one draw are not all equal', async () => {
    const a = await values(born.rand([100], { seed: 3 }));
    expect(new Set(a).size).toBeGreaterThan(95);
  });

  test(`uniform statistics over ${N} samples`, async () => {
    const d = await born.rand([N], { seed: 12345 }).data();
    const s = stats(d);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s.variance - 1 / 12)).toBeLessThan(0.005);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    const bins = new Array<number>(10).fill(0);
    for (const v of d) bins[Math.min(9, Math.floor(v * 10))]!++;
    for (const b of bins) expect(Math.abs(b / N - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(lagCorrelation(d))).toBeLessThan(0.02);
  });

  test('a 2-D draw is uncorrelated along both axes', async () => {
    const d = await born.rand([300, 300], { seed: 99 }).data();
    expect(Math.abs(lagCorrelation(d, 1))).toBeLessThan(0.02);
    expect(Math.abs(lagCorrelation(d, 300))).toBeLessThan(0.02);
  });
});

describe('randn', () => {
  test('shape and dtype', async () => {
    const t = born.randn([2, 3], { seed: 1 });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(await t.data()).toBeInstanceOf(Float32Array);
  });

  test('same seed, same numbers', async () => {
    expect(await values(born.randn([500], { seed: 5 }))).toEqual(await values(born.randn([500], { seed: 5 })));
    expect(await values(born.randn([500], { seed: 5 }))).not.toEqual(await values(born.randn([500], { seed: 6 })));
  });

  test(`normal statistics over ${N} samples`, async () => {
    const d = await born.randn([N], { seed: 2024 }).data();
    expect(Array.from(d).filter((v) => !Number.isFinite(v))).toEqual([]);
    const s = stats(d);
    expect(Math.abs(s.mean)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(s.variance) - 1)).toBeLessThan(0.02);
    let in1 = 0;
    let in2 = 0;
    let pos = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of d) {
      if (Math.abs(v) < 1) in1++;
      if (Math.abs(v) < 2) in2++;
      if (v > 0) pos++;
      m3 += v ** 3;
      m4 += v ** 4;
    }
    expect(Math.abs(in1 / N - 0.6827)).toBeLessThan(0.01);
    expect(Math.abs(in2 / N - 0.9545)).toBeLessThan(0.005);
    expect(Math.abs(pos / N - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(m3 / N)).toBeLessThan(0.05); // skewness ~ 0
    expect(Math.abs(m4 / N - 3)).toBeLessThan(0.1); // kurtosis ~ 3
    expect(s.max).toBeGreaterThan(3); // tails exist
    expect(s.min).toBeLessThan(-3);
    expect(Math.abs(lagCorrelation(d))).toBeLessThan(0.02);
  });

  test('reductions of randn agree with the data', async () => {
    const t = born.randn([200, 50], { seed: 11 });
    const d = await t.data();
    const s = stats(d);
    expect(await t.mean().item()).toBeCloseTo(s.mean, 4);
    expect(await t.std().item()).toBeCloseTo(Math.sqrt(s.variance), 4);
  });
});

describe('randint', () => {
  test('int32 values in [low, high), every value hit, roughly uniform', async () => {
    const t = born.randint(-3, 7, [N], { seed: 4 });
    expect(t.dtype).toBe('int32');
    const d = await t.data();
    expect(d).toBeInstanceOf(Int32Array);
    const counts = new Map<number, number>();
    for (const v of d) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6]);
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(Math.abs(c / N - 0.1)).toBeLessThan(0.01);
  });

  test('same seed, same numbers; shape respected', async () => {
    const a = born.randint(0, 100, [4, 5], { seed: 9 });
    expect(a.shape).toEqual([4, 5]);
    expect(await values(a)).toEqual(await values(born.randint(0, 100, [4, 5], { seed: 9 })));
  });

  test('a range of one value', async () => {
    const d = await values(born.randint(5, 6, [20], { seed: 1 }));
    expect(d).toEqual(new Array(20).fill(5));
  });

  test('randint feeds oneHot and indexSelect', async () => {
    const labels = born.randint(0, 4, [6], { seed: 2 });
    const oh = born.oneHot(labels, 4);
    const sums = await oh.sum({ dim: 1 }).data();
    expect(Array.from(sums)).toEqual([1, 1, 1, 1, 1, 1]);
    const table = born.arange(8).reshape([4, 2]);
    const picked = await table.indexSelect(0, labels).data();
    const ls = await labels.data();
    expect(Array.from(picked)).toEqual(Array.from(ls).flatMap((l) => [2 * l, 2 * l + 1]));
  });
});

describe('manualSeed and unseeded draws', () => {
  test('manualSeed makes the unseeded sequence repeatable', async () => {
    born.manualSeed(42);
    const a1 = await values(born.rand([50]));
    const a2 = await values(born.randn([50]));
    const a3 = await values(born.randint(0, 1000, [50]));
    born.manualSeed(42);
    const b1 = await values(born.rand([50]));
    const b2 = await values(born.randn([50]));
    const b3 = await values(born.randint(0, 1000, [50]));
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(b3).toEqual(a3);
  });

  test('an explicit seed does not depend on manualSeed or on earlier draws', async () => {
    born.manualSeed(1);
    await values(born.rand([10]));
    const a = await values(born.rand([30], { seed: 123 }));
    born.manualSeed(2);
    const b = await values(born.rand([30], { seed: 123 }));
    expect(b).toEqual(a);
  });

  test('successive unseeded draws differ', async () => {
    born.manualSeed(1);
    const a = await values(born.rand([100]));
    const b = await values(born.rand([100]));
    expect(a).not.toEqual(b);
  });

  test('different manual seeds give different sequences', async () => {
    born.manualSeed(1);
    const a = await values(born.rand([100]));
    born.manualSeed(2);
    const b = await values(born.rand([100]));
    expect(a).not.toEqual(b);
  });

  test('the draw is fixed when the op is recorded, not when it is read', async () => {
    born.manualSeed(3);
    const first = born.rand([20]);
    born.manualSeed(3);
    const again = born.rand([20]);
    // Reading order must not matter.
    const b = await values(again);
    const a = await values(first);
    expect(a).toEqual(b);
  });
});

describe('a random tensor is one value, however often it is read', () => {
  test('r - r is exactly zero and r + r is 2r (one draw, even if a kernel recomputes it)', async () => {
    const r = born.rand([1000]);
    expect(Array.from(await r.sub(r).data()).every((v) => v === 0)).toBe(true);
    const twice = await r.add(r).data();
    const once = await r.data();
    expect(Array.from(twice)).toEqual(Array.from(once).map((v) => Math.fround(2 * v)));
  });

  test('data() twice gives the same numbers', async () => {
    const r = born.randn([100]);
    expect(await values(r)).toEqual(await values(r));
  });

  test('two consumers realised separately see the same draw', async () => {
    const r = born.randn([64], { seed: 77 });
    const a = await r.mul(2).data();
    const b = await r.add(1).data();
    const base = await r.data();
    for (let i = 0; i < 64; i++) {
      expect(a[i]).toBe(Math.fround(base[i]! * 2));
      expect(b[i]).toBe(Math.fround(base[i]! + 1));
    }
  });

  test('views of a random tensor read the same draw', async () => {
    const r = born.rand([4, 5], { seed: 8 });
    const base = await r.data();
    const t = await r.T.data();
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) expect(t[j * 4 + i]).toBe(base[i * 5 + j]);
  });
});
