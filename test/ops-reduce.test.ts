// Reductions against the eager reference: sum/mean/max/min over any dims,
// argmax, var/std, logsumexp, softmax and logSoftmax; non-contiguous and
// broadcast (expanded) inputs, 0-d and size-1 dims, int32/bool/float64.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import {
  expectTensor,
  layoutsFor,
  NDArray,
  permutedBorn,
  ref,
  slicedBorn,
  toBorn,
  type Tensor,
  type Tol,
} from './reference/check.js';

/** float32 sums accumulate rounding; inputs here have at most a few hundred elements. */
const SUM_TOL: Tol = { rtol: 1e-5, atol: 1e-5 };
const label = (x: unknown): string => JSON.stringify(x);

type Dim = number | number[] | undefined;

/** Shapes with the dims to reduce over for each. */
const CASES: [number[], Dim[]][] = [
  [[], [undefined, 0, -1]],
  [[1], [undefined, 0]],
  [[7], [undefined, 0, -1]],
  [[3, 4], [undefined, 0, 1, -1, [0, 1], [-1, 0]]],
  [[1, 5], [0, 1]],
  [[2, 3, 4], [undefined, 0, 1, 2, [0, 2], [1, 2], [0, 1, 2]]],
  [[2, 1, 3, 2], [1, 3, [0, 3], [-3, -1], [0, 1, 2, 3]]],
];

interface RedCase {
  name: string;
  run: (t: Tensor, o: { dim?: number | number[]; keepdim?: boolean }) => Tensor;
  want: (a: NDArray, o: { dim?: number | number[]; keepdim?: boolean }) => NDArray;
  quantum?: number;
  tol?: Tol;
  /** logsumexp / var need a dim in torch; the others accept none. */
  needsDim?: boolean;
}

const RED: RedCase[] = [
  { name: 'sum', run: (t, o) => t.sum(o), want: ref.sum, tol: SUM_TOL },
  { name: 'mean', run: (t, o) => t.mean(o), want: ref.mean, tol: SUM_TOL },
  { name: 'amax', run: (t, o) => t.amax(o), want: ref.max },
  { name: 'amin', run: (t, o) => t.amin(o), want: ref.min },
  { name: 'var', run: (t, o) => t.var(o), want: (a, o) => ref.var(a, o), tol: SUM_TOL },
  { name: 'std', run: (t, o) => t.std(o), want: (a, o) => ref.std(a, o), tol: SUM_TOL },
  { name: 'logsumexp', run: (t, o) => t.logsumexp(o), want: ref.logsumexp, tol: SUM_TOL, needsDim: true },
];

describe('reductions over dims, float32, every layout, keepdim both ways', () => {
  const cases = RED.flatMap((r) =>
    CASES.flatMap(([shape, dims]) =>
      dims
        .filter((d) => !(r.needsDim && d === undefined))
        // var/std of one element divides by zero (NaN); tested separately.
        .filter((d) => !((r.name === 'var' || r.name === 'std') && reducedCount(shape, d) < 2))
        .map((d) => [r.name, label(shape), label(d ?? 'all'), r, shape, d] as const),
    ),
  );
  test.each(cases)('%s of %s over %s', async (_n, _s, _d, r, shape, dim) => {
    const a = ref.random(shape, 17 + shape.length, { lo: -2, hi: 2 });
    for (const keepdim of [false, true]) {
      const o = dim === undefined ? (keepdim ? { keepdim } : {}) : { dim, keepdim };
      const want = r.want(a, o);
      for (const layout of layoutsFor(a)) {
        await expectTensor(r.run(layout.make(a), o), want, r.tol, `${layout.name} keepdim=${keepdim}`);
      }
    }
  });
});

function reducedCount(shape: number[], dim: Dim): number {
  if (dim === undefined) return ref.numel(shape);
  if (shape.length === 0) return 1;
  const ds = typeof dim === 'number' ? [dim] : dim;
  return ds.reduce((n, d) => n * shape[(d + shape.length) % shape.length]!, 1);
}

