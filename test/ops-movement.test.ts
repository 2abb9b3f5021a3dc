// Movement ops against the eager reference: reshape/view/flatten, squeeze/
// unsqueeze, permute/transpose/T, expand, slice/narrow, pad, flip, and
// cat/stack/split/chunk — on contiguous and non-contiguous inputs, and
// composed with each other.
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
} from './reference/check.js';

interface MoveCase {
  name: string;
  shape: number[];
  run: (t: Tensor) => Tensor;
  want: (a: NDArray) => NDArray;
}

const CASES: MoveCase[] = [
  // reshape / view / flatten
  { name: 'reshape [2,3,4] -> [6,4]', shape: [2, 3, 4], run: (t) => t.reshape([6, 4]), want: (a) => ref.reshape(a, [6, 4]) },
  { name: 'reshape with -1', shape: [2, 3, 4], run: (t) => t.reshape([4, -1]), want: (a) => ref.reshape(a, [4, -1]) },
  { name: 'reshape -1 first', shape: [2, 3, 4], run: (t) => t.reshape([-1, 2, 2]), want: (a) => ref.reshape(a, [-1, 2, 2]) },
  { name: 'reshape to 0-d', shape: [1, 1], run: (t) => t.reshape([]), want: (a) => ref.reshape(a, []) },
  { name: 'reshape 0-d to [1,1,1]', shape: [], run: (t) => t.reshape([1, 1, 1]), want: (a) => ref.reshape(a, [1, 1, 1]) },
  { name: 'reshape adds size-1 dims', shape: [6], run: (t) => t.reshape([1, 2, 1, 3, 1]), want: (a) => ref.reshape(a, [1, 2, 1, 3, 1]) },
  { name: 'flatten', shape: [2, 3, 4], run: (t) => t.flatten(), want: (a) => ref.flatten(a) },
  { name: 'flatten(1)', shape: [2, 3, 4], run: (t) => t.flatten(1), want: (a) => ref.flatten(a, 1) },
  { name: 'flatten(0, 1)', shape: [2, 3, 4], run: (t) => t.flatten(0, 1), want: (a) => ref.flatten(a, 0, 1) },
  { name: 'flatten(1, -2)', shape: [2, 3, 4, 2], run: (t) => t.flatten(1, -2), want: (a) => ref.flatten(a, 1, -2) },
  { name: 'flatten of 0-d is [1]', shape: [], run: (t) => t.flatten(), want: (a) => ref.flatten(a) },
  // squeeze / unsqueeze
  { name: 'squeeze()', shape: [1, 3, 1, 2], run: (t) => t.squeeze(), want: (a) => ref.squeeze(a) },
  { name: 'squeeze(2)', shape: [1, 3, 1, 2], run: (t) => t.squeeze(2), want: (a) => ref.squeeze(a, 2) },
  { name: 'squeeze(-4)', shape: [1, 3, 1, 2], run: (t) => t.squeeze(-4), want: (a) => ref.squeeze(a, -4) },
  { name: 'squeeze of a non-1 dim is a no-op', shape: [1, 3, 1, 2], run: (t) => t.squeeze(1), want: (a) => ref.squeeze(a, 1) },
  { name: 'squeeze() all ones to 0-d', shape: [1, 1], run: (t) => t.squeeze(), want: (a) => ref.squeeze(a) },
  { name: 'unsqueeze(0)', shape: [2, 3], run: (t) => t.unsqueeze(0), want: (a) => ref.unsqueeze(a, 0) },
  { name: 'unsqueeze(1)', shape: [2, 3], run: (t) => t.unsqueeze(1), want: (a) => ref.unsqueeze(a, 1) },
  { name: 'unsqueeze(-1)', shape: [2, 3], run: (t) => t.unsqueeze(-1), want: (a) => ref.unsqueeze(a, -1) },
  { name: 'unsqueeze(2) == at the end', shape: [2, 3], run: (t) => t.unsqueeze(2), want: (a) => ref.unsqueeze(a, 2) },
  { name: 'unsqueeze of 0-d', shape: [], run: (t) => t.unsqueeze(0), want: (a) => ref.unsqueeze(a, 0) },
  // permute / transpose / T
  { name: 'permute [2,0,1]', shape: [2, 3, 4], run: (t) => t.permute([2, 0, 1]), want: (a) => ref.permute(a, [2, 0, 1]) },
  { name: 'permute negative dims', shape: [2, 3, 4], run: (t) => t.permute([-1, 0, -2]), want: (a) => ref.permute(a, [-1, 0, -2]) },
  { name: 'permute identity', shape: [2, 3], run: (t) => t.permute([0, 1]), want: (a) => ref.permute(a, [0, 1]) },
  { name: 'transpose(0, 1)', shape: [2, 3], run: (t) => t.transpose(0, 1), want: (a) => ref.transpose(a, 0, 1) },
  { name: 'transpose(-1, -3)', shape: [2, 3, 4], run: (t) => t.transpose(-1, -3), want: (a) => ref.transpose(a, -1, -3) },
  { name: 'transpose(1, 1)', shape: [2, 3], run: (t) => t.transpose(1, 1), want: (a) => ref.transpose(a, 1, 1) },
  { name: '.T of 2-D', shape: [2, 3], run: (t) => t.T, want: ref.T },
  { name: '.T of 3-D reverses all dims', shape: [2, 3, 4], run: (t) => t.T, want: ref.T },
  { name: '.T of 1-D', shape: [5], run: (t) => t.T, want: ref.T },
  // expand
  { name: 'expand [3,1] -> [3,4]', shape: [3, 1], run: (t) => t.expand([3, 4]), want: (a) => ref.expand(a, [3, 4]) },
  { name: 'expand with -1', shape: [3, 1], run: (t) => t.expand([-1, 5]), want: (a) => ref.expand(a, [-1, 5]) },
  { name: 'expand adds leading dims', shape: [3, 1], run: (t) => t.expand([2, 3, 4]), want: (a) => ref.expand(a, [2, 3, 4]) },
  { name: 'expand 0-d', shape: [], run: (t) => t.expand([2, 3]), want: (a) => ref.expand(a, [2, 3]) },
  { name: 'expand same shape', shape: [2, 3], run: (t) => t.expand([2, 3]), want: (a) => ref.expand(a, [2, 3]) },
  { name: 'expand middle dim', shape: [2, 1, 3], run: (t) => t.expand([2, 4, 3]), want: (a) => ref.expand(a, [2, 4, 3]) },
  // slice / narrow
  { name: 'slice(0, 1)', shape: [5, 3], run: (t) => t.slice(0, 1), want: (a) => ref.slice(a, 0, 1) },
  { name: 'slice(1, 0, 2)', shape: [5, 3], run: (t) => t.slice(1, 0, 2), want: (a) => ref.slice(a, 1, 0, 2) },
  { name: 'slice with step 2', shape: [7, 3], run: (t) => t.slice(0, 1, 6, 2), want: (a) => ref.slice(a, 0, 1, 6, 2) },
  { name: 'slice with step 3 to the end', shape: [8], run: (t) => t.slice(0, 0, undefined, 3), want: (a) => ref.slice(a, 0, 0, undefined, 3) },
  { name: 'slice negative start', shape: [6, 2], run: (t) => t.slice(0, -2), want: (a) => ref.slice(a, 0, -2) },
  { name: 'slice negative end', shape: [6, 2], run: (t) => t.slice(0, 1, -1), want: (a) => ref.slice(a, 0, 1, -1) },
  { name: 'slice negative dim', shape: [2, 6], run: (t) => t.slice(-1, 2, 5), want: (a) => ref.slice(a, -1, 2, 5) },
  { name: 'slice end past the size clamps', shape: [4], run: (t) => t.slice(0, 1, 100), want: (a) => ref.slice(a, 0, 1, 100) },
  { name: 'slice start before the start clamps', shape: [4], run: (t) => t.slice(0, -100, 2), want: (a) => ref.slice(a, 0, -100, 2) },
  { name: 'slice to a size-1 dim', shape: [4, 3], run: (t) => t.slice(1, 2, 3), want: (a) => ref.slice(a, 1, 2, 3) },
  { name: 'narrow(1, 1, 2)', shape: [3, 4], run: (t) => t.narrow(1, 1, 2), want: (a) => ref.narrow(a, 1, 1, 2) },
  { name: 'narrow(0, 0, 1)', shape: [3, 4], run: (t) => t.narrow(0, 0, 1), want: (a) => ref.narrow(a, 0, 0, 1) },
  { name: 'narrow negative start', shape: [3, 4], run: (t) => t.narrow(-1, -3, 2), want: (a) => ref.narrow(a, -1, -3, 2) },
  // pad
  { name: 'pad last dim [1, 2]', shape: [2, 3], run: (t) => t.pad([1, 2]), want: (a) => ref.pad(a, [1, 2]) },
  { name: 'pad last two dims', shape: [2, 3], run: (t) => t.pad([0, 1, 2, 0]), want: (a) => ref.pad(a, [0, 1, 2, 0]) },
  { name: 'pad with a value', shape: [2, 3], run: (t) => t.pad([1, 1, 1, 1], { value: -7.5 }), want: (a) => ref.pad(a, [1, 1, 1, 1], { value: -7.5 }) },
  { name: 'pad three dims', shape: [2, 2, 2], run: (t) => t.pad([1, 0, 0, 1, 1, 1]), want: (a) => ref.pad(a, [1, 0, 0, 1, 1, 1]) },
  { name: 'pad 1-D', shape: [3], run: (t) => t.pad([2, 0]), want: (a) => ref.pad(a, [2, 0]) },
  { name: 'pad zeros is identity', shape: [2, 3], run: (t) => t.pad([0, 0]), want: (a) => ref.pad(a, [0, 0]) },
  // flip
  { name: 'flip([0])', shape: [3, 4], run: (t) => t.flip([0]), want: (a) => ref.flip(a, [0]) },
  { name: 'flip([1])', shape: [3, 4], run: (t) => t.flip([1]), want: (a) => ref.flip(a, [1]) },
  { name: 'flip([0, 1])', shape: [3, 4], run: (t) => t.flip([0, 1]), want: (a) => ref.flip(a, [0, 1]) },
  { name: 'flip([-1]) 3-D', shape: [2, 3, 4], run: (t) => t.flip([-1]), want: (a) => ref.flip(a, [-1]) },
  { name: 'flip([0, 2]) 3-D', shape: [2, 3, 4], run: (t) => t.flip([0, 2]), want: (a) => ref.flip(a, [0, 2]) },
  { name: 'flip 1-D', shape: [5], run: (t) => t.flip([0]), want: (a) => ref.flip(a, [0]) },
  { name: 'flip of size-1 dim', shape: [1, 3], run: (t) => t.flip([0]), want: (a) => ref.flip(a, [0]) },
];

