// The lowering pass of src/scheduler/refine-loop.ts: an elementwise kernel whose reads divide its
// flat loop coordinate (a permuted copy) loops over finer dims, so that every read is affine,
// and writes the same values in the same (contiguous) layout.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Index, Scalar } from '../src/kernel/ir.js';
import { chooseLoop, indexDivisions, refinedLoops } from '../src/scheduler/refine-loop.js';

const v = (name: string): Index => ({ k: 'var', name });
const load = (index: Index): Scalar => ({ k: 'load', input: 1, index, dtype: 'float32' } as Scalar);

/** [N, C, HW] read as [C, N·HW] (o0 = c, o1 = n·HW + hw), as a convolution's gradient copy does. */
function permutedRead(C: number, HW: number): Scalar {
  const o1 = v('o1');
  const hw: Index = { k: 'mod', a: o1, n: HW };
  const n: Index = { k: 'div', a: o1, n: HW };
  return load({ k: 'add', a: { k: 'add', a: hw, b: { k: 'mul', a: v('o0'), n: HW } }, b: { k: 'mul', a: n, n: C * HW } });
}

describe('refinedLoops', () => {
  test('splits the innermost dim at the divisors its reads use', () => {
    expect(refinedLoops(permutedRead(3, 10), [3, 40])).toEqual([[3, 4, 10]]);
    // o1 / 10 and o1 mod 10: one divisor.
    expect(indexDivisions(permutedRead(3, 10), ['o0', 'o1'])).toBe(1);
  });

  test('nested divisors give one split each and the whole chain', () => {
    const o1 = v('o1');
    const s = load({ k: 'add', a: { k: 'mod', a: o1, n: 5 }, b: { k: 'div', a: o1, n: 15 } });
    expect(refinedLoops(s, [2, 60])).toEqual([[2, 12, 5], [2, 4, 15], [2, 4, 3, 5]]);
    // 4 does not divide 6: the chain is the divisors that nest.
    const t = load({ k: 'add', a: { k: 'mod', a: o1, n: 4 }, b: { k: 'div', a: o1, n: 6 } });
    expect(refinedLoops(t, [2, 24])).toEqual([[2, 6, 4], [2, 4, 6]]);
  });

  test('no candidates where no read divides the innermost dim, or the divisor does not divide it', () => {
    expect(refinedLoops(load({ k: 'add', a: v('o1'), b: { k: 'mul', a: v('o0'), n: 40 } }), [3, 40])).toEqual([]);
    expect(refinedLoops(load({ k: 'div', a: v('o1'), n: 7 }), [3, 40])).toEqual([]);
  });

  test('chooseLoop keeps the loop unless a candidate removes divisions', () => {
    const first = { value: permutedRead(3, 10) };
    const plain = { value: load(v('o0')) };
    expect(chooseLoop([3, 40], first, () => plain).loop).toEqual([3, 4, 10]);
    expect(chooseLoop([3, 40], first, () => first).loop).toEqual([3, 40]);
    const affine = { value: load(v('o1')) };
    expect(chooseLoop([3, 40], affine, () => plain).loop).toEqual([3, 40]);
  });
});

describe('permuted copies in the plan', () => {
  test('[N, C, H, W] copied as [C, N·H·W] loops over [C, N, H·W] and copies the right elements', async () => {
    const [N, C, H, W] = [3, 4, 5, 6];
    const a = born.rand([N, C, H, W], { seed: 4 });
    await born.realize(a);
    const y = a.exp().permute([1, 0, 2, 3]).reshape([C, N * H * W]).matmul(born.rand([N * H * W, 2], { seed: 5 }));
    const copy = a.permute([1, 0, 2, 3]).reshape([C, N * H * W]).contiguous();
    const ks = born.explain(copy).kernels;
    expect(ks).toHaveLength(1);
    expect(ks[0]!.name).toBe(`E_${C}_${N}_${H * W}`);
    const src = await a.data(), got = await copy.data();
    for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) {
      expect(got[(c * N + n) * H * W + k]).toBe(src[(n * C + c) * H * W + k]);
    }
    // Fused with an op, and read by a matmul: the same refined loop.
    expect(born.explain(y).kernels.find((k) => k.ops.includes('exp'))!.name).toBe(`E_${C}_${N}_${H * W}`);
  });

  test('a transpose whose reads stay divided keeps its loop when splitting does not help', async () => {
    const a = born.rand([6, 10], { seed: 6 });
    await born.realize(a);
    const t = a.transpose(0, 1).contiguous();
    const ks = born.explain(t).kernels;
    expect(ks).toHaveLength(1);
    const src = await a.data(), got = await t.data();
    for (let i = 0; i < 6; i++) for (let j = 0; j < 10; j++) expect(got[j * 6 + i]).toBe(src[i * 10 + j]);
  });

  test('a contiguous elementwise kernel keeps its loop', async () => {
    const a = born.rand([4, 30], { seed: 7 });
    await born.realize(a);
    expect(born.explain(a.exp().add(1)).kernels[0]!.name).toBe('E_4_30');
  });
});
