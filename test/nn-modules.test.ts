// born.nn modules against PyTorch 1.13 golden values (test/fixtures/nn_golden.json, written by
// test/fixtures/gen_nn_golden.py): each case loads PyTorch's state dict into the Born module,
// runs forward, and compares the output, the gradients of sum(out * r) with respect to the input
// and every parameter, and (BatchNorm in train mode) the updated running statistics. Also:
// state-dict key names, a stateDict/loadStateDict round trip and its errors, train()/eval()
// propagation, and Dropout's statistics.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectFnCase, f32, f64, i32, type Arr } from './reference/golden.js';
import { expectModuleCase, type ModuleGolden } from './reference/module-case.js';

const { nn } = born;
type Module = born.nn.Module;

type DT = 'float32' | 'float64';
interface ModuleCase extends ModuleGolden {
  name: string;
  kind: string;
  args: unknown[];
  opts: Record<string, unknown>;
  born: 'mlp' | 'cnn' | 'net' | null;
  dtype: DT;
}
interface FunctionalCase {
  name: string;
  fn: 'conv2d' | 'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d';
  opts: Record<string, unknown>;
  inputs: Record<string, Arr>;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr> };
}
interface Golden { torch: string; modules: ModuleCase[]; functional: FunctionalCase[] }

const golden = JSON.parse(readFileSync(new URL('./fixtures/nn_golden.json', import.meta.url), 'utf8')) as Golden;

const TOL32 = { rtol: 1e-4, atol: 1e-5 };
const TOL64 = { rtol: 1e-10, atol: 1e-12 };



/** Mirrors gen_nn_golden.py's Net: named children, camelCase field fcOut → 'fc_out'. */
class Net extends nn.Module {
  conv1 = nn.Conv2d(2, 3, 3, { padding: 1 });
  bn1 = nn.BatchNorm2d(3);
  fcOut = nn.Linear(12, 4);
  forward(x: Tensor): Tensor {
    const h = nn.functional.maxPool2d(this.bn1.forward(this.conv1.forward(x)).relu(), 2);
    return this.fcOut.forward(h.flatten(1));
  }
}

type Pair = number | [number, number];
function build(c: ModuleCase): Module {
  if (c.born === 'mlp') return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3));
  if (c.born === 'cnn') {
    return nn.Sequential(nn.Conv2d(2, 3, 3, { padding: 1 }), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4));
  }
  if (c.born === 'net') return new Net();
  const a = c.args as never[];
  const o = c.opts as never;
  switch (c.kind) {
    case 'Linear': return nn.Linear(a[0]!, a[1]!, o);
    case 'Conv2d': return nn.Conv2d(a[0]!, a[1]!, a[2]! as Pair, o);
    case 'MaxPool2d': return nn.MaxPool2d(a[0]! as Pair, o);
    case 'AvgPool2d': return nn.AvgPool2d(a[0]! as Pair, o);
    case 'AdaptiveAvgPool2d': return nn.AdaptiveAvgPool2d(a[0]! as Pair);
    case 'BatchNorm1d': return nn.BatchNorm1d(a[0]!, o);
    case 'BatchNorm2d': return nn.BatchNorm2d(a[0]!, o);
    case 'LayerNorm': return nn.LayerNorm(a[0]! as number | number[], o);
    case 'RMSNorm': return nn.RMSNorm(a[0]! as number | number[], o);
    case 'Embedding': return nn.Embedding(a[0]!, a[1]!);
    case 'ReLU': return nn.ReLU();
    case 'GELU': return nn.GELU(o);
    case 'SiLU': return nn.SiLU();
    case 'Tanh': return nn.Tanh();
    case 'Sigmoid': return nn.Sigmoid();
    case 'Softplus': return nn.Softplus();
    case 'Flatten': return nn.Flatten(...(a as number[]));
  }
  throw new Error(`unknown module kind ${c.kind}`);
}

describe(`nn modules vs PyTorch ${golden.torch}`, () => {
  for (const c of golden.modules) {
    test(c.name, async () => {
      await expectModuleCase(build(c), c, TOL32, c.kind === 'Embedding' ? i32(c.input) : f32(c.input));
    });
  }
});

describe('nn.functional conv / pooling vs PyTorch (float64)', () => {
  const F = nn.functional;
  for (const c of golden.functional) {
    test(c.name, async () => {
      const ins = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, f64(a)]));
      const o = c.opts as Record<string, never>;
      let y: Tensor;
      if (c.fn === 'conv2d') y = F.conv2d(ins['x']!, ins['w']!, ins['b'], o);
      else if (c.fn === 'maxPool2d') y = F.maxPool2d(ins['x']!, o['kernel']!, o);
      else if (c.fn === 'avgPool2d') y = F.avgPool2d(ins['x']!, o['kernel']!, o);
      else y = F.adaptiveAvgPool2d(ins['x']!, o['size']!);
      await expectFnCase(y, ins, c, TOL64);
    });
  }
});

const mlp = (): Module => nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3));

