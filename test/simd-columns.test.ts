// The WebAssembly SIMD column reductions (src/devices/cpu-workers/simd/column-plan.ts, column.ts):
// sum, mean, max and min over leading and middle dims, with fused elementwise prologues and
// broadcast operands, forced onto the SIMD path whatever their size, against float64 references
// computed here with naive loops; over widths across a strip boundary, row counts that leave a
// partial staged call, NaN, infinities and signed zeros.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { recordSimdKernels } from './reference/simd-kernels.js';
import { planColumn, setSimdMode, simdStats } from '../src/devices/cpu-workers/simd/index.js';
import { STAGE, STRIP } from '../src/devices/cpu-workers/simd/column-plan.js';

const f32 = Math.fround;

function values(n: number, seed: number, scale = 3): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = f32((s / 2 ** 32 * 2 - 1) * scale);
  }
  return out;
}

const kernels = recordSimdKernels();

async function run(f: () => born.Tensor, simdKernels: number): Promise<Float32Array> {
  const before = simdStats.printed;
  const out = (await f().data()) as Float32Array;
  expect(simdStats.printed - before, 'kernels printed as SIMD').toBe(simdKernels);
  return out;
}

type Fold = 'sum' | 'max' | 'min';
/** The float64 fold of term(x) over dim 1 of [A, R, C] (the JS kernels' rule for max/min: NaN wins, ties keep the first). */
function reference(x: Float32Array, [A, R, C]: readonly number[], fold: Fold, term: (v: number, a: number, c: number) => number = (v) => v): { want: Float64Array; mag: Float64Array } {
  const want = new Float64Array(A! * C!), mag = new Float64Array(A! * C!);
  for (let a = 0; a < A!; a++) {
    for (let c = 0; c < C!; c++) {
      let acc = fold === 'sum' ? 0 : fold === 'max' ? -Infinity : Infinity, m = 0;
      for (let r = 0; r < R!; r++) {
        const v = term(x[(a * R! + r) * C! + c]!, a, c);
        m += Math.abs(v);
        if (fold === 'sum') acc += v;
        else if ((fold === 'max' ? v > acc : v < acc) || v !== v) acc = v;
      }
      want[a * C! + c] = acc; mag[a * C! + c] = m;
    }
  }
  return { want, mag };
}

function expectFold(got: Float32Array, { want, mag }: { want: Float64Array; mag: Float64Array }, rtol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const at = `${what} [${i}]: got ${g}, want ${w}`;
    if (Number.isNaN(w)) expect(Number.isNaN(g), at).toBe(true);
    else if (!Number.isFinite(w) || rtol === 0) expect(Object.is(g, f32(w)), at).toBe(true);
    else expect(Math.abs(g - w), at).toBeLessThanOrEqual(rtol * mag[i]! + 1e-30);
  }
}

