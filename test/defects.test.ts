// Defects of issue 7, each tried as a user would: kernels keyed by their exact constants, every
// nn layer made with and without `new`.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { nn } from '../src/index.js';

describe('compiled kernels are keyed by their exact constants', () => {
  test('where(m, x, c) for c = Infinity, -Infinity, NaN, 0 and -0 gives each its own result', async () => {
    const x = born.tensor(Float32Array.from([1, 2, 3, 4]));
    const m = x.gt(2);
    const fill = async (c: number): Promise<number[]> => Array.from(await born.where(m, x, c).data());
    expect(await fill(Infinity)).toEqual([Infinity, Infinity, 3, 4]);
    expect(await fill(-Infinity)).toEqual([-Infinity, -Infinity, 3, 4]);
    expect(await fill(NaN)).toEqual([NaN, NaN, 3, 4]);
    const zero = await fill(0);
    const negZero = await fill(-0);
    expect(Object.is(zero[0], 0)).toBe(true);
    expect(Object.is(negZero[0], -0), `-0 kept its sign: got ${negZero[0]}`).toBe(true);
    // And back: the first kernel is still the right one.
    expect(await fill(Infinity)).toEqual([Infinity, Infinity, 3, 4]);
  });

  test('x.mul(c) and x.maximum(c) with non-finite constants do not share a kernel', async () => {
    const x = born.tensor(Float64Array.from([1, -2]), { dtype: 'float64' });
    expect(Array.from(await x.mul(Infinity).data())).toEqual([Infinity, -Infinity]);
    expect(Array.from(await x.mul(-Infinity).data())).toEqual([-Infinity, Infinity]);
    expect(Array.from(await x.maximum(born.full([2], -Infinity, { dtype: 'float64' })).data())).toEqual([1, -2]);
    expect(Array.from(await x.maximum(born.full([2], Infinity, { dtype: 'float64' })).data())).toEqual([Infinity, Infinity]);
  });
});

