// Gradient checks for every differentiable op: born.grad against float64
// central finite differences (test/reference/gradcheck.ts). Non-scalar
// results are reduced with sum(op(x) * R) for a fixed random R so that every
// output element matters. Inputs stay away from kinks (relu/abs at 0, ties,
// sqrt/log near 0); the behaviour at kinks is pinned separately to PyTorch's
// conventions. A second-order block checks that backward formulas are
// themselves differentiable (grad of grad) through the same ops.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { layoutsFor, permutedBorn, slicedBorn, toBorn, type Tensor } from './reference/check.js';
import {
  awayFromZero,
  expectGrad,
  f64,
  gradcheck,
  gradgradcheck,
  i32,
  weightedSum,
  type GradCheckOptions,
  type Maker,
  type ScalarFn,
} from './reference/gradcheck.js';
import * as ref from './reference/ndarray.js';
import { NDArray } from './reference/ndarray.js';

type Unary = (x: Tensor) => Tensor;

/** Registers one gradient check; inputs are built lazily so a failing constructor fails only its test. */
function check(name: string, f: ScalarFn, inputs: () => NDArray[], opts: GradCheckOptions = {}): void {
  test(name, () => gradcheck(f, inputs(), { label: name, ...opts }));
}
function check2(name: string, f: ScalarFn, inputs: () => NDArray[], opts: GradCheckOptions = {}): void {
  test(name, () => gradgradcheck(f, inputs(), { label: name, ...opts }));
}
/** A scalar function of one input: sum(op(x) * R). */
const w1 = (op: Unary): ScalarFn => (x) => weightedSum(op(x!));
const vals = (values: number[], shape: number[]): NDArray => new NDArray(values, shape, 'float64');

// ---------------------------------------------------------------- elementwise, unary

interface UnaryCase {
  name: string;
  op: Unary;
  domain: (shape: number[], seed: number) => NDArray;
  /** Tolerance loosened, with the reason. */
  opts?: GradCheckOptions;
}

const anyReal = (shape: number[], seed: number): NDArray => f64(shape, seed, -2, 2);
const positive = (shape: number[], seed: number): NDArray => f64(shape, seed, 0.5, 3);
const nonZero = (shape: number[], seed: number): NDArray => awayFromZero(shape, seed, 0.2, 2);

const UNARY: UnaryCase[] = [
  { name: 'neg', op: (x) => x.neg(), domain: anyReal },
  { name: 'abs (away from 0)', op: (x) => x.abs(), domain: nonZero },
  { name: 'exp', op: (x) => x.exp(), domain: anyReal },
  { name: 'log', op: (x) => x.log(), domain: positive },
  { name: 'log1p', op: (x) => x.log1p(), domain: (s, seed) => f64(s, seed, -0.6, 3) },
  { name: 'sqrt', op: (x) => x.sqrt(), domain: positive },
  { name: 'rsqrt', op: (x) => x.rsqrt(), domain: positive },
  { name: 'reciprocal', op: (x) => x.reciprocal(), domain: nonZero },
  { name: 'sin', op: (x) => x.sin(), domain: (s, seed) => f64(s, seed, -4, 4) },
  { name: 'cos', op: (x) => x.cos(), domain: (s, seed) => f64(s, seed, -4, 4) },
  { name: 'tanh', op: (x) => x.tanh(), domain: anyReal },
  { name: 'sigmoid', op: (x) => x.sigmoid(), domain: (s, seed) => f64(s, seed, -5, 5) },
  { name: 'relu (away from 0)', op: (x) => x.relu(), domain: nonZero },
  { name: 'gelu (exact, erf)', op: (x) => x.gelu(), domain: (s, seed) => f64(s, seed, -3, 3) },
  { name: 'gelu (tanh approximation)', op: (x) => x.gelu({ approximate: 'tanh' }), domain: (s, seed) => f64(s, seed, -3, 3) },
  { name: 'silu', op: (x) => x.silu(), domain: (s, seed) => f64(s, seed, -4, 4) },
  { name: 'softplus', op: (x) => x.softplus(), domain: (s, seed) => f64(s, seed, -4, 4) },
  { name: 'erf', op: (x) => x.erf(), domain: (s, seed) => f64(s, seed, -2.5, 2.5) },
  { name: 'clamp min/max (away from the bounds)', op: (x) => x.clamp({ min: -0.5, max: 0.7 }), domain: anyReal },
  { name: 'clamp min only', op: (x) => x.clamp({ min: 0.1 }), domain: anyReal },
  { name: 'clamp max only', op: (x) => x.clamp({ max: -0.3 }), domain: anyReal },
  { name: 'pow 3 (any sign)', op: (x) => x.pow(3), domain: anyReal },
  { name: 'pow 2 (any sign)', op: (x) => x.pow(2), domain: anyReal },
  { name: 'pow 0.5', op: (x) => x.pow(0.5), domain: positive },
  { name: 'pow 2.5', op: (x) => x.pow(2.5), domain: positive },
  { name: 'pow -1.5', op: (x) => x.pow(-1.5), domain: positive },
  { name: 'pow 1', op: (x) => x.pow(1), domain: anyReal },
  { name: 'pow -2 (any sign)', op: (x) => x.pow(-2), domain: nonZero },
  { name: 'x + 2 (scalar)', op: (x) => x.add(2), domain: anyReal },
  { name: 'x - 0.5 (scalar)', op: (x) => x.sub(0.5), domain: anyReal },
  { name: 'x * -3 (scalar)', op: (x) => x.mul(-3), domain: anyReal },
  { name: 'x / 4 (scalar)', op: (x) => x.div(4), domain: anyReal },
  { name: 'maximum with scalar 0.3', op: (x) => x.maximum(0.3), domain: anyReal },
  { name: 'minimum with scalar -0.3', op: (x) => x.minimum(-0.3), domain: anyReal },
];

