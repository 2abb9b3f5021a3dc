// Predict bodies read from their bytes (src/serve/json-tensors.ts) against JSON.parse, the
// reference: what the reader takes it must read exactly as JSON.parse does (every double bit for
// bit), and what it does not take it must leave alone (undefined), never throw.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DType } from '../../src/graph/dtype.js';
import { BadRequest, decodeJson } from '../../src/serve/codec.js';
import { JsonTensor, readTensorJson } from '../../src/serve/json-tensors.js';
import type { Servable, TensorSpec } from '../../src/serve/servable.js';

const read = (text: string): Record<string, unknown> | undefined => readTensorJson(Buffer.from(text, 'utf8'));

/** The reader's result with every JsonTensor turned back into nested arrays, to compare with JSON.parse. */
function nested(v: unknown): unknown {
  if (v instanceof JsonTensor) {
    const build = (d: number, off: number): unknown => {
      if (d === v.shape.length) return v.data[off];
      const stride = v.shape.slice(d + 1).reduce((a, n) => a * n, 1);
      return Array.from({ length: v.shape[d]! }, (_, i) => build(d + 1, off + i * stride));
    };
    return build(0, 0);
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nested(x)]));
  return v;
}

/** Deep equality where numbers compare with Object.is (-0 is not 0). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** Whatever the reader takes from `text` is what JSON.parse makes of it. */
function agrees(text: string): boolean {
  const r = read(text);
  if (r === undefined) return true;
  return same(nested(r), JSON.parse(text));
}

const digits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** Any JSON number's text: sign, integer part, fraction, exponent, with long mantissas and large exponents. */
const numberText = fc.tuple(
  fc.boolean(), fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digits(0, 24)).map(([a, b]) => a + b)),
  fc.option(digits(1, 24)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3))),
).map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : exp.join('')}`);

describe('readTensorJson', () => {
  test('property: every JSON number reads as JSON.parse reads it, bit for bit', () => {
    fc.assert(fc.property(fc.array(numberText, { minLength: 1, maxLength: 8 }), (xs) => {
      const r = read(`{"inputs": [${xs.join(', ')}]}`);
      expect(r).toBeDefined();
      const t = r!['inputs'] as JsonTensor;
      expect(t.shape).toEqual([xs.length]);
      xs.forEach((x, i) => expect(Object.is(t.data[i], JSON.parse(x))).toBe(true));
    }), { numRuns: 2000 });
  });

  test('property: rectangular arrays of doubles, as JSON.stringify writes them, read back exactly', () => {
    const value = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }), fc.array(value, { minLength: 256, maxLength: 256 }), (shape, pool) => {
      let k = 0;
      const build = (d: number): unknown => (d === shape.length ? pool[k++ % pool.length] : Array.from({ length: shape[d]! }, () => build(d + 1)));
      const body = { inputs: { a: build(0), b: build(0) } };
      const text = JSON.stringify(body, null, k % 2 ? 1 : undefined);
      const r = read(text);
      expect(r).toBeDefined();
      expect((r!['inputs'] as Record<string, JsonTensor>)['a']!.shape).toEqual(shape);
      // Against the text's parse, not `body`: JSON.stringify writes -0 as 0.
      expect(same(nested(r), JSON.parse(text))).toBe(true);
    }), { numRuns: 300 });
  });

  test('property: any JSON text, and any mangling of a body, is read as JSON.parse reads it or left alone', () => {
    fc.assert(fc.property(fc.json(), (text) => agrees(text)), { numRuns: 1000 });
    const base = '{"inputs": {"x": [[1.5, -2e-3], [3, 4]], "y": [0.25]}}';
    fc.assert(fc.property(fc.integer({ min: 0, max: base.length }), fc.integer({ min: 0, max: 4 }), fc.string({ maxLength: 4 }), (at, cut, put) => {
      const text = base.slice(0, at) + put + base.slice(at + cut);
      let valid = true;
      try { JSON.parse(text); } catch { valid = false; }
      if (!valid) return read(text) === undefined;
      return agrees(text);
    }), { numRuns: 2000 });
  });

  test.each([
    ['a ragged array', '{"inputs": [[1, 2], [3]]}'],
    ['an array mixing lists and numbers', '{"inputs": [[1], 2]}'],
    ['an empty array', '{"inputs": [[]]}'],
    ['a string', '{"inputs": ["1"]}'],
    ['a boolean', '{"inputs": [true]}'],
    ['a scalar input', '{"inputs": {"x": 1}}'],
    ['a __proto__ key', '{"__proto__": [1]}'],
    ['an escaped key', '{"in\\u0070uts": [1]}'],
    ['a non-ASCII key', '{"inputs": {"é": [1]}}'],
    ['trailing text', '{"inputs": [1]} 2'],
    ['a leading zero', '{"inputs": [01]}'],
    ['NaN', '{"inputs": [NaN]}'],
    ['an array at the top', '[1, 2]'],
    ['33 levels of nesting', `{"inputs": ${'['.repeat(33)}1${']'.repeat(33)}}`],
  ])('leaves alone %s', (_what, text) => {
    expect(read(text)).toBeUndefined();
  });
});

const servable = (spec: TensorSpec): Servable => ({
  kind: 'born', description: 'test', inputs: [spec], outputs: [], batched: false,
  run: () => Promise.reject(new Error('not run')),
});

/** decodeJson's answer, or its BadRequest's message. */
function decoded(dtype: DType, body: unknown): unknown {
  try {
    const a = decodeJson(servable({ name: 'x', dtype, shape: null }), body)['x']!;
    return { dtype: a.dtype, shape: a.shape, data: Array.from(a.data as ArrayLike<number | bigint>, (v) => String(v)) };
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequest);
    return (e as Error).message;
  }
}

describe('decodeJson of bodies read from their bytes', () => {
  test.each([
    ['float32', '{"inputs": [[0.1, -0, 3e38, 4e38]]}'],
    ['float64', '{"inputs": [[0.1, -0, 1e300]]}'],
    ['int32', '{"inputs": [1, -2147483648, 2147483647]}'],
    ['int32', '{"inputs": [1, 2147483648]}'],
    ['int8', '{"inputs": [[1, 1.5]]}'],
    ['uint8', '{"inputs": [-1]}'],
    ['int64', '{"inputs": [9007199254740992, -3]}'],
    ['bool', '{"inputs": [0, 1, 1]}'],
    ['bool', '{"inputs": [0, 2]}'],
    ['float32', '{"input": [1]}'],
  ] as const)('%s %s: the same arrays and errors as from JSON.parse', (dtype, text) => {
    expect(read(text)).toBeDefined();
    expect(decoded(dtype, read(text))).toEqual(decoded(dtype, JSON.parse(text)));
  });
});
