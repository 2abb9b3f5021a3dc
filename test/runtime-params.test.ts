// Runtime parameters: scalars that change from call to call are kernel arguments, so a new value
// compiles nothing. Measured with engine.stats().kernelCompiles.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

const compiles = (): number => born.engine.stats().kernelCompiles;

function softmaxRef(row: Float32Array, t: number): number[] {
  const z = [...row].map((v) => Math.fround(v / Math.fround(t)));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('born.scalar', () => {
  test('values and dtypes: float32 rounds like a literal, int32 truncates, bool is 0/1', async () => {
    expect(await born.scalar(0.1).item()).toBe(Math.fround(0.1));
    expect(born.scalar(3, { dtype: 'int32' }).dtype).toBe('int32');
    expect(await born.scalar(3.7, { dtype: 'int32' }).item()).toBe(3);
    expect(await born.scalar(true).item()).toBe(1);
    expect(born.scalar(2).shape).toEqual([]);
    expect(await born.tensor([1, 2, 3]).mul(born.scalar(2.5)).tolist()).toEqual([2.5, 5, 7.5]);
  });

  test('100 distinct temperatures through softmax compile the softmax once, then nothing', async () => {
    const logits = born.randn([4, 32], { seed: 11 });
    const rows = await logits.data();
    const first = compiles();
    await logits.div(born.scalar(0.5)).softmax().data();
    const once = compiles() - first;
    const plansBefore = born.engine.stats().cachedPlans;
    const after = compiles();
    for (let i = 1; i < 100; i++) {
      const t = 0.5 + i / 50;
      const p = await logits.div(born.scalar(t)).softmax().data();
      if (i % 33 === 0) {
        const ref = softmaxRef(Float32Array.from(rows.subarray(0, 32)), t);
        ref.forEach((v, j) => expect(p[j]!).toBeCloseTo(v, 6));
      }
    }
    expect(compiles() - after).toBe(0);
    expect(born.engine.stats().cachedPlans).toBe(plansBefore);
    expect(once).toBeLessThanOrEqual(2);
    // A literal, by contrast, is part of the kernel: a new value compiles anew.
    const lit = compiles();
    await logits.div(0.123).softmax().data();
    expect(compiles() - lit).toBeGreaterThan(0);
  });

  test('a runtime scalar gives the same numbers as the literal', async () => {
    const x = born.randn([3, 5], { seed: 2 });
    const a = await x.mul(born.scalar(0.7)).add(born.scalar(-1.25)).exp().data();
    const b = await x.mul(0.7).add(-1.25).exp().data();
    expect([...a]).toEqual([...b]);
  });

  test('a runtime scalar reaches a matmul epilogue', async () => {
    const a = born.tensor([[1, 2], [3, 4]]);
    const b = born.tensor([[1, 0], [0, 1]]);
    for (const s of [2, 3]) {
      expect(await a.matmul(b).mul(born.scalar(s)).add(1).tolist()).toEqual([[1 + s, 1 + 2 * s], [1 + 3 * s, 1 + 4 * s]]);
    }
  });

  test('changing the optimizer learning rate every step compiles nothing after the first steps', async () => {
    const w = born.randn([8, 4], { seed: 3 }).requiresGrad_();
    const x = born.randn([5, 8], { seed: 4 });
    const opt = new born.optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    const step = async (lr: number): Promise<void> => {
      opt.lr = lr;
      opt.zeroGrad();
      const loss = x.matmul(w).pow(2).mean();
      loss.backward();
      await opt.step([loss]);
    };
    await step(0.1);
    await step(0.05);
    const before = compiles();
    for (let i = 0; i < 10; i++) await step(0.01 * (i + 1));
    expect(compiles() - before).toBe(0);
  });

  test('unseeded random draws (dropout masks) reuse one kernel and allocate no key buffer', async () => {
    const x = born.ones([64]);
    await x.data();
    await born.rand([64]).mul(x).data();
    const before = born.engine.stats();
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add([...await born.rand([64]).mul(x).data()].slice(0, 4).join());
    const after = born.engine.stats();
    expect(after.kernelCompiles).toBe(before.kernelCompiles);
    expect(seen.size).toBe(10);
  });
});

describe('decoding through a fixed-size cache at a runtime position', () => {
  /**
   * One attention head over a [L, D] key/value cache: write this position's key and value with
   * sliceAssign_ at a runtime start, attend over the cache with the positions after `pos`
   * masked by `iota < pos + 1`. Returns the kernels compiled and the last output.
   */
  async function decode(L: number, D: number, positions: number, seed: number): Promise<{ compiled: number; out: Float32Array; qs: Float32Array[]; ks: Float32Array[]; vs: Float32Array[] }> {
    const K = born.zeros([L, D]), V = born.zeros([L, D]);
    await born.realize(K, V);
    const rnd = (i: number): Float32Array => Float32Array.from({ length: D }, (_, j) => Math.sin(seed + 7 * i + j * 1.3));
    const qs: Float32Array[] = [], ks: Float32Array[] = [], vs: Float32Array[] = [];
    const before = compiles();
    let out: Float32Array = new Float32Array(0);
    for (let p = 0; p < positions; p++) {
      const pos = born.scalar(p, { dtype: 'int32' });
      const q = rnd(3 * p), k = rnd(3 * p + 1), v = rnd(3 * p + 2);
      qs.push(q); ks.push(k); vs.push(v);
      K.sliceAssign_(0, pos, born.tensor(k, { shape: [1, D] }));
      V.sliceAssign_(0, pos, born.tensor(v, { shape: [1, D] }));
      const scores = born.tensor(q, { shape: [1, D] }).matmul(K.T).div(Math.sqrt(D));
      const mask = born.arange(L).lt(pos.add(1)).reshape([1, L]);
      const probs = born.where(mask, scores, -Infinity).softmax({ dim: -1 });
      out = (await probs.matmul(V).data()) as Float32Array;
    }
    return { compiled: compiles() - before, out, qs, ks, vs };
  }

  test('the kernels compiled do not depend on the number of positions (16 vs 64)', async () => {
    const a = await decode(64, 8, 16, 1);
    const b = await decode(72, 12, 64, 2); // another cache and head size: its kernels are compiled afresh
    expect(a.compiled).toBeGreaterThan(0);
    expect(b.compiled).toBe(a.compiled);
    // The last output against attention computed here over the positions written so far.
    const { out, qs, ks, vs } = b;
    const D = 12, n = qs.length, q = qs[n - 1]!;
    const s = ks.map((k) => k.reduce((acc, kv, j) => acc + kv * q[j]!, 0) / Math.sqrt(D));
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const z = e.reduce((x, y) => x + y, 0);
    for (let j = 0; j < D; j++) expect(out[j]!).toBeCloseTo(e.reduce((acc, w, i) => acc + (w / z) * vs[i]![j]!, 0), 4);
  });
});
