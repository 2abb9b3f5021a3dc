// Elementwise ops against the eager reference: unary, binary with broadcasting,
// where, clamp, casts, dtype promotion and IEEE special values.
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
  type Tol,
} from './reference/check.js';
import type { DType } from './reference/ndarray.js';

const SHAPES: number[][] = [[], [1], [7], [2, 3], [3, 1, 4], [2, 3, 2, 2]];
const label = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Transcendentals: float32 within 1e-5 absolute (and relative for large values). */
const TRANS: Tol = { rtol: 1e-5, atol: 1e-5 };

interface UnaryCase {
  name: string;
  run: (t: Tensor) => Tensor;
  want: (a: NDArray) => NDArray;
  lo: number;
  hi: number;
  quantum?: number;
  tol?: Tol;
}

const UNARY: UnaryCase[] = [
  { name: 'neg', run: (t) => t.neg(), want: ref.neg, lo: -3, hi: 3, quantum: 8 },
  { name: 'abs', run: (t) => t.abs(), want: ref.abs, lo: -3, hi: 3, quantum: 8 },
  { name: 'relu', run: (t) => t.relu(), want: ref.relu, lo: -3, hi: 3, quantum: 8 },
  { name: 'exp', run: (t) => t.exp(), want: ref.exp, lo: -4, hi: 4, tol: TRANS },
  { name: 'log', run: (t) => t.log(), want: ref.log, lo: 0.05, hi: 6, tol: TRANS },
  { name: 'sqrt', run: (t) => t.sqrt(), want: ref.sqrt, lo: 0, hi: 9, tol: TRANS },
  { name: 'rsqrt', run: (t) => t.rsqrt(), want: ref.rsqrt, lo: 0.05, hi: 9, tol: TRANS },
  { name: 'sin', run: (t) => t.sin(), want: ref.sin, lo: -6, hi: 6, tol: TRANS },
  { name: 'cos', run: (t) => t.cos(), want: ref.cos, lo: -6, hi: 6, tol: TRANS },
  { name: 'tanh', run: (t) => t.tanh(), want: ref.tanh, lo: -5, hi: 5, tol: TRANS },
  { name: 'sigmoid', run: (t) => t.sigmoid(), want: ref.sigmoid, lo: -8, hi: 8, tol: TRANS },
  { name: 'gelu', run: (t) => t.gelu(), want: (a) => ref.gelu(a), lo: -5, hi: 5, tol: TRANS },
  {
    name: 'gelu(tanh)',
    run: (t) => t.gelu({ approximate: 'tanh' }),
    want: (a) => ref.gelu(a, { approximate: 'tanh' }),
    lo: -5,
    hi: 5,
    tol: TRANS,
  },
  { name: 'silu', run: (t) => t.silu(), want: ref.silu, lo: -8, hi: 8, tol: TRANS },
  { name: 'softplus', run: (t) => t.softplus(), want: ref.softplus, lo: -25, hi: 25, tol: TRANS },
  {
    name: 'clamp',
    run: (t) => t.clamp({ min: -0.5, max: 1.25 }),
    want: (a) => ref.clamp(a, { min: -0.5, max: 1.25 }),
    lo: -3,
    hi: 3,
  },
  { name: 'pow(2)', run: (t) => t.pow(2), want: (a) => ref.pow(a, 2), lo: -3, hi: 3, tol: TRANS },
  { name: 'pow(0.5)', run: (t) => t.pow(0.5), want: (a) => ref.pow(a, 0.5), lo: 0, hi: 4, tol: TRANS },
  { name: 'pow(-1)', run: (t) => t.pow(-1), want: (a) => ref.pow(a, -1), lo: 0.25, hi: 4, tol: TRANS },
  { name: 'pow(3)', run: (t) => t.pow(3), want: (a) => ref.pow(a, 3), lo: -3, hi: 3, tol: TRANS },
];

describe('unary ops, float32, every layout', () => {
  const cases = UNARY.flatMap((u) => SHAPES.map((s) => [u.name, label(s), u, s] as const));
  test.each(cases)('%s on %s', async (_n, _s, u, shape) => {
    const a = ref.random(shape, shape.length * 31 + u.name.length, { lo: u.lo, hi: u.hi, quantum: u.quantum });
    const want = u.want(a);
    for (const layout of layoutsFor(a)) {
      await expectTensor(u.run(layout.make(a)), want, u.tol, layout.name);
    }
  });
});

