// nn structure: modules held in ModuleList / ModuleDict and in plain arrays and objects get
// PyTorch's state-dict keys ('layers.0.weight', 'heads.cls.weight'), so a save → load round trip
// through born.save / born.load gives the same model, and a state dict written by PyTorch for
// such a model (test/fixtures/nn_structure.*, from gen_nn_structure.py) loads and computes what
// PyTorch computes. Also: strict and non-strict loadStateDict, nn.Parameter, nn.init, module
// printing, Identity and Unflatten.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectArr, type Arr } from './reference/golden.js';

const { nn } = born;
type Module = born.nn.Module;

const tmp = mkdtempSync(join(tmpdir(), 'born-nn-structure-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fixture = JSON.parse(readFileSync(new URL('./fixtures/nn_structure.json', import.meta.url), 'utf8')) as {
  torch: string; keys: string[]; input: Arr; output: Arr; repr: string;
};
const fixtureFile = new URL('./fixtures/nn_structure.safetensors', import.meta.url).pathname;

/** PyTorch's Net of gen_nn_structure.py, with ModuleList and ModuleDict. */
class Net extends nn.Module {
  embed = nn.Linear(4, 8);
  layers = nn.ModuleList([nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU())]);
  norm = nn.BatchNorm1d(8);
  heads = nn.ModuleDict({ cls: nn.Linear(8, 3), reg: nn.Linear(8, 1) });
  forward(x: Tensor): Tensor {
    let h = this.embed.forward(x);
    for (const layer of this.layers) h = layer.forward(h);
    h = this.norm.forward(h);
    return born.cat([this.heads.get('cls').forward(h), this.heads.get('reg').forward(h)], { dim: 1 });
  }
}

/** The same model written with a plain array and a plain object, as JavaScript code often is. */
class PlainNet extends nn.Module {
  embed = nn.Linear(4, 8);
  layers = [nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU())];
  norm = nn.BatchNorm1d(8);
  heads = { cls: nn.Linear(8, 3), reg: nn.Linear(8, 1) };
  forward(x: Tensor): Tensor {
    let h = this.embed.forward(x);
    for (const layer of this.layers) h = layer.forward(h);
    h = this.norm.forward(h);
    return born.cat([this.heads.cls.forward(h), this.heads.reg.forward(h)], { dim: 1 });
  }
}

const input = (): Tensor => born.tensor(Float32Array.from(fixture.input.data), { shape: fixture.input.shape });

describe('children in arrays and objects get PyTorch\'s keys', () => {
  test('two arrays of modules no longer collide, and an object of modules is no longer missing', () => {
    class Two extends nn.Module {
      encoder = [nn.Linear(2, 3), nn.Linear(3, 3)];
      decoder = [nn.Linear(3, 2)];
      heads = { a: nn.Linear(2, 1), b: nn.Linear(2, 1, { bias: false }) };
      blocks = [[nn.Linear(1, 1)], [nn.Linear(1, 1), nn.Linear(1, 1)]];
      scale = 2; // other values beside the modules are not state
      forward(x: Tensor): Tensor { return x; }
    }
    expect(Object.keys(new Two().stateDict())).toEqual([
      'encoder.0.weight', 'encoder.0.bias', 'encoder.1.weight', 'encoder.1.bias', 'decoder.0.weight', 'decoder.0.bias',
      'heads.a.weight', 'heads.a.bias', 'heads.b.weight',
      'blocks.0.0.weight', 'blocks.0.0.bias', 'blocks.1.0.weight', 'blocks.1.0.bias', 'blocks.1.1.weight', 'blocks.1.1.bias',
    ]);
    expect(new Two().parameters().length).toBe(15);
    expect(new Two().namedChildren().map(([k]) => k)).toEqual(['encoder.0', 'encoder.1', 'decoder.0', 'heads.a', 'heads.b', 'blocks.0.0', 'blocks.1.0', 'blocks.1.1']);
  });

  test('plain arrays and objects give the keys of ModuleList and ModuleDict, in PyTorch\'s order', () => {
    expect(Object.keys(new Net().stateDict())).toEqual(fixture.keys);
    expect(Object.keys(new PlainNet().stateDict())).toEqual(fixture.keys);
  });

  test('an array of parameters is named by index (as a ParameterList)', () => {
    class P extends nn.Module {
      scales = [nn.Parameter(born.ones([2])), nn.Parameter(born.zeros([3]))];
      forward(x: Tensor): Tensor { return x; }
    }
    expect(Object.keys(new P().stateDict())).toEqual(['scales.0', 'scales.1']);
  });

  test('Sequential keeps its index keys and takes PyTorch\'s OrderedDict form', () => {
    expect(Object.keys(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)).stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const s = nn.Sequential({ fc: nn.Linear(2, 2), act: nn.ReLU(), out: nn.Linear(2, 1) });
    expect(Object.keys(s.stateDict())).toEqual(['fc.weight', 'fc.bias', 'out.weight', 'out.bias']);
    expect(s.length).toBe(3);
    expect(s.at(-1)).toBeInstanceOf(nn.Linear);
    expect(() => nn.Sequential(nn.Linear(2, 2), 3 as never)).toThrow(/Sequential: argument 1: expected an nn.Module, got number/);
  });
});

