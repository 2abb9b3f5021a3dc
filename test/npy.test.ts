// NumPy's .npy format: files written by NumPy (test/fixtures/gen_npy.py) read back as NumPy reads
// them, our writer's bytes equal np.save's, round trips, and malformed input (fuzzed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { fromFloat16Bits, storageCtor, type DType } from '../src/graph/dtype.js';
import { loadNpy, NpyError, readNpy, saveNpy, writeNpy, type NpyArray } from '../src/io/npy.js';
import { PYTHON, pythonTest } from './reference/python.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'npy');
interface Entry { file: string; descr: string; shape: number[]; fortran: boolean; values: (number | string | null)[] }
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Entry[];
const fixture = (file: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, file)));
const dirs: string[] = [];
const tmp = (): string => { dirs.push(mkdtempSync(join(tmpdir(), 'born-npy-'))); return dirs.at(-1)!; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const EXPECT_DTYPE: Record<string, DType> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64', u1: 'uint8', b1: 'bool',
  u2: 'int32', u4: 'int64', u8: 'int64',
};
/** Values as plain strings, so int64 compares exactly and float16 compares through its bits' value. */
function flat(a: NpyArray): string[] {
  return Array.from(a.data as ArrayLike<number | bigint>).map((v) => (a.dtype === 'float16' ? String(fromFloat16Bits(Number(v))) : String(v)));
}
const header = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(10, 10 + (bytes[8]! | (bytes[9]! << 8)))).toString('latin1');
/** A v1.0 file with the given header text (padded to 64 bytes as NumPy pads) and data bytes. */
function npyFile(dict: string, data: number[] = []): Uint8Array {
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const text = Buffer.from(dict + ' '.repeat(pad) + '\n', 'latin1');
  return Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0, text.length & 0xff, text.length >> 8, ...text, ...data]);
}

