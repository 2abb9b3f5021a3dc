/**
 * GridSample over every mode x padding_mode x align_corners (the libonnx-testdata models cover 8 of
 * the 18), with a grid reaching past [-1, 1] and onto the corners: one-node models with expected
 * outputs from PyTorch's grid_sample, made by fixtures/gen_vision_ops.py, run as backend cases.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listCases, runCase } from './backend.js';

const cases = listCases(fileURLToPath(new URL('./fixtures/vision-ops', import.meta.url)));

describe('onnx GridSample beyond the backend data', () => {
  it('has its fixtures', () => expect(cases.length).toBe(18));
  for (const c of cases) it(c.name, async () => { await runCase(c); });
});