describe('view ops on every layout (float32)', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const a = ref.random(c.shape, c.shape.length * 7 + c.name.length, { quantum: 16 });
    const want = c.want(a);
    for (const layout of layoutsFor(a)) {
      await expectTensor(c.run(layout.make(a)), want, {}, layout.name);
    }
  });
});

describe('view ops keep int32, bool and float64 values exactly', () => {
  const picks = ['permute [2,0,1]', 'slice with step 2', 'pad with a value', 'flip([0, 2]) 3-D', 'expand adds leading dims', 'reshape with -1'];
  const cases = CASES.filter((c) => picks.includes(c.name)).flatMap((c) =>
    (['int32', 'bool', 'float64'] as const).map((dt) => [c.name, dt, c] as const),
  );
  test.each(cases)('%s as %s', async (_n, dtype, c) => {
    const a = ref.random(c.shape, 3, { dtype, lo: -100, hi: 100 });
    if (c.name === 'pad with a value' && dtype !== 'float64') {
      // A fractional pad value is not representable in int/bool; pad with an integer instead.
      const want = ref.pad(a, [1, 1, 1, 1], { value: dtype === 'bool' ? 1 : -7 });
      await expectTensor(toBorn(a).pad([1, 1, 1, 1], { value: dtype === 'bool' ? 1 : -7 }), want);
      return;
    }
    await expectTensor(c.run(toBorn(a)), c.want(a));
    if (a.ndim >= 2) await expectTensor(c.run(permutedBorn(a)), c.want(a), {}, 'permuted');
  });
});

