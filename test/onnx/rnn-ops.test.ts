/**
 * RNN/GRU/LSTM paths the libonnx-testdata models leave out (bidirectional, ragged sequence_lens
 * in both directions, batch-first layout, linear_before_reset either way, peepholes with clip and
 * input_forget, activations with alpha/beta): one-node models with expected outputs from PyTorch
 * (numpy where it has no module), made by fixtures/gen_rnn_ops.py, run as backend cases.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listCases, runCase } from './backend.js';

const cases = listCases(fileURLToPath(new URL('./fixtures/rnn-ops', import.meta.url)));

describe('onnx recurrent paths beyond the backend data', () => {
  it('has its fixtures', () => expect(cases.length).toBe(5));
  for (const c of cases) it(c.name, async () => { await runCase(c); });
});
