// Dtypes against PyTorch (test/fixtures/dtypes.json, written by test/fixtures/gen_dtypes.py from
// torch 1.13 on x86-64): torch.result_type for every pair of dtypes and operand kinds, casts of
// edge values between every pair of dtypes, integer wrapping and half-precision rounding per op,
// arange and linspace; and what int64 does beyond 2^53.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { DTYPES, resultType, type DType, type Participant } from '../src/graph/dtype.js';
import type { LazyNode } from '../src/graph/node.js';

type Enc = number | string;
type Case =
  | { kind: 'promote'; a: [string, DType]; b: [string, DType | null]; result: DType; default_int: boolean }
  | { kind: 'cast'; src: DType; dst: DType; x: Enc[]; y: Enc[] }
  | { kind: 'arith'; dtype: DType; op: string; x: Enc[]; y: Enc[]; out: Enc[]; out_dtype?: DType }
  | { kind: 'range'; fn: 'arange' | 'linspace'; args: number[]; dtype: DType; out: Enc[] };
const golden = JSON.parse(readFileSync(new URL('./fixtures/dtypes.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };
const of = <K extends Case['kind']>(k: K): Extract<Case, { kind: K }>[] => golden.cases.filter((c): c is Extract<Case, { kind: K }> => c.kind === k);

const dec = (v: Enc): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0' ? -0 : Number(v));
/** A Born tensor holding exactly the encoded values in `dtype`. */
function make(values: readonly Enc[], dtype: DType): born.Tensor {
  if (dtype === 'int64') return born.tensor(BigInt64Array.from(values, (v) => BigInt(v)));
  return born.tensor(values.map(dec), { dtype });
}
/** Values as comparable strings: exact (bigints as decimals, -0 and NaN spelled out). */
async function show(t: born.Tensor): Promise<string[]> {
  const d: ArrayLike<number | bigint> = await (t as born.Tensor<DType>).data() as ArrayLike<number | bigint>;
  return Array.from(d, (v) => (typeof v === 'bigint' ? String(v) : Number.isNaN(v) ? 'nan' : Object.is(v, -0) ? '-0' : String(v)));
}
const expected = (vs: readonly Enc[]): string[] => vs.map((v) => (typeof v === 'string' && v !== 'nan' && v !== '-0' && v !== 'inf' && v !== '-inf' ? v : (() => {
  const x = dec(v);
  return Number.isNaN(x) ? 'nan' : Object.is(x, -0) ? '-0' : String(x);
})()));

describe(`promotion matches torch.result_type (torch ${golden.torch})`, () => {
  const cases = of('promote');
  test('covers every pair of dtypes with every operand kind', () => {
    expect(cases.length).toBe(DTYPES.length * DTYPES.length * 4 + DTYPES.length * 6);
  });
  const operand = (kind: string, dtype: DType | null): born.Tensor | number | boolean =>
    kind === 'dim' ? born.ones([2], { dtype: dtype! }) : kind === 'zero' ? born.ones([], { dtype: dtype! }) : kind === 'int' ? 2 : kind === 'float' ? 2.5 : true;
  const participant = (kind: string, dtype: DType | null): Participant =>
    kind === 'dim' || kind === 'zero' ? { kind: 'tensor', dtype: dtype!, ndim: kind === 'dim' ? 1 : 0 } : { kind: 'scalar', value: kind === 'int' ? 2 : kind === 'float' ? 2.5 : true };
  test.each(cases.map((c) => [`${c.a.join(' ')} with ${c.b.filter(Boolean).join(' ')}`, c] as const))('%s', (_n, c) => {
    // Born's default integer dtype is int32 where PyTorch's is int64 (bool tensor + Python int).
    const want = c.default_int ? 'int32' : c.result;
    expect(resultType(participant(...c.a), participant(...c.b))).toBe(want);
    const x = operand(...c.a) as born.Tensor;
    expect(x.maximum(operand(...c.b)).dtype).toBe(want);
  });
});

describe('to(dtype) matches torch, edge values between every pair of dtypes', () => {
  const cases = of('cast');
  test('covers every pair', () => { expect(cases.length).toBe(DTYPES.length ** 2); });
  test.each(cases.map((c) => [`${c.src} -> ${c.dst}`, c] as const))('%s', async (_n, c) => {
    const x = make(c.x, c.src);
    expect(await show(x)).toEqual(expected(c.x));
    const y = x.to(c.dst);
    expect(y.dtype).toBe(c.dst);
    expect(await show(y)).toEqual(expected(c.y));
    // The same cast fused behind another op (a flip is a view read by the cast's kernel).
    expect((await show(x.flip([0]).to(c.dst))).reverse()).toEqual(expected(c.y));
  });
});

describe('arithmetic in each dtype: integers wrap, half types round after every op (fused or not)', () => {
  const run = (op: string, x: born.Tensor, y: born.Tensor): born.Tensor => {
    switch (op) {
      case 'add': return x.add(y);
      case 'sub': return x.sub(y);
      case 'mul': return x.mul(y);
      case 'maximum': return x.maximum(y);
      case 'neg': return x.neg();
      case 'div': return x.div(y);
      case 'chain': return x.mul(y).add(x).mul(y).sub(y);
      default: throw new Error(op);
    }
  };
  test.each(of('arith').map((c) => [`${c.dtype} ${c.op}`, c] as const))('%s', async (_n, c) => {
    const out = run(c.op, make(c.x, c.dtype), make(c.y, c.dtype));
    expect(out.dtype).toBe(c.out_dtype ?? c.dtype);
    const got = await show(out), want = expected(c.out);
    if (c.dtype === 'int64' && c.op === 'chain') {
      // (2^62 + 2^31) * 2^31 - 2^31 passes through 2^93: beyond 2^53 int64 arithmetic rounds.
      expect(got[3]).not.toBe(want[3]);
      got.splice(3, 1); want.splice(3, 1);
    }
    expect(got).toEqual(want);
  });
  test('the fused chain is one kernel', async () => {
    const x = born.tensor([1, 2], { dtype: 'float16' });
    const ks: string[] = [];
    const on = (e: { name: string }): void => { ks.push(e.name); };
    born.engine.on('kernel', on);
    await x.mul(x).add(x).mul(x).sub(x).data();
    born.engine.off('kernel', on);
    expect(ks.length).toBe(1);
  });
});

describe('arange and linspace', () => {
  const ranges = of('range');
  const build = (c: Extract<Case, { kind: 'range' }>): born.Tensor => (c.fn === 'arange'
    ? born.arange(c.args[0]!, c.args[1], c.args[2], { dtype: c.dtype })
    : born.linspace(c.args[0]!, c.args[1]!, c.args[2]!, { dtype: c.dtype }));
  const ulp = (x: number, dtype: DType): number => {
    if (dtype === 'float64') return Math.max(Number.MIN_VALUE, Math.abs(x) * 2 ** -52);
    const f = new Float32Array([Math.abs(x)]);
    const u = new Uint32Array(f.buffer);
    u[0] = u[0]! + 1;
    return f[0]! - Math.abs(x);
  };
  /** The exact value, and the size of the terms that form it (what a rounding error scales with). */
  const exact = (c: Extract<Case, { kind: 'range' }>, i: number): [number, number] => {
    const [a, b, n] = c.args as [number, number, number];
    const step = c.fn === 'arange' ? n : n === 1 ? 0 : (b - a) / (n - 1);
    return [a + i * step, Math.max(Math.abs(a), Math.abs(b), Math.abs(i * step))];
  };
  test.each(ranges.map((c) => [`${c.fn}(${c.args.join(', ')}) ${c.dtype}`, c] as const))('%s', async (_n, c) => {
    const t = build(c);
    expect(t.dtype).toBe(c.dtype);
    const got = Array.from(await t.data() as ArrayLike<number>);
    const want = c.out.map(dec);
    expect(got.length).toBe(want.length);
    if (c.dtype === 'int32') {
      expect(got).toEqual(want);
      return;
    }
    // PyTorch's kernels round in SIMD-width steps (base + j * step), so its last bits are an
    // artefact; Born is at least as accurate as PyTorch, to one ulp of the terms summed, and
    // linspace's endpoints are exactly PyTorch's.
    got.forEach((g, i) => {
      const [e, scale] = exact(c, i);
      expect(Math.abs(g - e), `[${i}] born ${g}, torch ${want[i]}, exact ${e}`).toBeLessThanOrEqual(Math.abs(want[i]! - e) + ulp(scale, c.dtype));
    });
    if (c.fn === 'linspace' && want.length) expect([got[0], got.at(-1)]).toEqual([want[0], want.at(-1)]);
    if (c.fn === 'arange' && want.length) expect(got[0]).toBe(want[0]);
  });
});

describe('no float64 behind the tensor layer: randn, rand, arange, linspace and integer matmul build float32/int nodes', () => {
  const dtypesIn = (t: born.Tensor): Set<DType> => {
    const seen = new Set<LazyNode>(), out = new Set<DType>();
    const walk = (n: LazyNode): void => { if (seen.has(n)) return; seen.add(n); out.add(n.dtype); n.srcs.forEach(walk); };
    walk(t.node);
    return out;
  };
  const a8 = born.tensor([[1, 2], [3, 4]], { dtype: 'int8' }), a32 = born.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
  test.each([
    ['randn', born.randn([8], { seed: 1 })], ['rand', born.rand([8], { seed: 1 })], ['randint', born.randint(0, 9, [8], { seed: 1 })],
    ['arange float', born.arange(0, 1, 0.1)], ['arange int', born.arange(0, 10, 3)], ['linspace', born.linspace(0, 1, 5)],
    ['int32 matmul', a32.matmul(a32)], ['int8 matmul', a8.matmul(a8)], ['float16 matmul', a8.to('float16').matmul(a8.to('float16'))],
  ] as const)('%s', (_n, t) => {
    expect(dtypesIn(t).has('float64')).toBe(false);
  });
  test('integer matmul is exact and wraps as PyTorch: int32 products past 2^31 and an int8 result', async () => {
    const a = born.tensor([[46341, 1], [2, 3]], { dtype: 'int32' });
    expect(await a.matmul(a).data()).toEqual(Int32Array.of((46341 * 46341 + 2) | 0, 46341 + 3, 2 * 46341 + 6, 11));
    expect(await a8.matmul(born.tensor([[100, 2], [3, 4]], { dtype: 'int8' })).data()).toEqual(Int8Array.of(106, 10, 56, 22));
  });
});

describe('int64: BigInt64Array storage, computed as doubles', () => {
  const big = [2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 123n];
  test('values are kept exactly where they are only moved: data(), views, copies, casts to narrower integers', async () => {
    const t = born.tensor(BigInt64Array.from(big));
    expect(t.dtype).toBe('int64');
    expect([...await t.data()]).toEqual(big);
    expect([...await t.reshape([2, 2]).data()]).toEqual(big);
    expect([...await t.flip([0]).data()].reverse()).toEqual(big); // a copy kernel moves the BigInts
    expect([...await t.pad([1, 0]).data()]).toEqual([0n, ...big]);
    expect(await t.to('int32').data()).toEqual(Int32Array.of(1, -1, 0, 123)); // low 32 bits, as torch
  });
  test('beyond ±2^53 arithmetic uses the nearest double, and a store of a value no int64 holds wraps modulo 2^64', async () => {
    const t = born.tensor(BigInt64Array.from(big));
    // 2^53 + 1 + 1 computes as 2^53 + 1 rounded (2^53) + 1, rounded again: 2^53; 2^63 - 1 rounds to 2^63, which wraps.
    expect([...await t.add(1).data()]).toEqual([2n ** 53n, -(2n ** 63n), -(2n ** 63n), 124n]); // -2^63 + 1 rounds to -2^63
    expect(await t.to('float64').data()).toEqual(Float64Array.of(2 ** 53, 2 ** 63, -(2 ** 63), 123));
  });
  test('below 2^53 everything is exact: indices, sums, products', async () => {
    const t = born.tensor(BigInt64Array.of(2n ** 51n, 3n, -(2n ** 40n)));
    expect([...await t.mul(2).add(1).data()]).toEqual([2n ** 52n + 1n, 7n, -(2n ** 41n) + 1n]);
    expect(await t.sum().item()).toBe(2 ** 51 + 3 - 2 ** 40);
    expect(await born.arange(0, 5, 1, { dtype: 'int64' }).data()).toEqual(BigInt64Array.of(0n, 1n, 2n, 3n, 4n));
  });
});

describe('creation and dtype names', () => {
  test('a Uint8Array is uint8 (not bool), other typed arrays take their own dtype', async () => {
    const u = born.tensor(new Uint8Array([0, 1, 2]));
    expect([u.dtype, [...await u.data()]]).toEqual(['uint8', [0, 1, 2]]);
    expect(await born.tensor(new Uint8Array([0, 1, 2]), { dtype: 'bool' }).data()).toEqual(Uint8Array.of(0, 1, 1));
    expect(born.tensor(new Int8Array(1)).dtype).toBe('int8');
    expect(born.tensor(new Int16Array(1)).dtype).toBe('int16');
    expect(born.tensor(new BigInt64Array(1)).dtype).toBe('int64');
    // @ts-expect-error: refused by the types too
    expect(() => born.tensor(new Uint16Array(1))).toThrow(/tensor: unsupported array type Uint16Array .*valid dtypes: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool/);
  });
  const valid = /unknown dtype "float8" \(valid dtypes: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool\)/;
  const bad = 'float8' as DType;
  test.each([
    ['tensor', () => born.tensor([1], { dtype: bad })], ['zeros', () => born.zeros([2], { dtype: bad })], ['ones', () => born.ones([2], { dtype: bad })],
    ['full', () => born.full([2], 1, { dtype: bad })], ['arange', () => born.arange(3, undefined, 1, { dtype: bad })],
    ['linspace', () => born.linspace(0, 1, 3, { dtype: bad })], ['eye', () => born.eye(2, 2, { dtype: bad })],
    ['rand', () => born.rand([2], { dtype: bad })], ['randn', () => born.randn([2], { dtype: bad })], ['randint', () => born.randint(0, 3, [2], { dtype: bad })],
  ] as const)('%s refuses an unknown dtype at the call, listing the valid ones', (name, f) => {
    expect(f).toThrow(new RegExp(`^${name}: ${valid.source}`));
  });
  test('to() refuses an unknown name, listing dtypes and devices', () => {
    expect(() => born.zeros([1]).to('float8' as DType)).toThrow(/dtypes: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool/);
  });
  test('float16 and bfloat16 data() are float32 arrays of the stored values; item and tolist give numbers', async () => {
    const h = born.tensor([1 / 3, 70000, -0], { dtype: 'float16' });
    expect(await h.data()).toEqual(Float32Array.of(0.333251953125, Infinity, -0));
    expect(await born.tensor([1 / 3], { dtype: 'bfloat16' }).item()).toBe(0.333984375);
    expect(await born.tensor(BigInt64Array.of(5n, -6n)).tolist()).toEqual([5, -6]);
  });
});

describe('int64 indices (PyTorch\'s and ONNX\'s index dtype)', () => {
  test('gather, indexSelect and oneHot take int64 as they take int32, gradients included', async () => {
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    const i64 = born.tensor(BigInt64Array.of(2n, 0n)), i32 = i64.to('int32');
    expect(await x.indexSelect(1, i64).data()).toEqual(await x.indexSelect(1, i32).data());
    const g = born.tensor(BigInt64Array.of(1n, 0n, 2n, 2n, 1n, 0n)).reshape([2, 3]);
    expect(await x.gather(1, g).data()).toEqual(Float32Array.of(2, 1, 3, 6, 5, 4));
    expect(await born.oneHot(i64, 3).data()).toEqual(await born.oneHot(i32, 3).data());
    const [dx] = born.grad(x.indexSelect(1, i64).sum(), [x]);
    expect(await dx!.data()).toEqual(Float32Array.of(1, 0, 1, 1, 0, 1));
    expect(() => x.gather(1, born.tensor([[0]], { dtype: 'int16' }))).toThrow('gather: index must be int64 or int32, got int16');
  });
});