describe('unary elementwise ops, float64, every layout', () => {
  for (const u of UNARY) {
    for (const layout of layoutsFor(u.domain([3, 4], 1))) {
      check(`${u.name} [3,4] ${layout.name}`, w1(u.op), () => [u.domain([3, 4], 1)], { makers: [layout.make], ...u.opts });
    }
  }
  check('softplus beta 2, threshold 5: both sides of the threshold', w1((x) => x.softplus({ beta: 2, threshold: 5 })), () => [
    vals([-3, -1.2, -0.4, 0.3, 1.1, 1.9, 2.3, 2.7, 3.4, 4.2, -2.2, 0.9], [3, 4]),
  ]);
  check('softplus default threshold 20: inputs beyond it are linear', w1((x) => x.softplus()), () => [
    vals([-25, -8, 0.5, 8, 19.5, 20.5, 25, 30], [2, 4]),
  ]);
  check('0-d input: exp', w1((x) => x.exp()), () => [vals([0.7], [])]);
  check('a chain using x three times: x * sin(x) + exp(x) / (1 + x^2)', (x) =>
    weightedSum(x!.mul(x!.sin()).add(x!.exp().div(x!.pow(2).add(1)))), () => [anyReal([4, 5], 2)]);
});

// ---------------------------------------------------------------- elementwise, binary

type Binary = (a: Tensor, b: Tensor) => Tensor;
interface BinaryCase {
  name: string;
  op: Binary;
  a: (shape: number[], seed: number) => NDArray;
  b: (shape: number[], seed: number) => NDArray;
}

const BINARY: BinaryCase[] = [
  { name: 'add', op: (a, b) => a.add(b), a: anyReal, b: anyReal },
  { name: 'sub', op: (a, b) => a.sub(b), a: anyReal, b: anyReal },
  { name: 'mul', op: (a, b) => a.mul(b), a: anyReal, b: anyReal },
  { name: 'div', op: (a, b) => a.div(b), a: anyReal, b: nonZero },
  { name: 'pow (tensor exponent)', op: (a, b) => a.pow(b), a: positive, b: anyReal },
  // Inputs from different seeds and ranges never tie.
  { name: 'maximum', op: (a, b) => a.maximum(b), a: anyReal, b: (s, seed) => f64(s, seed, -1.9, 1.9) },
  { name: 'minimum', op: (a, b) => a.minimum(b), a: anyReal, b: (s, seed) => f64(s, seed, -1.9, 1.9) },
];

/** Shape pairs: equal, two-way broadcasting, a new leading dim, 0-d. */
const PAIRS: [number[], number[]][] = [
  [[3, 4], [3, 4]],
  [[3, 1], [1, 4]],
  [[4], [2, 3, 4]],
  [[2, 3, 4], [3, 1]],
  [[], [3, 4]],
  [[3, 4], []],
];

describe('binary elementwise ops with broadcasting, float64', () => {
  for (const c of BINARY) {
    for (const [sa, sb] of PAIRS) {
      check(`${c.name} [${sa}] with [${sb}]`, (a, b) => weightedSum(c.op(a!, b!)), () => [c.a(sa, 11), c.b(sb, 12)]);
    }
    check(`${c.name} on non-contiguous inputs (permuted with sliced)`, (a, b) => weightedSum(c.op(a!, b!)),
      () => [c.a([3, 4], 13), c.b([3, 4], 14)], { makers: [permutedBorn, (x) => slicedBorn(x)] });
    check(`${c.name} of a tensor with itself`, (a) => weightedSum(c.op(a!, a!.mul(0.5).add(1.3))), () => [c.a([3, 4], 15)]);
  }
  check('x.pow(y) with x [3,1] positive and a permuted y [4,3] transposed to [3,4]', (x, y) => weightedSum(x!.pow(y!.T)),
    () => [positive([3, 1], 21), anyReal([4, 3], 22)]);
  check('clamp with tensor bounds (grads to x, min and max)', (x, lo, hi) => weightedSum(x!.clamp({ min: lo!, max: hi! })),
    () => [f64([3, 4], 23, -2, 2), f64([4], 24, -1.5, -0.2), f64([3, 1], 25, 0.2, 1.5)]);
});

