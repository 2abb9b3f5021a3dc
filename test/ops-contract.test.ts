// Contraction composites (mm, bmm, dot, outer, einsum) and contiguous: PyTorch golden values and
// gradients (test/fixtures/reduce_sort.json), einsum's lowering to the fast matmul, and errors.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { kernelsRun } from './reference/golden.js';
import { describeGoldenCases, type CaseRun } from './reference/reduce-sort-cases.js';
import { f64, gradcheck } from './reference/gradcheck.js';

const runs: Record<string, CaseRun> = {
  mm: ({ a, b }) => [a!.mm(b!)],
  bmm: ({ a, b }) => [a!.bmm(b!)],
  dot: ({ a, b }) => [a!.dot(b!)],
  outer: ({ a, b }) => [a!.outer(b!)],
  einsum: (x, a) => [born.einsum(a.equation as string, ...Object.keys(x).sort().map((k) => x[k]!))],
};

describeGoldenCases(runs);

describe('mm / bmm / dot / outer', () => {
  test('strict ranks and sizes, with errors that say what is valid', () => {
    const m = born.ones([2, 3]);
    expect(() => m.mm(born.ones([2, 3, 4]))).toThrow(/mm: mat2 must be a matrix \(2-d\), got shape \[2, 3, 4\]/);
    expect(() => born.ones([3]).mm(m)).toThrow(/mm: self must be a matrix/);
    expect(() => m.mm(born.ones([2, 3]))).toThrow(/mm: \[2, 3\] @ \[2, 3\]: inner dims differ \(3 vs 2\)/);
    expect(() => m.bmm(m)).toThrow(/bmm: self must be a batch of matrices \(3-d\)/);
    expect(() => born.ones([2, 3, 4]).bmm(born.ones([1, 4, 5]))).toThrow(/bmm: batch sizes differ.*does not broadcast; use matmul/);
    expect(() => born.ones([2, 3, 4]).bmm(born.ones([2, 3, 5]))).toThrow(/bmm: .*inner dims differ \(4 vs 3\)/);
    expect(() => born.ones([3]).dot(born.ones([4]))).toThrow(/dot: the vectors have different lengths, 3 and 4/);
    expect(() => m.dot(m)).toThrow(/dot: self must be a vector/);
    expect(() => born.ones([3]).outer(m)).toThrow(/outer: vec2 must be a vector/);
    expect(() => m.mm([1, 2] as never)).toThrow(/mm: mat2 must be a Tensor/);
  });

  test('results and dtypes', async () => {
    expect(await born.tensor([1, 2, 3]).dot(born.tensor([4, 5, 6])).item()).toBe(32);
    const i = born.tensor(new Int32Array([1, 2]), { shape: [2] });
    expect(await i.outer(i).tolist()).toEqual([[1, 2], [2, 4]]);
    expect(i.outer(i).dtype).toBe('int32');
    expect(born.ones([2, 3]).mm(born.ones([3, 0])).shape).toEqual([2, 0]);
  });
});

describe('einsum', () => {
  test('lowers to the matmul kernel (one kernel for a batched matmul, with its transposes as strides)', async () => {
    const a = born.randn([4, 8, 16], { seed: 1 }), b = born.randn([4, 32, 16], { seed: 2 });
    await born.realize(a, b);
    const ks = await kernelsRun(() => born.einsum('bij,bkj->bik', a, b).data());
    expect(ks.map((k) => k.ops)).toEqual([['matmul']]);
    const want = await a.matmul(b.transpose(1, 2)).data();
    const got = await born.einsum('bij,bkj->bik', a, b).data();
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  test('operands as an array, spaces, float32, a diagonal fused into one kernel', async () => {
    const a = born.tensor([[1, 2], [3, 4]]);
    expect(await born.einsum('ij, jk -> ik', [a, a]).tolist()).toEqual([[7, 10], [15, 22]]);
    const ks = await kernelsRun(() => born.einsum('ii', a).data());
    expect(ks.length).toBe(1);
    expect(await born.einsum('ii', a).item()).toBe(5);
    expect(await born.einsum('ji', a).tolist()).toEqual([[1, 3], [2, 4]]); // implicit: labels in ASCII order
    expect(await born.einsum('...', a).tolist()).toEqual([[1, 2], [3, 4]]);
  });

  test('broadcasting: "..." dims and size-1 dims', async () => {
    const a = born.randn([2, 1, 3, 4], { seed: 3 }), b = born.randn([5, 4, 2], { seed: 4 });
    const got = born.einsum('...ij,...jk->...ik', a, b);
    expect(got.shape).toEqual([2, 5, 3, 2]);
    const want = a.matmul(b);
    const diff = await got.sub(want).abs().amax().item();
    expect(diff).toBeLessThan(1e-5);
  });

  test('gradients against finite differences (a chain of three, a diagonal)', async () => {
    await gradcheck((x, y, z) => born.einsum('ij,jk,kl->il', x, y, z).pow(2).sum(), [f64([2, 3], 1), f64([3, 4], 2), f64([4, 2], 3)]);
    await gradcheck((x) => born.einsum('iij->j', x).mul(born.einsum('ijj', x)).sum(), [f64([3, 3, 3], 4)]);
  });

  test('errors name einsum, the equation and what is valid', () => {
    const a = born.ones([2, 3]), b = born.ones([4, 5]);
    expect(() => born.einsum('ij,jk->ik', a)).toThrow(/einsum: 'ij,jk->ik' has 2 input terms but 1 operand was given/);
    expect(() => born.einsum('ijk', a)).toThrow(/einsum: 'ijk': operand 0 \('ijk'\) has 3 subscripts for a tensor with 2 dims/);
    expect(() => born.einsum('ij,jk->ik', a, b)).toThrow(/einsum: 'ij,jk->ik': subscript 'j' has size 3 in one operand and 4 in operand 1/);
    expect(() => born.einsum('ij->k', a)).toThrow(/output subscript 'k' does not appear in any input/);
    expect(() => born.einsum('ij->ii', a)).toThrow(/output subscript 'i' appears more than once/);
    expect(() => born.einsum('i1', a)).toThrow(/invalid subscript '1'.*letters a-z, A-Z, and '...'/);
    expect(() => born.einsum('ii', a)).toThrow(/einsum: 'ii': subscript 'i' has size 2 in one operand and 3 in operand 0/);
    expect(() => born.einsum('...i->i', born.ones([2, 3]))).toThrow(/the output must name them with '...'/);
    expect(() => born.einsum('ij->i->j', a)).toThrow(/more than one '->'/);
    expect(() => born.einsum('ij', 3 as never)).toThrow(/einsum: operand 0 must be a Tensor/);
    expect(() => born.einsum('')).toThrow(/einsum: '': no operands/);
  });
});

describe('contiguous', () => {
  test('the tensor itself when row-major, a copy of a reordering view', async () => {
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.contiguous()).toBe(x);
    const r = x.reshape([3, 2]);
    expect(r.contiguous()).toBe(r);
    const t = x.T;
    const c = t.contiguous();
    expect(c).not.toBe(t);
    expect(await c.tolist()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(await x.slice(1, 1).contiguous().tolist()).toEqual([[2, 3], [5, 6]]);
    const [g] = born.grad(t.contiguous().mul(born.tensor([[1, 2], [3, 4], [5, 6]])).sum(), [x]);
    expect(await g!.tolist()).toEqual([[1, 3, 5], [2, 4, 6]]);
  });
});
