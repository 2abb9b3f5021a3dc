// born.onnx.save / toBytes on whole models: the born train models, a LayerNorm + softmax + GELU
// block, a TransformerEncoderLayer (attention), an LSTM. Each file runs in onnxruntime-node and
// in born.onnx.load and gives Born's outputs (tolerance in export-harness.ts: 1e-4 + 1e-4·|y|).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { MODELS } from '../../src/cli/models.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { checkExport, onnxCheck } from './export-harness.js';

const { nn } = born;
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'born-export-')); born.manualSeed(7); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the born train models', () => {
  test('mlp: initializers named by the state dict, a dynamic batch run at 5 and 1, checker-valid', async () => {
    const m = MODELS.mlp();
    const x = born.randn([2, 1, 28, 28]);
    const bytes = await checkExport(m, [x], { dynamicBatch: true, more: [[born.randn([5, 1, 28, 28])], [born.randn([1, 1, 28, 28])]] });
    const proto = decodeModel(bytes);
    expect(proto.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(proto.ir_version).toBe(8);
    const inits = new Set((proto.graph!.initializer ?? []).map((t) => t.name));
    for (const k of Object.keys(m.stateDict())) expect(inits.has(k), k).toBe(true);
    expect(proto.graph!.input![0]!.name).toBe('input');
    expect(proto.graph!.input![0]!.type!.tensor_type!.shape!.dim![0]).toEqual({ dim_param: 'batch' });
    expect(proto.graph!.output![0]!.type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 10 }]);
    onnxCheck(bytes);
  });

  test('cnn: im2col convolutions and max pools, dynamic batch, written to a file by save', async () => {
    const m = MODELS.cnn();
    const x = born.randn([2, 1, 28, 28]);
    const bytes = await checkExport(m, [x], { dynamicBatch: true, more: [[born.randn([5, 1, 28, 28])], [born.randn([1, 1, 28, 28])]] });
    onnxCheck(bytes);
    const path = join(dir, 'cnn.onnx');
    await born.onnx.save(m, x, path, { inputNames: ['pixels'], outputNames: ['logits'] });
    const proto = decodeModel(readFileSync(path));
    expect(proto.graph!.input!.map((v) => v.name)).toEqual(['pixels']);
    expect(proto.graph!.output!.map((v) => v.name)).toEqual(['logits']);
    expect(proto.graph!.input![0]!.type!.tensor_type!.shape!.dim![0]).toEqual({ dim_value: 2 }); // static by default
  });

  test('static batch: another batch size is refused by onnxruntime', async () => {
    const bytes = await born.onnx.toBytes(MODELS.mlp(), born.randn([2, 784]));
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(bytes);
    await expect(s.run({ input: new ort.Tensor('float32', new Float32Array(3 * 784), [3, 784]) })).rejects.toThrow();
  });
});

describe('other modules', () => {
  test('LayerNorm + softmax + GELU (both forms) + SiLU + BatchNorm (eval)', async () => {
    const m = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 8), nn.GELU({ approximate: 'tanh' }),
      nn.BatchNorm1d(8), nn.SiLU(), nn.Linear(8, 5), nn.Softmax(-1));
    const bytes = await checkExport(m, [born.randn([3, 6])], { dynamicBatch: true, more: [[born.randn([4, 6])]] });
    onnxCheck(bytes);
  });

  test('TransformerEncoderLayer (multi-head attention, batch first), dynamic batch', async () => {
    const m = nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, activation: 'gelu' });
    await checkExport(m, [born.randn([2, 5, 8])], { dynamicBatch: true, more: [[born.randn([3, 5, 8])], [born.randn([1, 5, 8])]] });
  });

  test('an Embedding on int64 token ids, dynamic batch', async () => {
    const m = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 3));
    const ids = (n: number) => born.randint(0, 10, [n, 3]).to('int64');
    const bytes = await checkExport(m, [ids(2)], { dynamicBatch: true, more: [[ids(5)], [ids(1)]] });
    expect(decodeModel(bytes).graph!.input![0]!.type!.tensor_type!.elem_type).toBe(7); // int64
  });

  test('MultiheadAttention with three inputs and its weights as a second output', async () => {
    const m = nn.MultiheadAttention(8, 2);
    const [q, k, v] = [born.randn([4, 2, 8]), born.randn([3, 2, 8]), born.randn([3, 2, 8])];
    const bytes = await checkExport(m, [q!, k!, v!], { outputNames: ['out', 'weights'] });
    expect(decodeModel(bytes).graph!.input!.map((i) => i.name)).toEqual(['input_0', 'input_1', 'input_2']);
  });

  test('LSTM (two layers): output and final states, three outputs', async () => {
    const m = nn.LSTM(3, 4, { numLayers: 2 });
    await checkExport(m, [born.randn([5, 2, 3])]);
  });

  test('a function of tensors (closure weights become initializers), an object result names the outputs', async () => {
    const w = born.randn([4, 3]);
    const f = (x: born.Tensor) => ({ y: x.matmul(w).relu(), s: x.sum(1) });
    const bytes = await checkExport(f, [born.randn([2, 4])]);
    const g = decodeModel(bytes).graph!;
    expect(g.output!.map((o) => o.name)).toEqual(['y', 's']);
    expect(g.initializer!.some((t) => t.name!.startsWith('const_'))).toBe(true);
  });
});

describe('errors', () => {
  test('a value read back during the forward pass, an async forward, bad options', async () => {
    const x = born.randn([2, 3]);
    const early = (t: born.Tensor) => { const s = t.sum(); void born.noGrad(() => s.data()); return t.mul(s); };
    await expect(born.onnx.toBytes(early, x)).rejects.toThrow(/computed and realised during the forward pass/);
    await expect(born.onnx.toBytes(async (t: born.Tensor) => t.add(1), x)).rejects.toThrow(/returned a Promise/);
    await expect(born.onnx.toBytes((t: born.Tensor) => t, x, { opset: 13 })).rejects.toThrow(/opset must be an integer from 17/);
    await expect(born.onnx.toBytes((t: born.Tensor) => t, x, { inputNames: ['a', 'b'] })).rejects.toThrow(/inputNames must be 1/);
  });

  test('training-only nodes are refused naming the op and what is supported', async () => {
    const drop = (t: born.Tensor) => nn.functional.dropout(t, 0.5, true);
    await expect(born.onnx.toBytes(drop, born.randn([2, 3]))).rejects.toThrow(/cannot export a rand node .*Born exports constants/);
  });

  test('dynamic batch: a mean over the batch is refused; a dropout module in eval mode exports', async () => {
    const meanOverBatch = (t: born.Tensor) => t.sub(t.mean(0));
    await expect(born.onnx.toBytes(meanOverBatch, born.randn([2, 3]), { dynamicBatch: true })).rejects.toThrow(/depends on the batch size/);
    await checkExport(nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)), [born.randn([2, 3])], { dynamicBatch: true, more: [[born.randn([6, 3])]] });
    // An LSTM's dim 0 is time: the unrolled graph changes with it.
    await expect(born.onnx.toBytes(nn.LSTM(3, 4), born.randn([3, 2, 3]), { dynamicBatch: true })).rejects.toThrow(/takes a different path by batch size/);
    await expect(born.onnx.toBytes((t: born.Tensor) => t.cumprod(1), born.randn([2, 1100]))).rejects.toThrow(/cumprod over 1100 elements/);
  });
});