describe('where', () => {
  const cond = (): NDArray => ref.random([3, 4], 31, { dtype: 'bool' });
  check('where(c, a, b): gradient to both branches, none to the condition', (c, a, b) => weightedSum(born.where(c!, a!, b!)),
    () => [cond(), anyReal([3, 4], 32), anyReal([3, 4], 33)]);
  check('where with broadcasting branches [3,1] and [4]', (c, a, b) => weightedSum(born.where(c!, a!, b!)),
    () => [cond(), anyReal([3, 1], 34), anyReal([4], 35)]);
  check('where with a broadcast condition [3,1] and branches [1,4] and [3,4]', (c, a, b) => weightedSum(born.where(c!, a!, b!)),
    () => [ref.random([3, 1], 38, { dtype: 'bool' }), anyReal([1, 4], 39), anyReal([3, 4], 40)]);
  check('where with a scalar branch', (c, a) => weightedSum(born.where(c!, a!, 0.25)), () => [cond(), anyReal([3, 4], 36)]);
  check('where with a condition computed from the input: where(x > 0, x^2, sin(x))', (x) =>
    weightedSum(born.where(x!.gt(0), x!.pow(2), x!.sin())), () => [nonZero([3, 4], 37)]);
  test('where: exact branch gradients (R where the condition picks the branch, 0 elsewhere)', async () => {
    const c = toBorn(new NDArray([1, 0, 0, 1], [4], 'bool'));
    const a = toBorn(vals([1, 2, 3, 4], [4]));
    const b = toBorn(vals([5, 6, 7, 8], [4]));
    const r = toBorn(vals([10, 20, 30, 40], [4]));
    const out = born.where(c, a, b).mul(r).sum();
    const [ga, gb] = born.grad(out, [a, b]);
    expect(Array.from(await ga!.data())).toEqual([10, 0, 0, 40]);
    expect(Array.from(await gb!.data())).toEqual([0, 20, 30, 0]);
  });
});

// ---------------------------------------------------------------- reductions

type ROpts = { dim?: number | number[]; keepdim?: boolean };
const DIMS: ROpts[] = [{}, { dim: 1 }, { dim: -1, keepdim: true }, { dim: [0, 2] }, { dim: [0, 2], keepdim: true }, { dim: [0, 1, 2] }];

interface RedCase {
  name: string;
  op: (x: Tensor, o: ROpts) => Tensor;
  /** Ops that need a dim (softmax) skip the all-dims cases. */
  single?: boolean;
}
const RED: RedCase[] = [
  { name: 'sum', op: (x, o) => x.sum(o) },
  { name: 'mean', op: (x, o) => x.mean(o) },
  { name: 'amax', op: (x, o) => x.amax(o) },
  { name: 'amin', op: (x, o) => x.amin(o) },
  { name: 'var', op: (x, o) => x.var(o) },
  { name: 'var correction 0', op: (x, o) => x.var({ ...o, correction: 0 }) },
  { name: 'std', op: (x, o) => x.std(o) },
  { name: 'std correction 0', op: (x, o) => x.std({ ...o, correction: 0 }) },
  { name: 'logsumexp', op: (x, o) => x.logsumexp(o) },
];

describe('reductions over dims, keepdim and all dims, float64 [2,3,4]', () => {
  for (const r of RED) {
    for (const o of DIMS) {
      // Random data from a continuous distribution: no ties for max/min.
      check(`${r.name} ${JSON.stringify(o)}`, (x) => weightedSum(r.op(x!, o)), () => [anyReal([2, 3, 4], 41)]);
    }
    check(`${r.name} dim 0 of a permuted input`, (x) => weightedSum(r.op(x!, { dim: 0 })), () => [anyReal([3, 4], 42)], { makers: [permutedBorn] });
    check(`${r.name} dim 1 of a sliced input`, (x) => weightedSum(r.op(x!, { dim: 1 })), () => [anyReal([3, 4], 43)], { makers: [(a) => slicedBorn(a)] });
  }
  check('var of an offset input (+100)', (x) => weightedSum(x!.var({ dim: 1 })), () => [f64([3, 5], 44, 99, 101)]);
  check('reduction of an expanded (broadcast) input: sum over the expanded dim', (x) => weightedSum(x!.expand([4, 3, 5]).mul(x!).sum({ dim: 0 })),
    () => [anyReal([3, 5], 45)]);
});

describe('softmax and logSoftmax, float64', () => {
  for (const dim of [-1, 0, 1]) {
    check(`softmax dim ${dim} [2,3,4]`, (x) => weightedSum(x!.softmax({ dim })), () => [f64([2, 3, 4], 51, -3, 3)]);
    check(`logSoftmax dim ${dim} [2,3,4]`, (x) => weightedSum(x!.logSoftmax({ dim })), () => [f64([2, 3, 4], 52, -3, 3)]);
  }
  check('softmax of a permuted input', (x) => weightedSum(x!.softmax({ dim: -1 })), () => [anyReal([4, 3], 53)], { makers: [permutedBorn] });
  check('logSoftmax of large logits (+50 per row, the max shift matters)', (x) => weightedSum(x!.logSoftmax({ dim: -1 })),
    () => [new NDArray(Array.from(f64([3, 4], 54).data, (v, i) => v + 50 * (i % 3)), [3, 4], 'float64')]);
  // The stabilising shift by the row max has a kink at ties, but softmax and logsumexp are smooth
  // there: whatever subgradient the max gets must cancel exactly.
  check('softmax with tied maxima in a row (smooth: the max-shift gradient must cancel)', (x) => weightedSum(x!.softmax({ dim: 1 })),
    () => [vals([1, 1, 0.5, 1, 2, 0.3, 2, 2, 0, 0, 0, 0], [3, 4])]);
  check('logsumexp with tied maxima', (x) => weightedSum(x!.logsumexp({ dim: 1 })),
    () => [vals([1, 1, 0.5, 1, 2, 0.3, 2, 2, 0, 0, 0, 0], [3, 4])]);
  check('logSoftmax with tied maxima', (x) => weightedSum(x!.logSoftmax({ dim: 1 })),
    () => [vals([1, 1, 0.5, 1, 2, 0.3, 2, 2, 0, 0, 0, 0], [3, 4])]);
});

