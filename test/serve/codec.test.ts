// JSON predict bodies into host arrays (src/serve/codec.ts decodeJson), against a naive reading:
// flatten to boxed leaves, check each, convert with the dtype's typed array.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType } from '../../src/graph/dtype.js';
import { BadRequest, decodeJson } from '../../src/serve/codec.js';
import type { Servable, TensorSpec } from '../../src/serve/servable.js';

const servable = (spec: TensorSpec): Servable => ({
  kind: 'born', description: 'test', inputs: [spec], outputs: [], batched: false,
  run: () => Promise.reject(new Error('not run')),
});

const ARRAYS: Partial<Record<DType, (xs: number[]) => ArrayLike<number>>> = {
  float32: (xs) => Float32Array.from(xs), float64: (xs) => Float64Array.from(xs), int32: (xs) => Int32Array.from(xs),
  int16: (xs) => Int16Array.from(xs), int8: (xs) => Int8Array.from(xs), uint8: (xs) => Uint8Array.from(xs),
};

/** The naive reading: the leaves depth-first, as numbers. */
function leaves(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(leaves) : [v];
}

const decode = (dtype: DType, shape: TensorSpec['shape'], inputs: unknown): ReturnType<typeof decodeJson>[string] =>
  decodeJson(servable({ name: 'x', dtype, shape }), { inputs })['x']!;

const message = (f: () => unknown): string => {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(BadRequest); return (e as Error).message; }
  throw new Error('no error');
};

describe('decodeJson', () => {
  test('property: rectangular arrays of every numeric dtype read as the naive flatten gives them', () => {
    const dtypes = Object.keys(ARRAYS) as DType[];
    fc.assert(fc.property(
      fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.integer(),
      (dtype, shape, seed) => {
        let s = seed >>> 0;
        const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
        const leaf = (): number => (dtype.startsWith('float') ? (next() - 0.5) * 1e3 : dtype === 'uint8' ? Math.floor(next() * 256) : Math.floor((next() - 0.5) * 200));
        const build = (d: number): unknown => (d === shape.length ? leaf() : Array.from({ length: shape[d]! }, () => build(d + 1)));
        const value = build(0);
        const a = decode(dtype, null, value);
        expect(a.shape).toEqual(shape);
        expect(Array.from(a.data as ArrayLike<number>)).toEqual(Array.from(ARRAYS[dtype]!(leaves(value) as number[])));
      }), { numRuns: 200 });
  });

  test('bool takes true, false, 0 and 1; int64 integers to 2^53; a scalar body is a 0-d array', () => {
    expect([...decode('bool', [3], [true, 0, 1]).data as Uint8Array]).toEqual([1, 0, 1]);
    expect([...decode('int64', null, [2 ** 53, -5]).data as BigInt64Array]).toEqual([2n ** 53n, -5n]);
    const s = decode('float32', null, 2.5);
    expect(s.shape).toEqual([]);
    expect([...s.data as Float32Array]).toEqual([2.5]);
  });

  test.each([
    ['int8', [1, 200], /value 1 must be an integer in -128..127, got 200/],
    ['int32', [1.5], /value 0 must be an integer/],
    ['uint8', [-1], /value 0 must be an integer in 0..255/],
    ['bool', [true, 2], /value 1 must be true, false, 0 or 1, got 2/],
    ['float32', [[1, 2], [3, 'a']], /value 3 must be a number, got "a"/],
    ['float32', [[1, 2], [3]], /ragged nested array: x\[1\] has 1 entries, expected 2/],
    ['float32', [[1, 2], 3], /ragged nested array: x\[1\] is not a list/],
    ['float32', [[1, [2]]], /ragged nested array: x\[0\]\[1\] is a list, where its siblings hold numbers/],
    ['float32', null, /value 0 must be a number, got null/],
  ] as const)('%s %j is a BadRequest naming the value', (dtype, value, re) => {
    expect(message(() => decode(dtype, null, value))).toMatch(re);
  });

  test('nesting deeper than 32 levels is refused before the walk', () => {
    let v: unknown = 1;
    for (let i = 0; i < 40; i++) v = [v];
    expect(message(() => decode('float32', null, v))).toMatch(/nested more than 32 levels deep/);
  });
});
