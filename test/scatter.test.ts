// scatterAdd / indexAdd (torch.scatter_add, torch.index_add) against the eager reference and
// PyTorch golden values (test/fixtures/scatter_golden.json, written by
// test/fixtures/gen_scatter_golden.py); their gradients and gather's (a scatter-add) against
// finite differences; repeatable sums across threads; and the embedding backward as
// O(tokens x dim) work.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectTensor, permutedBorn, ref, toBorn, type Tensor } from './reference/check.js';
import { expectArr, kernelsRun, type Arr } from './reference/golden.js';
import { f64, gradcheck, gradgradcheck, i32, weightedSum } from './reference/gradcheck.js';
import { NDArray } from './reference/ndarray.js';

const idx = (values: readonly number[], shape: readonly number[]): NDArray => new NDArray(values, shape, 'int32');
const F32 = { rtol: 1e-6, atol: 1e-6 };

describe('scatterAdd against the reference', () => {
  test('the PyTorch documentation example shape: dim 0, repeated rows', async () => {
    const x = ref.zeros([5, 3]);
    const index = idx([0, 1, 2, 0, 0, 4, 4, 1, 0], [3, 3]);
    const src = ref.random([3, 3], 1);
    await expectTensor(toBorn(x).scatterAdd(0, toBorn(index), toBorn(src)), ref.scatterAdd(x, 0, index, src), F32);
  });

  test.each([
    ['dim 1, many repeats', 1, [3, 4], [3, 9], [3, 9]],
    ['dim 0 of 3-D', 0, [3, 2, 4], [7, 2, 4], [7, 2, 4]],
    ['dim 2 of 3-D', 2, [2, 3, 5], [2, 3, 11], [2, 3, 11]],
    ['index smaller than x off the dim', 1, [4, 6], [2, 9], [2, 9]],
    ['index smaller than src', 0, [4, 3], [5, 2], [7, 3]],
    ['a single row target (size-1 index dims)', 0, [6, 4], [1, 4], [1, 4]],
  ] as [string, number, number[], number[], number[]][])('%s', async (_n, dim, xs, is, ss) => {
    const x = ref.random(xs, 10 + dim);
    const r = ref.rng(20 + dim);
    const index = idx(Array.from({ length: is.reduce((a, b) => a * b, 1) }, () => Math.floor(r() * xs[dim]!)), is);
    const src = ref.random(ss, 30 + dim);
    const want = ref.scatterAdd(x, dim, index, src);
    await expectTensor(toBorn(x).scatterAdd(dim, toBorn(index), toBorn(src)), want, F32, 'contiguous');
    await expectTensor(toBorn(x).scatterAdd(dim - xs.length, toBorn(index), toBorn(src)), want, F32, 'negative dim');
    if (xs.length >= 2) {
      await expectTensor(permutedBorn(x).scatterAdd(dim, toBorn(index), permutedBorn(src)), want, F32, 'permuted x and src');
    }
  });

  test('float64 and int32 tensors', async () => {
    const index = idx([2, 0, 2, 2], [4]);
    const x64 = ref.random([3], 5, { dtype: 'float64' }), s64 = ref.random([4], 6, { dtype: 'float64' });
    await expectTensor(toBorn(x64).scatterAdd(0, toBorn(index), toBorn(s64)), ref.scatterAdd(x64, 0, index, s64));
    const xi = new NDArray([1, 2, 3], [3], 'int32'), si = new NDArray([10, 20, 30, 40], [4], 'int32');
    expect(await toBorn(xi).scatterAdd(0, toBorn(index), toBorn(si)).tolist()).toEqual([21, 2, 83]);
  });

  test('half types and int64 add through their storage (bits, BigInt), constant base or not', async () => {
    // Values exact in every dtype below, so the result equals the float64 reference exactly.
    const index = born.tensor(new Int32Array([0, 2, 2, 1, 0, 2]), { shape: [3, 2] });
    const src = born.tensor([[1, 2], [3, 4], [5, 6]]);
    const base = born.tensor([[0.5, 1], [2, 3], [-1, 4]]);
    const want = await base.to('float64').scatterAdd(0, index, src.to('float64')).tolist();
    const wantZero = await born.zeros([3, 2], { dtype: 'float64' }).scatterAdd(0, index, src.to('float64')).tolist();
    for (const dtype of ['float16', 'bfloat16'] as const) {
      expect(await base.to(dtype).scatterAdd(0, index, src.to(dtype)).tolist(), dtype).toEqual(want);
      expect(await born.zeros([3, 2], { dtype }).scatterAdd(0, index, src.to(dtype)).tolist(), dtype).toEqual(wantZero);
    }
    const ints = born.tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'int64' });
    const got = await born.zeros([3, 2], { dtype: 'int64' }).scatterAdd(0, index, ints).data();
    expect(got).toEqual(BigInt64Array.from((wantZero as number[][]).flat().map((v) => BigInt(v))));
  });

  test('base, index and src may be unrealised expressions (fused into the scatter kernel)', async () => {
    const x = ref.random([4, 3], 7), s = ref.random([5, 3], 8);
    const bx = toBorn(x).mul(2), bs = toBorn(s).exp();
    const bi = toBorn(idx([3, 1, 3, 0, 3], [5])).add(0).unsqueeze(1).expand([5, 3]);
    const fullIndex = idx([3, 3, 3, 1, 1, 1, 3, 3, 3, 0, 0, 0, 3, 3, 3], [5, 3]);
    const expected = ref.scatterAdd(ref.mul(x, 2), 0, fullIndex, ref.exp(s));
    const out = bx.scatterAdd(0, bi, bs);
    const events = await kernelsRun(() => out.data());
    expect(events.map((e) => e.ops.includes('scatterAdd'))).toEqual([true]);
    await expectTensor(out, expected, { rtol: 1e-5, atol: 1e-5 });
  });

  test('is lazy and returns a new tensor: the base is unchanged', async () => {
    const x = born.tensor([1, 2, 3]);
    const y = x.scatterAdd(0, born.tensor([0, 0], { dtype: 'int32' }), born.tensor([5, 5]));
    expect(await y.tolist()).toEqual([11, 2, 3]);
    expect(await x.tolist()).toEqual([1, 2, 3]);
  });

  test('shape and dtype errors name the op, at graph-building time', () => {
    const x = born.zeros([3, 4]);
    const i = born.zeros([2, 4], { dtype: 'int32' });
    expect(() => x.scatterAdd(0, i.to('float32'), born.zeros([2, 4]))).toThrow(born.DTypeError);
    expect(() => x.scatterAdd(0, i, born.zeros([2, 4], { dtype: 'float64' }))).toThrow(/scatterAdd: src must have the dtype/);
    expect(() => x.scatterAdd(0, i, born.zeros([1, 4]))).toThrow(/scatterAdd: index \[2, 4\] and src \[1, 4\]/);
    expect(() => x.scatterAdd(1, born.zeros([4, 4], { dtype: 'int32' }), born.zeros([4, 4]))).toThrow(born.ShapeError);
    expect(() => x.scatterAdd(2, i, born.zeros([2, 4]))).toThrow(born.ShapeError);
    expect(() => x.indexAdd(0, born.zeros([3], { dtype: 'int32' }), born.zeros([2, 4]))).toThrow(/indexAdd: source \[2, 4\]/);
  });
});

