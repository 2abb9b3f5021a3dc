// born.nn.functional losses against PyTorch 1.13 golden values (test/fixtures/nn_golden.json,
// written by test/fixtures/gen_nn_golden.py): the loss value and the gradient of sum(loss * r)
// with respect to the input, in float32 and float64, for every reduction; cross-entropy with
// class indices, class probabilities, label smoothing, ignoreIndex and [N, C, d] inputs.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectArr, type Arr } from './reference/golden.js';

const F = born.nn.functional;

type DT = 'float32' | 'float64';
type LossFn = 'crossEntropy' | 'nllLoss' | 'mseLoss' | 'l1Loss' | 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits';
interface LossCase {
  name: string;
  fn: LossFn;
  opts: Record<string, unknown>;
  dtype: DT;
  input: Arr;
  target: Arr;
  targetInt: boolean;
  r?: Arr;
  expected: { out: Arr; grad?: Arr };
}
interface Golden { torch: string; losses: LossCase[] }

const golden = JSON.parse(readFileSync(new URL('./fixtures/nn_golden.json', import.meta.url), 'utf8')) as Golden;

const tolFor = (dt: DT): { rtol: number; atol: number } => (dt === 'float32' ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 });

const float = (a: Arr, dtype: DT): Tensor =>
  born.tensor(dtype === 'float32' ? Float32Array.from(a.data) : Float64Array.from(a.data), { shape: a.shape, dtype });
const i32 = (a: Arr): Tensor => born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' });


describe(`losses vs PyTorch ${golden.torch}`, () => {
  for (const c of golden.losses) {
    test(c.name, async () => {
      const x = float(c.input, c.dtype);
      const t = c.targetInt ? i32(c.target) : float(c.target, c.dtype);
      const y = (F[c.fn] as (a: Tensor, b: Tensor, o: object) => Tensor)(x, t, c.opts);
      expect(y.dtype).toBe(c.dtype);
      const gs = c.expected.grad ? born.grad(y.mul(float(c.r!, c.dtype)).sum(), [x]) : [];
      await born.realize(y, ...gs);
      await expectArr(y, c.expected.out, tolFor(c.dtype), 'loss');
      if (c.expected.grad) await expectArr(gs[0]!, c.expected.grad, tolFor(c.dtype), 'd/dinput');
    });
  }
});

describe('loss argument checks', () => {
  const logits = born.randn([3, 4], { seed: 1 });
  test('class-index targets must be int32; shapes must match', () => {
    expect(() => F.nllLoss(logits.logSoftmax({ dim: 1 }), born.tensor([0, 1, 2]))).toThrow(/int32/);
    expect(() => F.crossEntropy(logits, born.tensor(new Int32Array([0, 1])), {})).toThrow(/target/);
    expect(() => F.crossEntropy(logits, born.zeros([3, 5]))).toThrow(/shape/);
    expect(() => F.mseLoss(logits, born.zeros([4, 3]))).toThrow(/shape/);
    expect(() => F.binaryCrossEntropyWithLogits(logits, born.zeros([3]))).toThrow(/shape/);
  });
});