describe('ModuleList', () => {
  test('append, push, extend, insert, at, get, set, pop, slice, length and iteration, as PyTorch', () => {
    const a = nn.Linear(1, 1), b = nn.Linear(1, 2), c = nn.Linear(1, 3), d = nn.Linear(1, 4);
    const l = nn.ModuleList([a]);
    expect(l.append(b)).toBe(l);
    l.extend(nn.ModuleList([c]));
    l.insert(0, d); // [d, a, b, c]
    expect(l.length).toBe(4);
    expect([...l]).toEqual([d, a, b, c]);
    expect(l.at(0)).toBe(d);
    expect(l.at(-1)).toBe(c);
    expect(l.get(2)).toBe(b);
    l.insert(4, nn.Identity());
    expect(l.pop()).toBeInstanceOf(nn.Identity);
    expect(l.pop(0)).toBe(d);
    l.set(1, d); // [a, d, c]
    expect([...l.slice(1)]).toEqual([d, c]);
    l.push(nn.Identity(), nn.Identity());
    expect(l.length).toBe(5);
    expect(Object.keys(l.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
    expect(new nn.ModuleList().length).toBe(0);
    expect(new nn.ModuleDict()).toBeInstanceOf(nn.ModuleDict);
    expect(nn.ModuleDict()).toBeInstanceOf(nn.ModuleDict);
  });

  test('bad input names the method and what is valid', () => {
    const l = nn.ModuleList([nn.Linear(1, 1)]);
    expect(() => l.append(born.ones([1]) as never)).toThrow(/ModuleList.append: expected an nn.Module, got a Tensor/);
    expect(() => l.at(1)).toThrow(/ModuleList.at: index 1 is out of range for a list of 1 modules \(valid: -1 to 0\)/);
    expect(() => l.insert(3, nn.Identity())).toThrow(RangeError);
    expect(() => l.at(0.5)).toThrow(/index must be an integer/);
    expect(() => l.extend(3 as never)).toThrow(/ModuleList.extend: expected an iterable of modules/);
    expect(() => l.forward()).toThrow(/ModuleList has no forward/);
  });

  test('children are registered: train/eval, parameters and zeroGrad reach them', () => {
    const m = new Net();
    m.eval();
    expect(m.layers.at(1).training).toBe(false);
    expect(m.heads.get('reg').training).toBe(false);
    expect(m.parameters().length).toBe(12);
    expect(m.modules().length).toBe(13);
    expect(m.namedModules().map(([k]) => k)).toContain('layers.1.0');
  });
});

describe('ModuleDict', () => {
  test('get, set, has, pop, update, keys, values, entries, length; iteration yields keys as in PyTorch', () => {
    const x = nn.Linear(1, 1), y = nn.Linear(1, 2);
    const d = nn.ModuleDict({ x });
    d.set('y', y);
    expect(d.length).toBe(2);
    expect(d.get('y')).toBe(y);
    expect(d.has('x')).toBe(true);
    expect([...d]).toEqual(['x', 'y']);
    expect([...d.keys()]).toEqual(['x', 'y']);
    expect([...d.values()]).toEqual([x, y]);
    expect([...d.items()]).toEqual([['x', x], ['y', y]]);
    d.update([['z', nn.Identity()]]);
    d.update(new Map([['w', nn.Linear(1, 1)]]));
    expect(d.pop('z')).toBeInstanceOf(nn.Identity);
    expect(Object.keys(d.stateDict())).toEqual(['x.weight', 'x.bias', 'y.weight', 'y.bias', 'w.weight', 'w.bias']);
    d.clear();
    expect(d.length).toBe(0);
  });

  test('bad keys and missing keys name what is valid', () => {
    const d = nn.ModuleDict({ cls: nn.Linear(1, 1) });
    expect(() => d.get('box')).toThrow(/ModuleDict.get: no module named 'box' \(keys: cls\)/);
    expect(() => d.set('a.b', nn.Identity())).toThrow(/a key must be a non-empty string without '.', got 'a.b'/);
    expect(() => d.set('', nn.Identity())).toThrow(TypeError);
    expect(() => d.set('k', 1 as never)).toThrow(/ModuleDict.set\('k'\): expected an nn.Module, got number/);
    expect(() => nn.ModuleDict(3 as never)).toThrow(/ModuleDict.update: expected an object of modules/);
  });
});

describe('save → load round trip', () => {
  for (const [name, Make] of [['ModuleList and ModuleDict', Net], ['plain array and object', PlainNet]] as const) {
    test(`${name}: born.save then born.load into a differently initialised model computes the same`, async () => {
      born.manualSeed(1);
      const a = new Make().eval();
      born.manualSeed(2);
      const b = new Make().eval();
      const x = input();
      const want = await a.forward(x).data();
      expect(await b.forward(x).data()).not.toEqual(want);
      const file = join(tmp, `${name.replace(/\W+/g, '_')}.safetensors`);
      await born.save(a.stateDict(), file);
      const res = b.loadStateDict(await born.load(file));
      expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
      expect(await b.forward(x).data()).toEqual(want);
      for (const [k, t] of Object.entries(a.stateDict())) expect(await b.stateDict()[k]!.data(), k).toEqual(await t.data());
    });
  }
});

describe(`a state dict written by PyTorch ${fixture.torch} for a model with ModuleList and ModuleDict`, () => {
  for (const [name, Make] of [['ModuleList and ModuleDict', Net], ['plain array and object', PlainNet]] as const) {
    test(`loads into the ${name} model strictly and computes PyTorch's output`, async () => {
      const sd = await born.load(fixtureFile);
      expect(Object.keys(sd).sort()).toEqual([...fixture.keys].sort());
      expect(sd['norm.num_batches_tracked']!.dtype).toBe('int64');
      const m = new Make().eval();
      m.loadStateDict(sd);
      await expectArr(m.forward(input()), fixture.output, { rtol: 1e-4, atol: 1e-5 }, 'output');
      expect(await m.stateDict()['norm.num_batches_tracked']!.item()).toBe(7);
    });
  }

  test('the module tree prints as PyTorch prints it, then the parameter count', () => {
    const s = String(new Net());
    const [tree, footer] = [s.slice(0, s.lastIndexOf('\n')), s.slice(s.lastIndexOf('\n') + 1)];
    expect(tree).toBe(fixture.repr);
    // 4·8+8 + 2·(8·8+8) + 8+8 + 8·3+3 + 8+1 = 236
    expect(footer).toBe('Total parameters: 236 (trainable: 236)');
  });
});

describe('loadStateDict', () => {
  const mlp = (): Module => nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1));

  test('strict (the default): one error lists every missing key, unexpected key and shape mismatch, and loads nothing', async () => {
    const dst = mlp();
    const before = await dst.stateDict()['0.weight']!.data();
    const sd = mlp().stateDict();
    delete sd['2.bias'];
    sd['0.bias'] = born.zeros([4]);
    sd['fc.weight'] = born.zeros([1]);
    let err: unknown;
    try { dst.loadStateDict(sd); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^loadStateDict: cannot load into Sequential: /);
    expect(msg).toMatch(/'0\.bias' has shape \[4\] in the state dict but \[3\] in the model/);
    expect(msg).toMatch(/missing: 2\.bias/);
    expect(msg).toMatch(/unexpected: fc\.weight/);
    expect(msg).toMatch(/strict: false/);
    expect(await dst.stateDict()['0.weight']!.data()).toEqual(before);
  });

  test('strict: false loads the keys both have and returns missingKeys and unexpectedKeys, as PyTorch', async () => {
    const src = mlp(), dst = mlp();
    const sd = src.stateDict();
    delete sd['2.bias'];
    const keep = await dst.stateDict()['2.bias']!.data();
    const res = dst.loadStateDict({ ...sd, extra: born.zeros([1]) }, { strict: false });
    expect(res).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: ['extra'] });
    expect(await dst.stateDict()['2.bias']!.data()).toEqual(keep);
    expect(await dst.stateDict()['0.weight']!.data()).toEqual(await src.stateDict()['0.weight']!.data());
  });

  test('a shape mismatch stays an error with strict: false (as in PyTorch)', () => {
    const sd = mlp().stateDict();
    sd['0.weight'] = born.zeros([4, 5]);
    expect(() => mlp().loadStateDict(sd, { strict: false })).toThrow(born.ShapeError);
  });

  test('dtypes convert within a kind (float64 → float32, int64 → int32); across kinds is a DTypeError', async () => {
    const bn = nn.BatchNorm1d(2);
    const sd = bn.stateDict();
    bn.loadStateDict({ ...sd, num_batches_tracked: born.tensor([5], { dtype: 'int64' }).reshape([]) });
    expect(bn.stateDict()['num_batches_tracked']!.dtype).toBe('int32');
    expect(await bn.stateDict()['num_batches_tracked']!.item()).toBe(5);
    expect(() => bn.loadStateDict({ ...sd, num_batches_tracked: born.scalar(1.5) })).toThrow(born.DTypeError);
    expect(() => bn.loadStateDict({ ...sd, num_batches_tracked: born.scalar(1.5) })).toThrow(/'num_batches_tracked' is float32 in the state dict but int32 in the model/);
    expect(() => bn.loadStateDict({ ...sd, weight: born.tensor([true, false]) })).toThrow(/a bool value cannot load into a floating-point tensor/);
  });

  test('bad arguments are TypeErrors', () => {
    expect(() => mlp().loadStateDict(mlp().stateDict(), { strcit: false } as never)).toThrow(/loadStateDict: unknown option 'strcit'/);
    expect(() => mlp().loadStateDict(null as never)).toThrow(/expected a state dict/);
    const sd = mlp().stateDict() as Record<string, unknown>;
    sd['0.bias'] = [1, 2, 3];
    expect(() => mlp().loadStateDict(sd as never)).toThrow(/'0\.bias' is not a tensor/);
  });

  test('two tensors with one name are an error, not a silent overwrite', () => {
    class Clash extends nn.Module {
      a = { b: nn.Linear(1, 1) };
      aB = nn.Parameter(born.ones([1])); // a_b, not a.b: no clash
      forward(x: Tensor): Tensor { return x; }
    }
    expect(Object.keys(new Clash().stateDict())).toEqual(['a_b', 'a.b.weight', 'a.b.bias']);
    class Clash2 extends nn.Module {
      fc = nn.Linear(1, 1);
      forward(x: Tensor): Tensor { return x; }
      constructor() { super(); (this as Record<string, unknown>)['fc.weight'] = nn.Parameter(born.ones([1, 1])); }
    }
    expect(() => new Clash2().stateDict()).toThrow(/two tensors are named 'fc.weight'/);
  });
});