describe('max/min ties and kinks follow PyTorch', () => {
  const t = (values: number[], shape: number[]): Tensor => toBorn(vals(values, shape));
  test('x.max() splits the gradient evenly among tied maxima (amax rule)', async () => {
    const x = t([1, 3, 3, 2], [2, 2]);
    await expectGrad(x.max(), x, vals([0, 0.5, 0.5, 0], [2, 2]));
  });
  test('x.max() with a three-way tie: 1/3 each', async () => {
    const x = t([2, 2, 1, 2], [4]);
    await expectGrad(x.max(), x, vals([1 / 3, 1 / 3, 0, 1 / 3], [4]));
  });
  test('x.min() ties split evenly', async () => {
    const x = t([1, 3, 1, 2], [2, 2]);
    await expectGrad(x.min(), x, vals([0.5, 0, 0.5, 0], [2, 2]));
  });
  test('x.amax({dim: 1}) with ties in rows: even split per row', async () => {
    const x = t([3, 3, 1, 0, 2, 2], [2, 3]);
    const r = t([1, 10], [2]);
    await expectGrad(x.amax({ dim: 1 }).mul(r).sum(), x, vals([0.5, 0.5, 0, 0, 5, 5], [2, 3]));
  });
  test('x.amin({dim: 0, keepdim: true}) with ties in a column', async () => {
    const x = t([1, 4, 1, 2], [2, 2]);
    await expectGrad(x.amin({ dim: 0, keepdim: true }).sum(), x, vals([0.5, 0, 0.5, 1], [2, 2]));
  });
  test('x.max(1).values with ties: the whole gradient to the first index, as torch.max(x, 1)', async () => {
    const x = t([3, 3, 1, 0, 2, 2], [2, 3]);
    const r = t([1, 10], [2]);
    await expectGrad(x.max(1).values.mul(r).sum(), x, vals([1, 0, 0, 0, 10, 0], [2, 3]));
  });
  test('x.min(0, true).values with ties: the whole gradient to the first index', async () => {
    const x = t([1, 4, 1, 2], [2, 2]);
    await expectGrad(x.min(0, true).values.sum(), x, vals([1, 0, 0, 1], [2, 2]));
  });
  test('maximum/minimum of equal values: half the gradient to each operand', async () => {
    const a = t([0, -1, 1], [3]), b = t([0, 0, 2], [3]);
    const [ga, gb] = born.grad(a.maximum(b).sum(), [a, b]);
    expect(Array.from(await ga!.data())).toEqual([0.5, 0, 0]);
    expect(Array.from(await gb!.data())).toEqual([0.5, 1, 1]);
    const [ha, hb] = born.grad(a.minimum(b).sum(), [a, b]);
    expect(Array.from(await ha!.data())).toEqual([0.5, 1, 1]);
    expect(Array.from(await hb!.data())).toEqual([0.5, 0, 0]);
  });
  test('x.max() of a large tensor (reduced in two stages) splits a three-way tie evenly across stages', async () => {
    // 2^17 elements: whole-tensor reductions this big run as partial reductions of slices and then
    // a reduction of the partial results; two tied maxima in one slice and one in another must
    // still get 1/3 each (not 1/4, 1/4, 1/2).
    const n = 1 << 17;
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = Math.sin(i); // in [-1, 1]
    for (const i of [5, 6, 70000]) d[i] = 2;
    const x = born.tensor(d, { shape: [n] });
    const [g] = born.grad(x.max(), [x]);
    const gd = await g!.data();
    const nonzero: [number, number][] = [];
    gd.forEach((v, i) => { if (v !== 0) nonzero.push([i, v]); });
    expect(nonzero.map(([i]) => i)).toEqual([5, 6, 70000]);
    for (const [, v] of nonzero) expect(v).toBeCloseTo(1 / 3, 6);
    // And the unique maximum of a large tensor gets the whole gradient.
    d[5] = 3;
    const y = born.tensor(d, { shape: [n] });
    const [h] = born.grad(y.max(), [y]);
    const hd = await h!.data();
    expect(hd[5]).toBe(1);
    expect(Array.from(hd).reduce((a, b) => a + b, 0)).toBe(1);
  });
  test('floor and sign have zero gradient; multiplying by a comparison mask passes the mask', async () => {
    const x = t([-1.5, 0.25, 2.75], [3]);
    await expectGrad(x.floor().mul(x).sum(), x, vals([-2, 0, 2], [3]));
    await expectGrad(x.sign().mul(x).sum(), x, vals([-1, 1, 1], [3]));
    await expectGrad(x.mul(x.gt(0)).sum(), x, vals([0, 1, 1], [3]));
  });
  test('relu has gradient 0 at 0 (PyTorch), even though relu is maximum(x, 0)', async () => {
    const x = t([0, -1, 1], [3]);
    await expectGrad(x.relu().sum(), x, vals([0, 0, 1], [3]));
  });
  test('abs has gradient 0 at 0 (sign(0) = 0)', async () => {
    const x = t([0, -1, 1], [3]);
    await expectGrad(x.abs().sum(), x, vals([0, -1, 1], [3]));
  });
  test('clamp passes the gradient at the bounds (inclusive), as PyTorch', async () => {
    const x = t([0, -1, 1, 0.5, 2], [5]);
    await expectGrad(x.clamp({ min: 0, max: 1 }).sum(), x, vals([1, 0, 1, 1, 0], [5]));
  });
  test('pow(x, 0) has gradient 0, also at x = 0 (no 0 * inf)', async () => {
    const x = t([0, 2, -1], [3]);
    await expectGrad(x.pow(0).sum(), x, vals([0, 0, 0], [3]));
  });
  test('pow(x, 2) and pow(x, 3) at 0 have gradient 0', async () => {
    const x = t([0, 2], [2]);
    await expectGrad(x.pow(2).sum(), x, vals([0, 4], [2]));
    await expectGrad(x.pow(3).sum(), x, vals([0, 12], [2]));
  });
});

