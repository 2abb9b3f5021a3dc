// Sequence models against PyTorch 1.13 golden values (test/fixtures/sequence.json, written by
// test/fixtures/gen_sequence.py): nn.RNN / LSTM / GRU, MultiheadAttention and the transformer
// layers load PyTorch's state dict unchanged (the keys must match), run forward in eval mode, and
// match the outputs, the final states and the gradients of Σ sum(out · r) with respect to the
// inputs, the initial states and a few weights. scaledDotProductAttention is checked in float64
// against a reference written from plain torch ops (torch 1.13 has no such function). Also: the
// errors, dropout in training, initialisation, and a 50-step recurrence's graph.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectArr, kernelsRun, type Arr } from './reference/golden.js';

const { nn } = born;
const F = nn.functional;

interface MaskArr extends Arr { dtype?: 'bool' }
interface Case {
  name: string;
  kind: 'LSTM' | 'GRU' | 'RNN' | 'MultiheadAttention' | 'TransformerEncoderLayer' | 'TransformerDecoderLayer' | 'sdpa';
  args: [number, number];
  opts: Record<string, never>;
  forward: Record<string, boolean | number>;
  keys: string[];
  state: Record<string, Arr>;
  inputs: Record<string, MaskArr>;
  r: Record<string, Arr>;
  expected: { outs: Record<string, Arr>; grads: Record<string, Arr> };
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/sequence.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

const TOL32 = { rtol: 1e-4, atol: 2e-5 };
const TOL64 = { rtol: 1e-10, atol: 1e-12 };

const f32 = (a: Arr): Tensor => born.tensor(Float32Array.from(a.data), { shape: a.shape });
const f64 = (a: Arr): Tensor => born.tensor(Float64Array.from(a.data), { shape: a.shape, dtype: 'float64' });
const input = (a: MaskArr, float: (a: Arr) => Tensor): Tensor =>
  (a.dtype === 'bool' ? born.tensor(Int32Array.from(a.data), { shape: a.shape }).ne(0) : float(a));

interface Built { module: { stateDict(): Record<string, Tensor>; loadStateDict(sd: Record<string, Tensor>): void; namedParameters(): [string, Tensor][]; eval(): unknown }; run: (ins: Record<string, Tensor>) => Record<string, Tensor> }

function build(c: Case): Built {
  const [a, b] = c.args;
  const o = c.opts;
  switch (c.kind) {
    case 'LSTM': {
      const m = nn.LSTM(a, b, o);
      return { module: m, run: (ins) => {
        const [output, [hN, cN]] = m.forward(ins['input']!, ins['h0'] ? [ins['h0'], ins['c0']!] : undefined);
        return { output, h_n: hN, c_n: cN };
      } };
    }
    case 'GRU': case 'RNN': {
      const m = c.kind === 'GRU' ? nn.GRU(a, b, o) : nn.RNN(a, b, o);
      return { module: m, run: (ins) => { const [output, hN] = m.forward(ins['input']!, ins['h0']); return { output, h_n: hN }; } };
    }
    case 'MultiheadAttention': {
      const m = nn.MultiheadAttention(a, b, o);
      const { selfAttention, ...fwd } = c.forward;
      return { module: m, run: (ins) => {
        const q = ins['query']!;
        const [output, weights] = selfAttention ? m.forward(q, q, q, { ...fwd, keyPaddingMask: ins['keyPaddingMask'], attnMask: ins['attnMask'] })
          : m.forward(q, ins['key']!, ins['value']!, { ...fwd, keyPaddingMask: ins['keyPaddingMask'], attnMask: ins['attnMask'] });
        const outs: Record<string, Tensor> = { output };
        if (weights) outs['weights'] = weights;
        return outs;
      } };
    }
    case 'TransformerEncoderLayer': {
      const m = nn.TransformerEncoderLayer(a, b, o);
      return { module: m, run: (ins) => ({ output: m.forward(ins['src']!, { srcMask: ins['srcMask'], srcKeyPaddingMask: ins['srcKeyPaddingMask'], ...c.forward }) }) };
    }
    case 'TransformerDecoderLayer': {
      const m = nn.TransformerDecoderLayer(a, b, o);
      return { module: m, run: (ins) => ({ output: m.forward(ins['tgt']!, ins['memory']!, {
        tgtMask: ins['tgtMask'], memoryMask: ins['memoryMask'], tgtKeyPaddingMask: ins['tgtKeyPaddingMask'],
        memoryKeyPaddingMask: ins['memoryKeyPaddingMask'], ...c.forward,
      }) }) };
    }
    case 'sdpa': throw new Error('sdpa cases are functional');
  }
}

/** Σ sum(out · r) over the outputs, its gradients, and the checks against the case. */
async function check(c: Case, outs: Record<string, Tensor>, wrt: Map<string, Tensor>, float: (a: Arr) => Tensor, tol: typeof TOL32): Promise<void> {
  expect(Object.keys(outs).sort(), 'outputs').toEqual(Object.keys(c.expected.outs).sort());
  const names = Object.keys(c.expected.grads);
  const targets = names.map((n) => wrt.get(n));
  expect(targets.every(Boolean), `gradient targets ${names.join(', ')}`).toBe(true);
  const loss = Object.entries(outs).map(([k, y]) => y.mul(float(c.r[k]!)).sum()).reduce((s, t) => s.add(t));
  // Gradients are built before anything is realised: realising releases the history of the inputs.
  const gs = born.grad(loss, targets as Tensor[]);
  await born.realize(...Object.values(outs), ...gs);
  for (const [k, y] of Object.entries(outs)) await expectArr(y, c.expected.outs[k]!, tol, k);
  for (const [i, n] of names.entries()) await expectArr(gs[i]!, c.expected.grads[n]!, tol, `d/d${n}`);
}

describe(`sequence modules vs PyTorch ${golden.torch} (loaded state dicts, eval)`, () => {
  for (const c of golden.cases.filter((k) => k.kind !== 'sdpa')) {
    test(c.name, async () => {
      const { module: m, run } = build(c);
      expect(Object.keys(m.stateDict()), 'state-dict keys, in PyTorch\'s order').toEqual(c.keys);
      m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, a]) => [k, f32(a)])));
      m.eval();
      const ins = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, input(a, f32)]));
      const outs = run(ins);
      await check(c, outs, new Map([...Object.entries(ins), ...m.namedParameters()]), f32, TOL32);
    });
  }
});

