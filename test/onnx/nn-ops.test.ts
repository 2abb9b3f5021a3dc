/**
 * Conv, pool, norm and integer linalg paths the libonnx-testdata models leave out (3-D convs with
 * groups and asymmetric pads, 3-D and 1-D transposed convs, MaxPool's Indices over several
 * batches and channels and in column-major order, 3-D ceil_mode average pooling without the pads,
 * LpPool, BatchNormalization's training outputs, GroupNormalization, per-channel integer zero
 * points): one-node models with expected outputs from PyTorch or numpy, made by
 * fixtures/gen_nn_ops.py, run as backend cases.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listCases, runCase } from './backend.js';

const cases = listCases(fileURLToPath(new URL('./fixtures/nn-ops', import.meta.url)));

describe('onnx conv/pool/norm paths beyond the backend data', () => {
  it('has its fixtures', () => expect(cases.length).toBe(12));
  for (const c of cases) it(c.name, async () => { await runCase(c); });
});