describe('unary ops, float64 (1e-12)', () => {
  test.each(UNARY.map((u) => [u.name, u] as const))('%s', async (_n, u) => {
    const a = ref.random([3, 5], 7, { lo: u.lo, hi: u.hi, dtype: 'float64' });
    const want = u.want(a);
    expect(want.dtype).toBe('float64');
    await expectTensor(u.run(toBorn(a)), want);
    await expectTensor(u.run(permutedBorn(a)), want, {}, 'permuted');
  });
});

describe('unary ops on int32 follow torch dtype rules', () => {
  const x = ref.NDArray.from([[-3, -1, 0], [2, 5, 7]], 'int32');
  test.each([
    ['neg', (t: Tensor) => t.neg(), ref.neg],
    ['abs', (t: Tensor) => t.abs(), ref.abs],
    ['relu', (t: Tensor) => t.relu(), ref.relu],
    ['clamp int bounds', (t: Tensor) => t.clamp({ min: -1, max: 4 }), (a: NDArray) => ref.clamp(a, { min: -1, max: 4 })],
    ['pow(2)', (t: Tensor) => t.pow(2), (a: NDArray) => ref.pow(a, 2)],
  ] as const)('%s keeps int32', async (_n, run, want) => {
    await expectTensor(run(toBorn(x)), want(x));
  });

  test.each([
    ['exp', (t: Tensor) => t.exp(), ref.exp],
    ['sqrt', (t: Tensor) => t.abs().sqrt(), (a: NDArray) => ref.sqrt(ref.abs(a))],
    ['sigmoid', (t: Tensor) => t.sigmoid(), ref.sigmoid],
    ['tanh', (t: Tensor) => t.tanh(), ref.tanh],
  ] as const)('%s of int32 gives float32', async (_n, run, want) => {
    await expectTensor(run(toBorn(x)), want(x), TRANS);
  });
});

// ------------------------------------------------------------------ binary

interface BinaryCase {
  name: string;
  run: (a: Tensor, b: Tensor) => Tensor;
  want: (a: NDArray, b: NDArray) => NDArray;
  /** Range of the right operand (e.g. keep divisors away from zero). */
  rhs?: [number, number];
  lhs?: [number, number];
  tol?: Tol;
}

const BINARY: BinaryCase[] = [
  { name: 'add', run: (a, b) => a.add(b), want: ref.add },
  { name: 'sub', run: (a, b) => a.sub(b), want: ref.sub },
  { name: 'mul', run: (a, b) => a.mul(b), want: ref.mul },
  { name: 'div', run: (a, b) => a.div(b), want: ref.div, rhs: [0.5, 4] },
  { name: 'pow', run: (a, b) => a.pow(b), want: ref.pow, lhs: [0.25, 3], tol: TRANS },
  { name: 'maximum', run: (a, b) => a.maximum(b), want: ref.maximum },
  { name: 'minimum', run: (a, b) => a.minimum(b), want: ref.minimum },
  { name: 'eq', run: (a, b) => a.eq(b), want: ref.eq },
  { name: 'lt', run: (a, b) => a.lt(b), want: ref.lt },
  { name: 'gt', run: (a, b) => a.gt(b), want: ref.gt },
];

const PAIRS: [number[], number[]][] = [
  [[2, 3], [2, 3]],
  [[2, 3], [3]],
  [[2, 1], [1, 3]],
  [[4, 1, 3], [2, 1]],
  [[], [2, 3]],
  [[3], []],
  [[1], [5]],
  [[2, 3, 1, 2], [3, 4, 1]],
  [[1, 1], [1]],
  [[], []],
];

