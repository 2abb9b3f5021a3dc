// Property tests: for random shapes and dims, the positional form of each reduction and join
// (`x.sum(1, true)`, `born.cat(ts, 1)`, `x.chunk(3, 1)`) and its options form
// (`x.sum({ dim: 1, keepdim: true })`, `born.cat(ts, { dim: 1 })`) give the same tensor, bit for
// bit, and both equal the naive reference (test/reference/ndarray.ts).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { dimArb } from './reference/arbitraries.js';
import { expectTensor, ref, toBorn, type Tensor, type Tol } from './reference/check.js';
import type { NDArray } from './reference/ndarray.js';

/** Rank 1–4, dims 1–5 (every reduction and join here needs a dim to act on). */
const shapeArb = fc.array(dimArb, { minLength: 1, maxLength: 4 });
const TOL: Tol = { rtol: 1e-5, atol: 1e-5 };

/** The positional and options forms agree exactly, and match the reference. */
async function agree(positional: Tensor, byOptions: Tensor, want: NDArray, label: string, tol: Tol = TOL): Promise<void> {
  expect([...positional.shape], `${label}: shape of the positional form`).toEqual([...byOptions.shape]);
  expect(positional.dtype, `${label}: dtype`).toBe(byOptions.dtype);
  expect(Array.from(await positional.data()), `${label}: positional vs options form`).toEqual(Array.from(await byOptions.data()));
  await expectTensor(positional, want, tol, label);
}

interface Reduction {
  name: string;
  pos: (t: Tensor, dim: number | number[], keepdim: boolean) => Tensor;
  opts: (t: Tensor, dim: number | number[], keepdim: boolean) => Tensor;
  want: (a: NDArray, dim: number | number[], keepdim: boolean) => NDArray;
  /** Takes a list of dims as well as one. */
  many: boolean;
}

const one = (d: number | number[]): number => (typeof d === 'number' ? d : d[0]!);

const REDUCTIONS: Reduction[] = [
  { name: 'sum', many: true, pos: (t, d, k) => t.sum(d, k), opts: (t, d, k) => t.sum({ dim: d, keepdim: k }), want: (a, d, k) => ref.sum(a, { dim: d, keepdim: k }) },
  { name: 'mean', many: true, pos: (t, d, k) => t.mean(d, k), opts: (t, d, k) => t.mean({ dim: d, keepdim: k }), want: (a, d, k) => ref.mean(a, { dim: d, keepdim: k }) },
  { name: 'amax', many: true, pos: (t, d, k) => t.amax(d, k), opts: (t, d, k) => t.amax({ dim: d, keepdim: k }), want: (a, d, k) => ref.max(a, { dim: d, keepdim: k }) },
  { name: 'amin', many: true, pos: (t, d, k) => t.amin(d, k), opts: (t, d, k) => t.amin({ dim: d, keepdim: k }), want: (a, d, k) => ref.min(a, { dim: d, keepdim: k }) },
  {
    name: 'var', many: true, pos: (t, d, k) => t.var(d, { correction: 0, keepdim: k }),
    opts: (t, d, k) => t.var({ dim: d, keepdim: k, correction: 0 }), want: (a, d, k) => ref.var(a, { dim: d, keepdim: k, correction: 0 }),
  },
  { name: 'std (unbiased, keepdim)', many: true, pos: (t, d, k) => t.std(d, true, k), opts: (t, d, k) => t.std({ dim: d, keepdim: k }), want: (a, d, k) => ref.std(a, { dim: d, keepdim: k }) },
  { name: 'logsumexp', many: true, pos: (t, d, k) => t.logsumexp(d, k), opts: (t, d, k) => t.logsumexp({ dim: d, keepdim: k }), want: (a, d, k) => ref.logsumexp(a, { dim: d, keepdim: k }) },
  { name: 'max values', many: false, pos: (t, d, k) => t.max(one(d), k).values, opts: (t, d, k) => t.max({ dim: one(d), keepdim: k }).values, want: (a, d, k) => ref.max(a, { dim: one(d), keepdim: k }) },
  { name: 'max indices', many: false, pos: (t, d, k) => t.max(one(d), k).indices, opts: (t, d, k) => t.max({ dim: one(d), keepdim: k }).indices, want: (a, d, k) => ref.argmax(a, { dim: one(d), keepdim: k }) },
  { name: 'min values', many: false, pos: (t, d, k) => t.min(one(d), k).values, opts: (t, d, k) => t.min({ dim: one(d), keepdim: k }).values, want: (a, d, k) => ref.min(a, { dim: one(d), keepdim: k }) },
  { name: 'min indices', many: false, pos: (t, d, k) => t.min(one(d), k).indices, opts: (t, d, k) => t.min({ dim: one(d), keepdim: k }).indices, want: (a, d, k) => ref.argmin(a, { dim: one(d), keepdim: k }) },
  { name: 'argmax', many: false, pos: (t, d, k) => t.argmax(one(d), k), opts: (t, d, k) => t.argmax({ dim: one(d), keepdim: k }), want: (a, d, k) => ref.argmax(a, { dim: one(d), keepdim: k }) },
  { name: 'argmin', many: false, pos: (t, d, k) => t.argmin(one(d), k), opts: (t, d, k) => t.argmin({ dim: one(d), keepdim: k }), want: (a, d, k) => ref.argmin(a, { dim: one(d), keepdim: k }) },
  { name: 'softmax', many: false, pos: (t, d) => t.softmax(one(d)), opts: (t, d) => t.softmax({ dim: one(d) }), want: (a, d) => ref.softmax(a, { dim: one(d) }) },
  { name: 'logSoftmax', many: false, pos: (t, d) => t.logSoftmax(one(d)), opts: (t, d) => t.logSoftmax({ dim: one(d) }), want: (a, d) => ref.logSoftmax(a, { dim: one(d) }) },
];

