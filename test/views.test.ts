// Property tests: random chains of 1–4 view ops (reshape, permute, expand,
// slice with steps, pad, flip, transpose, squeeze, unsqueeze) on a random
// tensor, then an elementwise op with a random broadcastable tensor (or a
// reduction), compared with the eager reference. The same chains feed matmul
// in test/matmul-views.test.ts and view.ts itself in test/view-unit.test.ts.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import {
  applyBorn,
  broadcastSeedArb,
  chainArb,
  decodeBroadcast,
  decodeChain,
  describeOps,
  exactData,
  exactDTypeArb,
  shapeArb,
  type ExactDType,
} from './reference/arbitraries.js';
import { expectTensor, permutedBorn, ref, toBorn, type Tensor } from './reference/check.js';
import type { NDArray } from './reference/ndarray.js';

type Dt = ExactDType;
const dtypeArb = exactDTypeArb;
const data = (shape: readonly number[], seed: number, dtype: Dt): NDArray => exactData(shape, seed, dtype, 20);

/** The source tensor, presented contiguous or through a permute (non-contiguous to start with). */
function source(a: NDArray, permuted: boolean): Tensor {
  return permuted && a.ndim >= 2 ? permutedBorn(a) : toBorn(a);
}

const BINARY = [
  ['add', (x: Tensor, y: Tensor) => x.add(y), ref.add],
  ['sub', (x: Tensor, y: Tensor) => x.sub(y), ref.sub],
  ['mul', (x: Tensor, y: Tensor) => x.mul(y), ref.mul],
  ['maximum', (x: Tensor, y: Tensor) => x.maximum(y), ref.maximum],
  ['lt', (x: Tensor, y: Tensor) => x.lt(y), ref.lt],
] as const;

const RUNS = { numRuns: 80 };

describe('random view chains', () => {
  test('view chain alone matches the reference (shape, dtype, values)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, chainArb, dtypeArb, fc.nat(), fc.boolean(), async (shape, chain, dtype, seed, permuted) => {
        const a = data(shape, seed, dtype);
        const { ops, out } = decodeChain(a, chain);
        let t = source(a, permuted);
        for (const op of ops) t = applyBorn(t, op);
        // Shapes are known eagerly, at every step.
        expect([...t.shape], describeOps(ops)).toEqual([...out.shape]);
        await expectTensor(t, out, {}, `${dtype} ${JSON.stringify(shape)} ${describeOps(ops)}`);
      }),
      RUNS,
    );
  });

  test('view chain then an elementwise op with a broadcastable tensor', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        chainArb,
        dtypeArb,
        broadcastSeedArb,
        fc.integer({ min: 0, max: BINARY.length - 1 }),
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        async (shape, chain, dtype, bseed, opIndex, seed, permuted, swap) => {
          const a = data(shape, seed, dtype);
          const { ops, out } = decodeChain(a, chain);
          const otherShape = decodeBroadcast(bseed, out.shape);
          const b = data(otherShape, seed + 1, dtype);
          const [name, run, want] = BINARY[opIndex]!;
          let t = source(a, permuted);
          for (const op of ops) t = applyBorn(t, op);
          const u = toBorn(b);
          const got = swap ? run(u, t) : run(t, u);
          const expected = swap ? want(b, out) : want(out, b);
          const what = `${dtype} ${JSON.stringify(shape)} ${describeOps(ops)} then ${swap ? 'other.' : ''}${name}(${swap ? 'view' : JSON.stringify(otherShape)})`;
          await expectTensor(got, expected, {}, what);
        },
      ),
      RUNS,
    );
  });

  test('two different view chains of the same source combined', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, chainArb, chainArb, fc.nat(), async (shape, c1, c2, seed) => {
        const a = data(shape, seed, 'float32');
        const r1 = decodeChain(a, c1);
        const r2 = decodeChain(a, c2);
        fc.pre(ref.canBroadcast(r1.out.shape, r2.out.shape));
        const src = toBorn(a);
        let t1 = src;
        for (const op of r1.ops) t1 = applyBorn(t1, op);
        let t2 = src;
        for (const op of r2.ops) t2 = applyBorn(t2, op);
        await expectTensor(t1.add(t2), ref.add(r1.out, r2.out), {}, `${describeOps(r1.ops)} + ${describeOps(r2.ops)}`);
      }),
      { numRuns: 50 },
    );
  });

  test('view chain then a reduction over a random dim', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, chainArb, fc.nat(), fc.nat(), fc.boolean(), async (shape, chain, seed, dimSeed, keepdim) => {
        const a = data(shape, seed, 'float32');
        const { ops, out } = decodeChain(a, chain);
        let t = toBorn(a);
        for (const op of ops) t = applyBorn(t, op);
        const what = describeOps(ops);
        if (out.ndim === 0) {
          await expectTensor(t.sum(), ref.sum(out), {}, what);
          return;
        }
        const dim = (dimSeed % (2 * out.ndim)) - out.ndim;
        // Quarter-grid values: sums and maxima of a few thousand are exact in float32.
        await expectTensor(t.sum({ dim, keepdim }), ref.sum(out, { dim, keepdim }), {}, `${what} sum(${dim})`);
        await expectTensor(t.amax({ dim, keepdim }), ref.max(out, { dim, keepdim }), {}, `${what} amax(${dim})`);
      }),
      { numRuns: 60 },
    );
  });

  test('a view chain of a computed tensor, realised first or not', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, chainArb, fc.nat(), fc.boolean(), async (shape, chain, seed, realizeFirst) => {
        const a = data(shape, seed, 'float32');
        const computed = ref.add(ref.mul(a, 2), 1);
        const { ops, out } = decodeChain(computed, chain);
        let t = toBorn(a).mul(2).add(1);
        if (realizeFirst) await t.data();
        for (const op of ops) t = applyBorn(t, op);
        await expectTensor(t.mul(t), ref.mul(out, out), {}, describeOps(ops));
      }),
      { numRuns: 50 },
    );
  });
});