describe('binary ops with broadcasting, float32', () => {
  const cases = BINARY.flatMap((c) => PAIRS.map(([sa, sb]) => [c.name, label(sa), label(sb), c, sa, sb] as const));
  test.each(cases)('%s %s with %s', async (_n, _sa, _sb, c, sa, sb) => {
    const [alo, ahi] = c.lhs ?? [-3, 3];
    const [blo, bhi] = c.rhs ?? [-3, 3];
    // Quarter steps: add/sub/mul/compare are exact in float32, and eq sees real ties.
    const a = ref.random(sa, 11 + sa.length, { lo: alo, hi: ahi, quantum: 4 });
    const b = ref.random(sb, 23 + sb.length, { lo: blo, hi: bhi, quantum: 4 });
    const want = c.want(a, b);
    await expectTensor(c.run(toBorn(a), toBorn(b)), want, c.tol, 'contiguous');
    const la = layoutsFor(a);
    const lb = layoutsFor(b);
    const left = la[la.length - 1]!;
    const right = lb[Math.min(1, lb.length - 1)]!;
    await expectTensor(c.run(left.make(a), right.make(b)), want, c.tol, `${left.name} with ${right.name}`);
    // Reversed operand order exercises broadcasting on the other side.
    await expectTensor(c.run(right.make(b), left.make(a)), c.want(b, a), c.tol, 'swapped');
  });
});

describe('binary ops, float64 (1e-12)', () => {
  test.each(BINARY.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const [alo, ahi] = c.lhs ?? [-3, 3];
    const [blo, bhi] = c.rhs ?? [-3, 3];
    const a = ref.random([3, 4], 5, { lo: alo, hi: ahi, dtype: 'float64' });
    const b = ref.random([4], 6, { lo: blo, hi: bhi, dtype: 'float64' });
    await expectTensor(c.run(toBorn(a), toBorn(b)), c.want(a, b), {});
    await expectTensor(c.run(permutedBorn(a), slicedBorn(b)), c.want(a, b), {}, 'non-contiguous');
  });
});

describe('binary ops, int32 and bool', () => {
  const i = ref.NDArray.from([[7, -7, 3], [0, 5, -2]], 'int32');
  const j = ref.NDArray.from([2, -3, 4], 'int32');
  test.each(BINARY.filter((c) => c.name !== 'pow').map((c) => [c.name, c] as const))('%s int32 with int32', async (_n, c) => {
    await expectTensor(c.run(toBorn(i), toBorn(j)), c.want(i, j));
  });

  test('int32 / int32 is true division into float32', async () => {
    const got = toBorn(i).div(toBorn(j));
    expect(got.dtype).toBe('float32');
    await expectTensor(got, ref.div(i, j));
    expect(Array.from(await born.tensor(new Int32Array([7, -7]), { shape: [2], dtype: 'int32' }).div(2).data())).toEqual([3.5, -3.5]);
  });

  test('int32 with float32 promotes to float32', async () => {
    const f = ref.random([3], 4, { quantum: 4 });
    await expectTensor(toBorn(i).add(toBorn(f)), ref.add(i, f));
    await expectTensor(toBorn(f).mul(toBorn(i)), ref.mul(f, i));
    await expectTensor(toBorn(i).maximum(toBorn(f)), ref.maximum(i, f));
    // Comparisons promote too: int 2 equals float 2.0.
    const two = ref.NDArray.from([2, 2.5, -7], 'float32');
    await expectTensor(toBorn(j).eq(toBorn(two)), ref.eq(j, two));
    await expectTensor(toBorn(j).lt(toBorn(two)), ref.lt(j, two));
  });

  test("int32 arithmetic wraps on overflow (two's complement, as torch)", async () => {
    const big = ref.NDArray.from([2147483647, -2147483648, 50000, 46341], 'int32');
    const other = ref.NDArray.from([2147483647, -2147483648, 50000, 46341], 'int32');
    await expectTensor(toBorn(big).add(1), ref.add(big, 1));
    await expectTensor(toBorn(big).sub(1), ref.sub(big, 1));
    await expectTensor(toBorn(big).mul(toBorn(other)), ref.mul(big, other));
  });

  test('float32 with float64 promotes to float64', async () => {
    const f = ref.random([2, 3], 4, { quantum: 4 });
    const d = ref.random([3], 5, { dtype: 'float64' });
    await expectTensor(toBorn(f).add(toBorn(d)), ref.add(f, d));
    await expectTensor(toBorn(d).sub(toBorn(f)), ref.sub(d, f));
  });

  test('a JS number keeps int32 if it is an integer, else gives float32', async () => {
    await expectTensor(toBorn(i).add(2), ref.add(i, 2));
    await expectTensor(toBorn(i).mul(-3), ref.mul(i, -3));
    await expectTensor(toBorn(i).sub(1), ref.sub(i, 1));
    await expectTensor(toBorn(i).add(2.5), ref.add(i, 2.5));
    await expectTensor(toBorn(i).mul(0.5), ref.mul(i, 0.5));
    await expectTensor(toBorn(i).div(4), ref.div(i, 4));
  });

  test('bool arithmetic promotes to int32', async () => {
    const b = ref.NDArray.from([[true, false, true], [false, false, true]], 'bool');
    await expectTensor(toBorn(b).add(1), ref.add(b, 1));
    await expectTensor(toBorn(b).mul(toBorn(j)), ref.mul(b, j));
    await expectTensor(toBorn(j).add(toBorn(b)), ref.add(j, b));
  });

  test('comparisons return bool tensors read back as Uint8Array', async () => {
    const a = toBorn(i);
    const b = toBorn(j);
    for (const [name, got, want] of [
      ['eq', a.eq(b), ref.eq(i, j)],
      ['lt', a.lt(b), ref.lt(i, j)],
      ['gt', a.gt(b), ref.gt(i, j)],
    ] as const) {
      expect(got.dtype, name).toBe('bool');
      await expectTensor(got, want, {}, name);
    }
  });

  test('scalar operands on float tensors', async () => {
    const f = ref.random([2, 5], 8, { lo: 0.5, hi: 3 });
    const t = toBorn(f);
    await expectTensor(t.add(0.25), ref.add(f, 0.25));
    await expectTensor(t.sub(1.5), ref.sub(f, 1.5));
    await expectTensor(t.mul(-2), ref.mul(f, -2));
    await expectTensor(t.div(3), ref.div(f, 3));
    await expectTensor(t.pow(1.5), ref.pow(f, 1.5), TRANS);
    const d = ref.random([4], 9, { dtype: 'float64' });
    await expectTensor(toBorn(d).mul(0.1), ref.mul(d, 0.1));
    await expectTensor(toBorn(d).add(1e-13), ref.add(d, 1e-13));
  });
});