describe('reductions without dim give a 0-d tensor', () => {
  const a = ref.random([3, 4], 5, { quantum: 8 });
  test.each(['sum', 'mean', 'max', 'min'] as const)('%s()', async (name) => {
    const t = toBorn(a)[name]();
    expect(t.shape).toEqual([]);
    expect(t.ndim).toBe(0);
    const r = RED.find((x) => x.name === name || x.name === `a${name}`)!;
    await expectTensor(t, r.want(a, {}));
    expect(await t.item()).toBeCloseTo(r.want(a, {}).data[0]!, 5);
  });
});

describe('reductions, float64 (1e-12)', () => {
  test.each(RED.map((r) => [r.name, r] as const))('%s', async (_n, r) => {
    const a = ref.random([4, 3, 5], 41, { dtype: 'float64' });
    for (const dim of [undefined, 1, [0, 2], -1] as Dim[]) {
      if (r.needsDim && dim === undefined) continue;
      const o = dim === undefined ? {} : { dim, keepdim: true };
      const want = r.want(a, o);
      expect(want.dtype).toBe('float64');
      await expectTensor(r.run(toBorn(a), o), want, { rtol: 1e-12, atol: 1e-12 }, `dim ${label(dim)}`);
      await expectTensor(r.run(permutedBorn(a), o), want, { rtol: 1e-12, atol: 1e-12 }, `permuted dim ${label(dim)}`);
    }
  });
});

describe('reductions of int32 and bool', () => {
  const i = ref.random([3, 5], 3, { dtype: 'int32', lo: -50, hi: 50 });
  test('sum of int32 stays int32 and is exact', async () => {
    await expectTensor(toBorn(i).sum(), ref.sum(i));
    await expectTensor(toBorn(i).sum({ dim: 0 }), ref.sum(i, { dim: 0 }));
    await expectTensor(permutedBorn(i).sum({ dim: 1, keepdim: true }), ref.sum(i, { dim: 1, keepdim: true }));
  });
  test('max / min of int32 stay int32', async () => {
    await expectTensor(toBorn(i).amax({ dim: 1 }), ref.max(i, { dim: 1 }));
    await expectTensor(toBorn(i).max(1).values, ref.max(i, { dim: 1 }));
    await expectTensor(toBorn(i).min(), ref.min(i));
  });
  test('sum of bool counts the trues as int32', async () => {
    const b = ref.random([4, 6], 4, { dtype: 'bool' });
    await expectTensor(toBorn(b).sum(), ref.sum(b));
    await expectTensor(toBorn(b).sum({ dim: -1 }), ref.sum(b, { dim: -1 }));
    const x = ref.random([4, 6], 5);
    await expectTensor(toBorn(x).gt(0).sum({ dim: 0 }), ref.sum(ref.gt(x, 0), { dim: 0 }));
  });
  test('int32 large sums do not go through float32 (exact above 2^24)', async () => {
    const big = ref.full([8], 16777217, 'int32');
    await expectTensor(toBorn(big).sum(), ref.sum(big));
  });
});