describe('stateDict / loadStateDict', () => {
  test('Sequential keys are indices; parameters() follows namedParameters()', () => {
    const m = mlp();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(m.parameters().length).toBe(4);
    expect(nn.Linear(3, 2, { bias: false }).namedParameters().map(([k]) => k)).toEqual(['weight']);
    expect(Object.keys(nn.BatchNorm1d(3).stateDict()).sort()).toEqual(['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
  });

  test('round trip: a second model loaded from the first computes the same; later changes to the first do not leak', async () => {
    born.manualSeed(1);
    const a = new Net();
    born.manualSeed(2);
    const b = new Net();
    const x = born.randn([2, 2, 4, 4], { seed: 3 });
    a.eval(); b.eval();
    const before = await a.forward(x).data();
    expect(await b.forward(x).data()).not.toEqual(before);
    b.loadStateDict(a.stateDict());
    expect(await b.forward(x).data()).toEqual(before);
    for (const [k, t] of Object.entries(a.stateDict())) expect(await b.stateDict()[k]!.data(), k).toEqual(await t.data());
    // Train a one step; b keeps the loaded values.
    a.train();
    const loss = a.forward(x).pow(2).mean();
    loss.backward();
    await new born.optim.SGD(a.parameters(), { lr: 0.5 }).step();
    a.eval();
    expect(await a.forward(x).data()).not.toEqual(before);
    // Not bit-identical: b's weights now live in a different schedule, so rounding may differ.
    const after = await b.forward(x).data();
    after.forEach((v, i) => expect(Math.abs(v - before[i]!), `[${i}]`).toBeLessThan(1e-6));
  });

  test('float64 tensors load into a float32 model, converted', async () => {
    const m = nn.Linear(2, 1);
    m.loadStateDict({ weight: born.tensor(new Float64Array([0.5, -0.25]), { shape: [1, 2], dtype: 'float64' }), bias: born.tensor(new Float64Array([1]), { shape: [1], dtype: 'float64' }) });
    expect(m.weight.dtype).toBe('float32');
    expect([...(await m.forward(born.tensor([[2, 4]])).data())]).toEqual([1]);
  });

  test('shape mismatch names the key and both shapes', () => {
    const sd = mlp().stateDict();
    sd['0.weight'] = born.zeros([4, 5]);
    expect(() => mlp().loadStateDict(sd)).toThrow(/'0\.weight'.*\[4, 5\].*\[5, 4\]/);
    expect(() => nn.Linear(5, 4).loadStateDict(nn.Linear(4, 5).stateDict())).toThrow(/weight/);
  });

  test('missing and unexpected keys are errors unless strict: false', async () => {
    const src = mlp();
    const sd = src.stateDict();
    delete sd['2.bias'];
    expect(() => mlp().loadStateDict(sd)).toThrow(/missing: 2\.bias/);
    expect(() => mlp().loadStateDict({ ...src.stateDict(), 'fc.weight': born.zeros([1]) })).toThrow(/unexpected: fc\.weight/);
    const dst = mlp();
    const keep = await dst.stateDict()['2.bias']!.data();
    dst.loadStateDict({ ...sd, extra: born.zeros([1]) }, { strict: false });
    expect(await dst.stateDict()['2.bias']!.data()).toEqual(keep);
    expect(await dst.stateDict()['0.weight']!.data()).toEqual(await src.stateDict()['0.weight']!.data());
  });
});

describe('train() / eval()', () => {
  class Outer extends nn.Module {
    body = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.2)));
    head = nn.Linear(3, 2);
    forward(x: Tensor): Tensor { return this.head.forward(this.body.forward(x)); }
  }
  const all = (m: born.nn.AnyModule): born.nn.AnyModule[] => [m, ...m.children().flatMap(all)];

  test('propagate to every descendant and return the module', () => {
    const m = new Outer();
    expect(all(m).length).toBe(8);
    expect(all(m).every((c) => c.training)).toBe(true);
    expect(m.eval()).toBe(m);
    expect(all(m).map((c) => c.training)).toEqual(Array(8).fill(false));
    expect(m.train()).toBe(m);
    expect(all(m).every((c) => c.training)).toBe(true);
    m.train(false);
    expect(all(m).some((c) => c.training)).toBe(false);
  });

  test('nested keys follow field names', () => {
    expect(Object.keys(new Outer().stateDict()).sort()).toEqual([
      'body.0.bias', 'body.0.weight', 'body.2.0.bias', 'body.2.0.num_batches_tracked', 'body.2.0.running_mean',
      'body.2.0.running_var', 'body.2.0.weight', 'head.bias', 'head.weight',
    ]);
  });

  test('layers are made with or without new', () => {
    expect(nn.Linear(2, 3)).toBeInstanceOf(nn.Module);
    expect(new nn.Linear(2, 3)).toBeInstanceOf(nn.Linear);
    expect(nn.Conv2d(1, 2, 3)).toBeInstanceOf(nn.Conv2d);
  });
});