// ------------------------------------------------------------------ where

describe('where', () => {
  const cond = ref.random([2, 1, 3], 1, { dtype: 'bool' });
  const a = ref.random([4, 1], 2, { quantum: 4 });
  const b = ref.random([3], 3, { quantum: 4 });

  test('broadcasts cond, a and b together', async () => {
    const want = ref.where(cond, a, b);
    expect(want.shape).toEqual([2, 4, 3]);
    await expectTensor(born.where(toBorn(cond), toBorn(a), toBorn(b)), want);
  });

  test('accepts numbers for either branch', async () => {
    await expectTensor(born.where(toBorn(cond), toBorn(a), 0), ref.where(cond, a, 0));
    await expectTensor(born.where(toBorn(cond), -1.5, toBorn(b)), ref.where(cond, -1.5, b));
  });

  test('cond from a comparison, non-contiguous branches', async () => {
    const x = ref.random([3, 4], 4);
    const y = ref.random([3, 4], 5);
    const c = ref.gt(x, y);
    const want = ref.where(c, x, y);
    const got = born.where(permutedBorn(x).gt(slicedBorn(y)), permutedBorn(x), slicedBorn(y));
    await expectTensor(got, want);
  });

  test('promotes int32 and float32 branches to float32; float64 stays', async () => {
    const ia = ref.NDArray.from([1, 2, 3], 'int32');
    const fb = ref.NDArray.from([0.5, 0.25, 0.125], 'float32');
    const c = ref.NDArray.from([true, false, true], 'bool');
    await expectTensor(born.where(toBorn(c), toBorn(ia), toBorn(fb)), ref.where(c, ia, fb));
    await expectTensor(born.where(toBorn(c), toBorn(ia), 7), ref.where(c, ia, 7));
    const d = ref.random([3], 6, { dtype: 'float64' });
    await expectTensor(born.where(toBorn(c), toBorn(d), 0), ref.where(c, d, 0));
  });
});

// ------------------------------------------------------------------ clamp

describe('clamp', () => {
  const x = ref.random([3, 4], 12, { lo: -3, hi: 3, quantum: 8 });
  test.each([
    ['min and max', { min: -1, max: 1 }],
    ['min only', { min: 0.5 }],
    ['max only', { max: -0.25 }],
  ] as const)('%s', async (_n, opts) => {
    await expectTensor(toBorn(x).clamp(opts), ref.clamp(x, opts));
    await expectTensor(permutedBorn(x).clamp(opts), ref.clamp(x, opts), {}, 'permuted');
  });
  test('int32 input with a float bound gives float32 (torch)', async () => {
    const i = ref.NDArray.from([-2, 0, 3], 'int32');
    await expectTensor(toBorn(i).clamp({ min: 0.5 }), ref.clamp(i, { min: 0.5 }));
  });
});