describe('reading files NumPy wrote', () => {
  test.each(manifest.map((e) => [e.file, e] as const))('%s', (_, e) => {
    const a = readNpy(fixture(e.file));
    expect(a.dtype).toBe(EXPECT_DTYPE[e.descr.slice(1)]);
    expect(a.shape).toEqual(e.shape);
    expect(a.data).toBeInstanceOf(storageCtor[a.dtype]);
    expect(flat(a)).toEqual(e.values.map((v) => String(v ?? NaN)));
  });

  test('the fixtures cover fortran order, big-endian, 0-d, zero-size and versions 2.0 and 3.0', () => {
    expect(manifest.filter((e) => e.fortran).length).toBe(2);
    expect(manifest.some((e) => e.descr.startsWith('>'))).toBe(true);
    expect(fixture('v2_f4_3.npy')[6]).toBe(2);
    expect(fixture('v3_f4_3.npy')[6]).toBe(3);
    expect(header(fixture('fortran_f4_2x3x2.npy'))).toContain("'fortran_order': True");
    // Fortran order really was transposed: element [0,1,0] of arange(12).reshape(2,3,2) is 2.
    expect(flat(readNpy(fixture('fortran_f4_2x3x2.npy')))).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  test('loadNpy gives a tensor with the values', async () => {
    const t = await loadNpy(join(FIXTURES, 'f4_2x3.npy'));
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect([...(await t.data())]).toEqual([1.5, -2, 3, 0.25, Math.fround(1e-3), -7]);
    const s = await born.loadNpy(join(FIXTURES, 'f8_scalar.npy'));
    expect(s.shape).toEqual([]);
    expect(await s.item()).toBe(3.141592653589793);
  });
});

describe('writing', () => {
  // Every little-endian C-order fixture of a dtype Born writes must come out byte for byte as np.save wrote it.
  const same = manifest.filter((e) => !e.fortran && !e.descr.startsWith('>') && !/u[248]/.test(e.descr) && !/^v[23]/.test(e.file));
  test.each(same.map((e) => [e.file] as const))('%s equals np.save byte for byte', (file) => {
    const bytes = fixture(file);
    expect(Buffer.from(writeNpy(readNpy(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });

  test('a header over 64 KiB switches to version 2.0 and still aligns the data to 64 bytes', () => {
    const shape = Array.from({ length: 25_000 }, () => 1);
    const out = writeNpy({ dtype: 'int8', shape, data: Int8Array.of(-3) });
    expect(out[6]).toBe(2);
    const len = new DataView(out.buffer).getUint32(8, true);
    expect((12 + len) % 64).toBe(0);
    expect(readNpy(out, { maxHeaderBytes: 1e6 })).toEqual({ dtype: 'int8', shape, data: Int8Array.of(-3) });
  });

  test('bfloat16 and mismatched data are refused with NpyError', () => {
    expect(() => writeNpy({ dtype: 'bfloat16', shape: [1], data: Uint16Array.of(0) })).toThrow(/NumPy has no bfloat16/);
    expect(() => writeNpy({ dtype: 'float32', shape: [2], data: Float32Array.of(1) })).toThrow(NpyError);
    expect(() => writeNpy({ dtype: 'float32', shape: [1], data: Int32Array.of(1) })).toThrow(NpyError);
  });

  const numpyTest = pythonTest(['numpy']);
  numpyTest('saveNpy then loadNpy round-trips a lazy, transposed tensor; NumPy reads it', async () => {
    const path = join(tmp(), 'x.npy');
    const x = born.arange(6, { dtype: 'float32' }).reshape(2, 3).T.mul(2);
    await saveNpy(path, x);
    const y = await loadNpy(path);
    expect(y.shape).toEqual([3, 2]);
    expect([...(await y.data())]).toEqual([0, 6, 2, 8, 4, 10]);
    const seen = execFileSync(PYTHON, ['-c', 'import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype.str, a.shape, a.tolist())', path], { encoding: 'utf8' });
    expect(seen.trim()).toBe('<f4 (3, 2) [[0.0, 6.0], [2.0, 8.0], [4.0, 10.0]]');
  });

  const dtypes: DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
  test('round trip: any shape and dtype (fast-check)', () => {
    fc.assert(fc.property(fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), fc.integer(), (dtype, shape, seed) => {
      const n = shape.reduce((a, d) => a * d, 1);
      const data = new storageCtor[dtype](n);
      for (let i = 0; i < n; i++) {
        const v = (seed + i * 7919) % 200;
        if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v) * 1234567891n;
        else (data as Float32Array)[i] = dtype === 'bool' ? v & 1 : dtype === 'float16' ? v * 97 : v - 100;
      }
      const bytes = writeNpy({ dtype, shape, data });
      expect(bytes.length % 64).toBe((n * data.BYTES_PER_ELEMENT) % 64);
      expect(readNpy(bytes)).toEqual({ dtype, shape, data });
    }));
  });
});

describe('malformed input', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /too short/],
    ['no magic', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").map((b, i) => (i === 1 ? 0 : b)), /byte 1: not a \.npy file/],
    ['version 4', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").map((b, i) => (i === 6 ? 4 : b)), /version 4\.0/],
    ['header past the end', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").subarray(0, 40), /runs past the end/],
    ['huge shape', npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", [0, 0, 0, 0]), /needs .* bytes of data, the file has 4/],
    ['dimension too large', npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"), /too large/],
    ['truncated data', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [0, 0, 0, 0]), /needs 8 bytes of data, the file has 4/],
    ['trailing data', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0, 9]), /1 bytes after/],
    ['missing key', npyFile("{'descr': '<f4', 'shape': (1,), }", [0, 0, 0, 0]), /expected exactly \{descr, fortran_order, shape\}/],
    ['extra key', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': True, }", [0, 0, 0, 0]), /header keys/],
    ['duplicate key', npyFile("{'descr': '<f4', 'descr': '<f4', 'shape': (), }"), /appears twice/],
    ['python expression', npyFile("{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (), }"), /header byte 44: expected a string, True, False or a tuple/],
    ['unknown dtype', npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (), }"), /unsupported dtype '<c8'/],
    ['structured dtype', npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (), }"), /structured dtypes/],
    ['| on a 4-byte type', npyFile("{'descr': '|f4', 'fortran_order': False, 'shape': (), }"), /no byte order/],
    ['negative dim', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), /non-negative integer/],
    ['(n) without comma', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }"), /trailing comma/],
    ['text after the dict', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), } x"), /after the header dict/],
    ['uint64 over int64', npyFile("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0, 0, 0, 0, 0x80]), /does not fit in int64/],
  ];
  test.each(cases)('%s', (_, bytes, message) => {
    expect(() => readNpy(bytes)).toThrow(NpyError);
    expect(() => readNpy(bytes)).toThrow(message);
  });

  test('a header over maxHeaderBytes is refused before it is parsed', () => {
    expect(() => readNpy(fixture('f4_2x3.npy'), { maxHeaderBytes: 32 })).toThrow(/header length 118 is over the 32-byte limit/);
  });

  test('loadNpy names the file; a missing file is the filesystem error', async () => {
    const path = join(tmp(), 'bad.npy');
    writeFileSync(path, 'not numpy at all');
    await expect(loadNpy(path)).rejects.toThrow(new RegExp(`npy: ${path}: byte 0`));
    await expect(loadNpy(path, { maxBytes: 4 })).rejects.toThrow(/over maxBytes 4/);
    await expect(loadNpy(join(tmp(), 'missing.npy'))).rejects.toThrow(/ENOENT/);
  });

  // Mutations of real files: whatever happens, the result is a valid array or an NpyError, and what
  // it allocates never exceeds the input's size (the data is a copy of bytes the file holds).
  const seeds = manifest.map((e) => fixture(e.file));
  const bounded = (bytes: Uint8Array): void => {
    try {
      const a = readNpy(bytes);
      expect(a.data.byteLength).toBeLessThanOrEqual(bytes.length * 4); // u2 widens to int32: at most 2x; u4 to int64: 2x
      expect(a.shape.reduce((x, d) => x * d, 1)).toBe(a.data.length);
    } catch (e) {
      expect(e).toBeInstanceOf(NpyError);
    }
  };
  test('fuzz: truncation and byte flips', () => {
    fc.assert(fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(300), (k, flips, cut) => {
      const b = seeds[k]!.slice(0, cut);
      for (const [at, v] of flips) if (at < b.length) b[at] = v;
      bounded(b);
    }), { numRuns: 400 });
  });
  test('fuzz: header edits', () => {
    const tokens = ["'", '(', ')', ',', ':', '{', '}', ' ', '\n', '9', '99999999', '-1', 'True', 'False', "'<f8'", "'>u8'", "'shape'", '[', 'L', '\\'];
    fc.assert(fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(120), fc.nat(4), fc.constantFrom(...tokens)), { minLength: 1, maxLength: 3 }), (k, edits) => {
      const src = seeds[k]!;
      const start = src[6] === 1 ? 10 : 12;
      const len = src[6] === 1 ? src[8]! | (src[9]! << 8) : new DataView(src.buffer, src.byteOffset).getUint32(8, true);
      let text = Buffer.from(src.subarray(start, start + len)).toString('latin1');
      for (const [at, del, tok] of edits) text = text.slice(0, at) + tok + text.slice(at + del);
      const head = Buffer.from(text, 'latin1');
      const pre = Uint8Array.from(src.subarray(0, start));
      if (start === 10) { pre[8] = head.length & 0xff; pre[9] = (head.length >> 8) & 0xff; } else new DataView(pre.buffer).setUint32(8, head.length, true);
      bounded(Uint8Array.from([...pre, ...head, ...src.subarray(start + len)]));
    }), { numRuns: 400 });
  });
});