// ---------------------------------------------------------------- views

interface ViewCase {
  name: string;
  shape: number[];
  op: Unary;
}
const VIEWS: ViewCase[] = [
  { name: 'reshape [3,4] -> [2,6]', shape: [3, 4], op: (x) => x.reshape([2, 6]) },
  { name: 'reshape with -1 [2,3,4] -> [4,-1]', shape: [2, 3, 4], op: (x) => x.reshape([4, -1]) },
  { name: 'view [3,4] -> [12]', shape: [3, 4], op: (x) => x.view([12]) },
  { name: 'permute [2,0,1]', shape: [2, 3, 4], op: (x) => x.permute([2, 0, 1]) },
  { name: 'transpose(0, 2)', shape: [2, 3, 4], op: (x) => x.transpose(0, 2) },
  { name: 'T of a matrix', shape: [3, 4], op: (x) => x.T },
  { name: 'T of a 3-D tensor', shape: [2, 3, 4], op: (x) => x.T },
  { name: 'expand [3,1] -> [3,4]', shape: [3, 1], op: (x) => x.expand([3, 4]) },
  { name: 'expand [3,1] -> [2,3,4] (new leading dim)', shape: [3, 1], op: (x) => x.expand([2, 3, 4]) },
  { name: 'expand [4] -> [2,3,4]', shape: [4], op: (x) => x.expand([2, 3, 4]) },
  { name: 'expand with -1 [1,4] -> [3,-1]', shape: [1, 4], op: (x) => x.expand([3, -1]) },
  { name: 'slice dim 1 [1:3]', shape: [3, 5], op: (x) => x.slice(1, 1, 3) },
  { name: 'slice dim 1 step 2', shape: [3, 5], op: (x) => x.slice(1, 0, 5, 2) },
  { name: 'slice dim 0 from 1 step 2', shape: [5, 3], op: (x) => x.slice(0, 1, undefined, 2) },
  { name: 'slice negative start, step 3', shape: [3, 7], op: (x) => x.slice(-1, -6, undefined, 3) },
  { name: 'two slices (strided of a strided)', shape: [6, 5], op: (x) => x.slice(0, 1, 6, 2).slice(1, 0, 4, 3) },
  { name: 'narrow dim 0', shape: [5, 3], op: (x) => x.narrow(0, 1, 3) },
  { name: 'narrow negative start', shape: [3, 5], op: (x) => x.narrow(1, -3, 2) },
  { name: 'pad last dim [1, 2]', shape: [3, 4], op: (x) => x.pad([1, 2]) },
  { name: 'pad two dims with value 3', shape: [3, 4], op: (x) => x.pad([1, 1, 2, 0], { value: 3 }) },
  { name: 'pad with negative amounts (crop)', shape: [3, 4], op: (x) => x.pad([-1, 2, 0, -1]) },
  { name: 'pad crop only', shape: [4, 5], op: (x) => x.pad([-2, -1, -1, 0]) },
  { name: 'flip dim 0', shape: [3, 4], op: (x) => x.flip([0]) },
  { name: 'flip dims [0, 2]', shape: [2, 3, 4], op: (x) => x.flip([0, 2]) },
  { name: 'squeeze dim 1', shape: [3, 1, 4], op: (x) => x.squeeze(1) },
  { name: 'squeeze all', shape: [1, 3, 1, 4], op: (x) => x.squeeze() },
  { name: 'unsqueeze 0', shape: [3, 4], op: (x) => x.unsqueeze(0) },
  { name: 'unsqueeze -1', shape: [3, 4], op: (x) => x.unsqueeze(-1) },
  { name: 'flatten', shape: [2, 3, 4], op: (x) => x.flatten() },
  { name: 'flatten(1)', shape: [2, 3, 4], op: (x) => x.flatten(1) },
  { name: 'flatten(0, 1)', shape: [2, 3, 4], op: (x) => x.flatten(0, 1) },
  { name: 'a chain: permute, slice with step, pad, reshape, expand', shape: [4, 3], op: (x) =>
    x.permute([1, 0]).slice(1, 0, 4, 2).pad([1, 0]).reshape([9]).expand([2, 9]) },
  { name: 'flip then transpose then narrow', shape: [3, 4], op: (x) => x.flip([1]).transpose(0, 1).narrow(0, 1, 2) },
];