describe('nn.functional.scaledDotProductAttention vs a PyTorch 2 reference (float64)', () => {
  for (const c of golden.cases.filter((k) => k.kind === 'sdpa')) {
    test(c.name, async () => {
      const ins = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, input(a, f64)]));
      const y = F.scaledDotProductAttention(ins['q']!, ins['k']!, ins['v']!, { ...c.forward, attnMask: ins['attnMask'] });
      expect(y.dtype).toBe('float64');
      await check(c, { output: y }, new Map(Object.entries(ins)), f64, TOL64);
    });
  }
});

describe('recurrent layers', () => {
  test('positional numLayers, PyTorch\'s all_weights order, and init U(±1/√hidden)', async () => {
    const m = nn.LSTM(3, 4, 2);
    expect(m.numLayers).toBe(2);
    expect(m.allWeights.map((ws) => ws.map((w) => [...w.shape]))).toEqual([
      [[16, 3], [16, 4], [16], [16]], [[16, 4], [16, 4], [16], [16]],
    ]);
    const bound = 1 / Math.sqrt(4);
    for (const [k, p] of m.namedParameters()) {
      const d = await p.data();
      expect(d.every((v) => Math.abs(v) <= bound), k).toBe(true);
      expect(d.some((v) => v !== d[0]), k).toBe(true);
    }
  });

  test('bad inputs, shapes and options name the layer and what is valid', () => {
    const m = nn.GRU(3, 4, { numLayers: 2 });
    expect(() => m.forward(born.zeros([5, 2, 4]))).toThrow(/GRU\(3, 4\): expected input \[T, N, 3\] or \[T, 3\]/);
    expect(() => m.forward(born.zeros([5, 2, 3]), born.zeros([1, 2, 4]))).toThrow(/GRU: h0 should be \[numLayers·numDirections, N, hiddenSize\] = \[2, 2, 4\], got \[1, 2, 4\]/);
    expect(() => nn.LSTM(3, 4, { numLayer: 2 } as never)).toThrow(/LSTM: unknown option 'numLayer' \(valid options: numLayers, bias, batchFirst, dropout, bidirectional, projSize\)/);
    expect(() => nn.GRU(3, 4, { projSize: 2 } as never)).toThrow(/GRU: unknown option 'projSize'/);
    expect(() => nn.LSTM(3, 4, { projSize: 4 })).toThrow(/LSTM: projSize must be 0 \(none\) or between 1 and hiddenSize - 1 = 3, got 4/);
    expect(() => nn.LSTM(3, 4, { projSize: 2 }).forward(born.zeros([2, 1, 3]), [born.zeros([1, 1, 4]), born.zeros([1, 1, 4])]))
      .toThrow(/LSTM: h0 should be \[numLayers·numDirections, N, projSize\] = \[1, 1, 2\], got \[1, 1, 4\]/);
    expect(() => nn.RNN(3, 4, { nonlinearity: 'gelu' as never })).toThrow(/RNN: nonlinearity must be 'tanh' or 'relu'/);
    expect(() => nn.LSTM(3, 4, { dropout: 2 })).toThrow(RangeError);
    expect(() => nn.LSTM(3, 4).forward(born.zeros([2, 1, 3]), born.zeros([1, 1, 4]) as never)).toThrow(/LSTM: hx must be \[h0, c0\]/);
    expect(() => nn.LSTM(3, 4).forward(born.zeros([2, 1, 3]), [born.zeros([1, 1, 4]), null] as never)).toThrow(/LSTM: hx must be \[h0, c0\]/);
  });

  test('dropout acts between layers only, and only while training', async () => {
    born.manualSeed(5);
    const x = born.randn([4, 3, 2], { seed: 1 });
    const two = nn.LSTM(2, 8, { numLayers: 2, dropout: 0.5 });
    const evalOut = await two.eval().forward(x)[0].data();
    const trainOut = await two.train().forward(x)[0].data();
    expect(trainOut).not.toEqual(evalOut);
    const one = nn.GRU(2, 8, { dropout: 0.5 }); // one layer: nothing to drop (PyTorch warns)
    expect(await one.train().forward(x)[0].data()).toEqual(await one.eval().forward(x)[0].data());
  });

  test('a 50-step LSTM: 3 kernels a step forward, about 12 with the backward, and its gradient runs', async () => {
    const m = nn.LSTM(4, 8);
    const x = born.randn([50, 2, 4], { seed: 2 });
    await born.realize(x);
    await m.realize();
    // Forward: per step the small matmul (+ b_hh), the cell state and the hidden state.
    const fwd = await kernelsRun(() => born.realize(m.forward(x)[0]));
    expect(fwd.length).toBeLessThanOrEqual(50 * 3 + 3);
    const [y, [hN]] = m.forward(x);
    const [gw] = born.grad(y.sum().add(hN.sum()), [m.allWeights[0]![1]!]);
    const both = await kernelsRun(() => born.realize(y, gw!));
    expect(both.length).toBeLessThan(50 * 14);
    expect((await gw!.data()).every(Number.isFinite)).toBe(true);
  });
});