describe('shared modules and tied weights', () => {
  test('a parameter held twice is one parameter (stepped once) but two state-dict keys, as in PyTorch', async () => {
    class Tied extends nn.Module {
      embed = nn.Embedding(5, 3);
      head = nn.Linear(3, 5, { bias: false });
      again = this.head;
      constructor() { super(); (this.head as { weight: Tensor }).weight = this.embed.weight; }
      forward(x: Tensor): Tensor { return this.head.forward(this.embed.forward(x)); }
    }
    const m = new Tied();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['embed.weight']);
    expect(m.children().length).toBe(2);
    expect(m.modules().length).toBe(3);
    expect(Object.keys(m.stateDict())).toEqual(['embed.weight', 'head.weight', 'again.weight']);
    expect(String(m).split('\n').at(-1)).toBe('Total parameters: 15 (trainable: 15)');
    const src = new Tied();
    m.loadStateDict(src.stateDict());
    expect(await m.head.weight.data()).toEqual(await src.embed.weight.data());
  });
});

describe('nn.Parameter', () => {
  test('a Tensor that requires grad, registered by modules; requiresGrad false stays registered', async () => {
    const p = nn.Parameter(born.ones([2, 2]));
    expect(p).toBeInstanceOf(born.Tensor);
    expect(p).toBeInstanceOf(nn.Parameter);
    expect(p.requiresGrad).toBe(true);
    const frozen = new nn.Parameter(born.zeros([3]), false);
    expect(frozen.requiresGrad).toBe(false);
    class M extends nn.Module {
      w = p;
      f = frozen;
      notState = born.ones([1]);
      forward(x: Tensor): Tensor { return x.matmul(this.w); }
    }
    const m = new M();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['w', 'f']);
    expect(String(m)).toMatch(/Total parameters: 7 \(trainable: 4\)$/);
    expect(nn.Linear(2, 2).weight).toBeInstanceOf(nn.Parameter);
    expect(nn.parameter(born.ones([1]))).toBeInstanceOf(nn.Parameter);
    const y = m.forward(born.ones([1, 2])).sum();
    y.backward();
    expect([...(await p.grad!.data())]).toEqual([1, 1, 1, 1]);
    expect(() => nn.Parameter([1, 2] as never)).toThrow(/Parameter: expected a Tensor/);
    expect(() => nn.Parameter(born.ones([1]), { requiresgrad: true } as never)).toThrow(/unknown option 'requiresgrad'/);
  });
});

