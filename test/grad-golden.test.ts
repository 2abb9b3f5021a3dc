// PyTorch golden gradients (test/fixtures/grad_golden.json, written by
// test/fixtures/gen_grad_golden.py from torch 1.13) for composite cases:
// cross-entropy, layer norm, an MLP, a broadcasting chain, multi-axis
// reductions; and second order: the MLP's Hessian-vector product and the
// gradient of a gradient norm (gradient penalty), each also checked against
// float64 finite differences of Born's own first gradient.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectClose, gradcheck } from './reference/gradcheck.js';
import { NDArray } from './reference/ndarray.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface GradCase {
  name: string;
  op: 'crossEntropy' | 'layerNorm' | 'mlp' | 'mlpHvp' | 'broadcastChain' | 'sumAxes' | 'varAxes' | 'gradPenalty';
  dtype: 'float32' | 'float64';
  wrt: string[];
  inputs: Record<string, Arr>;
  expected: { loss: number; grads: Record<string, Arr>; hvp?: Arr };
}
interface Golden {
  torch: string;
  cases: GradCase[];
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/grad_golden.json', import.meta.url), 'utf8')) as Golden;

type Inputs = Record<string, Tensor>;

function input(name: string, a: Arr, dtype: 'float32' | 'float64'): Tensor {
  if (name === 'y') return born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' });
  const values = dtype === 'float64' ? Float64Array.from(a.data) : Float32Array.from(a.data);
  return born.tensor(values, { shape: a.shape, dtype });
}

function build(c: GradCase): Inputs {
  return Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, input(k, a, c.dtype)]));
}

const mlpLoss = (i: Inputs): Tensor =>
  i.x!.matmul(i.W1!).add(i.b1!).relu().matmul(i.W2!).add(i.b2!).sub(i.t!).pow(2).mean();

/** The Born version of each case's loss (the same formulas as gen_grad_golden.py). */
function loss(c: GradCase, i: Inputs): Tensor {
  switch (c.op) {
    case 'crossEntropy':
      return i.x!.matmul(i.W!).add(i.b!).logSoftmax({ dim: 1 }).gather(1, i.y!).mean().neg();
    case 'layerNorm': {
      const x = i.x!;
      const m = x.mean({ dim: -1, keepdim: true });
      const v = x.var({ dim: -1, keepdim: true, correction: 0 });
      return x.sub(m).div(v.add(1e-5).sqrt()).mul(i.weight!).add(i.bias!).mul(i.r!).sum();
    }
    case 'mlp':
    case 'mlpHvp':
      return mlpLoss(i);
    case 'broadcastChain':
      return i.a!.mul(i.b!).add(i.c!).tanh().mul(i.d!).sum();
    case 'sumAxes':
      return i.x!.sum({ dim: [0, 2] }).mul(i.r!).sum();
    case 'varAxes':
      return i.x!.var({ dim: [1, 2] }).mul(i.r!).sum();
    case 'gradPenalty':
      return gradientPenalty(i);
  }
}

function gradientPenalty(i: Inputs): Tensor {
  const d = i.x!.matmul(i.W1!).add(i.b1!).tanh().matmul(i.w2!);
  const [gx] = born.grad(d.sum(), [i.x!]);
  return gx!.pow(2).sum({ dim: 1 }).sqrt().sub(1).pow(2).mean();
}

/** Hessian-vector product of the MLP loss wrt W1 along v, as grad of (grad · v). */
function mlpHvp(i: Inputs): Tensor {
  const [gW1] = born.grad(mlpLoss(i), [i.W1!]);
  const [hv] = born.grad(gW1!.mul(i.v!).sum(), [i.W1!]);
  return hv!;
}

/**
 * float32: inputs are exact float32 values and torch's answer is float64 math on them; Born computes
 * in float32, so the gap is float32 rounding accumulated over a few dozen ops (relative ~1e-6 per op),
 * measured against the largest gradient entry. Second-order graphs are longer: 10x looser.
 */
function tolFor(c: GradCase, ref: Arr, second = false): { rtol: number; atol: number } {
  if (c.dtype === 'float64') return { rtol: 1e-9, atol: 1e-11 };
  const scale = Math.max(1e-3, ...ref.data.map(Math.abs));
  return second ? { rtol: 1e-3, atol: 1e-4 * scale } : { rtol: 1e-4, atol: 1e-5 * scale };
}