describe('views, float64 (the backward of a view is the adjoint movement)', () => {
  for (const v of VIEWS) {
    check(v.name, w1(v.op), () => [anyReal(v.shape, 61)]);
    if (v.shape.length >= 2) {
      check(`${v.name}, of a permuted input`, w1(v.op), () => [anyReal(v.shape, 62)], { makers: [permutedBorn] });
    }
  }
  check('a view used twice: x.T * x.T and x.reshape sharing one input', (x) =>
    weightedSum(x!.T.mul(x!.T)).add(weightedSum(x!.reshape([12]).exp(), 9)), () => [anyReal([3, 4], 63)]);
});

// ---------------------------------------------------------------- joining and splitting

describe('cat, stack, split, chunk, float64', () => {
  check('cat dim 0 of [2,3] and [4,3]', (a, b) => weightedSum(born.cat([a!, b!], { dim: 0 })), () => [anyReal([2, 3], 71), anyReal([4, 3], 72)]);
  check('cat dim 1 of three tensors', (a, b, c) => weightedSum(born.cat([a!, b!, c!], { dim: 1 })),
    () => [anyReal([3, 2], 73), anyReal([3, 1], 74), anyReal([3, 4], 75)]);
  check('cat with a tensor twice', (a, b) => weightedSum(born.cat([a!, b!, a!], { dim: -1 })), () => [anyReal([2, 2], 76), anyReal([2, 3], 77)]);
  check('cat of a permuted and a sliced input', (a, b) => weightedSum(born.cat([a!, b!], { dim: 0 })),
    () => [anyReal([3, 4], 78), anyReal([2, 4], 79)], { makers: [permutedBorn, (x) => slicedBorn(x)] });
  check('stack dim 0', (a, b) => weightedSum(born.stack([a!, b!])), () => [anyReal([3, 4], 80), anyReal([3, 4], 81)]);
  check('stack dim -1 of three', (a, b, c) => weightedSum(born.stack([a!, b!, c!], { dim: -1 })),
    () => [anyReal([2, 3], 82), anyReal([2, 3], 83), anyReal([2, 3], 84)]);
  const allPieces = (pieces: Tensor[]): Tensor => pieces.map((p, i) => weightedSum(p.pow(2).add(p), 100 + i)).reduce((a, b) => a.add(b));
  check('split into size 2 along dim 0 (pieces 2, 2, 1)', (x) => allPieces(x!.split(2)), () => [anyReal([5, 3], 85)]);
  check('split into sections [1, 3] along dim 1', (x) => allPieces(x!.split([1, 3], { dim: 1 })), () => [anyReal([3, 4], 86)]);
  check('chunk 3 along dim -1', (x) => allPieces(x!.chunk(3, { dim: -1 })), () => [anyReal([2, 6], 87)]);
  check('split with only some pieces used (the rest gets zero gradient)', (x) => {
    const [p0, , p2] = x!.split(2);
    return weightedSum(p0!.exp()).add(weightedSum(p2!, 3));
  }, () => [anyReal([6, 2], 88)]);
  check('split then cat back in another order', (x) => {
    const [a, b] = x!.chunk(2, { dim: 1 });
    return weightedSum(born.cat([b!.mul(a!), a!], { dim: 1 }));
  }, () => [anyReal([3, 4], 89)]);
});

// ---------------------------------------------------------------- matmul

const MATMUL: [number[], number[]][] = [
  [[3, 4], [4, 5]],
  [[2, 3, 4], [2, 4, 5]],
  [[2, 1, 3, 4], [3, 4, 2]],
  [[3, 4], [2, 4, 5]],
  [[2, 3, 4], [4, 2]],
  [[4], [4, 5]],
  [[3, 4], [4]],
  [[4], [4]],
  [[4], [2, 4, 3]],
  [[2, 3, 4], [4]],
  [[1, 4], [4, 1]],
];

describe('matmul, float64', () => {
  for (const [sa, sb] of MATMUL) {
    check(`[${sa}] @ [${sb}]`, (a, b) => weightedSum(a!.matmul(b!)), () => [anyReal(sa, 91), anyReal(sb, 92)]);
  }
  check('transposed operands: a.T @ b.T with permuted inputs', (a, b) => weightedSum(a!.T.matmul(b!.T)),
    () => [anyReal([4, 3], 93), anyReal([5, 4], 94)], { makers: [permutedBorn, permutedBorn] });
  check('sliced operand: a[::2] @ b', (a, b) => weightedSum(a!.matmul(b!)), () => [anyReal([3, 4], 95), anyReal([4, 2], 96)],
    { makers: [(x) => slicedBorn(x), undefined] });
  check('x @ x.T (one input used on both sides)', (x) => weightedSum(x!.matmul(x!.T)), () => [anyReal([3, 4], 97)]);
  check('relu(x @ W + b) (away from the kink)', (x, w, b) => weightedSum(x!.matmul(w!).add(b!).relu()),
    () => [anyReal([4, 3], 98), anyReal([3, 5], 99), anyReal([5], 100)]);
});

// ---------------------------------------------------------------- indexing

