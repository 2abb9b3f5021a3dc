// The scheduler's fusion rules, asserted on its own report (explain) and on the kernels it runs.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { kernelsRun } from './reference/golden.js';


describe('fusion', () => {
  test('a 6-op elementwise chain is one kernel, and its values match op-by-op evaluation', async () => {
    const data = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i) * 3);
    const x = born.tensor(data, { shape: [64, 64] });
    const y = x.mul(1.5).add(0.5).exp().neg().abs().sub(2);
    expect(born.explain(y).kernels).toHaveLength(1);
    expect(born.explain(y).kernels[0]!.ops).toEqual(['mul', 'add', 'exp', 'neg', 'abs', 'sub']);
    const ks = await kernelsRun(() => y.data());
    expect(ks).toHaveLength(1);
    const got = await y.data();
    for (let i = 0; i < data.length; i += 97) {
      const want = Math.abs(-Math.exp(Math.fround(data[i]!) * 1.5 + 0.5)) - 2;
      expect(got[i]).toBeCloseTo(want, 3);
    }
  });

  test('an elementwise prologue and a sum run as one kernel', async () => {
    const x = born.randn([64, 64], { seed: 3 });
    await born.realize(x);
    const y = x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 });
    const plan = born.explain(y);
    expect(plan.kernels).toHaveLength(1);
    expect(plan.kernels[0]!.ops).toContain('sum');
    expect(plan.kernels[0]!.ops).toContain('erf');
    const ks = await kernelsRun(() => y.data());
    expect(ks.map((k) => k.name)).toEqual([plan.kernels[0]!.name]);
  });

  test('matmul plus bias plus relu is one kernel', async () => {
    const x = born.randn([32, 16], { seed: 1 }), w = born.randn([16, 8], { seed: 2 }), b = born.randn([8], { seed: 3 });
    await born.realize(x, w, b);
    const y = x.matmul(w).add(b).relu();
    const plan = born.explain(y);
    expect(plan.kernels).toHaveLength(1);
    expect(plan.kernels[0]!.ops).toEqual(['matmul', 'add', 'relu']);
    const [xd, wd, bd, yd] = [await x.data(), await w.data(), await b.data(), await y.data()];
    for (let i = 0; i < 32; i++) {
      for (let j = 0; j < 8; j++) {
        let s = 0;
        for (let k = 0; k < 16; k++) s += xd[i * 16 + k]! * wd[k * 8 + j]!;
        expect(yd[i * 8 + j]).toBeCloseTo(Math.max(0, s + bd[j]!), 4);
      }
    }
  });

  test('a Linear layer on a 3-D input reads its transposed weight in place: one kernel, no copy per batch', async () => {
    const l = born.nn.Linear(16, 8);
    const x = born.randn([5, 8, 16], { seed: 2 });
    await born.realize(x, l.weight, l.bias!);
    const plan = born.explain(l.forward(x)).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['matmul', 'add']);
    const [got, w, b, xs] = [await l.forward(x).data(), await l.weight.data(), await l.bias!.data(), await x.data()];
    for (const [n, i, o] of [[0, 0, 0], [4, 7, 7], [2, 3, 5]] as const) {
      let want = b[o]!;
      for (let k = 0; k < 16; k++) want += xs[(n * 8 + i) * 16 + k]! * w[o * 16 + k]!;
      expect(got[(n * 8 + i) * 8 + o]!).toBeCloseTo(want, 4);
    }
  });

  test('a transposed matmul operand is read in place, not copied', async () => {
    const a = born.randn([8, 4], { seed: 1 }), b = born.randn([8, 4], { seed: 2 });
    await born.realize(a, b);
    expect(born.explain(a.matmul(b.T)).kernels).toHaveLength(1);
  });

  test('softmax is two kernels: the max, then a spread reduction that sums exp(x - max) and divides by it', async () => {
    const x = born.randn([16, 10], { seed: 5 });
    await born.realize(x);
    const plan = born.explain(x.softmax({ dim: -1 })).kernels;
    expect(plan).toHaveLength(2);
    expect(plan[1]!.name).toMatch(/^RS_/);
    expect(plan[1]!.ops).toEqual(['sub', 'exp', 'sum', 'sub', 'exp', 'div']);
  });

  test('layer norm is two kernels: the mean, then the variance and the scaling in one spread reduction', async () => {
    const x = born.randn([16, 10], { seed: 5 });
    await born.realize(x);
    const ln = born.nn.LayerNorm(10);
    expect(born.explain(ln.forward(x)).kernels).toHaveLength(2);
  });

  test('mean is one kernel: the scale is an epilogue of the sum', async () => {
    const x = born.randn([16, 10], { seed: 6 });
    await born.realize(x);
    expect(born.explain(x.mean({ dim: 1 })).kernels).toHaveLength(1);
  });

  test('a plain reshape of a realised tensor shares its buffer: no kernel', async () => {
    const x = born.randn([4, 6], { seed: 7 });
    await born.realize(x);
    expect(born.explain(x.reshape([6, 4])).kernels).toHaveLength(0);
    expect([...(await x.reshape([6, 4]).data())]).toEqual([...(await x.data())]);
  });

  test('a value read by two outputs of one realize is computed once', async () => {
    const x = born.randn([32, 32], { seed: 8 });
    await born.realize(x);
    const s = x.sum({ dim: 1, keepdim: true });
    const a = x.sub(s), b = x.add(s);
    const ks = await kernelsRun(() => born.realize(a, b));
    expect(ks.filter((k) => k.ops.includes('sum'))).toHaveLength(1);
    expect(ks).toHaveLength(3);
  });

  test('a graph of the same structure replays its cached plan with new buffers', async () => {
    const run = async (seed: number): Promise<number> => {
      const x = born.randn([8, 8], { seed });
      await born.realize(x);
      const want = [...(await x.data())].reduce((s, v) => s + Math.fround(v * 2 + 1), 0);
      const got = await x.mul(2).add(1).sum().item();
      expect(got).toBeCloseTo(want, 3);
      return got;
    };
    const a = await run(1), b = await run(2);
    expect(a).not.toBe(b);
  });

  test('events report name, device, ops, bytes, flops and time', async () => {
    const x = born.randn([128, 128], { seed: 9 });
    await born.realize(x);
    const [e] = await kernelsRun(() => x.exp().sum().data());
    expect(e).toBeDefined();
    expect(e!.device).toBe('cpu');
    expect(e!.ops).toEqual(['exp', 'sum']);
    expect(e!.bytes).toBeGreaterThanOrEqual(128 * 128 * 4);
    expect(e!.flops).toBeGreaterThan(128 * 128);
    expect(e!.ms).toBeGreaterThanOrEqual(0);
  });
});

describe('plan reuse', () => {
  test('fresh unseeded random draws (dropout masks) reuse one compiled plan, with new numbers', async () => {
    const { planFor } = await import('../src/scheduler/realize.js');
    const x = born.ones([64]);
    const a = x.mul(born.rand([64]).ge(0.5).to('float32'));
    const b = x.mul(born.rand([64]).ge(0.5).to('float32'));
    expect(planFor([b.node])).toBe(planFor([a.node]));
    expect([...(await a.data())]).not.toEqual([...(await b.data())]);
  });
});
