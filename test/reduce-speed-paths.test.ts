// The fast loop forms of reduction kernels (src/devices/cpu-workers/reduce-print.ts): column
// blocks (reductions over leading dims) and row sums with several accumulators, against naive
// float64 references — ragged blocks and ranges, several reduced dims, keepdim, NaN, integers.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { printJs } from '../src/devices/cpu-workers/codegen.js';
import { COLUMN_BLOCK_WIDTH, UNROLL } from '../src/devices/cpu-workers/reduce-print.js';
import { plan, walk } from '../src/scheduler/schedule.js';
import type { Kernel } from '../src/kernel/ir.js';
import { setSimdMode, simdMode } from '../src/devices/cpu-workers/simd/index.js';

// These are the JS loop forms: float32 sums that qualify would otherwise print as WASM SIMD
// (test/simd-kernels.test.ts covers those).
const before = simdMode();
beforeAll(() => setSimdMode('never'));
afterAll(() => setSimdMode(before));

type Op = 'sum' | 'prod' | 'max' | 'min';

/** Deterministic values in [lo, hi) (mulberry32). */
function values(n: number, seed: number, lo = -1, hi = 1, int = false): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(int ? Math.floor(lo + u * (hi - lo)) : lo + u * (hi - lo));
  }
  return out;
}

/** The reduction of `x` (row-major, `shape`) over `axes`, term by term in float64; NaN propagates through max/min. */
function naive(op: Op, x: ArrayLike<number>, shape: readonly number[], axes: readonly number[]): Float64Array {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const size = outShape.reduce((p, d) => p * d, 1);
  const init = { sum: 0, prod: 1, max: -Infinity, min: Infinity }[op];
  const out = new Float64Array(size).fill(init);
  const coords = shape.map(() => 0);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) o = o * outShape[d]! + (axes.includes(d) ? 0 : coords[d]!);
    const v = x[i]!, a = out[o]!;
    out[o] = op === 'sum' ? a + v : op === 'prod' ? a * v
      : Number.isNaN(a) || Number.isNaN(v) ? NaN : op === 'max' ? Math.max(a, v) : Math.min(a, v);
    for (let d = shape.length - 1; d >= 0; d--) { if (++coords[d]! < shape[d]!) break; coords[d] = 0; }
  }
  return out;
}

function run(op: Op, t: ReturnType<typeof born.tensor>, dim: number | number[] | undefined, keepdim = false): ReturnType<typeof born.tensor> {
  const o = { ...(dim === undefined ? {} : { dim }), keepdim };
  switch (op) {
    case 'sum': return t.sum(o);
    case 'prod': return t.prod(dim, keepdim);
    case 'max': return t.amax(o);
    case 'min': return t.amin(o);
  }
}

async function expectReduce(op: Op, x: number[], shape: number[], axes: number[], opts: { dtype?: 'float32' | 'float64' | 'int32'; keepdim?: boolean; rtol?: number } = {}): Promise<void> {
  const dtype = opts.dtype ?? 'float32';
  const t = born.tensor(x, { shape, dtype });
  // The reference reads the values the tensor holds (float32-rounded).
  const held = Array.from(await t.data() as ArrayLike<number>);
  const y = run(op, t, axes.length === shape.length ? undefined : axes, opts.keepdim ?? false);
  const want = naive(op, held, shape, axes);
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  expect(y.shape).toEqual(opts.keepdim ? keptShape : shape.filter((_, i) => !axes.includes(i)));
  const got = Array.from(await y.data() as ArrayLike<number>);
  expect(got.length).toBe(want.length);
  const rtol = opts.rtol ?? (dtype === 'float32' ? 2e-6 : dtype === 'float64' ? 1e-13 : 0);
  const sums = op === 'sum' ? naive('sum', held.map(Math.abs), shape, axes) : null;
  for (let i = 0; i < want.length; i++) {
    const w = dtype === 'int32' ? (op === 'prod' ? Math.imul(want[i]!, 1) : want[i]!) : want[i]!;
    if (Number.isNaN(w)) { expect(got[i], `element ${i}`).toBeNaN(); continue; }
    const scale = sums ? sums[i]! : Math.abs(w);
    expect(Math.abs(got[i]! - w), `element ${i}: got ${got[i]}, want ${w}`).toBeLessThanOrEqual(rtol * scale + (dtype === 'int32' ? 0 : 1e-30));
  }
}

/** The kernels a graph compiles to, as the scheduler lowers them. */
function kernelsOf(t: ReturnType<typeof born.tensor>): Kernel[] {
  return plan([t.node], walk([t.node])).steps.map((s) => s.kernel);
}

/** A kernel's printed function, callable over any range of its units. */
function compiled(k: Kernel): { fn: (b: unknown[], start: number, end: number, rt: number[]) => void; units: number } {
  const { source, units } = printJs(k);
  return { fn: (0, eval)(source) as never, units };
}

describe('which loop form a reduction kernel prints', () => {
  const x = born.zeros([64, 300]);
  test('a sum over dim 0 streams column blocks; over dim 1 it keeps UNROLL accumulators', () => {
    const [col] = kernelsOf(x.sum({ dim: 0 }));
    expect(printJs(col!).source).toContain('accs.fill(0, 0, w)');
    const [row] = kernelsOf(x.sum({ dim: 1 }));
    expect(printJs(row!).source).toContain(`acc${UNROLL - 1} +=`);
  });
  test('a row sum of a costly fused term (gelu) keeps one accumulator', () => {
    const [row] = kernelsOf(x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 }));
    expect(printJs(row!).source).not.toContain('acc1');
  });
  test('max over dim 1 keeps one accumulator (ties and signed zeros keep their order)', () => {
    const [row] = kernelsOf(x.amax({ dim: 1 }));
    expect(printJs(row!).source).not.toContain('acc1');
  });
  test('a narrow last output dim keeps the per-element column form', () => {
    const [col] = kernelsOf(born.zeros([64, 3]).sum({ dim: 0 }));
    expect(printJs(col!).source).not.toContain('0, w)');
  });
});

