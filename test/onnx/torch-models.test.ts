/**
 * Models exported from PyTorch with torch.onnx.export (fixtures/torch/gen_torch_models.py: an
 * MLP, the CNN of `born train`, a 2-layer transformer encoder, a 2-layer LSTM; opset 17, dynamic
 * batch): Born's outputs against PyTorch's and onnxruntime-node's at two batch sizes; fine-tuning
 * (born.grad of a loss against PyTorch's gradients, plain SGD steps along PyTorch's losses); and
 * the round trip ONNX -> fine-tune -> safetensors -> a fresh load of the ONNX file -> the same outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { parse } from '../../src/io/safetensors.js';
import { encodeModel } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';

const DIR = fileURLToPath(new URL('./fixtures/torch/', import.meta.url));
const NAMES = ['mlp', 'cnn', 'transformer', 'lstm'] as const;

interface Meta {
  opset: number; loss: 'cross_entropy' | 'mse'; lr: number; steps: number; losses: number[]; batches: number[];
  params: Record<string, string[]>; left_out: Record<string, string>; big: number;
}

// Tolerances, relative to the reference's largest magnitude (float32 everywhere; the orders of
// summation differ between Born, PyTorch and onnxruntime). Measured: at most 7.3e-7 (CNN gradients).
const OUT_TOL = 1e-5;
const GRAD_TOL = 1e-5;
const LOSS_TOL = 1e-5;
const PARAM_TOL = 1e-5;

const file = (name: string, f: string): string => join(DIR, name, f);
const npy = (name: string, f: string): born.Tensor => { const a = born.readNpy(readFileSync(file(name, f))); return born.tensor(a.data as Float32Array, { shape: a.shape, dtype: a.dtype }); };
const meta = (name: string): Meta => JSON.parse(readFileSync(file(name, 'meta.json'), 'utf8')) as Meta;
const safetensors = (name: string, f: string) => parse(readFileSync(file(name, f))).tensors;

/** Largest |a - b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0; let m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return Number.isNaN(d) ? Infinity : d / Math.max(m, 1e-30);
}

function lossOf(m: Meta, y: born.Tensor, target: born.Tensor): born.Tensor {
  // Born takes class indices as int32 (PyTorch's are int64).
  return m.loss === 'cross_entropy' ? born.nn.functional.crossEntropy(y, target.to('int32')) : born.nn.functional.mseLoss(y, target);
}

/** What the fixture stores for a tensor: itself, or (over `big` elements) its sums over dims 0 and 1 and its first 8 rows. */
function summaries(name: string, shape: readonly number[], v: Float32Array, big: number): Record<string, Float32Array> {
  if (v.length <= big) return { [name]: v };
  const rows = shape[0]!; const cols = v.length / rows;
  const s0 = new Float32Array(cols); const s1 = new Float32Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) { s0[c]! += v[r * cols + c]!; s1[r]! += v[r * cols + c]!; }
  return { [`${name}|sum0`]: s0, [`${name}|sum1`]: s1, [`${name}|rows`]: v.slice(0, 8 * cols) };
}

