/**
 * External data as models over 2 GB store it (protobuf caps one message at 2 GB): each tensor
 * read with a positioned read at its offset, offsets past 2^31 and 2^32 exact, declared ranges
 * checked against the file's size before anything is allocated. The data file is sparse (a
 * truncate past 4 GiB and a few small writes), so the test costs no disk and little memory; a
 * whole-file read could not pass it (Node refuses to read a file over 2 GiB into one buffer).
 */
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { encodeModel, type TensorProto, type ValueInfo } from '../../src/onnx/proto.js';
import { readTensorProto } from '../../src/onnx/tensor-proto.js';

const dir = mkdtempSync(join(tmpdir(), 'born-onnx-big-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE_SIZE = 2 ** 32 + 2 ** 16;
const FAR = 2 ** 32 + 4096; // past 4 GiB: wrong if an offset went through 32-bit arithmetic
const MID = 2 ** 31 + 8; // past 2 GiB: wrong if it went through a signed 32-bit int
const far = new Float32Array([1.5, -2, 3.25]);
const mid = new Float32Array([10, 20, 30]);

const bin = join(dir, 'weights.bin');
writeFileSync(bin, '');
truncateSync(bin, FILE_SIZE);
const fd = openSync(bin, 'r+');
writeSync(fd, new Uint8Array(far.buffer), 0, far.byteLength, FAR);
writeSync(fd, new Uint8Array(mid.buffer), 0, mid.byteLength, MID);
closeSync(fd);

const ext = (name: string, dims: number[], kv: Record<string, string>): TensorProto => ({
  name, data_type: 1, dims, data_location: 1, external_data: Object.entries({ location: 'weights.bin', ...kv }).map(([key, value]) => ({ key, value })),
});
const info = (name: string): ValueInfo => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 3 }] } } } });

describe('external data past 2 and 4 GiB', () => {
  test('a model whose initializers sit past 2^31 and 2^32 in a 4 GiB file loads and runs, reading only their bytes', async () => {
    const path = join(dir, 'model.onnx');
    writeFileSync(path, encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'big', input: [info('x')], output: [info('y')],
        node: [{ op_type: 'Mul', input: ['x', 'w'], output: ['xw'] }, { op_type: 'Add', input: ['xw', 'b'], output: ['y'] }],
        initializer: [ext('w', [3], { offset: String(FAR), length: '12' }), ext('b', [3], { offset: String(MID) })],
      },
    }));
    const before = process.memoryUsage().arrayBuffers;
    const m = await born.onnx.load(path);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    expect(Array.from(await m.parameters().get('w')!.data())).toEqual(Array.from(far));
    const y = (await m.run({ x: born.tensor([[1, 1, 1], [2, 0, -1]]) })).y!;
    expect(await y.tolist()).toEqual([[11.5, 18, 33.25], [13, 20, 26.75]]);
  });

  test('a declared tensor over 2 GB that the file does not hold is a clear error before anything is allocated', () => {
    // 640M float32 = 2.56 GB from 2^31: past the file's end.
    expect(() => readTensorProto(ext('huge', [640_000_000], { offset: String(2 ** 31) }), { baseDir: dir }))
      .toThrow(new RegExp(`offset ${2 ** 31}, length 2560000000 is outside "weights.bin" \\(${FILE_SIZE} bytes\\)`));
    expect(() => readTensorProto(ext('tail', [3], { offset: String(FILE_SIZE - 8) }), { baseDir: dir })).toThrow(/is outside "weights.bin"/);
    expect(() => readTensorProto(ext('len', [3], { offset: String(FAR), length: '2147483660' }), { baseDir: dir }))
      .toThrow(/length 2147483660 does not match the 12 bytes/);
  });

  test('offsets that are not exact byte counts are refused, not rounded', () => {
    for (const offset of ['18446744073709551616', '9007199254740993', '-8', '1e9', '0x10', '']) {
      expect(() => readTensorProto(ext('w', [3], { offset }), { baseDir: dir }), offset).toThrow(/is not a byte count/);
    }
  });
});