describe('column blocks against float64 references', () => {
  test.each(['sum', 'prod', 'max', 'min'] as const)('%s over dim 0, ragged blocks and rows, both ways of keepdim', async (op) => {
    // 1500 columns: one full block and a ragged one; 37 rows: UNROLL passes and a remainder.
    const lo = op === 'prod' ? 0.97 : -1, hi = op === 'prod' ? 1.03 : 1;
    const x = values(37 * 1500, 11, lo, hi);
    await expectReduce(op, x, [37, 1500], [0]);
    await expectReduce(op, x, [37, 1500], [0], { keepdim: true });
  });

  test.each(['sum', 'max', 'min'] as const)('%s over several leading dims, blocks limited by the last dim', async (op) => {
    await expectReduce(op, values(5 * 9 * 40, 12), [5, 9, 40], [0, 1]);
    await expectReduce(op, values(3 * 7 * 6 * 50, 13), [3, 7, 6, 50], [0, 2], { keepdim: true });
    await expectReduce(op, values(20 * 3 * 100, 14), [20, 3, 100], [0]);
  });

  test('large enough for the worker pool: ranges split inside rows of the output', async () => {
    await expectReduce('sum', values(200 * 7 * 333, 15), [200, 7, 333], [0]);
    await expectReduce('max', values(200 * 7 * 333, 16), [200, 7, 333], [0]);
  });

  test('NaN wins max and min wherever it sits in a column', async () => {
    const x = values(19 * 40, 17);
    for (const at of [0, 7 * 40 + 3, 8 * 40 + 5, 18 * 40 + 39]) x[at] = NaN;
    for (const op of ['max', 'min', 'sum', 'prod'] as const) await expectReduce(op, x, [19, 40], [0]);
  });

  test('int32 sums, products (wrapping) and extremes', async () => {
    const x = values(33 * 70, 18, -1000, 1000, true);
    await expectReduce('sum', x, [33, 70], [0], { dtype: 'int32' });
    await expectReduce('max', x, [33, 70], [0], { dtype: 'int32' });
    await expectReduce('prod', values(33 * 70, 19, -9, 9, true), [33, 70], [0], { dtype: 'int32' });
  });

  test('float64 keeps float64 sums', async () => {
    await expectReduce('sum', values(41 * 64, 20), [41, 64], [0], { dtype: 'float64' });
  });

  test('a fused value (exp) and epilogue (mean) in the block form', async () => {
    const xs = values(21 * 50, 21);
    const t = born.tensor(xs, { shape: [21, 50] });
    const held = Array.from(await t.data() as ArrayLike<number>);
    const want = naive('sum', held.map((v) => Math.exp(v)), [21, 50], [0]).map((v) => v / 21);
    const got = await t.exp().mean({ dim: 0 }).data() as Float32Array;
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(2e-6 * want[i]!));
  });

  test('the printed function over arbitrary ranges gives the same outputs', () => {
    const shape = [13, 2 * COLUMN_BLOCK_WIDTH + 37];
    const xs = Float32Array.from(values(shape[0]! * shape[1]!, 22));
    const [k] = kernelsOf(born.tensor(xs, { shape }).sum({ dim: 0 }));
    const { fn, units } = compiled(k!);
    expect(units).toBe(shape[1]);
    const want = naive('sum', xs, shape, [0]);
    for (const cuts of [[0, units], [0, 1, 1000, 1025, units], [0, 517, 2047, 2048, 2049, units]]) {
      const out = new Float32Array(units);
      for (let c = 0; c + 1 < cuts.length; c++) fn([out, xs], cuts[c]!, cuts[c + 1]!, []);
      expect(Array.from(out)).toEqual(Array.from(Float32Array.from(want)));
    }
  });
});

describe('row sums with several accumulators against float64 references', () => {
  test.each([1, 7, 8, 9, 15, 16, 17, 1000])('sum over dim 1 of rows of %i', async (n) => {
    await expectReduce('sum', values(6 * n, 30 + n), [6, n], [1]);
    await expectReduce('sum', values(6 * n, 30 + n), [6, n], [1], { dtype: 'float64' });
  });

  test('several trailing dims, keepdim, int32', async () => {
    await expectReduce('sum', values(4 * 6 * 10, 40), [4, 6, 10], [1, 2], { keepdim: true });
    await expectReduce('sum', values(4 * 6 * 10, 41, -500, 500, true), [4, 6, 10], [1, 2], { dtype: 'int32' });
  });

  test('NaN and infinities propagate', async () => {
    const x = values(3 * 20, 42);
    x[5] = NaN; x[20 + 9] = Infinity; x[40 + 1] = Infinity; x[40 + 17] = -Infinity;
    const got = Array.from(await born.tensor(x, { shape: [3, 20] }).sum({ dim: 1 }).data() as Float32Array);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBe(Infinity);
    expect(got[2]).toBeNaN();
  });

  test('large rows through the worker pool', async () => {
    await expectReduce('sum', values(300 * 1501, 43), [300, 1501], [1]);
  });
});