describe('column reductions in SIMD', () => {
  // Widths across a strip (and a ragged last vector), row counts with a partial staged call.
  const rowsPer = (C: number): number => Math.floor(STAGE / Math.min(STRIP, Math.ceil(C / 4) * 4));
  test.each([[1, 37, 1031], [1, 3 * rowsPer(STRIP + 9) + 2, STRIP + 9], [3, 50, 301], [2, 5, 6]] as const)(
    'sum, mean, max and min over dim 1 of [%i, %i, %i]',
    async (A, R, C) => {
      const x = values(A * R * C, 7 + C);
      const X = born.tensor(x, { shape: [A, R, C] });
      expectFold(await run(() => X.sum({ dim: 1 }), 1), reference(x, [A, R, C], 'sum'), 1e-6, 'sum');
      const { want, mag } = reference(x, [A, R, C], 'sum');
      expectFold(await run(() => X.mean({ dim: 1 }), 1), { want: want.map((v) => v / R), mag: mag.map((v) => v / R) }, 1e-6, 'mean');
      expectFold(await run(() => X.amax({ dim: 1 }), 1), reference(x, [A, R, C], 'max'), 0, 'max');
      expectFold(await run(() => X.amin({ dim: 1 }), 1), reference(x, [A, R, C], 'min'), 0, 'min');
    },
  );

  test('over the leading dims together, with a fused prologue and a broadcast operand', async () => {
    const [A, R, C] = [4, 33, 515];
    const x = values(A * R * C, 3), w = values(C, 5), s = values(A, 9);
    const X = born.tensor(x, { shape: [A, R, C] });
    // dims [0, 1]: rows are (a, r) pairs; the result is [C].
    const flat = reference(x, [1, A * R, C], 'sum', (v) => f32(Math.exp(v) * 0.5));
    expectFold(await run(() => X.exp().mul(0.5).sum({ dim: [0, 1] }), 1), flat, 2e-6, 'exp sum');
    // x * w[c] + s[a] over dim 1: w walks the columns, s is fixed over a strip.
    const W = born.tensor(w), S = born.tensor(s, { shape: [A, 1, 1] });
    const want = reference(x, [A, R, C], 'sum', (v, a, c) => f32(f32(v * w[c]!) + s[a]!));
    expectFold(await run(() => X.mul(W).add(S).sum({ dim: 1 }), 1), want, 2e-6, 'broadcast');
    expectFold(await run(() => X.mul(W).add(S).amax({ dim: 1 }), 1), reference(x, [A, R, C], 'max', (v, a, c) => f32(f32(v * w[c]!) + s[a]!)), 0, 'broadcast max');
  });

  test('NaN, infinities and signed zeros', async () => {
    const [R, C] = [21, 40];
    const x = values(R * C, 11);
    x[3] = NaN; x[5 * C + 4] = Infinity; x[6 * C + 5] = Infinity; x[7 * C + 5] = -Infinity; x[9 * C + 6] = -Infinity;
    for (let r = 0; r < R; r++) { x[r * C + 7] = r % 2 ? 0 : -0; x[r * C + 8] = -0; }
    const X = born.tensor(x, { shape: [R, C] });
    const sums = await run(() => X.sum({ dim: 0 }), 1);
    expectFold(sums, reference(x, [1, R, C], 'sum'), 1e-6, 'sum');
    expect(Number.isNaN(sums[3])).toBe(true);
    expect(sums[4]).toBe(Infinity);
    expect(Number.isNaN(sums[5])).toBe(true);
    expect(Object.is(sums[8], -0), 'a sum of -0 terms from a +0 start').toBe(false);
    const maxes = await run(() => X.amax({ dim: 0 }), 1);
    expectFold(maxes, reference(x, [1, R, C], 'max'), 0, 'max');
    expect(Object.is(maxes[7], -0), 'max keeps the first of equal zeros (row 0 is -0)').toBe(true);
    expectFold(await run(() => X.amin({ dim: 0 }), 1), reference(x, [1, R, C], 'min'), 0, 'min');
  });

  test('which column reductions stay in JS, and why', async () => {
    kernels.length = 0;
    const x = values(64 * 32, 1);
    const X = born.tensor(x, { shape: [64, 32] });
    await run(() => X.sin().sum({ dim: 0 }), 0);
    expect(planColumn(kernels.find((k) => k.ops.includes('sin'))!)).toBe('op sin');
    kernels.length = 0;
    // Reading the columns with a stride (a permuted view of a 3-d tensor).
    const Y = born.tensor(values(8 * 16 * 12, 2), { shape: [8, 16, 12] });
    await run(() => Y.permute([1, 0, 2]).transpose(1, 2).sum({ dim: 0 }), 0);
    expect(planColumn(kernels[kernels.length - 1]!)).toBe('a load is neither contiguous along the columns nor fixed over a strip');
    await run(() => born.tensor(x, { shape: [64, 32], dtype: 'float64' }).sum({ dim: 0 }), 0);
    await run(() => X.prod({ dim: 0 }), 0);
  });

  test("in 'auto' mode only wide and large column reductions take SIMD", async () => {
    setSimdMode('auto');
    try {
      const x = values(512 * 512, 4);
      const big = await run(() => born.tensor(x, { shape: [512, 512] }).sum({ dim: 0 }), 1);
      expectFold(big, reference(x, [1, 512, 512], 'sum'), 1e-6, 'auto');
      await run(() => born.tensor(x, { shape: [2048, 128] }).sum({ dim: 0 }), 0);
      await run(() => born.tensor(x.subarray(0, 64 * 512), { shape: [64, 512] }).sum({ dim: 0 }), 0);
    } finally {
      setSimdMode('always');
    }
  });
});