describe('indexAdd against the reference', () => {
  test.each([
    ['dim 0, repeated rows', 0, [5, 3], [4, 4, 0, 2, 4, 0]],
    ['dim 1', 1, [2, 4, 3], [3, 3, 1]],
    ['dim -1', -1, [3, 4], [0, 3, 3, 3, 2]],
  ] as [string, number, number[], number[]][])('%s', async (_n, dim, xs, index) => {
    const d = dim < 0 ? dim + xs.length : dim;
    const x = ref.random(xs, 40 + d);
    const source = ref.random(xs.map((s, i) => (i === d ? index.length : s)), 50 + d);
    const ix = idx(index, [index.length]);
    await expectTensor(toBorn(x).indexAdd(dim, toBorn(ix), toBorn(source)), ref.indexAdd(x, d, ix, source), F32);
    await expectTensor(toBorn(x).indexAdd(dim, toBorn(ix), toBorn(source), { alpha: -0.5 }), ref.indexAdd(x, d, ix, source, -0.5), F32, 'alpha');
  });
});

describe('repeatable sums on the worker pool', () => {
  test('a gradient-shaped scatter along dim 1 (zero base, per-element targets) on the pool', async () => {
    const rows = 64, cols = 300, k = 12000;
    const r = ref.rng(9);
    const index = idx(Array.from({ length: rows * k }, () => Math.floor(r() * cols)), [rows, k]);
    const src = ref.random([rows, k], 10);
    const want = ref.scatterAdd(ref.zeros([rows, cols]), 1, index, src);
    const out = born.zeros([rows, cols]).scatterAdd(1, toBorn(index), toBorn(src));
    expect(born.explain(out).kernels[0]!.flops).toBeGreaterThan(350_000);
    expect(Array.from((await out.data()) as Float32Array)).toEqual(Array.from(Float32Array.from(want.data)));
  });

  test('a scatter large enough for the pool equals the sequential float32 sums bit for bit, every time', async () => {
    // 8192 x 64 adds into 1000 rows: above the inline cost, so ranges of rows run on the threads.
    const rows = 1000, n = 8192, d = 64;
    const r = ref.rng(3);
    const index = idx(Array.from({ length: n }, () => Math.floor(r() * rows)), [n]);
    const src = ref.random([n, d], 4);
    const x = ref.random([rows, d], 5);
    const want = ref.indexAdd(x, 0, index, src);
    const run = async (): Promise<Float32Array> => {
      const out = toBorn(x).indexAdd(0, toBorn(index), toBorn(src));
      return (await out.data()) as Float32Array;
    };
    const events = await kernelsRun(async () => { await run(); });
    expect(events.some((e) => e.ops.includes('scatterAdd'))).toBe(true);
    const a = await run(), b = await run();
    expect(Array.from(a)).toEqual(Array.from(Float32Array.from(want.data)));
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

// ---------------------------------------------------------------- PyTorch golden values

interface GoldenCase {
  name: string;
  op: 'scatterAdd' | 'indexAdd' | 'embedding';
  args: { dim?: number; alpha?: number };
  inputs: Record<string, Arr>;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr> };
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/scatter_golden.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

function goldenInput(name: string, a: Arr): Tensor {
  return name === 'index'
    ? born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' })
    : born.tensor(Float32Array.from(a.data), { shape: a.shape });
}

describe('against PyTorch', () => {
  test.each(golden.cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const i = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, goldenInput(k, a)])) as Record<string, Tensor>;
    const out = c.op === 'scatterAdd' ? i.x!.scatterAdd(c.args.dim!, i.index!, i.src!)
      : c.op === 'indexAdd' ? i.x!.indexAdd(c.args.dim!, i.index!, i.source!, { alpha: c.args.alpha! })
        : embed(i, i.index!);
    const names = Object.keys(c.expected.grads);
    const grads = born.grad(out.mul(goldenInput('r', c.r)).sum(), names.map((k) => i[k]!));
    await expectArr(out, c.expected.out, { rtol: 1e-5, atol: 1e-5 }, `${c.name}: result`);
    for (const [j, k] of names.entries()) await expectArr(grads[j]!, c.expected.grads[k]!, { rtol: 1e-5, atol: 1e-5 }, `${c.name}: d/d${k}`);
  });
});

