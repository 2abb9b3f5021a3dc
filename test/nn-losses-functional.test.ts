// Loss options (weight, posWeight, ignoreIndex, labelSmoothing, beta, delta, logTarget,
// 'batchmean'), the loss modules, and the functional forms linear, embedding, layerNorm,
// normalize and cosineSimilarity against PyTorch 1.13 (test/fixtures/losses.json, written by
// test/fixtures/gen_losses.py): values and the gradients of sum(out * r). Also dropout, oneHot
// and the errors of bad options.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectArr, type Arr } from './reference/golden.js';

const { nn } = born;
const F = nn.functional;

type DT = 'float32' | 'float64';
type Input = Arr & { int: boolean };
interface Case {
  name: string;
  fn: keyof typeof F;
  module: keyof typeof nn | null;
  dtype: DT;
  inputs: Input[];
  opts: Record<string, unknown>;
  r: Arr;
  expected: { out: Arr; grads: (Arr | null)[] };
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/losses.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

const tolFor = (dt: DT): { rtol: number; atol: number } => (dt === 'float32' ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 });
const float = (a: Arr, dtype: DT): Tensor =>
  born.tensor(dtype === 'float32' ? Float32Array.from(a.data) : Float64Array.from(a.data), { shape: a.shape, dtype });
const i32 = (a: Arr): Tensor => born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' });
const isTensorOpt = (v: unknown): v is { tensor: Arr } => typeof v === 'object' && v !== null && 'tensor' in v;

/** The positional arguments of a functional form: the inputs, then (layerNorm) its normalizedShape. */
function call(c: Case, xs: Tensor[], opts: Record<string, unknown>): Tensor {
  const f = F[c.fn] as (...a: unknown[]) => Tensor;
  if (c.fn === 'layerNorm') return xs.length === 1 ? f(xs[0], [4], null, null, 1e-3) : f(xs[0], [3, 4], xs[1], xs[2]);
  if (c.fn === 'linear' || c.fn === 'embedding') return f(...xs);
  return f(...xs, opts);
}

describe(`loss options, loss modules and functional forms vs PyTorch ${golden.torch}`, () => {
  for (const c of golden.cases) {
    test(c.name, async () => {
      const xs = c.inputs.map((a) => (a.int ? i32(a) : float(a, c.dtype)));
      const opts = Object.fromEntries(Object.entries(c.opts).map(([k, v]) => [k, isTensorOpt(v) ? float(v.tensor, c.dtype) : v]));
      const y = call(c, xs, opts);
      expect(y.dtype).toBe(c.dtype);
      const wrt = c.expected.grads.map((g, i) => (g ? xs[i]! : null)).filter((t): t is Tensor => t !== null);
      const gs = born.grad(y.mul(float(c.r, c.dtype)).sum(), wrt);
      await born.realize(y, ...gs);
      await expectArr(y, c.expected.out, tolFor(c.dtype), 'out');
      let k = 0;
      for (const [i, g] of c.expected.grads.entries()) if (g) await expectArr(gs[k++]!, g, tolFor(c.dtype), `d/dinput${i}`);
      if (c.module) {
        const m = (nn[c.module] as unknown as (o: object) => born.nn.Module)(opts);
        await expectArr(m.forward(xs[0]!, xs[1]!), c.expected.out, tolFor(c.dtype), `${c.module} module`);
      }
    });
  }
});

