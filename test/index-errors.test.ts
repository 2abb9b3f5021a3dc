// Out-of-range and negative indices reject data() with an IndexError naming the op, the value
// and the valid range (checked inside the kernel, reported when the schedule finishes), for every
// op that reads data-dependent indices; the engine keeps working afterwards.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';

const ints = (values: number[]): Tensor => born.tensor(Int32Array.from(values), { shape: [values.length], dtype: 'int32' });

async function expectIndexError(t: Tensor, op: string, value: number, size: number): Promise<void> {
  const err = await t.data().then(() => null, (e: unknown) => e);
  expect(err, `${op}: data() rejects`).toBeInstanceOf(born.IndexError);
  const e = err as InstanceType<typeof born.IndexError>;
  expect(e.name).toBe('IndexError');
  expect(e.message).toContain(`${op}: index ${value} is out of range`);
  expect(e.message).toContain(`of size ${size}`);
  expect(e.message).toContain(`valid indices are 0 to ${size - 1}`);
  expect(e.message).toContain('index out of range in self');
  expect([e.op, e.value, e.size]).toEqual([op, value, size]);
}

describe('each indexing op rejects a bad index with an IndexError', () => {
  const x = (): Tensor => born.arange(0, 12).to('float32').reshape([3, 4]);

  test.each([
    ['too large', 4],
    ['negative', -1],
    ['far out', 1_000_000],
  ])('gather: %s', async (_n, bad) => {
    const index = born.tensor(Int32Array.from([0, 1, bad, 3, 3, 0]), { shape: [3, 2], dtype: 'int32' });
    await expectIndexError(x().gather(1, index), 'gather', bad, 4);
  });

  test('negative indices are refused with a hint (PyTorch refuses them too)', async () => {
    const err = await x().indexSelect(0, ints([-1])).data().catch((e: Error) => e);
    expect((err as Error).message).toContain('negative indices are not supported');
  });

  test.each([['too large', 3], ['negative', -2]])('indexSelect: %s', async (_n, bad) => {
    await expectIndexError(x().indexSelect(0, ints([0, bad, 1])), 'indexSelect', bad, 3);
    await expectIndexError(x().indexSelect(1, ints([1, 4])), 'indexSelect', 4, 4);
  });

  test('nn.Embedding', async () => {
    const emb = born.nn.Embedding(10, 4);
    await expectIndexError(emb.forward(born.tensor([[1, 2], [10, 3]], { dtype: 'int32' })), 'embedding', 10, 10);
    await expectIndexError(emb.forward(ints([-3])), 'embedding', -3, 10);
  });

  test('crossEntropy and nllLoss targets outside [0, C)', async () => {
    const logits = born.randn([4, 5], { seed: 1 });
    await expectIndexError(born.nn.functional.crossEntropy(logits, ints([0, 5, 1, 2])), 'crossEntropy', 5, 5);
    await expectIndexError(born.nn.functional.crossEntropy(logits, ints([0, 1, -7, 2])), 'crossEntropy', -7, 5);
    await expectIndexError(born.nn.functional.nllLoss(logits.logSoftmax({ dim: 1 }), ints([9, 0, 0, 0])), 'nllLoss', 9, 5);
    // ignoreIndex is not an error.
    expect(Number.isFinite(await born.nn.functional.crossEntropy(logits, ints([0, -100, 1, 2])).item())).toBe(true);
  });

  test('the gradient of crossEntropy with a bad target rejects too', async () => {
    const logits = born.randn([4, 5], { seed: 2 });
    const [g] = born.grad(born.nn.functional.crossEntropy(logits, ints([0, 1, 2, 6])), [logits]);
    await expectIndexError(g!, 'crossEntropy', 6, 5);
  });

  test('scatterAdd and indexAdd', async () => {
    const base = born.zeros([3, 2]);
    const index = born.tensor([[0, 1], [3, 0]], { dtype: 'int32' });
    await expectIndexError(base.scatterAdd(0, index, born.ones([2, 2])), 'scatterAdd', 3, 3);
    await expectIndexError(base.indexAdd(1, ints([1, -1]), born.ones([3, 2])), 'indexAdd', -1, 2);
  });

  test('a bad index in a kernel large enough for the worker pool', async () => {
    // 4096 rows x 256: above the inline cost, so ranges run on the threads.
    const table = born.randn([100, 256], { seed: 3 });
    const index = Int32Array.from({ length: 4096 }, (_, i) => i % 100);
    index[3000] = 100;
    await expectIndexError(table.indexSelect(0, born.tensor(index, { shape: [4096], dtype: 'int32' })), 'indexSelect', 100, 100);
    const big = born.zeros([100, 256]);
    await expectIndexError(big.indexAdd(0, born.tensor(index, { shape: [4096], dtype: 'int32' }), born.ones([4096, 256])), 'indexAdd', 100, 100);
  });
});