describe('view metadata is known before any computation', () => {
  test('shape, ndim, size() after views', () => {
    const t = born.zeros([2, 3, 4]);
    expect(t.permute([2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(t.reshape([-1, 4]).shape).toEqual([6, 4]);
    expect(t.slice(2, 0, 4, 3).shape).toEqual([2, 3, 2]);
    expect(t.pad([1, 1, 0, 2]).shape).toEqual([2, 5, 6]);
    expect(t.unsqueeze(1).ndim).toBe(4);
    expect(t.T.size()).toEqual([4, 3, 2]);
    expect(t.expand([5, 2, 3, 4]).size(0)).toBe(5);
    expect(t.size(-1)).toBe(4);
    expect(t.view([24]).shape).toEqual([24]);
    expect(t.narrow(1, 1, 2).shape).toEqual([2, 2, 4]);
    expect(t.flatten(1).shape).toEqual([2, 12]);
  });

  test('an empty slice has a zero-size dim', async () => {
    const a = ref.random([4, 3], 1);
    const want = ref.slice(a, 0, 3, 3);
    expect(want.shape).toEqual([0, 3]);
    const t = toBorn(a).slice(0, 3, 3);
    expect(t.shape).toEqual([0, 3]);
    expect((await t.data()).length).toBe(0);
  });

  test('views do not alias the source: the source is unchanged', async () => {
    const a = ref.random([2, 3], 2);
    const t = toBorn(a);
    await t.permute([1, 0]).mul(2).data();
    await expectTensor(t, a);
  });
});

describe('view on a contiguous tensor', () => {
  test('view matches reshape', async () => {
    const a = ref.random([3, 4], 4);
    await expectTensor(toBorn(a).view([2, 6]), ref.reshape(a, [2, 6]));
    await expectTensor(toBorn(a).view([-1]), ref.reshape(a, [12]));
  });
});

describe('compositions of views (the hard cases for a view algebra)', () => {
  const a = ref.random([2, 3, 4], 5, { quantum: 16 });
  test('reshape of a permuted tensor', async () => {
    const want = ref.reshape(ref.permute(a, [2, 0, 1]), [4, 6]);
    await expectTensor(toBorn(a).permute([2, 0, 1]).reshape([4, 6]), want);
  });
  test('reshape of a transposed tensor that splits a dim', async () => {
    const want = ref.reshape(ref.transpose(a, 0, 2), [2, 2, 3, 2]);
    await expectTensor(toBorn(a).transpose(0, 2).reshape([2, 2, 3, 2]), want);
  });
  test('reshape of a stepped slice', async () => {
    const want = ref.reshape(ref.slice(a, 2, 0, undefined, 2), [3, 4]);
    await expectTensor(toBorn(a).slice(2, 0, undefined, 2).reshape([3, 4]), want);
  });
  test('reshape of a padded tensor', async () => {
    const want = ref.reshape(ref.pad(a, [1, 1]), [-1]);
    await expectTensor(toBorn(a).pad([1, 1]).reshape([-1]), want);
  });
  test('reshape of an expanded tensor', async () => {
    const b = ref.random([3, 1], 6);
    const want = ref.reshape(ref.expand(b, [2, 3, 2]), [3, 4]);
    await expectTensor(toBorn(b).expand([2, 3, 2]).reshape([3, 4]), want);
  });
  test('reshape of a flipped tensor', async () => {
    const want = ref.reshape(ref.flip(a, [1, 2]), [6, 4]);
    await expectTensor(toBorn(a).flip([1, 2]).reshape([6, 4]), want);
  });
  test('slice of a padded tensor reaching into the padding', async () => {
    const want = ref.slice(ref.pad(a, [2, 2], { value: 9 }), 2, 1, 7, 2);
    await expectTensor(toBorn(a).pad([2, 2], { value: 9 }).slice(2, 1, 7, 2), want);
  });
  test('pad of a flipped, permuted slice', async () => {
    const want = ref.pad(ref.permute(ref.flip(ref.slice(a, 1, 1), [2]), [1, 0, 2]), [1, 0, 0, 1]);
    await expectTensor(toBorn(a).slice(1, 1).flip([2]).permute([1, 0, 2]).pad([1, 0, 0, 1]), want);
  });
  test('pad twice (nested masks)', async () => {
    const want = ref.pad(ref.pad(a, [1, 1], { value: 1 }), [0, 0, 1, 1], { value: 2 });
    await expectTensor(toBorn(a).pad([1, 1], { value: 1 }).pad([0, 0, 1, 1], { value: 2 }), want);
  });
  test('slice of a slice with steps', async () => {
    const b = ref.random([20], 7);
    const want = ref.slice(ref.slice(b, 0, 1, undefined, 3), 0, 1, undefined, 2);
    await expectTensor(toBorn(b).slice(0, 1, undefined, 3).slice(0, 1, undefined, 2), want);
  });
  test('expand of a sliced column, then transpose', async () => {
    const want = ref.T(ref.expand(ref.slice(a, 2, 1, 2), [2, 3, 5]));
    await expectTensor(toBorn(a).slice(2, 1, 2).expand([2, 3, 5]).T, want);
  });
  test('negative pad crops (torch constant-mode pad)', async () => {
    const want = ref.pad(a, [-1, 1, 0, -1]);
    await expectTensor(toBorn(a).pad([-1, 1, 0, -1]), want);
  });
});

// ------------------------------------------------------------------ cat / stack / split / chunk

describe('cat', () => {
  test.each([
    [[[2, 3], [4, 3]], 0],
    [[[2, 3], [2, 1], [2, 2]], 1],
    [[[2, 3], [2, 5]], -1],
    [[[1, 2, 3], [2, 2, 3], [3, 2, 3]], 0],
    [[[2, 1, 3], [2, 4, 3]], 1],
    [[[5], [1]], 0],
    [[[3, 2]], 0],
  ] as [number[][], number][])('shapes %j along dim %i', async (shapes, dim) => {
    const parts = shapes.map((s, i) => ref.random(s, 100 + i));
    const want = ref.cat(parts, { dim });
    await expectTensor(born.cat(parts.map(toBorn), { dim }), want);
    // mixed layouts among the parts
    const mixed = parts.map((p, i) => (i % 2 === 1 ? slicedBorn(p) : p.ndim >= 2 ? permutedBorn(p) : toBorn(p)));
    await expectTensor(born.cat(mixed, { dim }), want, {}, 'non-contiguous parts');
  });

  test('default dim is 0', async () => {
    const a = ref.random([2, 2], 1);
    const b = ref.random([1, 2], 2);
    await expectTensor(born.cat([toBorn(a), toBorn(b)]), ref.cat([a, b], { dim: 0 }));
  });

  test('cat of int32 and of float64 keeps the dtype', async () => {
    const a = ref.random([2, 2], 1, { dtype: 'int32', lo: -9, hi: 9 });
    const b = ref.random([2, 3], 2, { dtype: 'int32', lo: -9, hi: 9 });
    await expectTensor(born.cat([toBorn(a), toBorn(b)], { dim: 1 }), ref.cat([a, b], { dim: 1 }));
    const c = ref.random([2], 3, { dtype: 'float64' });
    await expectTensor(born.cat([toBorn(c), toBorn(c)], { dim: 0 }), ref.cat([c, c], { dim: 0 }));
  });

  test('cat of results of computations, consumed by more computation', async () => {
    const a = ref.random([2, 3], 4);
    const b = ref.random([2, 3], 5);
    const want = ref.sum(ref.cat([ref.exp(a), ref.mul(b, 2)], { dim: 1 }), { dim: 1 });
    const got = born.cat([toBorn(a).exp(), toBorn(b).mul(2)], { dim: 1 }).sum({ dim: 1 });
    await expectTensor(got, want, { rtol: 1e-5, atol: 1e-5 });
  });

  test('cat of the same tensor twice', async () => {
    const a = ref.random([3], 6);
    const t = toBorn(a);
    await expectTensor(born.cat([t, t, t]), ref.cat([a, a, a]));
  });
});

describe('stack', () => {
  test.each([0, 1, 2, -1, -3])('three [2, 3] tensors along dim %i', async (dim) => {
    const parts = [0, 1, 2].map((i) => ref.random([2, 3], 200 + i));
    const want = ref.stack(parts, { dim });
    await expectTensor(born.stack(parts.map(toBorn), { dim }), want);
    await expectTensor(born.stack([permutedBorn(parts[0]!), slicedBorn(parts[1]!), toBorn(parts[2]!)], { dim }), want, {}, 'mixed');
  });
  test('default dim is 0; stacking 0-d tensors gives 1-D', async () => {
    const s = [1, 2, 3].map((v) => ref.NDArray.scalar(v));
    await expectTensor(born.stack(s.map(toBorn)), ref.stack(s));
  });
});

describe('split', () => {
  test.each([
    [[5, 2], 2, 0],
    [[5, 2], 5, 0],
    [[5, 2], 7, 0],
    [[2, 7], 3, 1],
    [[2, 7], 3, -1],
    [[6], 1, 0],
  ] as [number[], number, number][])('shape %j into pieces of %i along dim %i', async (shape, size, dim) => {
    const a = ref.random(shape, 300);
    const want = ref.split(a, size, { dim });
    const got = toBorn(a).split(size, { dim });
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) await expectTensor(got[i]!, want[i]!, {}, `piece ${i}`);
    const gotP = slicedBorn(a).split(size, { dim });
    for (let i = 0; i < want.length; i++) await expectTensor(gotP[i]!, want[i]!, {}, `sliced piece ${i}`);
  });

  test.each([
    [[6, 2], [1, 2, 3], 0],
    [[2, 6], [4, 2], 1],
    [[2, 6], [6], -1],
    [[2, 6], [0, 6], 1],
  ] as [number[], number[], number][])('shape %j into sections %j along dim %i', async (shape, sections, dim) => {
    const a = ref.random(shape, 301);
    const want = ref.split(a, sections, { dim });
    const got = permutedBorn(a).split(sections, { dim });
    expect(got.map((t) => [...t.shape])).toEqual(want.map((w) => [...w.shape]));
    for (let i = 0; i < want.length; i++) await expectTensor(got[i]!, want[i]!, {}, `piece ${i}`);
  });

  test('default dim is 0', async () => {
    const a = ref.random([4, 2], 302);
    const got = toBorn(a).split(3);
    const want = ref.split(a, 3, { dim: 0 });
    expect(got.length).toBe(2);
    for (let i = 0; i < 2; i++) await expectTensor(got[i]!, want[i]!);
  });
});

describe('chunk (torch: pieces of ceil(n / chunks), maybe fewer than asked)', () => {
  test.each([
    [[6, 2], 3, 0],
    [[5], 4, 0],
    [[5], 2, 0],
    [[2, 7], 3, 1],
    [[2, 7], 7, -1],
    [[3], 5, 0],
    [[4, 6], 1, 1],
  ] as [number[], number, number][])('shape %j in %i chunks along dim %i', async (shape, n, dim) => {
    const a = ref.random(shape, 400);
    const want = ref.chunk(a, n, { dim });
    const got = toBorn(a).chunk(n, { dim });
    expect(got.map((t) => [...t.shape])).toEqual(want.map((w) => [...w.shape]));
    for (let i = 0; i < want.length; i++) await expectTensor(got[i]!, want[i]!, {}, `chunk ${i}`);
  });

  test('chunks of a permuted tensor, recombined', async () => {
    const a = ref.random([4, 6], 401);
    const parts = permutedBorn(a).chunk(2, { dim: 1 });
    await expectTensor(born.cat(parts.reverse(), { dim: 1 }), ref.cat(ref.chunk(a, 2, { dim: 1 }).reverse(), { dim: 1 }));
  });
});

// Above the CPU device's inline threshold: views of big tensors, split across worker threads.
describe('large views (the worker-pool path)', () => {
  const a = ref.random([500, 601], 701, { quantum: 16 });
  test('pad, flip, stepped slice and transpose of [500, 601]', async () => {
    const want = ref.T(ref.flip(ref.pad(ref.slice(a, 1, 1, undefined, 2), [3, 2, 1, 0], { value: 0.5 }), [0]));
    const got = toBorn(a).slice(1, 1, undefined, 2).pad([3, 2, 1, 0], { value: 0.5 }).flip([0]).T;
    await expectTensor(got.add(0), want);
  });
  test('cat and chunk of big parts', async () => {
    const b = ref.random([500, 301], 702, { quantum: 16 });
    const want = ref.cat([a, b], { dim: 1 });
    const got = born.cat([toBorn(a), permutedBorn(b)], { dim: 1 });
    await expectTensor(got, want);
    const parts = got.chunk(3, { dim: 1 });
    const wantParts = ref.chunk(want, 3, { dim: 1 });
    for (let i = 0; i < wantParts.length; i++) await expectTensor(parts[i]!.mul(2), ref.mul(wantParts[i]!, 2), {}, `chunk ${i}`);
  });
  test('expand to [64, 500, 8] and reshape', async () => {
    const c = ref.random([500, 1], 703, { quantum: 16 });
    const want = ref.reshape(ref.expand(c, [64, 500, 8]), [64, 4000]);
    await expectTensor(toBorn(c).expand([64, 500, 8]).reshape([64, 4000]).add(1), ref.add(want, 1));
  });
});