describe('reductions of broadcast and derived inputs', () => {
  test('sum of an expanded tensor counts each repeat', async () => {
    const a = ref.random([3, 1], 6, { quantum: 4 });
    const e = ref.expand(a, [2, 3, 4]);
    await expectTensor(toBorn(a).expand([2, 3, 4]).sum({ dim: [0, 2] }), ref.sum(e, { dim: [0, 2] }));
    await expectTensor(toBorn(a).expand([2, 3, 4]).sum(), ref.sum(e));
  });

  test('a reduction of a broadcast elementwise product (a matmul in disguise)', async () => {
    const x = ref.random([3, 4], 7);
    const y = ref.random([4, 5], 8);
    const prod = ref.mul(ref.unsqueeze(x, 2), ref.unsqueeze(y, 0));
    const got = toBorn(x).unsqueeze(2).mul(toBorn(y).unsqueeze(0)).sum({ dim: 1 });
    await expectTensor(got, ref.sum(prod, { dim: 1 }), SUM_TOL);
    await expectTensor(got, ref.matmul(x, y), SUM_TOL, 'equals matmul');
  });

  test('reductions chained: mean of max over different dims', async () => {
    const x = ref.random([3, 4, 5], 9);
    const want = ref.mean(ref.max(x, { dim: 2 }), { dim: 0 });
    await expectTensor(toBorn(x).amax({ dim: 2 }).mean({ dim: 0 }), want, SUM_TOL);
  });

  test('sum over a padded / flipped / stepped slice', async () => {
    const x = ref.random([4, 6], 10, { quantum: 4 });
    const v = ref.flip(ref.pad(ref.slice(x, 1, 1, undefined, 2), [1, 2]), [0]);
    const got = toBorn(x).slice(1, 1, undefined, 2).pad([1, 2]).flip([0]);
    await expectTensor(got.sum({ dim: 1 }), ref.sum(v, { dim: 1 }));
    await expectTensor(got.amax({ dim: 0, keepdim: true }), ref.max(v, { dim: 0, keepdim: true }));
  });

  test('a larger reduction (4096 elements) stays accurate in float32', async () => {
    const x = ref.random([4096], 11, { lo: 0, hi: 1 });
    await expectTensor(toBorn(x).sum(), ref.sum(x), { rtol: 1e-5, atol: 0 });
    await expectTensor(toBorn(x).mean(), ref.mean(x), { rtol: 1e-5, atol: 0 });
    const m = ref.random([64, 64], 12, { lo: 0, hi: 1 });
    await expectTensor(toBorn(m).sum({ dim: 0 }), ref.sum(m, { dim: 0 }), { rtol: 1e-5, atol: 0 });
  });
});

describe('max / min details', () => {
  test('max({ dim }) returns { values, indices }; amax({ dim }) the values only, as one tensor', async () => {
    const r = born.tensor([[1, 5], [7, 2]]).max({ dim: 1 });
    expect(r.values.shape).toEqual([2]);
    expect(r.indices.dtype).toBe('int32');
    expect(Array.from(await r.indices.data())).toEqual([1, 0]);
    const t = born.tensor([[1, 5], [7, 2]]).amax({ dim: 1 });
    expect(t).toBeInstanceOf(born.Tensor);
    expect(t.shape).toEqual([2]);
  });
  test('NaN propagates through max and min', async () => {
    const x = ref.NDArray.from([[1, NaN, 3], [4, 5, 6]]);
    await expectTensor(toBorn(x).amax({ dim: 1 }), ref.max(x, { dim: 1 }));
    await expectTensor(toBorn(x).max({ dim: 1 }).values, ref.max(x, { dim: 1 }));
    await expectTensor(toBorn(x).max({ dim: 1 }).indices, ref.argmax(x, { dim: 1 }));
    await expectTensor(toBorn(x).min(), ref.min(x));
  });
  test('all -Infinity', async () => {
    const x = ref.NDArray.from([-Infinity, -Infinity]);
    await expectTensor(toBorn(x).max(), ref.max(x));
  });
});