/** A dim of a rank-n tensor from a raw integer, negative half the time. */
const dimOf = (seed: number, n: number): number => (seed % (2 * n)) - n;

/** Up to two distinct dims (as a list) from raw integers. */
function dimsOf(s1: number, s2: number, n: number): number[] {
  const d1 = dimOf(s1, n), d2 = dimOf(s2, n);
  return (d1 + n) % n === (d2 + n) % n ? [d1] : [d1, d2];
}

describe('reductions: positional and options forms agree, and match the reference', () => {
  test.each(REDUCTIONS.map((r) => [r.name, r] as const))('%s', async (_, r) => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.nat(), fc.nat(), fc.nat(), fc.boolean(), fc.boolean(), async (shape, seed, s1, s2, keepdim, list) => {
        // Eighth-grid values in [-4, 4): sums of a few hundred are exact in float32; ties occur.
        const a = ref.random(shape, seed, { quantum: 8, lo: -4, hi: 4 });
        const dim = r.many && list ? dimsOf(s1, s2, shape.length) : dimOf(s1, shape.length);
        const label = `${r.name} of ${JSON.stringify(shape)} over ${JSON.stringify(dim)}, keepdim ${keepdim}`;
        const t = toBorn(a);
        const [p, o] = [r.pos(t, dim, keepdim), r.opts(t, dim, keepdim)];
        await born.realize(p, o);
        await agree(p, o, r.want(a, dim, keepdim), label);
      }),
      { numRuns: 25 },
    );
  });
});

/** Shapes equal except along `d`, where each gets its own size. */
const withSizeAt = (shape: readonly number[], d: number, size: number): number[] => shape.map((s, i) => (i === d ? size : s));

describe('joins: positional and options forms agree, and match the reference', () => {
  test('born.cat(ts, dim) and born.cat(ts, { dim })', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.array(dimArb, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), async (shape, sizes, seed, s) => {
        const dim = dimOf(s, shape.length), d = (dim + shape.length) % shape.length;
        const parts = sizes.map((n, i) => ref.random(withSizeAt(shape, d, n), seed + i, { quantum: 8 }));
        const ts = parts.map(toBorn);
        const [p, o] = [born.cat(ts, dim), born.cat(ts, { dim })];
        await born.realize(p, o);
        await agree(p, o, ref.cat(parts, { dim }), `cat of ${JSON.stringify(parts.map((x) => x.shape))} along ${dim}`);
      }),
      { numRuns: 30 },
    );
  });

  test('born.stack(ts, dim) and born.stack(ts, { dim })', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.integer({ min: 1, max: 3 }), fc.nat(), fc.nat(), async (shape, count, seed, s) => {
        const dim = dimOf(s, shape.length + 1);
        const parts = Array.from({ length: count }, (_, i) => ref.random(shape, seed + i, { quantum: 8 }));
        const ts = parts.map(toBorn);
        const [p, o] = [born.stack(ts, dim), born.stack(ts, { dim })];
        await born.realize(p, o);
        await agree(p, o, ref.stack(parts, { dim }), `stack of ${count} × ${JSON.stringify(shape)} along ${dim}`);
      }),
      { numRuns: 30 },
    );
  });

  test('x.chunk(n, dim) and x.chunk(n, { dim }); x.split(size, dim) and x.split(size, { dim })', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.integer({ min: 1, max: 6 }), fc.nat(), fc.nat(), fc.boolean(), async (shape, n, seed, s, useChunk) => {
        const a = ref.random(shape, seed, { quantum: 8 });
        const dim = dimOf(s, shape.length);
        const t = toBorn(a);
        const [ps, os, want] = useChunk
          ? [t.chunk(n, dim), t.chunk(n, { dim }), ref.chunk(a, n, { dim })]
          : [t.split(n, dim), t.split(n, { dim }), ref.split(a, n, { dim })];
        const label = `${useChunk ? 'chunk' : 'split'}(${n}) of ${JSON.stringify(shape)} along ${dim}`;
        expect(ps.length, `${label}: pieces`).toBe(want.length);
        expect(os.length, `${label}: pieces of the options form`).toBe(want.length);
        await born.realize(...ps, ...os);
        for (let i = 0; i < want.length; i++) await agree(ps[i]!, os[i]!, want[i]!, `${label}, piece ${i}`);
      }),
      { numRuns: 30 },
    );
  });

  test('x.split([sections], dim) and x.split([sections], { dim })', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.nat(), fc.nat(), fc.nat(), async (shape, seed, s, cut) => {
        const a = ref.random(shape, seed, { quantum: 8 });
        const dim = dimOf(s, shape.length), n = shape[(dim + shape.length) % shape.length]!;
        const first = cut % (n + 1);
        const sections = [first, n - first];
        const t = toBorn(a);
        const [ps, os, want] = [t.split(sections, dim), t.split(sections, { dim }), ref.split(a, sections, { dim })];
        await born.realize(...ps, ...os);
        for (let i = 0; i < 2; i++) await agree(ps[i]!, os[i]!, want[i]!, `split(${JSON.stringify(sections)}) of ${JSON.stringify(shape)} along ${dim}, piece ${i}`);
      }),
      { numRuns: 30 },
    );
  });
});