describe('gather and indexSelect (repeated indices scatter-add)', () => {
  const tensorOf = (a: NDArray): Tensor => toBorn(a);
  check('gather dim 1 with repeated indices', (x, idx) => weightedSum(x!.gather(1, idx!)),
    () => [anyReal([3, 4], 111), i32([0, 3, 3, 3, 1, 0], [3, 2])]);
  check('gather dim 0 with repeated indices', (x, idx) => weightedSum(x!.gather(0, idx!)),
    () => [anyReal([3, 4], 112), i32([0, 2, 2, 1, 2, 2, 0, 1], [2, 4])]);
  check('gather with an index smaller than the input off the gather dim', (x, idx) => weightedSum(x!.gather(1, idx!)),
    () => [anyReal([4, 5], 113), i32([4, 4, 0, 1, 1, 2], [2, 3])]);
  check('gather dim 1 of a permuted input', (x, idx) => weightedSum(x!.gather(1, idx!)),
    () => [anyReal([3, 4], 114), i32([1, 1, 2, 0, 3, 3], [3, 2])], { makers: [permutedBorn, tensorOf] });
  check('indexSelect dim 0 with repeats [0, 2, 0, 3, 0]', (x, idx) => weightedSum(x!.indexSelect(0, idx!)),
    () => [anyReal([4, 3], 115), i32([0, 2, 0, 3, 0], [5])]);
  check('indexSelect dim 1 with repeats', (x, idx) => weightedSum(x!.indexSelect(1, idx!)),
    () => [anyReal([2, 3, 4], 116), i32([2, 2, 0, 2], [4])]);
  check('embedding-like: indexSelect rows then matmul', (e, idx, w) => weightedSum(e!.indexSelect(0, idx!).matmul(w!)),
    () => [anyReal([5, 3], 117), i32([4, 1, 4, 4, 0], [5]), anyReal([3, 2], 118)]);
  test('indexSelect with repeated indices: exact counts', async () => {
    const x = toBorn(vals([1, 2, 3, 4], [4, 1]));
    const idx = toBorn(i32([0, 2, 0, 0, 3], [5]));
    await expectGrad(x.indexSelect(0, idx).sum(), x, vals([3, 0, 1, 1], [4, 1]));
  });
});

// ---------------------------------------------------------------- dtype casts

describe('casts: the gradient comes back in the input dtype', () => {
  test("float64 -> to('float32') -> sum(y * R): gradient is R, float64", async () => {
    const r = ref.random([3, 4], 121, { dtype: 'float32' });
    const x = toBorn(anyReal([3, 4], 122));
    const out = x.to('float32').mul(toBorn(r)).sum();
    await expectGrad(out, x, ref.cast(r, 'float64'), { rtol: 0, atol: 0 });
  });
  test("float32 -> to('float64'): gradient float32", async () => {
    const r = anyReal([3, 4], 123);
    const x = toBorn(ref.random([3, 4], 124, { dtype: 'float32' }));
    const out = x.to('float64').mul(toBorn(r)).sum();
    await expectGrad(out, x, ref.cast(r, 'float32'), { rtol: 0, atol: 0 });
  });
  test('float64 -> float32 -> float64 round trip: the gradient passes through float32 (rounded there)', async () => {
    const r = anyReal([2, 3], 125);
    const x = toBorn(anyReal([2, 3], 131));
    const out = x.to('float32').to('float64').mul(toBorn(r)).sum();
    await expectGrad(out, x, ref.cast(ref.cast(r, 'float32'), 'float64'), { rtol: 0, atol: 0 });
  });
  test('mixed dtypes: float32 * float64 -> each gradient in its own dtype', async () => {
    const a = toBorn(ref.random([3], 126, { dtype: 'float32' }));
    const b = toBorn(anyReal([3], 127));
    const [ga, gb] = born.grad(a.mul(b).sum(), [a, b]);
    expect(ga!.dtype).toBe('float32');
    expect(gb!.dtype).toBe('float64');
    expect(Array.from(await ga!.data())).toEqual(Array.from(Float32Array.from(await b.data())));
    expect(Array.from(await gb!.data())).toEqual(Array.from(await a.data()));
  });
  test('cat of float32 and float64 (promoted), matmul float32 @ float64', async () => {
    const a = toBorn(ref.random([2, 3], 128, { dtype: 'float32' }));
    const b = toBorn(anyReal([2, 3], 129));
    const [ga, gb] = born.grad(born.cat([a, b]).sum(), [a, b]);
    expect([ga!.dtype, gb!.dtype]).toEqual(['float32', 'float64']);
    expect(Array.from(await ga!.data())).toEqual([1, 1, 1, 1, 1, 1]);
    const w = toBorn(anyReal([3, 2], 130));
    const [gm] = born.grad(a.matmul(w).sum(), [a]);
    expect(gm!.dtype).toBe('float32');
    expect([...gm!.shape]).toEqual([2, 3]);
  });
});

// ---------------------------------------------------------------- second order