describe('argmax', () => {
  test.each([
    [[7], undefined],
    [[3, 4], undefined],
    [[3, 4], 0],
    [[3, 4], 1],
    [[3, 4], -1],
    [[2, 3, 4], 1],
    [[2, 1, 4], 1],
    [[1], 0],
  ] as [number[], number | undefined][])('shape %j dim %j', async (shape, dim) => {
    const a = ref.random(shape, 50 + shape.length, { lo: -2, hi: 2 });
    for (const keepdim of [false, true]) {
      const o = dim === undefined ? { keepdim } : { dim, keepdim };
      if (dim === undefined && keepdim) continue; // torch: argmax(keepdim) without dim is not meaningful
      const want = ref.argmax(a, o);
      expect(want.dtype).toBe('int32');
      for (const layout of layoutsFor(a)) {
        await expectTensor(layout.make(a).argmax(o), want, {}, `${layout.name} keepdim=${keepdim}`);
      }
    }
  });

  test('ties resolve to the first index, as torch', async () => {
    const x = ref.NDArray.from([[1, 3, 3, 0], [2, 2, 2, 2], [0, 1, 0, 1]]);
    await expectTensor(toBorn(x).argmax({ dim: 1 }), ref.argmax(x, { dim: 1 }));
    expect(Array.from(await toBorn(x).argmax({ dim: 1 }).data())).toEqual([1, 0, 1]);
    await expectTensor(toBorn(x).argmax({ dim: 0 }), ref.argmax(x, { dim: 0 }));
    expect(Array.from(await toBorn(x).argmax({ dim: 0 }).data())).toEqual([1, 0, 0, 1]);
    // A flattened argmax over a permuted view indexes the *logical* row-major order.
    const p = ref.permute(x, [1, 0]);
    await expectTensor(toBorn(x).permute([1, 0]).argmax(), ref.argmax(p));
  });

  test('NaN counts as the maximum (torch): argmax points at the first NaN', async () => {
    const x = ref.NDArray.from([[1, NaN, 3], [NaN, 2, NaN], [0, 5, 4]]);
    const want = ref.argmax(x, { dim: 1 });
    expect(Array.from(want.data)).toEqual([1, 0, 1]);
    await expectTensor(toBorn(x).argmax({ dim: 1 }), want);
    await expectTensor(toBorn(x).argmax(), ref.argmax(x));
  });

  test('argmax of int32 and of a 0-d tensor', async () => {
    const i = ref.NDArray.from([[3, 9, 9], [-1, -5, 0]], 'int32');
    await expectTensor(toBorn(i).argmax({ dim: 1 }), ref.argmax(i, { dim: 1 }));
    const s = born.tensor(new Float32Array([4]), { shape: [] }).argmax();
    expect(s.shape).toEqual([]);
    expect(s.dtype).toBe('int32');
    expect(await s.item()).toBe(0);
  });
});

describe('var / std', () => {
  const x = ref.random([4, 5], 61);
  test.each([0, 1, 2])('correction %i', async (correction) => {
    for (const dim of [undefined, 0, 1, [0, 1]] as Dim[]) {
      const o = dim === undefined ? { correction } : { dim, correction };
      await expectTensor(toBorn(x).var(o), ref.var(x, o), SUM_TOL, `var dim ${label(dim)}`);
      await expectTensor(toBorn(x).std(o), ref.std(x, o), SUM_TOL, `std dim ${label(dim)}`);
      await expectTensor(permutedBorn(x).std(o), ref.std(x, o), SUM_TOL, `std permuted dim ${label(dim)}`);
    }
  });
  test('default correction is 1 (unbiased)', async () => {
    const v = ref.NDArray.from([1, 2, 3, 4]);
    expect(await toBorn(v).var().item()).toBeCloseTo(5 / 3, 6);
    expect(await toBorn(v).std().item()).toBeCloseTo(Math.sqrt(5 / 3), 6);
  });
  test('keepdim', async () => {
    const o = { dim: -1, keepdim: true };
    await expectTensor(toBorn(x).var(o), ref.var(x, o), SUM_TOL);
  });
  test('constant input gives ~0 and never a negative variance', async () => {
    const c = ref.full([3, 8], 0.1);
    const got = await toBorn(c).var({ dim: 1 }).data();
    for (const v of got) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1e-6);
    }
  });
  test('one element with correction 1 is NaN, as torch', async () => {
    const one = ref.NDArray.from([5]);
    expect(Number.isNaN(await toBorn(one).var().item())).toBe(true);
  });
  test('a large offset does not destroy precision (two-pass or Welford)', async () => {
    const y = ref.add(ref.random([1000], 62, { lo: -1, hi: 1 }), 1000);
    await expectTensor(toBorn(y).var(), ref.var(y), { rtol: 1e-3, atol: 0 });
  });
});

