// The scheduling rule of src/scheduler/permuted-operand.ts: an elementwise value read by a matmul
// only through a permute is computed in the operand's copy, not written and then copied.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

describe('a permuted elementwise matmul operand', () => {
  test('is computed in its copy: two kernels, and the values of op-by-op evaluation', async () => {
    const a = born.rand([3, 4, 5], { seed: 1 }), b = born.rand([5, 6], { seed: 2 });
    await born.realize(a, b);
    // [3, 4, 5] → [4, 3, 5] → [4, 15]: no strided view of the exp reads as [4, 15].
    const y = a.exp().permute([1, 0, 2]).reshape([4, 15]).matmul(born.rand([15, 6], { seed: 3 }));
    const ks = born.explain(y).kernels;
    expect(ks.filter((k) => k.ops.includes('exp'))).toHaveLength(1);
    // Its loop is [4, 3, 5] (refine-loop.ts), so the kernel reads [3, 4, 5] without divisions.
    expect(ks.find((k) => k.ops.includes('exp'))!.name).toMatch(/^E_4_3_5/);
    const ref = born.tensor(Array.from(await a.exp().data()), { shape: [3, 4, 5] }).permute([1, 0, 2]).reshape([4, 15]).contiguous();
    const want = ref.matmul(born.rand([15, 6], { seed: 3 }));
    const [got, exp] = [await y.data(), await want.data()];
    got.forEach((v, i) => expect(v).toBeCloseTo(exp[i]!, 5));
  });

  test('an elementwise value with another reader keeps its own buffer', async () => {
    const a = born.rand([3, 4, 5], { seed: 1 });
    await born.realize(a);
    const e = a.exp();
    const y = e.permute([1, 0, 2]).reshape([4, 15]).matmul(born.rand([15, 6], { seed: 3 }));
    const ks = born.explain(y, e.sum()).kernels;
    expect(ks.find((k) => k.ops.includes('exp'))!.name).toMatch(/^E_3_4_5/);
  });
});