describe('every nn layer works with and without new', () => {
  // Constructor arguments and an input for every class-like export of nn. An export missing here
  // fails the test below, so a new layer cannot skip it.
  const x2 = (): born.Tensor => born.randn([2, 6], { seed: 3 });
  const x4 = (): born.Tensor => born.randn([2, 3, 4, 4], { seed: 4 });
  const seq = (): born.Tensor => born.randn([3, 2, 6], { seed: 5 });
  const seq8 = (): born.Tensor => born.randn([3, 2, 8], { seed: 6 });
  // Layers whose forward returns an array or takes more than one tensor say how to call them.
  type Call = (m: unknown, x: born.Tensor) => born.Tensor;
  const firstOf = (m: unknown, x: born.Tensor): born.Tensor => (m as { forward(x: born.Tensor): born.Tensor[] }).forward(x)[0]!;
  const cases: Record<string, { args: unknown[]; input: () => born.Tensor; shape: number[]; call?: Call }> = {
    Linear: { args: [6, 5], input: x2, shape: [2, 5] },
    Embedding: { args: [10, 3], input: () => born.tensor(Int32Array.from([1, 9, 0]), { dtype: 'int32' }), shape: [3, 3] },
    Dropout: { args: [0.5], input: x2, shape: [2, 6] },
    Flatten: { args: [], input: x4, shape: [2, 48] },
    Sequential: { args: [nn.Linear(6, 4), nn.ReLU(), new nn.Linear(4, 2)], input: x2, shape: [2, 2] },
    Conv2d: { args: [3, 2, 3, { padding: 1 }], input: x4, shape: [2, 2, 4, 4] },
    MaxPool2d: { args: [2], input: x4, shape: [2, 3, 2, 2] },
    AvgPool2d: { args: [2], input: x4, shape: [2, 3, 2, 2] },
    AdaptiveAvgPool2d: { args: [1], input: x4, shape: [2, 3, 1, 1] },
    BatchNorm1d: { args: [6], input: x2, shape: [2, 6] },
    BatchNorm2d: { args: [3], input: x4, shape: [2, 3, 4, 4] },
    LayerNorm: { args: [6], input: x2, shape: [2, 6] },
    RMSNorm: { args: [6], input: x2, shape: [2, 6] },
    Activation: { args: [(t: born.Tensor) => t.mul(2)], input: x2, shape: [2, 6] },
    ReLU: { args: [], input: x2, shape: [2, 6] },
    GELU: { args: [{ approximate: 'tanh' }], input: x2, shape: [2, 6] },
    SiLU: { args: [], input: x2, shape: [2, 6] },
    Tanh: { args: [], input: x2, shape: [2, 6] },
    Sigmoid: { args: [], input: x2, shape: [2, 6] },
    Softplus: { args: [], input: x2, shape: [2, 6] },
    // activation modules
    LeakyReLU: { args: [0.2], input: x2, shape: [2, 6] },
    ELU: { args: [{ alpha: 0.5 }], input: x2, shape: [2, 6] },
    CELU: { args: [2], input: x2, shape: [2, 6] },
    SELU: { args: [], input: x2, shape: [2, 6] },
    PReLU: { args: [3], input: x4, shape: [2, 3, 4, 4] },
    Mish: { args: [], input: x2, shape: [2, 6] },
    Hardswish: { args: [], input: x2, shape: [2, 6] },
    Hardsigmoid: { args: [], input: x2, shape: [2, 6] },
    Hardtanh: { args: [-2, 2], input: x2, shape: [2, 6] },
    ReLU6: { args: [], input: x2, shape: [2, 6] },
    LogSigmoid: { args: [], input: x2, shape: [2, 6] },
    Softmax: { args: [1], input: x2, shape: [2, 6] },
    LogSoftmax: { args: [{ dim: -1 }], input: x2, shape: [2, 6] },
    // recurrent and attention modules
    RNN: { args: [6, 4], input: seq, shape: [3, 2, 4], call: firstOf },
    LSTM: { args: [6, 4, { bidirectional: true }], input: seq, shape: [3, 2, 8], call: firstOf },
    GRU: { args: [6, 4, 2], input: seq, shape: [3, 2, 4], call: firstOf },
    MultiheadAttention: { args: [6, 2], input: seq, shape: [3, 2, 6],
      call: (m, x) => (m as { forward(q: born.Tensor, k: born.Tensor, v: born.Tensor): born.Tensor[] }).forward(x, x, x)[0]! },
    TransformerEncoderLayer: { args: [6, 2, { dimFeedforward: 8 }], input: seq, shape: [3, 2, 6] },
    TransformerDecoderLayer: { args: [6, 2, { dimFeedforward: 8 }], input: seq, shape: [3, 2, 6],
      call: (m, x) => (m as { forward(t: born.Tensor, mem: born.Tensor): born.Tensor }).forward(x, x) },
    // LLaMA-style blocks ([batch, tokens, dim] inputs; RotaryEmbedding's last dim is the head dim)
    RotaryEmbedding: { args: [6, 16], input: seq, shape: [3, 2, 6] },
    GroupedQueryAttention: { args: [8, 2, { numKvHeads: 1 }], input: seq8, shape: [3, 2, 8] },
    SwiGLU: { args: [6, 8], input: x2, shape: [2, 6] },
    LlamaDecoderLayer: { args: [8, 2, 12, { numKvHeads: 1 }], input: seq8, shape: [3, 2, 8] },
    // a packed q8_0 weight [4, 32] (its blocks from ggml's reference rounding)
    QuantizedLinear: {
      args: [born.quant.quantizedWeight(born.quant.quantize(Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)), 'q8_0', [4, 32]), 'q8_0', [4, 32])],
      input: () => born.randn([2, 32], { seed: 7 }), shape: [2, 4],
    },
    // basic modules
    Identity: { args: [], input: x2, shape: [2, 6] },
    Unflatten: { args: [1, [2, 3]], input: x2, shape: [2, 2, 3] },
    // spatial modules (Conv1d, ConvTranspose1d/2d, 1-D and adaptive pools, Upsample, GroupNorm, InstanceNorm)
    Conv1d: { args: [3, 2, 3, { padding: 'same' }], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 2, 5] },
    ConvTranspose1d: { args: [3, 2, 3, { stride: 2 }], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 2, 11] },
    ConvTranspose2d: { args: [3, 2, 2, { stride: 2 }], input: x4, shape: [2, 2, 8, 8] },
    MaxPool1d: { args: [2], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 3, 2] },
    AvgPool1d: { args: [2], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 3, 2] },
    AdaptiveAvgPool1d: { args: [3], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 3, 3] },
    AdaptiveMaxPool2d: { args: [[3, 2]], input: x4, shape: [2, 3, 3, 2] },
    Upsample: { args: [{ scaleFactor: 2 }], input: x4, shape: [2, 3, 8, 8] },
    GroupNorm: { args: [1, 3], input: x4, shape: [2, 3, 4, 4] },
    InstanceNorm1d: { args: [3], input: () => born.randn([2, 3, 5], { seed: 5 }), shape: [2, 3, 5] },
    InstanceNorm2d: { args: [3, { affine: true }], input: x4, shape: [2, 3, 4, 4] },
  };
  // The abstract base: extended, never instantiated (checked through every case's instanceof).
  // Containers, Parameter and the loss modules (two inputs) are not layers of one input: their
  // with-and-without-new forms are tested in nn-structure.test.ts and nn-losses-functional.test.ts.
  const abstract = new Set(['Module', 'ModuleList', 'ModuleDict', 'Parameter', 'CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss',
    'SmoothL1Loss', 'HuberLoss', 'BCELoss', 'BCEWithLogitsLoss', 'KLDivLoss']);
  type Ctor = new (...a: unknown[]) => born.nn.Module;
  const classLike = Object.entries(nn).filter(([name, v]) => typeof v === 'function' && /^[A-Z]/.test(name) && !abstract.has(name)) as [string, Ctor][];

  test('the table covers every class-like export', () => {
    expect(classLike.map(([n]) => n).sort()).toEqual(Object.keys(cases).sort());
  });

  test.each(Object.keys(cases))('%s', async (name) => {
    const cls = (nn as unknown as Record<string, Ctor>)[name]!;
    const c = cases[name]!;
    born.manualSeed(11);
    const withNew = new cls(...c.args);
    born.manualSeed(11);
    const withoutNew = (cls as unknown as (...a: unknown[]) => born.nn.Module)(...c.args);
    for (const m of [withNew, withoutNew]) {
      expect(m).toBeInstanceOf(nn.Module);
      expect(m).toBeInstanceOf(cls);
      m.eval(); // Dropout and BatchNorm: deterministic
    }
    const input = c.input();
    const run: Call = c.call ?? ((m, t) => (m as born.nn.Module).forward(t));
    const a = run(withNew, input), b = run(withoutNew, input);
    expect(a.shape).toEqual(c.shape);
    const [va, vb] = [Array.from(await a.data()), Array.from(await b.data())];
    expect(va.every(Number.isFinite)).toBe(true);
    expect(vb).toEqual(va); // the same seed gives the same parameters either way
  });

  test('activations compute their functions', async () => {
    const v = [-2, -0.5, 0, 0.5, 3];
    const x = born.tensor(Float64Array.from(v), { dtype: 'float64' });
    const want: Record<string, (t: number) => number> = {
      ReLU: (t) => Math.max(t, 0),
      SiLU: (t) => t / (1 + Math.exp(-t)),
      Tanh: Math.tanh,
      Sigmoid: (t) => 1 / (1 + Math.exp(-t)),
      Softplus: (t) => Math.log1p(Math.exp(t)),
    };
    for (const [name, f] of Object.entries(want)) {
      const cls = (nn as unknown as Record<string, Ctor>)[name]!;
      const got = Array.from(await new cls().forward(x).data());
      got.forEach((g, i) => expect(Math.abs(g - f(v[i]!)), `${name}(${v[i]})`).toBeLessThan(1e-12));
    }
  });
});

describe('a computation that reads a disposed tensor', () => {
  test('rejects naming the tensor instead of failing inside the scheduler', async () => {
    const x = born.randn([4, 3], { seed: 1 });
    const w = born.tensor(Float32Array.from([1, 2, 3]), { shape: [3, 1] });
    await born.realize(x, w);
    const y = x.matmul(w).tanh().sum();
    x.dispose();
    await expect(y.data()).rejects.toThrow(/reads a float32 tensor of shape \[4, 3\] that was disposed/);
    // The engine is still usable.
    expect(Array.from(await w.mul(2).data())).toEqual([2, 4, 6]);
  });
});