describe('logsumexp / softmax / logSoftmax', () => {
  const shapes: [number[], number[]][] = [
    [[5], [0, -1]],
    [[3, 4], [0, 1, -1]],
    [[2, 3, 4], [0, 1, 2]],
    [[2, 1, 3], [1, -1]],
  ];
  const cases = shapes.flatMap(([s, ds]) => ds.map((d) => [label(s), d, s] as const));

  test.each(cases)('softmax / logSoftmax of %s over dim %i', async (_l, dim, shape) => {
    const a = ref.random(shape, 70 + dim, { lo: -4, hi: 4 });
    for (const layout of layoutsFor(a)) {
      await expectTensor(layout.make(a).softmax({ dim }), ref.softmax(a, { dim }), { atol: 1e-6, rtol: 1e-5 }, `softmax ${layout.name}`);
      await expectTensor(layout.make(a).logSoftmax({ dim }), ref.logSoftmax(a, { dim }), SUM_TOL, `logSoftmax ${layout.name}`);
      await expectTensor(layout.make(a).logsumexp({ dim }), ref.logsumexp(a, { dim }), SUM_TOL, `logsumexp ${layout.name}`);
    }
  });

  test('logsumexp over several dims with keepdim', async () => {
    const a = ref.random([2, 3, 4], 80);
    const o = { dim: [0, 2], keepdim: true };
    await expectTensor(toBorn(a).logsumexp(o), ref.logsumexp(a, o), SUM_TOL);
  });

  test('softmax rows sum to 1', async () => {
    const a = ref.random([6, 9], 81, { lo: -10, hi: 10 });
    const s = toBorn(a).softmax({ dim: -1 }).sum({ dim: -1 });
    for (const v of await s.data()) expect(Math.abs(v - 1)).toBeLessThan(1e-5);
  });

  test('numerically stable for large and very negative inputs', async () => {
    const a = ref.NDArray.from([[1000, 1000, 999], [-1000, -1001, -1e4], [80, 90, 100]]);
    await expectTensor(toBorn(a).softmax({ dim: 1 }), ref.softmax(a, { dim: 1 }));
    await expectTensor(toBorn(a).logSoftmax({ dim: 1 }), ref.logSoftmax(a, { dim: 1 }), SUM_TOL);
    await expectTensor(toBorn(a).logsumexp({ dim: 1 }), ref.logsumexp(a, { dim: 1 }), { rtol: 1e-6, atol: 1e-4 });
  });

  test('logsumexp of an all -Infinity row is -Infinity (no NaN)', async () => {
    const a = ref.NDArray.from([[-Infinity, -Infinity], [0, -Infinity]]);
    await expectTensor(toBorn(a).logsumexp({ dim: 1 }), ref.logsumexp(a, { dim: 1 }));
  });

  test('-Infinity entries (masking) give exact zeros in softmax', async () => {
    const a = ref.NDArray.from([[0, -Infinity, 1], [-Infinity, 2, -Infinity]]);
    await expectTensor(toBorn(a).softmax({ dim: -1 }), ref.softmax(a, { dim: -1 }));
    await expectTensor(toBorn(a).logSoftmax({ dim: -1 }), ref.logSoftmax(a, { dim: -1 }));
  });

  test('float64 (1e-12)', async () => {
    const a = ref.random([3, 7], 82, { lo: -20, hi: 20, dtype: 'float64' });
    await expectTensor(toBorn(a).softmax({ dim: 1 }), ref.softmax(a, { dim: 1 }));
    await expectTensor(toBorn(a).logSoftmax({ dim: 0 }), ref.logSoftmax(a, { dim: 0 }));
    await expectTensor(toBorn(a).logsumexp({ dim: 1 }), ref.logsumexp(a, { dim: 1 }));
  });

  test('softmax of a 0-d tensor is 1', async () => {
    const t = born.tensor(new Float32Array([3]), { shape: [] });
    expect(await t.softmax({ dim: 0 }).item()).toBe(1);
  });
});

