// `born run` and `born info` on ONNX models, run as a user runs them (node dist/cli/main.js, so
// build first), on models of Debian's libonnx-testdata: their TensorProto inputs are written as
// .npy files, and the outputs born writes are compared with the expected TensorProto outputs.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readNpy, writeNpy, type NpyArray } from '../src/io/npy.js';
import { decodeTensor } from '../src/onnx/proto.js';
import { readTensorProto } from '../src/onnx/tensor-proto.js';
import { onCI } from './reference/ci.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DATA = '/usr/share/libonnx-testdata/data';
const present = existsSync(DATA);
if (!present && onCI) throw new Error(`${DATA} is missing: .ci/run installs libonnx-testdata`);

interface Run { code: number; stdout: string; stderr: string }
function born(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-cli-onnx-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pb = (model: string, file: string): NpyArray => {
  const h = readTensorProto(decodeTensor(new Uint8Array(readFileSync(join(DATA, model, 'test_data_set_0', file)))));
  return { dtype: h.dtype, shape: [...h.shape], data: h.data };
};
/** The model's input_k.pb as a .npy file in the temp directory. */
function npyInput(model: string, k: number): string {
  const path = join(tmp, `${model.replaceAll('/', '_')}_in${k}.npy`);
  writeFileSync(path, writeNpy(pb(model, `input_${k}.pb`)));
  return path;
}
function expectClose(got: NpyArray, want: NpyArray, tol: number): void {
  expect(got.dtype).toBe(want.dtype);
  expect(got.shape).toEqual(want.shape);
  const g = Array.from(got.data as ArrayLike<number>);
  const w = Array.from(want.data as ArrayLike<number>);
  const worst = Math.max(0, ...g.map((v, i) => Math.abs(v - w[i]!) / (1 + Math.abs(w[i]!))));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe.skipIf(!present)('born run', () => {
  test.each([
    ['node/test_abs', 1, 0],
    ['node/test_add', 2, 0],
    ['pytorch-converted/test_Linear', 1, 1e-5], // an initializer-holding Gemm: float sums in another order
  ] as const)('%s: the written outputs equal the expected ones', async (model, nIn, tol) => {
    const out = join(tmp, `${model.replaceAll('/', '_')}_out.npy`);
    const inputs = Array.from({ length: nIn }, (_, k) => ['--input', npyInput(model, k)]).flat();
    const r = await born(['run', join(DATA, model, 'model.onnx'), ...inputs, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectClose(readNpy(new Uint8Array(readFileSync(out))), pb(model, 'output_0.pb'), tol);
  });

  test('named inputs bind by name, unnamed ones fill the rest in order; --out NAME= names an output', async () => {
    const x = npyInput('node/test_sub', 0);
    const y = npyInput('node/test_sub', 1);
    const out = join(tmp, 'sub_z.npy');
    const r = await born(['run', join(DATA, 'node/test_sub/model.onnx'), '--input', `y=${y}`, '--input', x, '--out', `z=${out}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`z: float32 [3, 4, 5] -> ${out}\n`);
    expectClose(readNpy(new Uint8Array(readFileSync(out))), pb('node/test_sub', 'output_0.pb'), 0); // x - y, not y - x
  });

  test('without --out each output prints: name, dtype, shape, then the values as Born formats them', async () => {
    const r = await born(['run', join(DATA, 'node/test_add/model.onnx'), '--input', npyInput('node/test_add', 0), '--input', npyInput('node/test_add', 1)]);
    expect(r.code).toBe(0);
    const [head, ...rows] = r.stdout.trimEnd().split('\n').filter((l) => l.trim() !== '');
    expect(head).toBe('sum: float32 [3, 4, 5]');
    expect(rows.length).toBe(12);
    expect(rows[0]).toMatch(/^tensor\(\[\[\[/);
    const first = (pb('node/test_add', 'output_0.pb').data as Float32Array)[0]!;
    expect(Number(/-?[\d.]+e[+-]\d+/.exec(rows[0]!)![0])).toBeCloseTo(first, 3);
  });

  const abs = join(DATA, 'node/test_abs/model.onnx');
  test.each([
    ['a missing model', () => ['run', join(tmp, 'nope.onnx'), '--input', 'x.npy'], /--model .*nope\.onnx: no such file/],
    ['no model', () => ['run', '--input', 'x.npy'], /expected the model file first/],
    ['a missing input file', () => ['run', abs, '--input', join(tmp, 'missing.npy')], /--input .*missing\.npy: no such file/],
    ['a wrong input name', () => ['run', abs, '--input', `z=${npyInput('node/test_abs', 0)}`], /the model has no input 'z' \(its inputs: x\)/],
    ['no input', () => ['run', abs], /no --input for 'x' \(float32 \[3, 4, 5\]\)/],
    ['too many inputs', () => ['run', abs, '--input', npyInput('node/test_abs', 0), '--input', npyInput('node/test_abs', 0)], /2 unnamed --input files but only 1/],
    ['an unknown flag', () => ['run', abs, '--frobnicate'], /Unknown option '--frobnicate'/],
    ['a bad device', () => ['run', abs, '--device', 'tpu'], /--device must be cpu, webgpu or auto/],
    ['an input of the wrong shape', () => ['run', abs, '--input', npyInput('pytorch-converted/test_Linear', 0)], /input "x" must have shape \[3, 4, 5\], got \[4, 10\]/],
    ['a model file that is not ONNX', () => ['run', npyInput('node/test_abs', 0), '--input', 'x.npy'], /--model .*\.npy: onnx: /],
    ['a file that is not .npy', () => ['run', abs, '--input', abs], /--input .*: npy: .*not a \.npy file/],
  ])('%s: exit 2 and a clear message', async (_, args, message) => {
    const r = await born(args());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('(see born run --help)');
  });

  test('--help names the flags', async () => {
    const r = await born(['run', '--help']);
    expect(r.code).toBe(0);
    for (const f of ['--input', '--out', '--device']) expect(r.stdout).toContain(f);
  });
});

describe.skipIf(!present)('born info', () => {
  test('a model: inputs, outputs, opsets, producer, ops and parameters', async () => {
    const r = await born(['info', join(DATA, 'pytorch-converted/test_Linear/model.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('inputs:\n  0: float32 [4, 10]\n');
    expect(r.stdout).toContain('outputs:\n  3: float32 [4, 8]\n');
    expect(r.stdout).toMatch(/opsets: ai\.onnx \d+/);
    expect(r.stdout).toContain('ops (1 nodes):\n  Gemm 1\n');
    expect(r.stdout).toContain('parameters: 88 in 2 initializers (352 bytes)'); // 8x10 weight + 8 bias, float32
  });

  test('without a model it still describes the installation; a missing model is exit 2', async () => {
    const r = await born(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^born \S+ on Node/);
    const bad = await born(['info', join(tmp, 'nope.onnx')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no such file/);
  });
});

// A committed model with a symbolic batch dimension and parameters (test/fixtures/onnx-cli/gen_models.py).
describe('a model with a symbolic batch dimension', () => {
  const FIX = fileURLToPath(new URL('./fixtures/onnx-cli', import.meta.url));
  const npy = (f: string): NpyArray => readNpy(new Uint8Array(readFileSync(join(FIX, f))));

  test('born info names the symbolic dims', async () => {
    const r = await born(['info', join(FIX, 'batch_matmul.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('producer: gen_models.py');
    expect(r.stdout).toContain('opsets: ai.onnx 13\n');
    expect(r.stdout).toContain('inputs:\n  x: float32 [batch, 3]\n');
    expect(r.stdout).toContain('outputs:\n  y: float32 [batch, 2]\n');
    expect(r.stdout).toContain('ops (3 nodes):\n  Add 1\n  MatMul 1\n  Relu 1\n');
    expect(r.stdout).toContain('parameters: 8 in 2 initializers (32 bytes)');
  });

  test.each([2, 5])('born run gives NumPy\'s result for batch %i', async (n) => {
    const out = join(tmp, `batch${n}.npy`);
    const r = await born(['run', join(FIX, 'batch_matmul.onnx'), '--input', join(FIX, `x${n}.npy`), '--out', out]);
    expect(r.code).toBe(0);
    expectClose(readNpy(new Uint8Array(readFileSync(out))), npy(`y${n}.npy`), 1e-6);
  });
});