describe('attention', () => {
  test('MultiheadAttention init as PyTorch: xavier in_proj, zero biases; kdim/vdim switch to separate projections', async () => {
    const m = nn.MultiheadAttention(8, 2);
    expect([...(await m.inProjBias!.data())].every((v) => v === 0)).toBe(true);
    expect([...(await m.outProj.bias!.data())].every((v) => v === 0)).toBe(true);
    const bound = Math.sqrt(6 / (8 + 24));
    expect([...(await m.inProjWeight!.data())].every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Object.keys(nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 5, addBiasKv: true }).stateDict())).toEqual([
      'q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'bias_k', 'bias_v', 'out_proj.weight', 'out_proj.bias',
    ]);
  });

  test('errors name the op and what is valid', () => {
    expect(() => nn.MultiheadAttention(6, 4)).toThrow(/MultiheadAttention\(6, 4\): embedDim must be a positive multiple of numHeads/);
    const m = nn.MultiheadAttention(4, 2);
    const q = born.zeros([3, 2, 4]);
    expect(() => m.forward(q, q, q, { attnMask: born.zeros([3, 4]) })).toThrow(/attnMask should be \[L, S\] = \[3, 3\] or \[N·numHeads, L, S\] = \[4, 3, 3\], got \[3, 4\]/);
    expect(() => m.forward(q, q, q, { keyPaddingMask: born.zeros([3, 2]).eq(0) })).toThrow(/keyPaddingMask should be \[N, S\] = \[2, 3\], got \[3, 2\]/);
    expect(() => m.forward(q, q, q, { attnMask: born.zeros([3, 3], { dtype: 'int32' }) })).toThrow(/attnMask must be a bool or floating-point tensor, got int32/);
    expect(() => m.forward(q, q, q, { mask: null } as never)).toThrow(/MultiheadAttention: unknown option 'mask'/);
    expect(() => m.forward(born.zeros([3, 2, 5]), q, q)).toThrow(/expected query \[L, N, E\]/);
    expect(() => F.scaledDotProductAttention(q, q, q, { isCausal: true, attnMask: born.zeros([3, 3]) })).toThrow(/give attnMask or isCausal, not both/);
    expect(() => F.scaledDotProductAttention(q, q, q, { dropoutP: 1.5 })).toThrow(/dropoutP must be a number in \[0, 1\]/);
    expect(() => F.scaledDotProductAttention(q, born.zeros([3, 2, 5]), q)).toThrow(/expected q \[\.\.\., L, E\], k \[\.\.\., S, E\]/);
  });

  test('dropout: attention weights are dropped while training only; sdpa drops whenever dropoutP > 0', async () => {
    born.manualSeed(3);
    const q = born.randn([5, 2, 8], { seed: 4 });
    const m = nn.MultiheadAttention(8, 2, { dropout: 0.5 });
    const [, wEval] = m.eval().forward(q, q, q);
    const [, wTrain] = m.train().forward(q, q, q, { averageAttnWeights: false });
    const rows = await wEval!.sum({ dim: -1 }).data();
    expect([...rows].every((v) => Math.abs(v - 1) < 1e-5)).toBe(true);
    const dropped = await wTrain!.data();
    expect(dropped.some((v) => v === 0)).toBe(true);
    const v = born.randn([2, 5, 3], { seed: 5 });
    const plain = await F.scaledDotProductAttention(v, v, v).data();
    expect(await F.scaledDotProductAttention(v, v, v, { dropoutP: 0.5 }).data()).not.toEqual(plain);
    expect([...(await F.scaledDotProductAttention(v, v, v, { dropoutP: 1 }).data())].every((x) => x === 0)).toBe(true);
  });

  test('encoder and decoder layers keep PyTorch\'s submodule names and defaults', () => {
    const enc = nn.TransformerEncoderLayer(8, 2);
    expect(enc.dimFeedforward).toBe(2048);
    expect(enc.dropout.p).toBe(0.1);
    expect(enc.selfAttn.dropout).toBe(0.1);
    expect(Object.keys(nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 8 }).stateDict()).filter((k) => k.startsWith('multihead_attn'))).toEqual([
      'multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias',
    ]);
    expect(() => nn.TransformerEncoderLayer(8, 2, { activation: 'swish' as never })).toThrow(/activation must be 'relu', 'gelu' or a function/);
    expect(() => enc.forward(born.zeros([3, 2, 8]), { mask: null } as never)).toThrow(/TransformerEncoderLayer: unknown option 'mask'/);
  });
});