function expectStored(name: string, t: born.Tensor, v: Float32Array, stored: ReturnType<typeof safetensors>, big: number, tol: number): void {
  for (const [k, got] of Object.entries(summaries(name, t.shape, v, big))) {
    const want = stored[k];
    expect(want, k).toBeDefined();
    expect(relErr(got, want!.data as Float32Array), k).toBeLessThan(tol);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'born-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(NAMES)('a PyTorch-exported %s', (name) => {
  const m = meta(name);
  const path = file(name, 'model.onnx');

  it('declares opset 17 and a symbolic batch; Born\'s outputs equal PyTorch\'s and onnxruntime\'s at two batch sizes', async () => {
    const model = await born.onnx.load(path);
    expect(model.opsets.get('')).toBe(17);
    expect(typeof model.inputs[0]!.shape![0]).toBe('string');
    const session = await ort.InferenceSession.create(path);
    for (const b of m.batches) {
      const x = npy(name, `x_b${b}.npy`);
      const y = (await model.run({ x })).y!;
      const got = await y.data() as Float32Array;
      const torch = await npy(name, `y_b${b}.npy`).data() as Float32Array;
      const xs = await x.data() as Float32Array;
      const ortY = (await session.run({ x: new ort.Tensor('float32', xs, x.shape) })).y!;
      expect(y.shape).toEqual([...ortY.dims]);
      expect(relErr(got, torch), `batch ${b} vs PyTorch`).toBeLessThan(OUT_TOL);
      expect(relErr(got, ortY.data as Float32Array), `batch ${b} vs onnxruntime`).toBeLessThan(OUT_TOL);
    }
  });

  it('gives the gradients of a loss that PyTorch gives, for every initializer copied from a torch parameter', async () => {
    expect(m.left_out).toEqual({});
    const model = await born.onnx.load(path);
    const params = model.parameters();
    const names = Object.keys(m.params);
    const x = npy(name, `x_b${m.batches[0]}.npy`);
    const loss = lossOf(m, (await model.run({ x })).y!, npy(name, 'target.npy'));
    // Gradients first: reading the loss would release its history.
    const grads = born.grad(loss, names.map((k) => params.get(k)!));
    expect(await loss.item()).toBeCloseTo(m.losses[0]!, 5);
    const stored = safetensors(name, 'grads.safetensors');
    for (const [i, k] of names.entries()) expectStored(k, grads[i]!, await grads[i]!.data() as Float32Array, stored, m.big, GRAD_TOL);
  });

  it('fine-tunes: SGD steps follow PyTorch\'s losses and parameters; the state dict round-trips through safetensors', async () => {
    const model = await born.onnx.load(path);
    const names = Object.keys(m.params);
    const x = npy(name, `x_b${m.batches[0]}.npy`);
    const target = npy(name, 'target.npy');
    const losses: number[] = [];
    for (let step = 0; step <= m.steps; step++) {
      const params = model.parameters();
      const loss = lossOf(m, (await model.run({ x })).y!, target);
      if (step === m.steps) { losses.push(await loss.item()); break; }
      const ps = names.map((k) => params.get(k)!);
      const grads = born.grad(loss, ps);
      losses.push(await loss.item());
      model.loadStateDict(Object.fromEntries(names.map((k, i) => [k, ps[i]!.sub(grads[i]!.mul(m.lr))])), { strict: false });
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(relErr(losses, m.losses)).toBeLessThan(LOSS_TOL);
    const after = safetensors(name, 'sgd.safetensors');
    const sd = model.stateDict();
    for (const k of names) expectStored(k, sd[k]!, await sd[k]!.data() as Float32Array, after, m.big, PARAM_TOL);

    // Round trip: the fine-tuned initializers saved, a fresh import of the ONNX file, loaded back.
    const saved = join(tmp, `${name}.safetensors`);
    await born.save(sd, saved);
    const fresh = await born.onnx.load(path);
    const res = fresh.loadStateDict(await born.load(saved));
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const xb = npy(name, `x_b${m.batches[1]}.npy`);
    const want = await (await model.run({ x: xb })).y!.data();
    const got = await (await fresh.run({ x: xb })).y!.data();
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});

describe('OnnxModel.loadStateDict errors', () => {
  it('names unknown and missing initializers, wrong shapes and wrong dtype kinds, and loads nothing then', async () => {
    const model = await born.onnx.load(file('mlp', 'model.onnx'));
    const sd = model.stateDict();
    const before = await sd['net.0.bias']!.data();
    const zeros = born.zeros([32]);
    expect(() => model.loadStateDict({ ...sd, 'net.0.bias': zeros, nope: zeros })).toThrow(/unexpected: nope.*strict: false/);
    expect(() => model.loadStateDict({ 'net.0.bias': zeros })).toThrow(/missing: net.0.weight/);
    expect(() => model.loadStateDict({ 'net.0.bias': born.zeros([31]) }, { strict: false })).toThrow(born.ShapeError);
    expect(() => model.loadStateDict({ 'net.0.bias': born.zeros([32], { dtype: 'int32' }) }, { strict: false })).toThrow(/int32 in the state dict but float32/);
    expect(Array.from(await model.stateDict()['net.0.bias']!.data())).toEqual(Array.from(before));
    expect(model.loadStateDict({ 'net.0.bias': zeros, nope: zeros }, { strict: false }).unexpectedKeys).toEqual(['nope']);
    expect(Array.from(await model.parameters().get('net.0.bias')!.data())).toEqual(new Array(32).fill(0));
  });
});

describe('OnnxModel.loadStateDict into a host-kept integer initializer', () => {
  it('replaces it, and the graph reads the new value (a Reshape target)', async () => {
    const bytes = encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'reshape', node: [{ op_type: 'Reshape', input: ['x', 'shape'], output: ['y'] }],
        initializer: [writeTensorProto({ dtype: 'int64', shape: [2], data: new BigInt64Array([-1n, 2n]) }, 'shape')],
        input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 6 }] } } } }],
        output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }],
      },
    });
    const model = await born.onnx.load(bytes);
    const x = born.arange(6, { dtype: 'float32' });
    expect((await model.run({ x })).y!.shape).toEqual([3, 2]);
    model.loadStateDict({ shape: born.tensor([2, -1], { dtype: 'int32' }) });
    expect(model.stateDict()['shape']!.dtype).toBe('int64');
    expect((await model.run({ x })).y!.shape).toEqual([2, 3]);
  });
});