describe('wherever the index read is fused', () => {
  test('inside a matmul epilogue', async () => {
    const a = born.randn([4, 3], { seed: 5 }), b = born.randn([3, 5], { seed: 6 }), t = born.randn([6, 5], { seed: 7 });
    const y = a.matmul(b).add(t.indexSelect(0, ints([0, 2, 6, 1])));
    expect(born.explain(y).kernels.at(-1)!.ops).toEqual(expect.arrayContaining(['matmul', 'gather']));
    await expectIndexError(y, 'indexSelect', 6, 6);
  });

  test('inside a reduction', async () => {
    const t = born.randn([6, 5], { seed: 8 });
    await expectIndexError(t.indexSelect(0, ints([0, 9])).sum({ dim: 1 }), 'indexSelect', 9, 6);
  });
});

describe('after an IndexError', () => {
  test('every output of the failed schedule rejects, and each works again when computed alone', async () => {
    const x = born.tensor([1, 2, 3]);
    const bad = x.indexSelect(0, ints([5]));
    const good = x.mul(2);
    const err = await born.realize(bad, good).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(born.IndexError);
    expect(await good.tolist()).toEqual([2, 4, 6]);
    await expect(bad.data()).rejects.toBeInstanceOf(born.IndexError);
  });

  test('the engine keeps working: the same kernel with good indices, and other work', async () => {
    const x = born.arange(0, 6).to('float32');
    await expect(x.indexSelect(0, ints([6, 0])).data()).rejects.toBeInstanceOf(born.IndexError);
    expect(await x.indexSelect(0, ints([5, 0])).tolist()).toEqual([5, 0]);
    expect(await x.sum().item()).toBe(15);
  });

  test('one compiled kernel serves two ops: each error names its own op', async () => {
    const w = born.randn([7, 3], { seed: 4 });
    await expect(w.indexSelect(0, ints([7])).data()).rejects.toThrow(/^indexSelect: index 7/);
    const emb = born.nn.Embedding(7, 3);
    emb.weight.assign(w);
    await expect(emb.forward(ints([7])).data()).rejects.toThrow(/^embedding: index 7/);
  });
});

describe('no false alarms', () => {
  test('a gather under padding: the padded region reads no index', async () => {
    const x = born.tensor([[1, 2], [3, 4]]);
    const g = x.gather(1, born.tensor([[1, 0], [0, 0]], { dtype: 'int32' })).pad([1, 1, 1, 1]);
    expect(await g.tolist()).toEqual([[0, 0, 0, 0], [0, 2, 1, 0], [0, 3, 3, 0], [0, 0, 0, 0]]);
  });

  test('indices at both ends of the range are valid', async () => {
    const x = born.tensor([10, 20, 30]);
    expect(await x.indexSelect(0, ints([0, 2])).tolist()).toEqual([10, 30]);
    expect(await born.zeros([3]).indexAdd(0, ints([0, 2]), born.ones([2])).tolist()).toEqual([1, 0, 1]);
  });
});