/** nn.Embedding holding the case's weight; i.weight becomes the module's parameter (what grad asks about). */
function embed(i: Record<string, Tensor>, index: Tensor): Tensor {
  const w = i.weight!;
  const e = born.nn.Embedding(w.shape[0]!, w.shape[1]!);
  e.weight.assign(w);
  i.weight = e.weight;
  return e.forward(index);
}

// ---------------------------------------------------------------- gradients

describe('gradients by finite differences', () => {
  const rep = i32([2, 0, 2, 2, 1, 2], [3, 2]);
  test('scatterAdd wrt base and src, repeated indices', async () => {
    await gradcheck((x, s) => weightedSum(x!.scatterAdd(1, toBorn(rep), s!)), [f64([3, 4], 1), f64([3, 2], 2)]);
  });
  test('scatterAdd with src larger than the index: the unread part of src gets zero', async () => {
    await gradcheck((x, s) => weightedSum(x!.scatterAdd(0, toBorn(i32([1, 1, 0, 1], [2, 2])), s!)), [f64([2, 3], 3), f64([3, 2], 4)]);
  });
  test('indexAdd with alpha', async () => {
    await gradcheck((x, s) => weightedSum(x!.indexAdd(0, toBorn(i32([1, 1, 0, 1], [4])), s!, { alpha: 1.5 })), [f64([3, 2], 5), f64([4, 2], 6)]);
  });
  test('second order through scatterAdd (its gradient is a gather)', async () => {
    await gradgradcheck((x, s) => weightedSum(x!.scatterAdd(1, toBorn(rep), s!.mul(s!)).pow(2)), [f64([3, 4], 7), f64([3, 2], 8)]);
  });
  test('second order through gather (its gradient is a scatterAdd)', async () => {
    await gradgradcheck((x) => weightedSum(x!.gather(1, toBorn(rep)).pow(3)), [f64([3, 4], 9)]);
  });
});