/** Mean and standard deviation of a tensor's values. */
async function stats(t: Tensor): Promise<{ mean: number; std: number; min: number; max: number }> {
  const d = [...(await t.data())].map(Number);
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

describe('nn.init', () => {
  test('calculateGain and fans follow PyTorch', () => {
    expect(nn.init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(nn.init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(nn.init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(nn.init.calculateGain('selu')).toBe(0.75);
    expect(nn.init.calculateGain('conv2d')).toBe(1);
    expect(() => nn.init.calculateGain('swish' as never)).toThrow(/unsupported nonlinearity 'swish'/);
    expect(nn.init.calculateFanInAndFanOut('f', born.zeros([8, 4, 3, 3]))).toEqual([36, 72]);
    expect(() => nn.init.kaimingUniform_(born.zeros([5]))).toThrow(/kaimingUniform_: fan in and fan out need a tensor with at least 2 dims, got shape \[5\]/);
  });

  test('in place: the same tensor (a parameter keeps requiresGrad), with the distribution PyTorch draws', async () => {
    born.manualSeed(3);
    const w = nn.Parameter(born.zeros([400, 100]));
    expect(nn.init.kaimingUniform_(w)).toBe(w);
    expect(w.requiresGrad).toBe(true);
    // leaky_relu gain with a = 0 is √2: bound √2·√(3/100) = 0.2449
    let s = await stats(w);
    expect(s.max).toBeLessThanOrEqual(Math.sqrt(6 / 100) + 1e-6);
    expect(s.max).toBeGreaterThan(0.99 * Math.sqrt(6 / 100));
    nn.init.kaimingUniform_(w, { mode: 'fan_out', nonlinearity: 'relu' });
    expect((await stats(w)).max).toBeGreaterThan(0.99 * Math.sqrt(6 / 400));
    expect((await stats(w)).max).toBeLessThanOrEqual(Math.sqrt(6 / 400) + 1e-6);
    nn.init.kaimingUniform_(w, 0, 'fan_out', 'relu'); // PyTorch's positional form
    expect((await stats(w)).max).toBeGreaterThan(0.99 * Math.sqrt(6 / 400));
    expect((await stats(w)).max).toBeLessThanOrEqual(Math.sqrt(6 / 400) + 1e-6);
    nn.init.kaimingNormal_(w, { nonlinearity: 'relu' });
    s = await stats(w);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 100), 2);
    nn.init.xavierUniform_(w, 2);
    s = await stats(w);
    expect(s.max).toBeLessThanOrEqual(2 * Math.sqrt(6 / 500) + 1e-6);
    expect(s.max).toBeGreaterThan(0.99 * 2 * Math.sqrt(6 / 500));
    nn.init.xavierNormal_(w);
    expect((await stats(w)).std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    nn.init.uniform_(w, -3, -1);
    s = await stats(w);
    expect(s.min).toBeGreaterThanOrEqual(-3);
    expect(s.max).toBeLessThanOrEqual(-1);
    expect(s.mean).toBeCloseTo(-2, 1);
    nn.init.normal_(w, 5, 0.5);
    s = await stats(w);
    expect(s.mean).toBeCloseTo(5, 1);
    expect(s.std).toBeCloseTo(0.5, 1);
    nn.init.constant_(w, 0.25);
    expect(await stats(w)).toEqual({ mean: 0.25, std: 0, min: 0.25, max: 0.25 });
    nn.init.ones_(w);
    expect((await stats(w)).mean).toBe(1);
    nn.init.zeros_(w);
    expect((await stats(w)).max).toBe(0);
  });

  test('truncNormal_ stays in [a, b] with the moments of the truncated normal', async () => {
    born.manualSeed(4);
    const t = born.zeros([200, 200], { dtype: 'float64' });
    nn.init.truncNormal_(t);
    let s = await stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.mean).toBeCloseTo(0, 2);
    expect(s.std).toBeCloseTo(0.8796, 2); // the standard deviation of N(0, 1) truncated to [-2, 2]
    nn.init.truncNormal_(t, { mean: 1, std: 2, a: 0, b: 1 }); // a narrow interval, far from symmetric
    s = await stats(t);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(1);
    expect(s.mean).toBeCloseTo(0.5105, 2); // of N(1, 4) truncated to [0, 1], as torch's trunc_normal_ draws it
    expect(s.std).toBeCloseTo(0.2876, 2);
    nn.init.truncNormal_(t, 0, 1, -0.5, 0.25); // PyTorch's positional (mean, std, a, b)
    s = await stats(t);
    expect(s.min).toBeGreaterThanOrEqual(-0.5);
    expect(s.max).toBeLessThanOrEqual(0.25);
    expect(s.min).toBeLessThan(-0.49);
    expect(s.max).toBeGreaterThan(0.24);
    expect(() => nn.init.truncNormal_(t, { std: 0 })).toThrow(/truncNormal_: need std > 0 and a < b/);
    expect(() => nn.init.truncNormal_(t, { sd: 1 } as never)).toThrow(/unknown option 'sd'/);
  });

  test('only floating-point tensors; bad options are errors', () => {
    expect(() => nn.init.ones_(born.zeros([2], { dtype: 'int32' }))).toThrow(/ones_|constant_: fills floating-point tensors, got int32/);
    expect(() => nn.init.kaimingNormal_(born.zeros([2, 2]), { mode: 'in' as never })).toThrow(/mode must be 'fan_in' or 'fan_out'/);
    expect(() => nn.init.normal_([1] as never)).toThrow(/normal_: expected a Tensor/);
  });
});

describe('printing', () => {
  test('leaf modules as PyTorch prints them; String, toString and util.inspect agree', () => {
    const lin = nn.Linear(784, 256);
    expect(lin.toString()).toBe('Linear(in_features=784, out_features=256, bias=True)\nTotal parameters: 200,960 (trainable: 200,960)');
    expect(String(lin)).toBe(lin.toString());
    expect(inspect(lin)).toBe(lin.toString());
    expect(String(nn.Linear(3, 2, { bias: false })).split('\n')[0]).toBe('Linear(in_features=3, out_features=2, bias=False)');
    expect(String(nn.ReLU())).toBe('ReLU()'); // no parameters, no count line
    expect(inspect(nn.Sequential(nn.ReLU(), nn.Identity()))).toBe('Sequential(\n  (0): ReLU()\n  (1): Identity()\n)');
    const tree = String(nn.Sequential(nn.Conv2d(1, 8, 3, { padding: 1 }), nn.ReLU(), nn.Flatten(), nn.Dropout(0.25), nn.LayerNorm(8), nn.Identity(), nn.Unflatten(1, [2, 4]), nn.CrossEntropyLoss()));
    expect(tree).toBe([
      'Sequential(',
      '  (0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
      '  (1): ReLU()',
      '  (2): Flatten(start_dim=1, end_dim=-1)',
      '  (3): Dropout(p=0.25, inplace=False)',
      '  (4): LayerNorm((8,), eps=1e-05, elementwise_affine=True)',
      '  (5): Identity()',
      '  (6): Unflatten(dim=1, unflattened_size=(2, 4))',
      '  (7): CrossEntropyLoss()',
      ')',
      'Total parameters: 96 (trainable: 96)',
    ].join('\n'));
  });

  test('a module without an extraRepr of its own lists its settings; a shared parameter counts once', () => {
    class Custom extends nn.Module {
      hiddenSize = 4;
      opts = { eps: 0.5, affine: true };
      a = nn.Linear(2, 2);
      b = this.a;
      forward(x: Tensor): Tensor { return x; }
    }
    const s = String(new Custom());
    expect(s.split('\n')[0]).toBe('Custom(');
    expect(s.split('\n')[1]).toBe('  hidden_size=4, eps=0.5, affine=True');
    expect(s.split('\n').at(-1)).toBe('Total parameters: 6 (trainable: 6)');
  });
});

describe('Identity and Unflatten', () => {
  test('Identity returns its input and ignores arguments', () => {
    const x = born.ones([2, 3]);
    expect(nn.Identity(54, { unused: true }).forward(x)).toBe(x);
  });

  test('Unflatten splits one dim, one -1 inferred; bad sizes name the module', async () => {
    const x = born.arange(24).reshape([2, 12]);
    expect(nn.Unflatten(1, [3, 4]).forward(x).shape).toEqual([2, 3, 4]);
    expect(nn.Unflatten(-1, [2, -1, 3]).forward(x).shape).toEqual([2, 2, 2, 3]);
    expect(await nn.Unflatten(1, [3, 4]).forward(x).tolist()).toEqual(await x.reshape([2, 3, 4]).tolist());
    expect(() => nn.Unflatten(1, [5, 2]).forward(x)).toThrow(/Unflatten\(1, \[5, 2\]\): dim 1 of input \[2, 12\] has size 12/);
    expect(() => nn.Unflatten(1, [-1, -1])).toThrow(/may hold one -1/);
    expect(() => nn.Unflatten(3, [1]).forward(x)).toThrow(/out of range/);
  });
});