// ------------------------------------------------------------------ casts

describe('to(dtype)', () => {
  test('float32 -> int32 truncates toward zero', async () => {
    const x = ref.NDArray.from([-2.7, -1.5, -0.5, 0, 0.5, 1.5, 2.7, 100.9]);
    const got = toBorn(x).to('int32');
    expect(got.dtype).toBe('int32');
    expect(Array.from(await got.data())).toEqual([-2, -1, 0, 0, 0, 1, 2, 100]);
  });

  test('float -> bool is "non-zero"', async () => {
    const x = ref.NDArray.from([0, -0.5, 2, 0]);
    const got = toBorn(x).to('bool');
    expect(got.dtype).toBe('bool');
    const data = await got.data();
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual([0, 1, 1, 0]);
  });

  test('bool -> float32 / int32 gives 0 and 1', async () => {
    const b = ref.NDArray.from([true, false, true], 'bool');
    await expectTensor(toBorn(b).to('float32'), ref.cast(b, 'float32'));
    await expectTensor(toBorn(b).to('int32'), ref.cast(b, 'int32'));
  });

  test('int32 -> float64 / float32 exact; float64 -> float32 rounds', async () => {
    const i = ref.NDArray.from([[-5, 0], [16777216, 123456]], 'int32');
    await expectTensor(toBorn(i).to('float64'), ref.cast(i, 'float64'));
    await expectTensor(toBorn(i).to('float32'), ref.cast(i, 'float32'));
    const d = ref.NDArray.from([0.1, 1 / 3, -2.5e-8], 'float64');
    const got = toBorn(d).to('float32');
    expect(Array.from(await got.data())).toEqual([Math.fround(0.1), Math.fround(1 / 3), Math.fround(-2.5e-8)]);
  });

  test('casts of non-contiguous inputs, and casts feeding arithmetic', async () => {
    const x = ref.random([3, 4], 21, { lo: -5, hi: 5 });
    const want = ref.cast(ref.permute(x, [1, 0]), 'int32');
    await expectTensor(permutedBorn(x).to('int32').permute([1, 0]), want);
    await expectTensor(permutedBorn(x).to('int32'), ref.cast(x, 'int32'), {}, 'cast of a permuted view');
    await expectTensor(toBorn(x).permute([1, 0]).to('int32'), want);
    const sum = toBorn(x).to('int32').add(toBorn(x).to('int32'));
    await expectTensor(sum, ref.add(ref.cast(x, 'int32'), ref.cast(x, 'int32')));
  });

  test('to(same dtype) and to("cpu") keep the values', async () => {
    const x = ref.random([2, 2], 3);
    await expectTensor(toBorn(x).to('float32'), x);
    const c = toBorn(x).to('cpu');
    expect(c.device).toBe('cpu');
    await expectTensor(c, x);
  });
});

// ------------------------------------------------------------------ special values

