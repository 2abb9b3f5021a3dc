// Checkpoints in the safetensors format: the reference writer's exact bytes, round trips,
// PyTorch-written fixtures (test/fixtures/gen_safetensors.py), atomic saves, and malformed input.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { DTYPES, itemBytes, storageCtor, type DType, type TypedArray } from '../src/graph/dtype.js';
import { readNode } from '../src/scheduler/realize.js';
import { writeAll, writeFileAtomic } from '../src/io/atomic.js';
import { load, loadWithMetadata, parse, save, serialize, SafetensorsError, type RawTensor } from '../src/io/safetensors.js';
import { PYTHON, pythonTest } from './reference/python.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'safetensors');
const GEN = join(import.meta.dirname, 'fixtures', 'gen_safetensors.py');
const dirs: string[] = [];
const tmp = (): string => { dirs.push(mkdtempSync(join(tmpdir(), 'born-st-'))); return dirs.at(-1)!; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
const u64 = (n: number): number[] => [...new Uint8Array(new BigUint64Array([BigInt(n)]).buffer)];
const bytesOf = (a: TypedArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32 = (...v: number[]): RawTensor => ({ dtype: 'float32', shape: [v.length], data: Float32Array.from(v) });

/** A file from a header (object or raw JSON text) and a data section of `dataLen` bytes. */
function file(header: object | string, dataLen: number, lengthField?: number, fill = 1): Uint8Array {
  const json = enc(typeof header === 'string' ? header : JSON.stringify(header));
  return Uint8Array.from([...u64(lengthField ?? json.length), ...json, ...new Array<number>(dataLen).fill(fill)]);
}
const t = (dtype: string, shape: unknown, offs: unknown): object => ({ dtype, shape, data_offsets: offs });

describe('the byte layout matches the reference writer', () => {
  // Expected bytes copied from the reference implementation's own tests (safetensors/src/tensor.rs).
  test('one F32 tensor: u64 length, compact JSON, data', () => {
    const out = serialize({ 'attn.0': { dtype: 'float32', shape: [1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    expect([...out]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, ...enc('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'),
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]);
  });
  test('the header is padded with spaces so the data starts 8-byte aligned', () => {
    const out = serialize({ attn0: { dtype: 'float32', shape: [1, 1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    expect([...out.subarray(0, 80)]).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, ...enc('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ')]);
  });
  test('empty files, with and without __metadata__', () => {
    expect([...serialize({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...serialize({}, { framework: 'pt' })]).toEqual([40, 0, 0, 0, 0, 0, 0, 0, ...enc('{"__metadata__":{"framework":"pt"}}     ')]);
  });
  test('tensors are ordered widest dtype first, then by name (bytewise), back to back', () => {
    const out = serialize({
      z: { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) }, '10': f32(1), '9': f32(2),
      b: { dtype: 'int32', shape: [], data: Int32Array.of(7) }, a: { dtype: 'float64', shape: [1], data: Float64Array.of(1) },
    });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const text = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect(text).toBe((`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"10":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
      `"9":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"b":{"dtype":"I32","shape":[],"data_offsets":[16,20]},` +
      `"z":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}`).padEnd(n, ' '));
    expect(n % 8).toBe(0);
    expect(out.length).toBe(8 + n + 23);
  });
});

const dtypes: readonly DType[] = DTYPES;
const rawArb: fc.Arbitrary<RawTensor> = fc.record({
  dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
}).chain(({ dtype, shape }) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const size = itemBytes[dtype];
  return fc.uint8Array({ minLength: n * size, maxLength: n * size }).map((b) => {
    const buf = new Uint8Array(b).buffer; // any bit pattern, NaN payloads included
    const data = dtype === 'bool' ? Uint8Array.from(b, (x) => x & 1) : new storageCtor[dtype](buf, 0, n);
    return { dtype, shape, data };
  });
});
const dictArb = fc.dictionary(fc.string({ maxLength: 6, unit: 'binary' }).filter((k) => k !== '__metadata__'), rawArb, { maxKeys: 6 });

function expectSameTensors(a: Record<string, RawTensor>, b: Record<string, RawTensor>): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) {
    expect(b[k]!.dtype, k).toBe(a[k]!.dtype);
    expect(b[k]!.shape, k).toEqual(a[k]!.shape);
    expect(b[k]!.data.constructor, k).toBe(a[k]!.data.constructor);
    expect(bytesOf(b[k]!.data), k).toEqual(bytesOf(a[k]!.data));
  }
}

describe('serialize / parse', () => {
  test('round-trips every dtype, 0-d and empty tensors, odd names and metadata, byte for byte', () => {
    const dict: Record<string, RawTensor> = {
      scalar: { dtype: 'float64', shape: [], data: Float64Array.of(-0) }, empty: { dtype: 'int32', shape: [2, 0], data: new Int32Array(0) },
      '0.weight': { dtype: 'float32', shape: [2, 2], data: Float32Array.of(NaN, Infinity, -1e-45, 3.4e38) },
      'ünï ✓': { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) }, '2': { dtype: 'int32', shape: [1], data: Int32Array.of(-(2 ** 31)) },
      half: { dtype: 'float16', shape: [3], data: Uint16Array.of(0x7c00, 0x7e01, 0x8001) }, bf: { dtype: 'bfloat16', shape: [1], data: Uint16Array.of(0xffc1) },
      long: { dtype: 'int64', shape: [2], data: BigInt64Array.of(2n ** 63n - 1n, -(2n ** 53n) - 1n) }, i16: { dtype: 'int16', shape: [1], data: Int16Array.of(-32768) },
      i8: { dtype: 'int8', shape: [1], data: Int8Array.of(-128) }, u8: { dtype: 'uint8', shape: [2], data: Uint8Array.of(255, 7) },
    };
    Object.defineProperty(dict, '__proto__', { value: f32(5), enumerable: true });
    const back = parse(serialize(dict, { framework: 'born', '1': 'x' }));
    expectSameTensors(dict, back.tensors);
    expect(back.metadata).toEqual({ framework: 'born', '1': 'x' });
    expect(Object.getPrototypeOf(back.tensors)).toBe(Object.prototype);
  });
  test('key order does not matter; bools are written as 0/1', () => {
    expect(serialize({ a: f32(1), b: f32(2) })).toEqual(serialize({ b: f32(2), a: f32(1) }));
    const back = parse(serialize({ m: { dtype: 'bool', shape: [3], data: Uint8Array.of(0, 7, 255) } }));
    expect([...back.tensors.m!.data]).toEqual([0, 1, 1]);
  });
  test('random state dicts round-trip exactly', () => {
    fc.assert(fc.property(dictArb, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), (dict, meta) => {
      const back = parse(serialize(dict, meta));
      expectSameTensors(dict, back.tensors);
      expect(back.metadata).toEqual(meta);
    }), { numRuns: 200 });
  });
  test('serialize refuses data that does not match its dtype or shape', () => {
    expect(() => serialize({ x: { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2) } })).toThrow(/'x' has 2 values, its shape needs 3/);
    expect(() => serialize({ x: { dtype: 'int32', shape: [1], data: Float32Array.of(1) } })).toThrow(/'x' is int32 but its data is a Float32Array/);
    expect(() => serialize({ x: { dtype: 'float32', shape: [-1], data: Float32Array.of(1) } })).toThrow(/invalid shape/);
    expect(() => serialize({ __metadata__: f32(1) })).toThrow(/reserved/);
    expect(() => serialize({}, { a: 1 as unknown as string })).toThrow(/metadata value for "a" must be a string/);
  });
});

describe('malformed files are refused with a SafetensorsError that says what is wrong', () => {
  const F32x2 = t('F32', [2], [0, 8]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length field', Uint8Array.of(1, 2, 3), /3 bytes, too short/],
    ['an absurd header length', file({}, 0, 2 ** 53), /header length 9007199254740992 is over the 100000000-byte limit/],
    ['a header length past the end', file({}, 0, 100), /header length 100 runs past the end of the file \(10 bytes/],
    ['invalid UTF-8', Uint8Array.from([...u64(3), 0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ['a header that is not an object', file('[1, 2]', 0), /must start with '\{'/],
    ['invalid JSON', file('{"a": ', 0), /not valid JSON/],
    ['an unknown dtype', file({ x: t('F8_E4M3', [1], [0, 1]) }, 1), /tensor "x": unsupported dtype "F8_E4M3" \(readable: F64, F32/],
    ['a negative dim', file({ x: t('F32', [-1], [0, 4]) }, 4), /shape \[-1\] is not a list of non-negative integers/],
    ['a fractional dim', file({ x: t('F32', [1.5], [0, 4]) }, 4), /shape \[1.5\]/],
    ['offsets that are not a pair', file({ x: t('F32', [2], [0]) }, 8), /data_offsets \[0\] is not \[begin, end\]/],
    ['offsets backwards', file({ x: t('F32', [0], [8, 0]) }, 8), /is not \[begin, end\] with 0 <= begin <= end/],
    ['a size that does not match the shape', file({ x: t('F32', [3], [0, 8]) }, 8), /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    ['overlapping tensors', file({ a: F32x2, b: t('F32', [2], [4, 12]) }, 12), /tensor "b": data_offsets \[4, 12\] overlap tensor "a", which ends at 8/],
    ['a gap between tensors', file({ a: F32x2, b: t('F32', [1], [12, 16]) }, 16), /leave a gap of 4 bytes after 8/],
    ['a gap at the start', file({ a: t('F32', [1], [4, 8]) }, 8), /gap of 4 bytes after 0/],
    ['trailing bytes after the last tensor', file({ a: F32x2 }, 9), /1 bytes after the last tensor's data/],
    ['a truncated data section', file({ a: F32x2 }, 5), /data section is 5 bytes but the tensors need 8 \(truncated/],
    ['an element count that overflows', file({ a: t('F32', [2 ** 40, 2 ** 40], [0, 0]) }, 0), /impossibly large/],
    ['a tensor entry that is not an object', file({ a: [1] }, 0), /tensor "a": expected \{ dtype, shape, data_offsets \}/],
    ['non-string metadata', file({ __metadata__: { epoch: 3 } }, 0), /"__metadata__" value for "epoch" is 3, not a string/],
    ['JSON nested too deeply to print', file(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 0), /tensor "a": expected .* got a deeply nested array/],
    ['a U64 value too large for int64', file({ a: t('U64', [1], [0, 8]) }, 8, undefined, 0xff), /tensor "a" \(U64\): value 18446744073709551615 at flat index 0 does not fit in int64/],
  ];
  test.each(cases)('%s', (_name, bytes, message) => {
    let err: unknown;
    try { parse(bytes); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(/^safetensors: buffer: /);
    expect((err as Error).message).toMatch(message);
  });
  test('a tensor named "__proto__" is an ordinary own key, not a prototype', () => {
    const out = parse(file('{"__proto__":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}', 4));
    expect(Object.keys(out.tensors)).toEqual(['__proto__']);
    expect([...out.tensors['__proto__']!.data]).toEqual([0x01010101]);
    expect(Object.getPrototypeOf(out.tensors)).toBe(Object.prototype);
  });
  test('"__metadata__": null and unknown tensor fields are accepted, as the reference reader does', () => {
    const out = parse(file({ __metadata__: null, a: { ...F32x2, extra: 1 } }, 8));
    expect(out.tensors.a!.shape).toEqual([2]);
    expect(out.metadata).toEqual({});
  });
});

/** Either a consistent result or a SafetensorsError we anticipated; never anything else. */
function parseOrRefuse(bytes: Uint8Array): void {
  try {
    const { tensors } = parse(bytes);
    for (const v of Object.values(tensors)) {
      expect(v.data.length).toBe(v.shape.reduce((a, b) => a * b, 1));
      expect(v.data.constructor).toBe(storageCtor[v.dtype]);
    }
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).not.toMatch(/unexpected failure/);
  }
}

describe('fuzzing parse', () => {
  const valid = readFileSync(join(FIXTURES, 'torch_mixed.safetensors'));
  const headerEnd = 8 + Number(valid.readBigUInt64LE(0));
  test('random byte strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 16 }), (prefix, rest) => {
      parseOrRefuse(prefix);
      parseOrRefuse(Uint8Array.from([...u64(rest.length), ...rest]));
    }), { numRuns: 500 });
  });
  test('byte flips, truncations and extensions of a PyTorch-written file', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(headerEnd + 16), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(valid.length + 8), (flips, cut) => {
        const b = Uint8Array.from(valid);
        for (const [i, v] of flips) if (i < b.length) b[i] = v;
        parseOrRefuse(b);
        parseOrRefuse(b.subarray(0, cut));
        parseOrRefuse(Uint8Array.from([...b, ...new Array<number>(cut % 9).fill(0)]));
      }), { numRuns: 500 });
  });
  test('rewritten header numbers (offsets, dims) in a valid file', () => {
    const text = new TextDecoder().decode(valid.subarray(8, headerEnd));
    const numbers = [...text.matchAll(/\d+/g)];
    fc.assert(fc.property(fc.nat(numbers.length - 1), fc.oneof(fc.nat(300), fc.constantFrom(-1, 2 ** 53, 1e300, 0.5)), (which, value) => {
      const m = numbers[which]!;
      const json = text.slice(0, m.index) + String(value) + text.slice(m.index! + m[0].length);
      parseOrRefuse(Uint8Array.from([...u64(enc(json).length), ...enc(json), ...valid.subarray(headerEnd)]));
    }), { numRuns: 400 });
  });
});

/** PyTorch reads what Born wrote: skipped without it, failed without it under CI. */
const torchTest = pythonTest(['torch', 'numpy']);

/** One tensor of every dtype, with edge values, built from storage so half types hold chosen bits. */
const everyDtype = (): Record<string, born.Tensor> => ({
  w: born.tensor([[1.5, -2], [3, 4]]), 'bn.num_batches_tracked': born.tensor(7, { dtype: 'int32' }),
  d: born.tensor([0.1, 1e-300], { dtype: 'float64' }), m: born.tensor([true, false]), e: born.zeros([0, 2]),
  h: born.tensor([1, -2.5, 65504, 6e-8, Infinity, NaN, 1e-4], { dtype: 'float16' }),
  bf: born.tensor([1, -3.14, 1e30, -1e-30, -Infinity, 0.1], { dtype: 'bfloat16' }),
  long: born.tensor(BigInt64Array.of(0n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n))),
  short: born.tensor(Int16Array.of(-32768, 32767, 0)), byte: born.tensor(Int8Array.of(-128, 127, -1)),
  ubyte: born.tensor(Uint8Array.of(0, 128, 255)), lazy: born.tensor([1, 2, 3], { dtype: 'int64' }).mul(3),
});
describe('files written by PyTorch (test/fixtures/gen_safetensors.py)', () => {
  const decodeValue = (v: number | string): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));
  test('every dtype loads as stored (F16, BF16, I64, U8, I8, I16 included): the bytes torch wrote, the values torch reports', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'torch_mixed.expected.json'), 'utf8')) as {
      metadata: Record<string, string>; tensors: Record<string, { dtype: DType; shape: number[]; hex: string; values: (number | string)[] }>;
    };
    const { tensors, metadata } = await loadWithMetadata(join(FIXTURES, 'torch_mixed.safetensors'));
    expect(metadata).toEqual(expected.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    expect(new Set(Object.values(tensors).map((t) => t.dtype))).toEqual(new Set(DTYPES));
    for (const [name, want] of Object.entries(expected.tensors)) {
      const got = tensors[name]!;
      expect([got.dtype, got.shape], name).toEqual([want.dtype, want.shape]);
      expect(Buffer.from(bytesOf(await readNode(got.node))).toString('hex'), name).toBe(want.hex);
      const data = await got.data();
      if (data instanceof BigInt64Array) {
        expect([...data].map(String), name).toEqual(want.values);
        continue;
      }
      const values = [...data];
      want.values.map(decodeValue).forEach((v, i) => expect(Object.is(values[i], v) || (isNaN(v) && isNaN(values[i]!)), `${name}[${i}]: ${values[i]} vs ${v}`).toBe(true));
    }
  });
  test('an older writer\'s layout (name order, unaligned, unpadded) reads too', async () => {
    const sd = await load(join(FIXTURES, 'name_order_unpadded.safetensors'));
    expect([sd.a!.dtype, await sd.a!.tolist()]).toEqual(['int8', [7]]);
    expect([sd.b!.dtype, await sd.b!.tolist()]).toEqual(['int16', [1, 2, 3]]);
    expect([sd.c!.dtype, await sd.c!.tolist()]).toEqual(['float64', [0.5, -0.25]]);
  });
  test('I64 values beyond int32 and beyond 2^53 load exactly, as a BigInt64Array', async () => {
    const sd = await load(join(FIXTURES, 'i64_overflow.safetensors'));
    expect(sd.big!.dtype).toBe('int64');
    expect(await sd.big!.data()).toEqual(BigInt64Array.of(1n, 2n ** 40n, 2n ** 62n + 3n));
  });
  torchTest('a file written by save reads back in the Python reader with the same bytes, every dtype', async () => {
    const path = join(tmp(), 'out.safetensors');
    const sd = everyDtype();
    await save(sd, path, { metadata: { format: 'pt' } });
    const py = JSON.parse(execFileSync(PYTHON, [GEN, '--read', path], { encoding: 'utf8', timeout: 60_000 })) as {
      metadata: Record<string, string>; tensors: Record<string, { dtype: string; shape: number[]; hex: string }>;
    };
    expect(py.metadata).toEqual({ format: 'pt' });
    const fileName: Record<DType, string> = {
      float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
    };
    expect(new Set(Object.values(py.tensors).map((t) => t.dtype))).toEqual(new Set(Object.values(fileName)));
    for (const [name, tensor] of Object.entries(sd)) {
      const hex = Buffer.from(bytesOf(await readNode(tensor.node))).toString('hex');
      expect(py.tensors[name], name).toEqual({ dtype: fileName[tensor.dtype], shape: tensor.shape, hex });
    }
  });
});

describe('save and load', () => {
  test('round trip through a file: every dtype, 0-d, empty, lazy tensors; metadata separately', async () => {
    const path = join(tmp(), 'model.safetensors');
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    const sd: Record<string, born.Tensor> = { 'fc.weight': x.mul(2).T, 'fc.bias': born.tensor([0.5, -0.5], { dtype: 'float64' }), step: born.tensor(3, { dtype: 'int32' }),
      mask: born.tensor([[true], [false]]), empty: born.zeros([3, 0], { dtype: 'int32' }), ...everyDtype() };
    await save(sd, path, { metadata: { epoch: '3' } });
    const back = await load(path);
    expect(Object.keys(back).sort()).toEqual(Object.keys(sd).sort());
    for (const [k, v] of Object.entries(sd)) {
      expect([back[k]!.dtype, back[k]!.shape], k).toEqual([v.dtype, v.shape]);
      expect(bytesOf(await readNode(back[k]!.node)), k).toEqual(bytesOf(await readNode(v.node)));
    }
    expect((await loadWithMetadata(path)).metadata).toEqual({ epoch: '3' });
  });
  test('maxBytes caps the file size read', async () => {
    const path = join(tmp(), 'big.safetensors');
    await save({ w: born.zeros([64]) }, path);
    await expect(load(path, { maxBytes: 100 })).rejects.toThrow(/big.safetensors: file is \d+ bytes, over maxBytes 100/);
    expect((await load(path, { maxBytes: 1000 })).w!.shape).toEqual([64]);
  });
  test('a malformed file on disk is an error naming the file', async () => {
    const path = join(tmp(), 'cut.safetensors');
    writeFileSync(path, serialize({ w: f32(1, 2, 3) }).subarray(0, -2));
    await expect(load(path)).rejects.toThrow(new RegExp(`^safetensors: ${path}: data section is 10 bytes but the tensors need 12`));
    await expect(load(join(tmp(), 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
  });
  test('bad arguments are refused before anything is written', async () => {
    const dir = tmp();
    await expect(save({ w: [1, 2] as unknown as born.Tensor }, join(dir, 'a'))).rejects.toThrow("save: 'w' is not a Tensor (got object)");
    await expect(save({ w: f32(1) as unknown as born.Tensor }, join(dir, 'a'))).rejects.toThrow(TypeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('saves are atomic', () => {
  const OLD = Uint8Array.from([1, 2, 3, 4]);
  test('a tensor whose read fails midway leaves the old file intact and no temp file', async () => {
    const dir = tmp();
    const path = join(dir, 'ckpt.safetensors');
    writeFileSync(path, OLD);
    const bad = born.tensor([1, 2]);
    let seenMidway: string[] = [];
    // The buffer reports a device failure once the write has begun (save reads each tensor then).
    Object.defineProperty(bad.node.realized!, 'ready', {
      get: () => {
        const files = readdirSync(dir);
        if (!files.some((f) => f.endsWith('.tmp'))) return null;
        seenMidway = files;
        return Promise.reject(new Error('device lost'));
      },
    });
    await expect(save({ a: born.tensor([1, 2, 3]), b: bad }, path)).rejects.toThrow('device lost');
    expect(seenMidway.some((f) => f.endsWith('.tmp'))).toBe(true); // the failure really was mid-write
    expect(readFileSync(path)).toEqual(Buffer.from(OLD));
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
  });
  test('a write that fails halfway leaves the old file intact and no temp file', async () => {
    const dir = tmp();
    const path = join(dir, 'ckpt.safetensors');
    writeFileSync(path, OLD);
    await expect(writeFileAtomic(path, async (f) => { await writeAll(f, new Uint8Array(1000)); throw new Error('disk full'); })).rejects.toThrow('disk full');
    expect(readFileSync(path)).toEqual(Buffer.from(OLD));
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
  });
  test('a successful save replaces the file and leaves nothing else behind', async () => {
    const dir = tmp();
    const path = join(dir, 'ckpt.safetensors');
    writeFileSync(path, OLD);
    await save({ w: born.tensor([9]) }, path);
    expect(await (await load(path)).w!.tolist()).toEqual([9]);
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    await expect(save({ w: born.tensor([9]) }, join(dir, 'no', 'such', 'dir', 'x'))).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});
