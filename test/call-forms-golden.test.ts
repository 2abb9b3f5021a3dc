// PyTorch golden values for the positional call forms (test/fixtures/call_forms.json, written by
// test/fixtures/gen_call_forms.py with torch 1.13): each case makes the call Born's way, in the
// positional form its name shows, and checks values, indices (max/min(dim), argmax: int32 here,
// int64 in PyTorch) and the gradient of sum(out * w), w = linspace(-1, 1) over the output.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectArr, type Arr } from './reference/golden.js';
import type { Tensor } from './reference/check.js';

interface Case { name: string; x: Arr; values: Arr; indices?: Arr; grad?: Arr }
const golden = JSON.parse(readFileSync(new URL('./fixtures/call_forms.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

type Out = Tensor | { values: Tensor; indices: Tensor };
const pieces = (ts: Tensor[]): Tensor => born.cat(ts.map((c, i) => c.flatten().mul(i + 1)));
const CALLS: Record<string, (x: Tensor) => Out> = {
  'sum(1, true)': (x) => x.sum(1, true),
  'sum([0, 2])': (x) => x.sum([0, 2]),
  'mean(-1)': (x) => x.mean(-1),
  'max(1)': (x) => x.max(1),
  'min(0, true)': (x) => x.min(0, true),
  'max(-1) of a 3-d tensor': (x) => x.max(-1),
  'argmax(1)': (x) => x.argmax(1),
  'argmin(0, true)': (x) => x.argmin(0, true),
  'var(1)': (x) => x.var(1),
  'var(1, false)': (x) => x.var(1, false),
  'std(0, true, true)': (x) => x.std(0, true, true),
  'var(1, { correction: 0, keepdim: true })': (x) => x.var(1, { correction: 0, keepdim: true }),
  'logsumexp(1)': (x) => x.logsumexp(1),
  'softmax(0)': (x) => x.softmax(0),
  'logSoftmax(1)': (x) => x.logSoftmax(1),
  'cat([x, x * 2], 1)': (x) => born.cat([x, x.mul(2)], 1),
  'stack([x, x * 2], 1)': (x) => born.stack([x, x.mul(2)], 1),
  'chunk(3, 1)': (x) => pieces(x.chunk(3, 1)),
  'split(2, 1)': (x) => pieces(x.split(2, 1)),
  'permute(1, 0).reshape(3, 2)': (x) => x.permute(1, 0).reshape(3, 2).mul(born.arange(6, { dtype: 'float32' }).reshape(3, 2)),
  'flip(0, 1)': (x) => x.flip(0, 1).mul(born.arange(6, { dtype: 'float32' }).reshape(2, 3)),
};
const TOL = { rtol: 1e-5, atol: 1e-6 };

describe(`positional call forms against PyTorch ${golden.torch}`, () => {
  test('every case has a Born call and every call a case', () => {
    expect(golden.cases.map((c) => c.name).sort()).toEqual(Object.keys(CALLS).sort());
  });
  test.each(golden.cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const x = born.tensor(c.x.data, { shape: c.x.shape }).requiresGrad_();
    const out = CALLS[name]!(x);
    const values = out instanceof born.Tensor ? out : out.values;
    await expectArr(values, c.values, TOL, `${name} values`);
    if (c.indices) {
      const indices = out instanceof born.Tensor ? out : out.indices;
      expect(indices.dtype).toBe('int32');
      await expectArr(indices, c.indices, { rtol: 0, atol: 0 }, `${name} indices`);
    }
    if (c.grad) {
      const n = values.numel();
      const w = born.linspace(-1, 1, n).reshape(values.shape.length ? [...values.shape] : []);
      const [g] = born.grad(values.mul(w).sum(), [x]);
      await expectArr(g!, c.grad, TOL, `${name} gradient`);
    }
  });
});