describe('IEEE special values behave as in torch', () => {
  const f32 = (xs: number[], dtype: DType = 'float32'): NDArray => ref.NDArray.from(xs, dtype);

  test('log / sqrt / div at the edges', async () => {
    const x = f32([0, -1, 1, Infinity]);
    await expectTensor(toBorn(x).log(), ref.log(x));
    await expectTensor(toBorn(x).sqrt(), ref.sqrt(x));
    const num = f32([1, -1, 0]);
    const den = f32([0, 0, 0]);
    await expectTensor(toBorn(num).div(toBorn(den)), ref.div(num, den));
  });

  test('exp overflows to Infinity in float32 but not float64', async () => {
    await expectTensor(toBorn(f32([100, -200])).exp(), ref.exp(f32([100, -200])));
    const d = f32([100, -200], 'float64');
    await expectTensor(toBorn(d).exp(), ref.exp(d));
  });

  test('sigmoid, tanh, silu, gelu and softplus saturate without NaN', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = f32([-1000, -100, -30, -20.5, -19, 0, 19, 20, 20.5, 30, 100, 1000], dtype);
      await expectTensor(toBorn(x).sigmoid(), ref.sigmoid(x), TRANS, `sigmoid ${dtype}`);
      await expectTensor(toBorn(x).tanh(), ref.tanh(x), TRANS, `tanh ${dtype}`);
      await expectTensor(toBorn(x).silu(), ref.silu(x), TRANS, `silu ${dtype}`);
      await expectTensor(toBorn(x).gelu(), ref.gelu(x), TRANS, `gelu ${dtype}`);
      await expectTensor(toBorn(x).gelu({ approximate: 'tanh' }), ref.gelu(x, { approximate: 'tanh' }), TRANS, `gelu tanh ${dtype}`);
      // Above the threshold (x > 20) softplus is exactly x.
      await expectTensor(toBorn(x).softplus(), ref.softplus(x), dtype === 'float64' ? {} : TRANS, `softplus ${dtype}`);
    }
  });

  test('softplus keeps relative precision in its negative tail (log1p, as torch)', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = f32([-15, -30, -50, -80], dtype);
      await expectTensor(toBorn(x).softplus(), ref.softplus(x), { rtol: dtype === 'float64' ? 1e-12 : 1e-5, atol: 0 }, dtype);
    }
  });

  test('maximum / minimum propagate NaN', async () => {
    const a = f32([NaN, 1, 2]);
    const b = f32([0, NaN, 1]);
    await expectTensor(toBorn(a).maximum(toBorn(b)), ref.maximum(a, b));
    await expectTensor(toBorn(a).minimum(toBorn(b)), ref.minimum(a, b));
  });

  test('comparisons with NaN are false (eq too)', async () => {
    const a = f32([NaN, 1]);
    const b = f32([NaN, NaN]);
    await expectTensor(toBorn(a).eq(toBorn(b)), ref.eq(a, b));
    await expectTensor(toBorn(a).lt(toBorn(b)), ref.lt(a, b));
    await expectTensor(toBorn(a).gt(toBorn(b)), ref.gt(a, b));
  });
});

describe('chains of elementwise ops', () => {
  test('a long fused chain over broadcast inputs matches op by op', async () => {
    const x = ref.random([4, 1, 5], 31);
    const y = ref.random([3, 1], 32);
    const want = ref.tanh(ref.mul(ref.add(ref.exp(ref.mul(x, 0.5)), ref.abs(y)), ref.sigmoid(ref.sub(x, y))));
    const got = toBorn(x).mul(0.5).exp().add(toBorn(y).abs()).mul(toBorn(x).sub(toBorn(y)).sigmoid()).tanh();
    await expectTensor(got, want, TRANS);
  });

  test('the same input used by several branches', async () => {
    const x = ref.random([6], 33);
    const t = toBorn(x);
    const want = ref.add(ref.mul(x, x), ref.sub(x, ref.neg(x)));
    await expectTensor(t.mul(t).add(t.sub(t.neg())), want);
  });
});

// Above the CPU device's inline threshold kernels run split over worker threads:
// these catch range-splitting mistakes (remainders, byte-sized bool outputs, views).
describe('large tensors (the worker-pool path)', () => {
  test('float32 chain on a permuted [301, 997] with a broadcast row', async () => {
    const x = ref.random([301, 997], 501);
    const row = ref.random([997], 502);
    const want = ref.gelu(ref.add(ref.mul(x, row), 0.5));
    const got = permutedBorn(x).mul(toBorn(row)).add(0.5).gelu();
    await expectTensor(got, want, TRANS);
  });

  test('bool output of a comparison over an odd length (byte-sized stores split across threads)', async () => {
    const a = ref.random([300_007], 503, { quantum: 2 });
    const b = ref.random([300_007], 504, { quantum: 2 });
    await expectTensor(toBorn(a).gt(toBorn(b)), ref.gt(a, b));
    await expectTensor(toBorn(a).eq(toBorn(b)), ref.eq(a, b));
  });

  test('int32 arithmetic and a cast over [3, 100003]', async () => {
    const i = ref.random([3, 100_003], 505, { dtype: 'int32', lo: -1000, hi: 1000 });
    const j = ref.random([100_003], 506, { dtype: 'int32', lo: -1000, hi: 1000 });
    await expectTensor(toBorn(i).mul(toBorn(j)).sub(7), ref.sub(ref.mul(i, j), 7));
    const f = ref.random([3, 100_003], 507, { lo: -50, hi: 50 });
    await expectTensor(toBorn(f).to('int32'), ref.cast(f, 'int32'));
  });

  test('float64 where over a sliced [600, 800]', async () => {
    const x = ref.random([600, 800], 508, { dtype: 'float64' });
    const want = ref.where(ref.gt(x, 0), ref.exp(x), ref.mul(x, 0.1));
    const s = slicedBorn(x);
    await expectTensor(born.where(s.gt(0), s.exp(), s.mul(0.1)), want);
  });
});