describe('Dropout', () => {
  const x = born.ones([200, 500]);

  test('eval is the identity; p = 0 too; p = 1 zeroes; p outside [0, 1] throws', async () => {
    const v = born.randn([3, 4], { seed: 5 });
    expect(await nn.Dropout(0.5).eval().forward(v).data()).toEqual(await v.data());
    expect(await nn.Dropout(0).forward(v).data()).toEqual(await v.data());
    expect([...(await nn.Dropout(1).forward(v).data())].every((e) => e === 0)).toBe(true);
    expect(() => nn.Dropout(1.5)).toThrow(RangeError);
    expect(() => nn.Dropout(-0.1)).toThrow(RangeError);
  });

  test('train: about p zeroed, the rest scaled by 1/(1-p), mean preserved', async () => {
    const p = 0.3;
    const y = await nn.Dropout(p).forward(x).data();
    let zeros = 0, sum = 0, other = 0;
    for (const e of y) {
      if (e === 0) zeros++;
      else if (Math.abs(e - 1 / (1 - p)) > 1e-6) other++;
      sum += e;
    }
    expect(other).toBe(0);
    expect(Math.abs(zeros / y.length - p)).toBeLessThan(0.01);
    expect(Math.abs(sum / y.length - 1)).toBeLessThan(0.01);
  });

  test('train: the gradient uses the forward pass\'s mask; fresh calls draw fresh masks', async () => {
    const d = nn.Dropout(0.5);
    const xs = born.ones([1000]);
    const y = d.forward(xs);
    const [g] = born.grad(y.sum(), [xs]);
    const yv = await y.data();
    expect(await g!.data()).toEqual(yv);
    const y2 = await d.forward(xs).data();
    expect(y2).not.toEqual(yv);
  });

  test('train: reproducible under manualSeed', async () => {
    const d = nn.Dropout(0.5);
    born.manualSeed(11);
    const a = await d.forward(born.ones([64])).data();
    born.manualSeed(11);
    const b = await d.forward(born.ones([64])).data();
    expect(b).toEqual(a);
  });
});

describe('default initialisation (PyTorch\'s distributions)', () => {
  const stats = async (t: Tensor): Promise<{ max: number; mean: number; std: number }> => {
    const d = await t.data();
    let s = 0, s2 = 0, max = 0;
    for (const v of d) { s += v; s2 += v * v; max = Math.max(max, Math.abs(v)); }
    const mean = s / d.length;
    return { max, mean, std: Math.sqrt(s2 / d.length - mean * mean) };
  };

  test('Linear and Conv2d: U(±1/√fan_in) for weight and bias', async () => {
    born.manualSeed(3);
    const lin = nn.Linear(400, 300);
    const w = await stats(lin.weight);
    expect(w.max).toBeLessThanOrEqual(1 / 20);
    expect(Math.abs(w.std - 1 / 20 / Math.sqrt(3))).toBeLessThan(0.001);
    expect(Math.abs(w.mean)).toBeLessThan(0.001);
    expect((await stats(lin.bias!)).max).toBeLessThanOrEqual(1 / 20);
    const conv = nn.Conv2d(8, 16, 3, { groups: 2 }); // fan_in = 4·3·3 = 36
    expect([...conv.weight.shape]).toEqual([16, 4, 3, 3]);
    const cw = await stats(conv.weight);
    expect(cw.max).toBeLessThanOrEqual(1 / 6);
    expect(cw.max).toBeGreaterThan(0.9 / 6);
  });

  test('Embedding N(0, 1); norms start at weight 1, bias 0, running stats 0 / 1', async () => {
    born.manualSeed(4);
    const e = await stats(nn.Embedding(500, 40).weight);
    expect(Math.abs(e.std - 1)).toBeLessThan(0.02);
    expect(Math.abs(e.mean)).toBeLessThan(0.02);
    const bn = nn.BatchNorm2d(3).stateDict();
    expect([...(await bn['weight']!.data())]).toEqual([1, 1, 1]);
    expect([...(await bn['bias']!.data())]).toEqual([0, 0, 0]);
    expect([...(await bn['running_mean']!.data())]).toEqual([0, 0, 0]);
    expect([...(await bn['running_var']!.data())]).toEqual([1, 1, 1]);
    expect(await bn['num_batches_tracked']!.item()).toBe(0);
    expect([...(await nn.RMSNorm(2).weight.data())]).toEqual([1, 1]);
  });
});

describe('argument checks found against PyTorch', () => {
  test('BatchNorm1d takes [N, C, L] and normalises over N and L', async () => {
    const bn = nn.BatchNorm1d(2);
    const x = born.tensor([[[1, 2, 3], [10, 20, 30]], [[3, 4, 5], [30, 40, 50]]]);
    const y = await bn.forward(x).data();
    // channel 0 holds 1, 2, 3, 3, 4, 5 over (N, L): mean 3, biased variance 10/6
    expect(y[0]).toBeCloseTo((1 - 3) / Math.sqrt(10 / 6 + 1e-5), 5);
    expect(() => bn.forward(born.zeros([1, 2, 1]))).toThrow(/more than 1 value per channel/);
  });
  test('SGD rejects nesterov without momentum and negative learning rates', () => {
    const p = born.zeros([2]).requiresGrad_();
    expect(() => new born.optim.SGD([p], { lr: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => new born.optim.SGD([p], { lr: -1 })).toThrow(/learning rate/);
  });
});