describe('grad of grad: backward formulas are differentiable, float64', () => {
  const SECOND: [string, Unary, (s: number[], seed: number) => NDArray][] = [
    ['exp', (x) => x.exp(), anyReal],
    ['log', (x) => x.log(), positive],
    ['sqrt', (x) => x.sqrt(), positive],
    ['rsqrt', (x) => x.rsqrt(), positive],
    ['sin', (x) => x.sin(), anyReal],
    ['cos', (x) => x.cos(), anyReal],
    ['tanh', (x) => x.tanh(), anyReal],
    ['sigmoid', (x) => x.sigmoid(), anyReal],
    ['gelu', (x) => x.gelu(), anyReal],
    ['gelu tanh', (x) => x.gelu({ approximate: 'tanh' }), anyReal],
    ['silu', (x) => x.silu(), anyReal],
    ['softplus', (x) => x.softplus(), anyReal],
    ['erf', (x) => x.erf(), anyReal],
    ['log1p', (x) => x.log1p(), positive],
    ['pow 3', (x) => x.pow(3), anyReal],
    ['pow -1.5', (x) => x.pow(-1.5), positive],
    ['reciprocal', (x) => x.reciprocal(), nonZero],
    ['abs * x', (x) => x.abs().mul(x), nonZero],
    ['relu(x) * x', (x) => x.relu().mul(x), nonZero],
    ['clamp(x) * x', (x) => x.clamp({ min: -0.5, max: 0.7 }).mul(x), anyReal],
    ['softmax dim -1', (x) => x.softmax({ dim: -1 }), anyReal],
    ['logSoftmax dim 0', (x) => x.logSoftmax({ dim: 0 }), anyReal],
    ['logsumexp dim 1', (x) => x.logsumexp({ dim: 1 }), anyReal],
    ['var dim 1', (x) => x.var({ dim: 1 }), anyReal],
    ['std all', (x) => x.std(), anyReal],
    ['mean squared', (x) => x.pow(2).mean({ dim: 0 }), anyReal],
    ['amax(x * x) dim 1 (no ties)', (x) => x.mul(x).amax({ dim: 1 }), anyReal],
  ];
  for (const [name, op, domain] of SECOND) check2(name, w1(op), () => [domain([3, 4], 141)]);

  // Views and joins only move values: their second derivative is zero, so square the result to
  // make the first gradient depend on x through the view's backward.
  const sq = (op: Unary): ScalarFn => (x) => weightedSum(op(x!).pow(2));
  const VIEW2: [string, Unary][] = [
    ['permute', (x) => x.permute([1, 0])],
    ['expand', (x) => x.unsqueeze(0).expand([2, 3, 4])],
    ['slice with step', (x) => x.slice(1, 1, 4, 2)],
    ['pad with value', (x) => x.pad([1, 2], { value: 0.5 })],
    ['pad negative', (x) => x.pad([-1, 1])],
    ['flip', (x) => x.flip([0, 1])],
    ['reshape', (x) => x.reshape([2, 6])],
    ['sum dim 0', (x) => x.sum({ dim: 0 })],
    ['cat with itself', (x) => born.cat([x, x.exp()], { dim: 1 })],
    ['chunk pieces multiplied', (x) => { const [a, b] = x.chunk(2, { dim: 1 }); return a!.mul(b!); }],
  ];
  for (const [name, op] of VIEW2) check2(`(${name})^2`, sq(op), () => [anyReal([3, 4], 142)]);

  check2('mul (cross terms)', (a, b) => weightedSum(a!.mul(b!)), () => [anyReal([3, 1], 143), anyReal([4], 144)]);
  check2('div', (a, b) => weightedSum(a!.div(b!)), () => [anyReal([3, 4], 145), nonZero([3, 4], 146)]);
  check2('pow (tensor exponent)', (a, b) => weightedSum(a!.pow(b!)), () => [positive([3, 4], 147), anyReal([3, 4], 148)]);
  check2('maximum * a', (a, b) => weightedSum(a!.maximum(b!).mul(a!)), () => [anyReal([3, 4], 149), f64([3, 4], 150, -1.9, 1.9)]);
  check2('matmul', (a, b) => weightedSum(a!.matmul(b!)), () => [anyReal([2, 3], 151), anyReal([3, 4], 152)]);
  check2('batched, broadcasting matmul', (a, b) => weightedSum(a!.matmul(b!)), () => [anyReal([2, 1, 2, 3], 153), anyReal([2, 3, 2], 154)]);
  check2('gather (squared)', (x, idx) => weightedSum(x!.gather(1, idx!).pow(2)), () => [anyReal([3, 4], 155), i32([0, 3, 3, 3, 1, 0], [3, 2])]);
  check2('indexSelect (squared)', (x, idx) => weightedSum(x!.indexSelect(0, idx!).pow(2)), () => [anyReal([3, 4], 156), i32([2, 0, 2], [3])]);
  check2('where(x > 0, x^3, exp(x))', (x) => weightedSum(born.where(x!.gt(0), x!.pow(3), x!.exp())), () => [nonZero([3, 4], 157)]);
  check2('a non-contiguous input: exp of a permuted x', (x) => weightedSum(x!.exp().mul(x!)), () => [anyReal([3, 4], 158)],
    { makers: [permutedBorn as Maker] });
});

// ---------------------------------------------------------------- the checker itself

describe('gradcheck catches a wrong gradient', () => {
  test('x.detach() * x: born.grad gives x, finite differences 2x, so the check must fail', async () => {
    await expect(gradcheck((x) => x!.detach().mul(x!).sum(), [anyReal([2, 2], 171)])).rejects.toThrow();
  });
  test('a second-order mismatch is caught too', async () => {
    // g = <grad f, V> for f = sum(x.detach() * x^2) is not the derivative the finite differences see.
    await expect(gradgradcheck((x) => x!.detach().mul(x!.pow(2)).sum(), [anyReal([2, 2], 172)])).rejects.toThrow();
  });
});