describe('results are the right ones, not a cached neighbour', () => {
  test('same structure, different constants', async () => {
    const x = ref.random([4, 5], 901);
    for (const k of [2, 3, -0.5, 2]) {
      await expectTensor(toBorn(x).mul(k).add(k / 2), ref.add(ref.mul(x, k), k / 2), {}, `k=${k}`);
    }
    for (const v of [0, 1, -2.5]) {
      await expectTensor(toBorn(x).pad([1, 1], { value: v }).add(0), ref.pad(x, [1, 1], { value: v }), {}, `pad value ${v}`);
    }
    for (const [lo, hi] of [[-1, 1], [0, 0.5], [-0.25, 2]] as const) {
      await expectTensor(toBorn(x).clamp({ min: lo, max: hi }), ref.clamp(x, { min: lo, max: hi }), {}, `clamp ${lo} ${hi}`);
    }
  });

  test('same structure, different input buffers', async () => {
    const b = ref.random([5], 902);
    for (let i = 0; i < 4; i++) {
      const x = ref.random([4, 5], 910 + i);
      await expectTensor(toBorn(x).mul(2).add(toBorn(b)).exp(), ref.exp(ref.add(ref.mul(x, 2), b)), TRANS, `input ${i}`);
    }
  });

  test('same structure, different view parameters', async () => {
    const x = ref.random([6, 6], 903, { quantum: 4 });
    for (const [s, e, st] of [[0, 3, 1], [1, 6, 2], [2, 5, 1], [0, 6, 3]] as const) {
      await expectTensor(toBorn(x).slice(1, s, e, st).mul(3), ref.mul(ref.slice(x, 1, s, e, st), 3), {}, `slice ${s}:${e}:${st}`);
    }
    for (const d of [[0], [1], [0, 1]]) {
      await expectTensor(toBorn(x).flip(d).add(1), ref.add(ref.flip(x, d), 1), {}, `flip ${d.join(',')}`);
    }
  });

  test('a realised result is not overwritten by later work (buffer reuse)', async () => {
    const x = ref.random([64, 64], 904);
    const first = toBorn(x).mul(2);
    const want = ref.mul(x, 2);
    await expectTensor(first, want, {}, 'first read');
    for (let i = 0; i < 30; i++) {
      const y = toBorn(ref.random([64, 64], 920 + i)).add(i);
      await y.data();
    }
    await expectTensor(first, want, {}, 'after 30 other kernels of the same size');
    await expectTensor(first.add(1), ref.add(want, 1), {}, 'used as an input later');
  });

  test('concurrent data() calls on overlapping graphs', async () => {
    const x = ref.random([50, 40], 905);
    const t = toBorn(x).exp();
    const u = t.mul(2);
    const v = t.add(u);
    const [a, b, c, d] = await Promise.all([t.data(), u.data(), v.data(), t.data()]);
    const check = async (got: ArrayLike<number>, want: NDArray, what: string): Promise<void> => {
      const bad = Array.from(got).filter((g, i) => Math.abs(g - want.data[i]!) > 1e-5 * Math.abs(want.data[i]!) + 1e-6);
      expect(bad.length, what).toBe(0);
    };
    const e = ref.exp(x);
    await check(a, e, 't');
    await check(b, ref.mul(e, 2), 'u');
    await check(c, ref.add(e, ref.mul(e, 2)), 'v');
    await check(d, e, 't again');
  });

  test('a deep chain of 300 ops', async () => {
    const x = ref.random([8], 906, { quantum: 4 });
    let t = toBorn(x);
    for (let i = 0; i < 300; i++) t = i % 2 === 0 ? t.add(1) : t.mul(1);
    await expectTensor(t, ref.add(x, 150));
  });

  test('zero-size tensors flow through elementwise ops', async () => {
    const z = born.zeros([0, 3]);
    const got = z.add(born.ones([3])).exp();
    expect(got.shape).toEqual([0, 3]);
    expect((await got.data()).length).toBe(0);
  });
});