describe('loss modules', () => {
  test('class weights are buffers saved in the state dict, as PyTorch (weight, pos_weight)', () => {
    expect(Object.keys(nn.CrossEntropyLoss({ weight: born.ones([3]) }).stateDict())).toEqual(['weight']);
    expect(Object.keys(nn.BCEWithLogitsLoss({ posWeight: born.ones([3]) }).stateDict())).toEqual(['pos_weight']);
    expect(Object.keys(nn.MSELoss().stateDict())).toEqual([]);
    for (const name of ['CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss', 'BCELoss', 'BCEWithLogitsLoss', 'KLDivLoss'] as const) {
      const cls = nn[name] as unknown as (new () => object) & (() => object);
      expect(new cls(), name).toBeInstanceOf(nn[name]);
      expect(cls(), name).toBeInstanceOf(nn[name]);
      expect(cls(), name).toBeInstanceOf(nn.Module);
    }
    expect(String(nn.KLDivLoss({ reduction: 'batchmean' })).split('\n')[0]).toBe('KLDivLoss()');
  });

  test('a misspelt option or a bad value names the loss and what is valid', () => {
    expect(() => nn.CrossEntropyLoss({ label_smoothing: 0.1 } as never)).toThrow(/CrossEntropyLoss: unknown option 'label_smoothing' \(valid options: weight, ignoreIndex, reduction, labelSmoothing\)/);
    expect(() => nn.HuberLoss({ beta: 1 } as never)).toThrow(/HuberLoss: unknown option 'beta'/);
    const x = born.randn([2, 3]), t = born.tensor([0, 2], { dtype: 'int32' });
    expect(() => F.crossEntropy(x, t, { reduction: 'avg' as never })).toThrow(/crossEntropy: reduction must be 'mean', 'sum', 'none', got "avg"/);
    expect(() => F.klDiv(x, x, { reduction: 'avg' as never })).toThrow(/'batchmean', got "avg"/);
    expect(() => F.crossEntropy(x, t, { weight: born.ones([2]) })).toThrow(/crossEntropy: weight must be a 1-d tensor of one weight per class \(3\), got shape \[2\]/);
    expect(() => F.crossEntropy(x, t, { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must be in \[0, 1\]/);
    expect(() => F.smoothL1Loss(x, x, { beta: -1 })).toThrow(/smoothL1Loss: beta must be >= 0/);
    expect(() => F.huberLoss(x, x, { delta: 0 })).toThrow(/huberLoss: delta must be > 0/);
    expect(() => F.binaryCrossEntropyWithLogits(x, x, { posWeight: [1, 2] as never })).toThrow(/posWeight must be a Tensor/);
    expect(() => F.nllLoss(x, t, { weight: born.ones([3], { dtype: 'int32' }) })).toThrow(/nllLoss: weight must be a floating-point tensor, got int32/);
    expect(() => F.mseLoss(x, born.ones([3, 2]))).toThrow(/mseLoss: input \[2, 3\] and target \[3, 2\] must have the same shape/);
  });
});

describe('functional: dropout, oneHot and errors', () => {
  test('dropout: training by default as PyTorch\'s F.dropout; identity with training false or p 0', async () => {
    const x = born.ones([100, 100]);
    expect(F.dropout(x, { training: false })).toBe(x);
    expect(F.dropout(x, { p: 0 })).toBe(x);
    const d = [...(await F.dropout(x, { p: 0.25 }).data())];
    const zeros = d.filter((v) => v === 0).length / d.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.3);
    expect(d.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect([...(await F.dropout(x, { p: 1 }).data())].every((v) => v === 0)).toBe(true);
    expect(() => F.dropout(x, { p: 2 })).toThrow(/dropout: p must be in \[0, 1\], got 2/);
    expect(() => F.dropout(x, { rate: 0.5 } as never)).toThrow(/dropout: unknown option 'rate'/);
  });

  test('PyTorch\'s positional forms give what the options forms give', async () => {
    const x = born.randn([3, 4], { seed: 8 }), y = born.randn([3, 4], { seed: 9 });
    expect(F.dropout(x, 0.5, false)).toBe(x);
    expect(await F.normalize(x, 1, -1, 1e-6).data()).toEqual(await F.normalize(x, { p: 1, dim: -1, eps: 1e-6 }).data());
    expect(await F.normalize(x, 3).data()).toEqual(await F.normalize(x, { p: 3 }).data());
    expect(await F.cosineSimilarity(x, y, 0).data()).toEqual(await F.cosineSimilarity(x, y, { dim: 0 }).data());
    expect(() => F.dropout(x, 0.5, 'yes' as never)).toThrow(/dropout: training must be true or false/);
    expect(() => F.normalize(x, '2' as never)).toThrow(/normalize: p must be a number, got string/);
  });

  test('oneHot: int32 rows with a 1 at each label', async () => {
    const y = F.oneHot(born.tensor([2, 0, 1], { dtype: 'int32' }), 3);
    expect(y.dtype).toBe('int32');
    expect(await y.tolist()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    expect(() => F.oneHot(born.tensor([1.5]), 3)).toThrow(/oneHot: labels must be int64 or int32, got float32/);
  });

  test('shape errors name the function and the expected shapes', () => {
    const x = born.randn([2, 4]);
    expect(() => F.linear(x, born.randn([3, 5]))).toThrow(/linear: input \[2, 4\] and weight \[3, 5\] do not fit \(input \[\.\.\., in\], weight \[out, in\]\)/);
    expect(() => F.linear(x, born.randn([3, 4]), born.randn([4]))).toThrow(/linear: bias \[4\] should be \[3\]/);
    expect(() => F.layerNorm(x, [3])).toThrow(/layerNorm: input of shape \[2, 4\] should end in normalizedShape \[3\]/);
    expect(() => F.layerNorm(x, 4, born.ones([3]))).toThrow(/layerNorm: weight \[3\] should have normalizedShape \[4\]/);
    expect(() => F.embedding(born.tensor([0], { dtype: 'int32' }), born.ones([3]))).toThrow(/embedding: weight must be a \[numEmbeddings, embeddingDim\] table/);
    expect(() => F.normalize(x, { dims: 1 } as never)).toThrow(/normalize: unknown option 'dims'/);
    expect(() => F.cosineSimilarity(x, x, { dim: 0.5 })).toThrow(/cosineSimilarity: dim must be an integer/);
    expect(() => F.normalize(born.ones([2], { dtype: 'int32' }))).toThrow(/normalize: expected a floating-point tensor, got int32/);
  });
});
