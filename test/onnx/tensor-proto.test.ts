import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeModel, decodeTensor, encodeTensor, OnnxError, type TensorProto } from '../../src/onnx/proto.js';
import { readTensorProto, writeTensorProto } from '../../src/onnx/tensor-proto.js';

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
/** Through the wire format, as a model file would hold it. */
const roundTrip = (t: TensorProto): TensorProto => decodeTensor(encodeTensor(t));
const read = (t: TensorProto, baseDir?: string) => readTensorProto(roundTrip(t), { baseDir });

describe('TensorProto raw_data, every element type', () => {
  const cases: [number, string, ArrayBufferView, ArrayLike<number | bigint>][] = [
    [1, 'float32', new Float32Array([1.5, -2, 3e-5]), [1.5, -2, new Float32Array([3e-5])[0]!]],
    [11, 'float64', new Float64Array([1e-300, -2.5, 7]), [1e-300, -2.5, 7]],
    [10, 'float16', new Uint16Array([0x3c00, 0xc000, 0x7c00]), [0x3c00, 0xc000, 0x7c00]],
    [16, 'bfloat16', new Uint16Array([0x3f80, 0xc000, 0x0001]), [0x3f80, 0xc000, 0x0001]],
    [7, 'int64', new BigInt64Array([-(2n ** 62n), 0n, 2n ** 53n + 1n]), [-(2n ** 62n), 0n, 2n ** 53n + 1n]],
    [6, 'int32', new Int32Array([-(2 ** 31), 5, 2 ** 31 - 1]), [-(2 ** 31), 5, 2 ** 31 - 1]],
    [5, 'int16', new Int16Array([-32768, 1, 32767]), [-32768, 1, 32767]],
    [3, 'int8', new Int8Array([-128, 0, 127]), [-128, 0, 127]],
    [2, 'uint8', new Uint8Array([0, 200, 255]), [0, 200, 255]],
    [9, 'bool', new Uint8Array([1, 0, 1]), [1, 0, 1]],
    [4, 'int32', new Uint16Array([0, 40000, 65535]), [0, 40000, 65535]],
    [12, 'int64', new Uint32Array([0, 3e9, 2 ** 32 - 1]), [0n, 3000000000n, 4294967295n]],
    [13, 'int64', new BigUint64Array([0n, 2n ** 63n - 1n, 5n]), [0n, 2n ** 63n - 1n, 5n]],
  ];
  for (const [type, dtype, src, want] of cases) {
    test(`type ${type} -> ${dtype}`, () => {
      const h = read({ data_type: type, dims: [3], raw_data: bytesOf(src) });
      expect(h.dtype).toBe(dtype);
      expect(h.shape).toEqual([3]);
      expect(Array.from(h.data as ArrayLike<number | bigint>)).toEqual(Array.from(want));
    });
  }
  test('raw data at an odd offset of the model bytes is copied, not viewed unaligned', () => {
    const big = new Uint8Array(1 + 8 * 2);
    big.set(bytesOf(new Float64Array([0.25, -8])), 1);
    const h = readTensorProto({ data_type: 11, dims: [2], raw_data: big.subarray(1) });
    expect(Array.from(h.data as Float64Array)).toEqual([0.25, -8]);
  });
  test('uint64 values past int64 are refused', () => {
    expect(() => read({ data_type: 13, dims: [1], raw_data: bytesOf(new BigUint64Array([2n ** 63n])) })).toThrow(/does not fit int64/);
  });
});

