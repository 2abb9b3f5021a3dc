// The GGUF reader and ggml's dequantizers against an independent writer and numpy
// (test/llm/fixtures/gguf/gen_gguf.py, quants.py: ggml's reference quantize_row_*_ref ported to
// numpy, and a vectorised numpy dequantizer). quants.gguf holds, for each block type, a [2, 256]
// tensor and beside it numpy's dequantisation of the same bytes as f32: Born's must equal it
// bit for bit. Also: every metadata value type, a non-default alignment, and the errors.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { GgufError, openGguf, parseGgufHeader, type GgufFile } from '../../src/llm/gguf/index.js';

const dir = fileURLToPath(new URL('./fixtures/gguf/', import.meta.url));
const quantsPath = join(dir, 'quants.gguf');
const TYPES = ['f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q4_K', 'q5_K', 'q6_K'];
const BLOCK_BYTES: Record<string, number> = { f16: 2 * 256, bf16: 2 * 256, q8_0: 34 * 8, q4_0: 18 * 8, q4_1: 20 * 8, q4_K: 144, q5_K: 176, q6_K: 210 };

let tmp: string | undefined;
afterAll(async () => { if (tmp) await rm(tmp, { recursive: true, force: true }); });

describe('quants.gguf', () => {
  let f: GgufFile;
  test('header: version, alignment, metadata of every value type', async () => {
    f = await openGguf(quantsPath);
    expect(f.version).toBe(3);
    expect(f.alignment).toBe(64);
    expect(f.dataOffset % 64).toBe(0);
    const m = f.metadata;
    expect([m['test.u8'], m['test.i8'], m['test.u16'], m['test.i16'], m['test.u32'], m['test.i32']]).toEqual([200, -100, 60000, -30000, 4000000000, -2000000000]);
    expect(m['test.f32']).toBe(0.25);
    expect(m['test.bool']).toBe(true);
    expect(m['test.string']).toBe('héllo ✓');
    expect(m['test.u64']).toBe(2n ** 53n + 1n); // beyond a safe integer: a bigint
    expect(m['test.i64']).toBe(-5);
    expect(m['test.f64']).toBe(1e-300);
    expect(m['test.arr_i16']).toEqual(new Int16Array([1, -2, 3]));
    expect(m['test.arr_str']).toEqual(['a', '', 'ü']);
    expect(m['test.arr_bool']).toEqual([true, false]);
    expect(m['test.arr_f64']).toEqual(new Float64Array([0.5, -1.5]));
    expect(m['test.arr_u64']).toEqual(new BigUint64Array([7n, 2n ** 64n - 1n]));
    expect(f.metadataTypes['test.u16']).toBe('uint16');
    expect(f.metadataTypes['test.arr_str']).toBe('array<string>');
  });
  test('tensor infos: shape in PyTorch order, type, size, aligned offsets', () => {
    expect(f.tensors.size).toBe(2 * TYPES.length);
    for (const t of TYPES) {
      const info = f.tensor(t);
      expect(info.shape).toEqual([2, 256]);
      expect(info.type.name).toBe(t);
      expect(info.byteLength).toBe(BLOCK_BYTES[t]! * 2);
      expect((info.offset - f.dataOffset) % 64).toBe(0);
      expect(f.tensor(`${t}.expected`).type.name).toBe('f32');
    }
  });
  for (const t of TYPES) {
    test(`${t}: the dequantized values equal numpy's exactly`, async () => {
      const got = await f.read(t), want = await f.read(`${t}.expected`);
      expect(got.length).toBe(512);
      let diff = 0;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) diff++;
      expect(diff).toBe(0);
      expect((await f.readRaw(t)).length).toBe(f.tensor(t).byteLength); // the packed blocks as stored
    });
  }
  test('close', async () => { await f.close(); });
});

/** The byte offset of tensor `name`'s ggml type field in a GGUF file's header. */
function typeFieldOffset(bytes: Uint8Array, name: string): number {
  const enc = new TextEncoder().encode(name);
  const key = new Uint8Array(8 + enc.length);
  new DataView(key.buffer).setUint32(0, enc.length, true);
  key.set(enc, 8);
  const at = Buffer.from(bytes).lastIndexOf(Buffer.from(key));
  const nd = new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + key.length, true);
  return at + key.length + 4 + 8 * nd;
}

describe('errors say what was found and what is valid', () => {
  const bytes = new Uint8Array(readFileSync(quantsPath));
  const edited = (edit: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = bytes.slice();
    edit(b, new DataView(b.buffer));
    return b;
  };
  test('not GGUF, version 1, unknown version, big-endian', () => {
    expect(() => parseGgufHeader(edited((b) => b.set([0x50, 0x4b, 3, 4])))).toThrow(/not a GGUF file: it starts with bytes 50 4b 03 04/);
    expect(() => parseGgufHeader(edited((_, v) => v.setUint32(4, 1, true)))).toThrow(/version 1 .*versions 2 and 3 are/);
    expect(() => parseGgufHeader(edited((_, v) => v.setUint32(4, 7, true)))).toThrow(/GGUF version 7 is not known; versions 2 and 3/);
    expect(() => parseGgufHeader(edited((_, v) => v.setUint32(4, 3, false)))).toThrow(/big-endian/);
  });
  test('version 2 has version 3\'s layout (3 only adds big-endian files)', () => {
    const h = parseGgufHeader(edited((_, v) => v.setUint32(4, 2, true)));
    expect(h.version).toBe(2);
    expect(h.tensors.get('q4_K')!.shape).toEqual([2, 256]);
  });
  test('truncated: in the header, and in a tensor\'s data', () => {
    expect(() => parseGgufHeader(bytes.subarray(0, 300))).toThrow(GgufError);
    expect(() => parseGgufHeader(bytes.subarray(0, 300), 300)).toThrow(/truncated file/);
    expect(() => parseGgufHeader(bytes.subarray(0, bytes.length - 100))).toThrow(/truncated file: tensor q6_K.expected .* needs bytes \d+\.\.\d+, the file has \d+/);
  });
  test('an unknown ggml type, and a known type Born does not dequantize', async () => {
    const at = typeFieldOffset(bytes, 'q4_1');
    expect(() => parseGgufHeader(edited((_, v) => v.setUint32(at, 99, true)))).toThrow(/tensor q4_1 has ggml type 99, which is not known; known types: f32 \(0\)/);
    tmp = await mkdtemp(join(tmpdir(), 'born-gguf-'));
    const p = join(tmp, 'q5_0.gguf');
    const last = typeFieldOffset(bytes, 'q4_0.expected');
    // 512 f32 values (2048 bytes) read as q5_0 are 16 blocks of 22 bytes: 352 bytes, within the file.
    await writeFile(p, edited((_, v) => v.setUint32(last, 6, true)));
    const f = await openGguf(p);
    try {
      expect(f.tensor('q4_0.expected').type.name).toBe('q5_0');
      await expect(f.read('q4_0.expected')).rejects.toThrow(/type q5_0 \(6\), which Born does not read; readable types: f32, f16, q4_0, q4_1, q8_0, q4_K, q5_K, q6_K, bf16/);
      await expect(f.read('nope')).rejects.toThrow(/no tensor named nope/);
    } finally {
      await f.close();
    }
  });
  test('a metadata value type that does not exist', () => {
    // The first key is general.alignment (uint32 = 4): make its type 13.
    const at = 24 + 8 + 'general.alignment'.length;
    expect(() => parseGgufHeader(edited((_, v) => v.setUint32(at, 13, true)))).toThrow(/metadata value type 13 .* is not a GGUF type \(0\.\.12/);
  });
});