describe('fixed regressions from the property space', () => {
  // Hand-picked chains that stress view composition; kept explicit so a failure reads plainly.
  const cases: [string, number[], (t: Tensor) => Tensor, (a: NDArray) => NDArray][] = [
    [
      'pad → permute → reshape',
      [2, 3],
      (t) => t.pad([1, 0, 0, 2]).permute([1, 0]).reshape([-1]),
      (a) => ref.reshape(ref.permute(ref.pad(a, [1, 0, 0, 2]), [1, 0]), [-1]),
    ],
    [
      'expand → slice step 2 → flip',
      [3, 1],
      (t) => t.expand([3, 5]).slice(1, 0, undefined, 2).flip([0, 1]),
      (a) => ref.flip(ref.slice(ref.expand(a, [3, 5]), 1, 0, undefined, 2), [0, 1]),
    ],
    [
      'flip → pad → slice into the padding',
      [4],
      (t) => t.flip([0]).pad([2, 1], { value: 3 }).slice(0, 1, 6, 2),
      (a) => ref.slice(ref.pad(ref.flip(a, [0]), [2, 1], { value: 3 }), 0, 1, 6, 2),
    ],
    [
      'unsqueeze → expand → reshape merging the expanded dim',
      [2, 3],
      (t) => t.unsqueeze(1).expand([2, 4, 3]).reshape([8, 3]),
      (a) => ref.reshape(ref.expand(ref.unsqueeze(a, 1), [2, 4, 3]), [8, 3]),
    ],
    [
      'transpose → reshape → transpose → reshape',
      [2, 3, 4],
      (t) => t.transpose(0, 2).reshape([4, 6]).transpose(0, 1).reshape([3, 8]),
      (a) => ref.reshape(ref.transpose(ref.reshape(ref.transpose(a, 0, 2), [4, 6]), 0, 1), [3, 8]),
    ],
    [
      'squeeze everything → unsqueeze → expand',
      [1, 1, 1],
      (t) => t.squeeze().unsqueeze(0).expand([3]),
      (a) => ref.expand(ref.unsqueeze(ref.squeeze(a), 0), [3]),
    ],
    [
      'negative pad (crop) after a stepped slice',
      [9, 2],
      (t) => t.slice(0, 1, undefined, 2).pad([0, 0, -1, -1]),
      (a) => ref.pad(ref.slice(a, 0, 1, undefined, 2), [0, 0, -1, -1]),
    ],
  ];
  test.each(cases)('%s', async (_n, shape, run, want) => {
    const a = data(shape, 5, 'float32');
    await expectTensor(run(toBorn(a)), want(a));
    await expectTensor(run(toBorn(a)).add(born.ones([1])), ref.add(want(a), ref.ones([1])), {}, 'then + 1');
  });
});