describe('TensorProto typed fields', () => {
  test('float_data, double_data, int64_data, uint64_data', () => {
    expect(Array.from(read({ data_type: 1, dims: [2], float_data: [0.5, -1] }).data as Float32Array)).toEqual([0.5, -1]);
    expect(Array.from(read({ data_type: 11, dims: [2], double_data: [0.1, 2] }).data as Float64Array)).toEqual([0.1, 2]);
    expect(Array.from(read({ data_type: 7, dims: [2], int64_data: [-3, 2 ** 40] }).data as BigInt64Array)).toEqual([-3n, 2n ** 40n]);
    expect(Array.from(read({ data_type: 12, dims: [1], uint64_data: [4e9] }).data as BigInt64Array)).toEqual([4000000000n]);
  });
  test('int32_data holds int8/int16/uint8/bool values and float16/bfloat16 bits', () => {
    expect(Array.from(read({ data_type: 3, dims: [2], int32_data: [-5, 100] }).data as Int8Array)).toEqual([-5, 100]);
    expect(Array.from(read({ data_type: 5, dims: [1], int32_data: [-300] }).data as Int16Array)).toEqual([-300]);
    expect(Array.from(read({ data_type: 2, dims: [1], int32_data: [250] }).data as Uint8Array)).toEqual([250]);
    expect(Array.from(read({ data_type: 9, dims: [3], int32_data: [1, 0, 1] }).data as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(read({ data_type: 10, dims: [1], int32_data: [0x3c00] }).data as Uint16Array)).toEqual([0x3c00]);
    expect(Array.from(read({ data_type: 16, dims: [1], int32_data: [0x3f80] }).data as Uint16Array)).toEqual([0x3f80]);
  });
  test('raw and typed encodings of the same values agree; dims [] is a scalar, a 0 dim is empty', () => {
    const a = read({ data_type: 6, dims: [2, 2], int32_data: [1, 2, 3, 4] });
    const b = read({ data_type: 6, dims: [2, 2], raw_data: bytesOf(new Int32Array([1, 2, 3, 4])) });
    expect(Array.from(a.data as Int32Array)).toEqual(Array.from(b.data as Int32Array));
    expect(read({ data_type: 1, dims: [], float_data: [7] }).shape).toEqual([]);
    expect(read({ data_type: 1, dims: [0, 3] }).data.length).toBe(0);
  });
  test('a count that does not match the dims is a clear error', () => {
    expect(() => read({ data_type: 1, dims: [3], float_data: [1, 2] })).toThrow(/float_data holds 2 values, but dims \[3\] need 3/);
    expect(() => read({ data_type: 1, dims: [3], raw_data: new Uint8Array(10) })).toThrow(/raw data holds 10 bytes.*need 12/);
  });
  test('strings and complex numbers are refused by name', () => {
    expect(() => read({ data_type: 8, dims: [1], string_data: [new Uint8Array([65])] })).toThrow(/string: strings are not supported/);
    expect(() => read({ data_type: 14, dims: [1], float_data: [1, 2] })).toThrow(/complex64: complex numbers are not supported/);
    expect(() => read({ data_type: 99, dims: [1] })).toThrow(OnnxError);
  });
  test('writeTensorProto is the reverse', () => {
    for (const data of [new Float32Array([1, 2.5]), new BigInt64Array([-1n, 9n]), new Uint8Array([1, 0])]) {
      const dtype = data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : 'bool';
      const h = read(writeTensorProto({ dtype, shape: [2], data } as never, 'w'));
      expect(h.dtype).toBe(dtype);
      expect(Array.from(h.data as ArrayLike<number | bigint>)).toEqual(Array.from(data as ArrayLike<number | bigint>));
    }
  });
});

describe('external data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'born-onnx-ext-'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'weights.bin'), Buffer.concat([Buffer.alloc(4), Buffer.from(bytesOf(new Float32Array([3, 4])))]));
  writeFileSync(join(dir, 'secret.bin'), Buffer.alloc(8));
  const ext = (kv: Record<string, string>): TensorProto => ({
    data_type: 1, dims: [2], data_location: 1, external_data: Object.entries(kv).map(([key, value]) => ({ key, value })),
  });
  const base = join(dir, 'model');
  test('location, offset and length relative to the model directory', () => {
    expect(Array.from(read(ext({ location: 'weights.bin', offset: '4', length: '8' }), base).data as Float32Array)).toEqual([3, 4]);
  });
  test('a path out of the model directory, an absolute path, a missing file or a bad range are refused', () => {
    expect(() => read(ext({ location: '../secret.bin' }), base)).toThrow(/leaves the model's directory/);
    expect(() => read(ext({ location: join(dir, 'secret.bin') }), base)).toThrow(/is absolute/);
    expect(() => read(ext({ location: 'nope.bin' }), base)).toThrow(/not found beside the model/);
    expect(() => read(ext({ location: 'weights.bin', offset: '8', length: '8' }), base)).toThrow(/outside "weights.bin"/);
    expect(() => read(ext({ location: 'weights.bin', offset: '0', length: '4' }), base)).toThrow(/does not match the 8 bytes/);
    expect(() => read(ext({ location: 'weights.bin' }))).toThrow(/load the model from a file path/);
  });
});

describe('hostile bytes', () => {
  test('truncated or garbage bytes are a clear OnnxError, not a crash', () => {
    const good = encodeTensor({ data_type: 1, dims: [4], float_data: [1, 2, 3, 4] });
    for (let n = 1; n < good.length; n++) {
      try { readTensorProto(decodeTensor(good.subarray(0, n))); } catch (e) { expect(e).toBeInstanceOf(OnnxError); }
    }
    expect(() => decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(/not a valid ModelProto/);
  });
  test('negative or huge dims are refused before allocating', () => {
    expect(() => readTensorProto({ data_type: 1, dims: [-1] })).toThrow(/invalid dims/);
    expect(() => readTensorProto({ data_type: 1, dims: [1e6, 1e6, 1e6] })).toThrow(/more than Born reads/);
  });
});