describe(`PyTorch golden gradients (torch ${golden.torch})`, () => {
  test('the fixture has the cases the generator writes', () => {
    expect(new Set(golden.cases.map((c) => c.op))).toEqual(
      new Set(['crossEntropy', 'layerNorm', 'mlp', 'mlpHvp', 'broadcastChain', 'sumAxes', 'varAxes', 'gradPenalty']));
    expect(golden.cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of golden.cases) {
    test(`${c.name}: loss and gradients wrt ${c.wrt.join(', ')}`, async () => {
      const i = build(c);
      const out = loss(c, i);
      const second = c.op === 'gradPenalty';
      const grads = born.grad(out, c.wrt.map((k) => i[k]!));
      await born.realize(out, ...grads);
      const lossTol = tolFor(c, { shape: [], data: [c.expected.loss] }, second);
      expectClose([await out.item()], [c.expected.loss], [1], lossTol, `${c.name}: loss`);
      for (let k = 0; k < c.wrt.length; k++) {
        const name = c.wrt[k]!;
        const want = c.expected.grads[name]!;
        const g = grads[k]!;
        expect([...g.shape], `${name} gradient shape`).toEqual(want.shape);
        expect(g.dtype, `${name} gradient dtype`).toBe(c.dtype);
        expectClose(await g.data(), want.data, want.shape, tolFor(c, want, second), `${c.name}: d loss / d ${name}`);
      }
    });
  }

  for (const c of golden.cases.filter((k) => k.op === 'crossEntropy')) {
    test(`${c.name}: the same loss through oneHot(labels).to(float) instead of gather`, async () => {
      const i = build(c);
      const logits = i.x!.matmul(i.W!).add(i.b!);
      const [n, classes] = logits.shape as [number, number];
      const mask = born.oneHot(i.y!.reshape([n]), classes).to(c.dtype);
      const out = logits.logSoftmax({ dim: -1 }).mul(mask).sum({ dim: 1 }).mean().neg();
      const grads = born.grad(out, [i.x!, i.W!, i.b!]);
      for (const [k, name] of ['x', 'W', 'b'].entries()) {
        const want = c.expected.grads[name]!;
        expectClose(await grads[k]!.data(), want.data, want.shape, tolFor(c, want), `${c.name} (oneHot): d loss / d ${name}`);
      }
    });
  }

  for (const c of golden.cases.filter((k) => k.op === 'mlpHvp')) {
    test(`${c.name}: Hessian-vector product (grad of grad) matches torch create_graph=True`, async () => {
      const want = c.expected.hvp!;
      const hv = mlpHvp(build(c));
      expect([...hv.shape]).toEqual(want.shape);
      expect(hv.dtype).toBe(c.dtype);
      expectClose(await hv.data(), want.data, want.shape, tolFor(c, want, true), `${c.name}: H v`);
    });
  }
});

describe('second order against finite differences (float64)', () => {
  test('MLP Hessian-vector product = (grad(W1 + eps v) - grad(W1 - eps v)) / 2 eps', async () => {
    const c = golden.cases.find((k) => k.op === 'mlpHvp' && k.dtype === 'float64')!;
    const eps = 1e-6;
    const gradAt = async (sign: number): Promise<Float64Array> => {
      const w = c.inputs.W1!, v = c.inputs.v!;
      const i = build(c);
      i.W1 = born.tensor(Float64Array.from(w.data, (x, j) => x + sign * eps * v.data[j]!), { shape: w.shape, dtype: 'float64' });
      const [g] = born.grad(mlpLoss(i), [i.W1]);
      return Float64Array.from(await g!.data());
    };
    const plus = await gradAt(1), minus = await gradAt(-1);
    const fd = plus.map((p, j) => (p - minus[j]!) / (2 * eps));
    const hv = await mlpHvp(build(c)).data();
    // Finite differences of a gradient: rounding ~|g|·1e-16/eps ≈ 1e-10.
    expectClose(hv, fd, c.inputs.W1!.shape, { rtol: 1e-6, atol: 1e-7 }, 'H v vs finite differences of the gradient');
    // And the torch value, independently.
    expectClose(hv, c.expected.hvp!.data, c.inputs.W1!.shape, { rtol: 1e-9, atol: 1e-11 }, 'H v vs torch');
  });

  test('gradient penalty: born.grad through born.grad against finite differences of the penalty', async () => {
    const c = golden.cases.find((k) => k.op === 'gradPenalty' && k.dtype === 'float64')!;
    const names = ['x', 'W1', 'b1', 'w2'];
    const arrays = names.map((k) => new NDArray(c.inputs[k]!.data, c.inputs[k]!.shape, 'float64'));
    const f = (x: Tensor, W1: Tensor, b1: Tensor, w2: Tensor): Tensor => gradientPenalty({ x, W1, b1, w2 });
    // Differentiate wrt the weights (and x: third-order-free, still a second derivative of D).
    await gradcheck((...t) => f(t[0]!, t[1]!, t[2]!, t[3]!), arrays, { wrt: [1, 2, 3, 0], label: 'gradient penalty' });
  });

  test('a Hessian column by double grad equals the symmetric counterpart (H is symmetric)', async () => {
    // f(a, b) = sum(tanh(a @ b)); d²f/da db computed both ways: d/db (df/da · u) · w == d/da (df/db · w) · u.
    const a = born.tensor(Float64Array.from({ length: 6 }, (_, k) => Math.sin(k + 1)), { shape: [2, 3], dtype: 'float64' });
    const b = born.tensor(Float64Array.from({ length: 12 }, (_, k) => Math.cos(2 * k)), { shape: [3, 4], dtype: 'float64' });
    const u = born.tensor(Float64Array.from({ length: 6 }, (_, k) => (k % 3) - 1), { shape: [2, 3], dtype: 'float64' });
    const w = born.tensor(Float64Array.from({ length: 12 }, (_, k) => ((k * 7) % 5) / 5 - 0.4), { shape: [3, 4], dtype: 'float64' });
    const f = a.matmul(b).tanh().sum();
    const [ga, gb] = born.grad(f, [a, b]);
    const [hab] = born.grad(ga!.mul(u).sum(), [b]);
    const [hba] = born.grad(gb!.mul(w).sum(), [a]);
    const x = await hab!.mul(w).sum().item();
    const y = await hba!.mul(u).sum().item();
    expect(Math.abs(x - y)).toBeLessThan(1e-12 * Math.max(1, Math.abs(x)));
  });
});