// ---------------------------------------------------------------- the embedding backward

describe('embedding backward is O(tokens x dim)', () => {
  const V = 32000, D = 256, T = 512;

  test('Embedding(32000, 256) on 512 tokens: one scatter kernel, flops linear in tokens x dim + table', async () => {
    const emb = born.nn.Embedding(V, D);
    const tokens = born.randint(0, V, [T], { seed: 1 });
    const g = born.randn([T, D], { seed: 2 });
    await born.realize(emb.weight, tokens, g);
    const [gw] = born.grad(emb.forward(tokens), [emb.weight], { gradOutput: g });
    const plan = born.explain(gw!);
    expect(plan.kernels).toHaveLength(1);
    expect(plan.kernels[0]!.ops).toEqual(['scatterAdd']);
    // A one-hot reduction over the vocabulary would be V x T x D = 4.2e9.
    expect(plan.kernels[0]!.flops).toBeLessThanOrEqual(2 * (T * D + V * D));
    const t0 = performance.now();
    const values = await gw!.data();
    const ms = performance.now() - t0;
    // Generous for a shared machine (this took ~15 s as a one-hot reduction).
    expect(ms).toBeLessThan(3000);
    // Spot-check against the reference: rows of the tokens get the sum of their gradients.
    const tok = Array.from(await tokens.data());
    const gv = await g.data();
    const row = tok[7]!;
    for (let j = 0; j < D; j += 37) {
      let want = 0;
      tok.forEach((t, i) => { if (t === row) want += gv[i * D + j]!; });
      expect(values[row * D + j]).toBeCloseTo(want, 4);
    }
    const untouched = Array.from({ length: V }, (_, v) => v).find((v) => !tok.includes(v))!;
    expect(Array.from(values.subarray(untouched * D, (untouched + 1) * D)).every((v) => v === 0)).toBe(true);
  });

  test('crossEntropy backward over a large vocabulary reads no one-hot [N, C, C] product', () => {
    const logits = born.randn([64, 5000], { seed: 3 });
    const labels = born.randint(0, 5000, [64], { seed: 4 });
    const [g] = born.grad(born.nn.functional.crossEntropy(logits, labels), [logits]);
    const flops = born.explain(g!).kernels.reduce((s, k) => s + k.flops, 0);
    expect(flops).toBeLessThan(64 * 5000 * 100);
  });
});