describe('mean of composite expressions (layer-norm shape)', () => {
  test('(x - mean) / sqrt(var + eps) over the last dim', async () => {
    const x = ref.random([4, 16], 90, { lo: -3, hi: 3 });
    const m = ref.mean(x, { dim: -1, keepdim: true });
    const v = ref.var(x, { dim: -1, keepdim: true, correction: 0 });
    const want = ref.div(ref.sub(x, m), ref.sqrt(ref.add(v, 1e-5)));
    const t = toBorn(x);
    const got = t
      .sub(t.mean({ dim: -1, keepdim: true }))
      .div(t.var({ dim: -1, keepdim: true, correction: 0 }).add(1e-5).sqrt());
    await expectTensor(got, want, { rtol: 1e-4, atol: 1e-5 });
    await expectTensor(slicedBorn(x).sub(slicedBorn(x).mean({ dim: -1, keepdim: true })), ref.sub(x, m), SUM_TOL, 'sliced');
  });
});

// Above the CPU device's inline threshold reductions are split over worker threads.
describe('large reductions (the worker-pool path)', () => {
  const x = ref.random([513, 517], 601, { lo: -1, hi: 1 });
  test.each([0, 1, -1])('sum / max / argmax over dim %i of [513, 517]', async (dim) => {
    await expectTensor(toBorn(x).sum({ dim }), ref.sum(x, { dim }), { rtol: 1e-4, atol: 1e-4 });
    await expectTensor(toBorn(x).amax({ dim }), ref.max(x, { dim }));
    await expectTensor(toBorn(x).argmax({ dim }), ref.argmax(x, { dim }));
    await expectTensor(permutedBorn(x).amin({ dim, keepdim: true }), ref.min(x, { dim, keepdim: true }), {}, 'permuted min');
  });

  test('softmax / logSoftmax / var over the last dim of [400, 1000]', async () => {
    const y = ref.random([400, 1000], 602, { lo: -6, hi: 6 });
    await expectTensor(toBorn(y).softmax({ dim: -1 }), ref.softmax(y, { dim: -1 }), { rtol: 1e-4, atol: 1e-7 });
    await expectTensor(toBorn(y).logSoftmax({ dim: -1 }), ref.logSoftmax(y, { dim: -1 }), { rtol: 1e-5, atol: 1e-4 });
    await expectTensor(toBorn(y).var({ dim: -1 }), ref.var(y, { dim: -1 }), { rtol: 1e-4, atol: 1e-5 });
  });

  test('full reductions of 300k elements', async () => {
    const y = ref.random([300_000], 603, { lo: 0, hi: 1 });
    await expectTensor(toBorn(y).sum(), ref.sum(y), { rtol: 1e-5, atol: 0 });
    await expectTensor(toBorn(y).max(), ref.max(y));
    await expectTensor(toBorn(y).argmax(), ref.argmax(y));
  });

  test('int32 sum over dim 0 of [1000, 300]', async () => {
    const i = ref.random([1000, 300], 604, { dtype: 'int32', lo: -100, hi: 100 });
    await expectTensor(toBorn(i).sum({ dim: 0 }), ref.sum(i, { dim: 0 }));
  });
});

describe('same structure, different reduction parameters', () => {
  test('sum over each dim in turn, keepdim toggled', async () => {
    const x = ref.random([3, 4, 5], 990, { quantum: 4 });
    for (const dim of [0, 1, 2, [0, 1], [1, 2], [0, 2]]) {
      for (const keepdim of [false, true]) {
        await expectTensor(toBorn(x).sum({ dim, keepdim }), ref.sum(x, { dim, keepdim }), {}, `dim ${label(dim)} keepdim ${keepdim}`);
      }
    }
  });
  test('var with each correction', async () => {
    const x = ref.random([6, 7], 991);
    for (const correction of [0, 1, 2, 0]) {
      await expectTensor(toBorn(x).var({ dim: 1, correction }), ref.var(x, { dim: 1, correction }), SUM_TOL, `correction ${correction}`);
    }
  });
  test('sum of an empty dim is 0; zero-size input', async () => {
    const got = born.zeros([0, 3]).sum({ dim: 0 });
    expect(got.shape).toEqual([3]);
    expect(Array.from(await got.data())).toEqual([0, 0, 0]);
  });
});