describe('training', () => {
  test('an LSTM and a transformer encoder layer learn a small sequence task with backward() and Adam', async () => {
    born.manualSeed(7);
    // Predict, at every step, the running mean of the first feature so far (it needs the recurrence / causal attention).
    const x = born.randn([6, 4, 2], { seed: 8 });
    const steps = born.arange(1, 7).reshape([6, 1, 1]);
    const target = (await x.narrow(2, 0, 1).data()).reduce<number[]>((acc, v, i) => {
      const t = Math.floor(i / 4), b = i % 4;
      acc[i] = v + (t ? acc[(t - 1) * 4 + b]! : 0);
      return acc;
    }, []);
    const y = born.tensor(Float32Array.from(target), { shape: [6, 4, 1] }).div(steps);
    const lstm = nn.LSTM(2, 8);
    const head = nn.Linear(8, 1);
    const enc = nn.TransformerEncoderLayer(2, 1, { dimFeedforward: 8, dropout: 0 });
    const encHead = nn.Linear(2, 1);
    const models: [() => born.Tensor, born.Tensor[]][] = [
      [() => head.forward(lstm.forward(x)[0]), [...lstm.parameters(), ...head.parameters()]],
      [() => encHead.forward(enc.forward(x, { isCausal: true })), [...enc.parameters(), ...encHead.parameters()]],
    ];
    for (const [predict, params] of models) {
      const opt = new born.optim.Adam(params, { lr: 0.03 });
      const losses: number[] = [];
      for (let i = 0; i < 25; i++) {
        opt.zeroGrad();
        const loss = predict().sub(y).pow(2).mean();
        loss.backward();
        losses.push(await loss.item());
        await opt.step();
      }
      expect(losses[24]!, `loss ${losses[0]} -> ${losses[24]}`).toBeLessThan(losses[0]! * 0.5);
    }
  });
});
