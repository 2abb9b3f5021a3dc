// Matmul operands that are views: the random view chains of test/views.test.ts fed into matmul
// as the left operand, the right one, or both (a chain against its own transpose). A matmul
// reads an operand that is one strided view of a buffer straight from the view's offset and
// strides (no copy), so these are the tests that see a view's offset or stride go wrong.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { applyBorn, chainArb, decodeChain, describeOps, exactData, exactDTypeArb, shapeArb, type ExactDType } from './reference/arbitraries.js';
import { expectTensor, permutedBorn, ref, toBorn, type Tensor } from './reference/check.js';
import type { NDArray } from './reference/ndarray.js';

type Dt = ExactDType;
const dtypeArb = exactDTypeArb;
// Integers within ±9: every product and sum of the matmuls below stays exact.
const data = (shape: readonly number[], seed: number, dtype: Dt): NDArray => exactData(shape, seed, dtype, 9);

type Side = 'left' | 'right' | 'both';
const sideArb = fc.constantFrom<Side>('left', 'right', 'both');

interface Case { got: Tensor; want: NDArray; what: string }

/**
 * The chain's result `v` (Born `t`) as a matmul operand. The other operand is a random matrix
 * (contiguous or permuted) of a fitting size; 'both' multiplies the chain by its own transpose,
 * the side with the smaller product (so a [4096, 1] view does not make a 4096² result).
 */
function matmulCase(t: Tensor, v: NDArray, side: Side, n: number, seed: number, permuted: boolean): Case {
  if (v.ndim === 0) {
    t = t.reshape([1]);
    v = ref.reshape(v, [1]);
  }
  const dtype = v.dtype as Dt;
  const other = (shape: number[]): [Tensor, NDArray] => {
    const o = data(shape, seed, dtype);
    return [permuted && o.ndim >= 2 ? permutedBorn(o) : toBorn(o), o];
  };
  const rows = v.shape[v.ndim - 2] ?? 1, cols = v.shape[v.ndim - 1]!;
  switch (side) {
    case 'left': {
      const [b, bv] = other([cols, n]);
      return { got: t.matmul(b), want: ref.matmul(v, bv), what: `view @ [${cols}, ${n}]` };
    }
    case 'right': {
      const k = v.ndim === 1 ? cols : rows;
      const [a, av] = other([n, k]);
      return { got: a.matmul(t), want: ref.matmul(av, v), what: `[${n}, ${k}] @ view` };
    }
    case 'both': {
      if (v.ndim === 1) return { got: t.matmul(t), want: ref.matmul(v, v), what: 'view @ view' };
      const vt = ref.transpose(v, -1, -2), tt = t.transpose(-1, -2);
      return rows <= cols
        ? { got: t.matmul(tt), want: ref.matmul(v, vt), what: 'view @ view.mT' }
        : { got: tt.matmul(t), want: ref.matmul(vt, v), what: 'view.mT @ view' };
    }
  }
}

describe('random view chains as matmul operands', () => {
  test('a view chain of a buffer, then matmul on either side or both', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb, chainArb, dtypeArb, sideArb, fc.integer({ min: 1, max: 5 }), fc.nat(), fc.boolean(),
        async (shape, chain, dtype, side, n, seed, permuted) => {
          const a = data(shape, seed, dtype);
          const { ops, out } = decodeChain(a, chain);
          let t = toBorn(a);
          for (const op of ops) t = applyBorn(t, op);
          const c = matmulCase(t, out, side, n, seed + 1, permuted);
          await expectTensor(c.got, c.want, {}, `${dtype} ${JSON.stringify(shape)} ${describeOps(ops)} then ${c.what}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a view chain of a computed (unrealised) tensor, then matmul', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, chainArb, sideArb, fc.integer({ min: 1, max: 5 }), fc.nat(), async (shape, chain, side, n, seed) => {
        const a = data(shape, seed, 'float32');
        const { ops, out } = decodeChain(ref.sub(ref.mul(a, 2), 1), chain);
        let t = toBorn(a).mul(2).sub(1);
        for (const op of ops) t = applyBorn(t, op);
        const c = matmulCase(t, out, side, n, seed + 1, false);
        await expectTensor(c.got, c.want, {}, `${JSON.stringify(shape)} ${describeOps(ops)} then ${c.what}`);
      }),
      { numRuns: 60 },
    );
  });
});

describe('single views read in place by matmul', () => {
  const a = data([5, 4], 1, 'float32');
  // One view op over a buffer is one strided read: matmul takes it as it is, in one kernel.
  // (Two ops stack two views, which matmul copies first: values only.)
  const cases: [string, (t: Tensor) => Tensor, (x: NDArray) => NDArray, boolean][] = [
    ['flip rows', (t) => t.flip([0]), (x) => ref.flip(x, [0]), true],
    ['flip columns', (t) => t.flip([1]), (x) => ref.flip(x, [1]), true],
    ['flip both', (t) => t.flip([0, 1]), (x) => ref.flip(x, [0, 1]), true],
    ['rows from an offset with a step', (t) => t.slice(0, 1, undefined, 2), (x) => ref.slice(x, 0, 1, undefined, 2), true],
    ['columns from an offset', (t) => t.slice(1, 1), (x) => ref.slice(x, 1, 1), true],
    ['transpose', (t) => t.T, (x) => ref.T(x), true],
    ['a stepped slice, then flip', (t) => t.slice(0, 1, undefined, 2).flip([0]), (x) => ref.flip(ref.slice(x, 0, 1, undefined, 2), [0]), false],
    ['flip, then transpose', (t) => t.flip([1]).T, (x) => ref.T(ref.flip(x, [1])), false],
  ];
  test.each(cases)('%s, on the left and on the right', async (_name, view, want, inPlace) => {
    const v = want(a);
    const rhs = data([v.shape[1]!, 3], 3, 'float32');
    const lhs = data([2, v.shape[0]!], 4, 'float32');
    const left = view(toBorn(a)).matmul(toBorn(rhs));
    const right = toBorn(lhs).matmul(view(toBorn(a)));
    if (inPlace) {
      expect(born.explain(left).kernels, 'no copy of the left view').toHaveLength(1);
      expect(born.explain(right).kernels, 'no copy of the right view').toHaveLength(1);
    }
    await expectTensor(left, ref.matmul(v, rhs), {}, 'left');
    await expectTensor(right, ref.matmul(lhs, v), {}, 'right');
  });
});
