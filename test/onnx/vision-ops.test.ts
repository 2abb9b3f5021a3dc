/**
 * GridSample over every mode x padding_mode x align_corners (the libonnx-testdata models cover 8 of
 * the 18), with a grid reaching past [-1, 1] and onto the corners, and RoiAlign avg / max: one-node
 * models with expected outputs from PyTorch's grid_sample (RoiAlign's worked out by hand), made by
 * fixtures/gen_vision_ops.py, run as backend cases;
 * and the gradients of sum(y) in the input and the grid against PyTorch's.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { numbers } from '../../src/onnx/host.js';
import { decodeTensor } from '../../src/onnx/proto.js';
import { readTensorProto } from '../../src/onnx/tensor-proto.js';
import { listCases, runCase } from './backend.js';

const cases = listCases(fileURLToPath(new URL('./fixtures/vision-ops', import.meta.url)));

describe('onnx GridSample and RoiAlign beyond the backend data', () => {
  it('has its fixtures', () => expect(cases.length).toBe(20));
  for (const c of cases) it(c.name, async () => { await runCase(c); });
});

const fixture = (rel: string) => readTensorProto(decodeTensor(readFileSync(fileURLToPath(new URL(`./fixtures/vision-ops/${rel}`, import.meta.url)))));
const close = (got: ArrayLike<number>, want: readonly number[], skip: (i: number) => boolean = () => false) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => { if (!skip(i)) expect(Math.abs(got[i]! - w)).toBeLessThan(1e-4 + 1e-4 * Math.abs(w)); });
};

describe('onnx GridSample is differentiable', () => {
  for (const name of ['gridsample_bilinear_zeros_align0', 'gridsample_bilinear_reflection_align1', 'gridsample_bicubic_border_align0']) {
    it(name, async () => {
      const m = await born.onnx.load(fileURLToPath(new URL(`./fixtures/vision-ops/node/${name}/model.onnx`, import.meta.url)));
      const xs = fixture(`node/${name}/test_data_set_0/input_0.pb`), gs = fixture(`node/${name}/test_data_set_0/input_1.pb`);
      const x = born.tensor(new Float32Array(numbers(xs)), { shape: [...xs.shape] }).requiresGrad_();
      const grid = born.tensor(new Float32Array(numbers(gs)), { shape: [...gs.shape] }).requiresGrad_();
      const { y } = await m.run({ x, grid });
      y!.sum().backward();
      close(await x.grad!.data() as Float32Array, numbers(fixture(`grad/${name}_x.pb`)));
      // A coordinate exactly on a clamp limit (grid ±1 with align_corners) has two subgradients:
      // PyTorch's clip gives 0 there, Born's clamp passes the gradient; compare the others.
      const g = numbers(gs);
      close(await grid.grad!.data() as Float32Array, numbers(fixture(`grad/${name}_grid.pb`)), (i) => Math.abs(g[i]!) === 1);
    });
  }
});
