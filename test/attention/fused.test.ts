// The fused attention kernel on the CPU against a naive JS reference and the composed path
// (matmul, softmax, matmul): causal, bool and additive masks, grouped-query heads, odd sizes,
// one-token decoding, a runtime kvLength; that it runs as one kernel and never holds the
// [L, S] scores; and its gradient against central finite differences and the composed gradient.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { composedAttention } from '../../src/nn/attention.js';
import { fusedAttentionPolicy } from '../../src/nn/sdpa-fused.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { kernelsRun } from '../reference/golden.js';
import { maxAbsDiff, naiveAttention, type RefCase } from './reference.js';

const F = born.nn.functional;

// The CPU takes the fused kernel above a size only; these small cases check the kernel itself.
const cpuMinScores = fusedAttentionPolicy.cpuMinScores;
beforeAll(() => { fusedAttentionPolicy.cpuMinScores = 0; });
afterAll(() => { fusedAttentionPolicy.cpuMinScores = cpuMinScores; });

describe('when the fused kernel runs', () => {
  test('on the CPU: at 2^22 scores and above; below, and with dropout, the composed path', () => {
    fusedAttentionPolicy.cpuMinScores = cpuMinScores;
    try {
      const fused = (b: number, t: number, o = {}): boolean =>
        born.explain(F.scaledDotProductAttention(born.randn([b, t, 8]), born.randn([b, t, 8]), born.randn([b, t, 8]), o)).kernels.some((k) => k.ops.includes('attention'));
      expect(fused(4, 1024)).toBe(true);
      expect(fused(3, 1024)).toBe(false);
      expect(fused(4, 1024, { dropoutP: 0.1 })).toBe(false);
    } finally { fusedAttentionPolicy.cpuMinScores = 0; }
  });
});

function inputs(c: RefCase, seed: number, dtype: 'float32' | 'float64' = 'float32'): { q: Tensor; k: Tensor; v: Tensor } {
  const q = born.randn([c.B, c.H, c.L, c.E], { seed, dtype });
  const k = born.randn([c.B, c.Hkv, c.S, c.E], { seed: seed + 1, dtype });
  const v = born.randn([c.B, c.Hkv, c.S, c.Ev], { seed: seed + 2, dtype });
  return { q, k, v };
}

const cases: [string, RefCase][] = [
  ['plain, odd sizes', { B: 2, H: 3, Hkv: 3, L: 17, S: 23, E: 7, Ev: 5 }],
  ['causal, L = S spanning key blocks', { B: 1, H: 2, Hkv: 2, L: 70, S: 70, E: 8, Ev: 8, causal: true }],
  ['causal, L < S (top-left, as PyTorch)', { B: 1, H: 1, Hkv: 1, L: 5, S: 9, E: 4, Ev: 3, causal: true }],
  ['grouped-query, causal', { B: 2, H: 6, Hkv: 2, L: 19, S: 19, E: 8, Ev: 8, causal: true }],
  ['multi-query, one-token decode', { B: 1, H: 4, Hkv: 1, L: 1, S: 33, E: 16, Ev: 16 }],
  ['custom scale', { B: 1, H: 2, Hkv: 2, L: 9, S: 9, E: 4, Ev: 4, scale: 0.9 }],
];

describe('fused attention (CPU) vs a naive reference and the composed path', () => {
  for (const [name, c] of cases) {
    test(name, async () => {
      const { q, k, v } = inputs(c, 11);
      const opts = { isCausal: c.causal ?? false, enableGqa: c.H !== c.Hkv, scale: c.scale ?? null };
      const y = F.scaledDotProductAttention(q, k, v, opts);
      expect(born.explain(y).kernels.map((x) => x.ops.includes('attention'))).toContain(true);
      const got = await y.data();
      const want = naiveAttention(c, await q.data(), await k.data(), await v.data());
      expect(maxAbsDiff(got, want)).toBeLessThan(2e-6);
      const composed = composedAttention(q, k, v, { scale: c.scale ?? 1 / Math.sqrt(c.E), isCausal: c.causal ?? false, gqa: c.H !== c.Hkv, mask: null, kvLength: null });
      expect(born.explain(composed).kernels.some((x) => x.ops.includes('attention'))).toBe(false);
      expect(maxAbsDiff(got, await composed.data())).toBeLessThan(2e-6);
    });
  }

  test('bool and additive masks (broadcast over batch and heads), float64', async () => {
    const c: RefCase = { B: 2, H: 2, Hkv: 2, L: 6, S: 11, E: 5, Ev: 3 };
    const { q, k, v } = inputs(c, 5, 'float64');
    const bool = born.randn([c.L, c.S], { seed: 9 }).gt(-0.8);
    const add = born.randn([c.L, c.S], { seed: 10, dtype: 'float64' });
    const [qd, kd, vd] = [await q.data(), await k.data(), await v.data()];
    const boolData = await bool.to('int32').data();
    for (const [mask, ref] of [[bool, { boolMask: boolData }], [add, { addMask: await add.data() }]] as const) {
      const got = await F.scaledDotProductAttention(q, k, v, { attnMask: mask }).data();
      const want = naiveAttention({ ...c, ...ref }, qd, kd, vd);
      // Rows with no visible key are NaN in both.
      for (let i = 0; i < want.length; i++) if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
      expect(maxAbsDiff(got.map((x) => (Number.isNaN(x) ? 0 : x)), want.map((x) => (Number.isNaN(x) ? 0 : x)))).toBeLessThan(1e-12);
    }
  });

  test('kvLength: a runtime key count over a preallocated cache; a new length compiles nothing', async () => {
    const c: RefCase = { B: 1, H: 4, Hkv: 2, L: 1, S: 40, E: 8, Ev: 8, causal: true };
    const { q, k, v } = inputs(c, 21);
    await born.realize(q, k, v);
    const [qd, kd, vd] = [await q.data(), await k.data(), await v.data()];
    // A new runtime scalar per step, as a decoder makes one: same structure, so same plan and kernels.
    const run = async (n: number): Promise<Float32Array> =>
      (await F.scaledDotProductAttention(q, k, v, { isCausal: true, enableGqa: true, kvLength: born.scalar(n, { dtype: 'int32' }) }).data()) as Float32Array;
    expect(maxAbsDiff(await run(7), naiveAttention({ ...c, kvLength: 7 }, qd, kd, vd))).toBeLessThan(2e-6);
    const compiles = born.engine.stats().kernelCompiles;
    for (const n of [1, 13, 40]) expect(maxAbsDiff(await run(n), naiveAttention({ ...c, kvLength: n }, qd, kd, vd))).toBeLessThan(2e-6);
    expect(born.engine.stats().kernelCompiles).toBe(compiles);
    // A prefill of 3 tokens at positions 9..11 of the cache: causal aligned to the last valid key.
    const c3: RefCase = { ...c, L: 3 };
    const q3 = born.randn([1, 4, 3, 8], { seed: 3 });
    const got = await F.scaledDotProductAttention(q3, k, v, { isCausal: true, enableGqa: true, kvLength: 12 }).data();
    expect(maxAbsDiff(got, naiveAttention({ ...c3, kvLength: 12 }, await q3.data(), kd, vd))).toBeLessThan(2e-6);
  });

  test('T = 1024: one kernel, and the [T, T] scores are never held (live bytes, allocations)', async () => {
    const T = 1024, E = 16;
    const q = born.randn([1, 2, T, E], { seed: 1 }), k = born.randn([1, 2, T, E], { seed: 2 }), v = born.randn([1, 2, T, E], { seed: 3 });
    await born.realize(q, k, v);
    const y = F.scaledDotProductAttention(q, k, v, { isCausal: true });
    const plan = born.explain(y).kernels;
    expect(plan).toHaveLength(1);
    expect(plan[0]!.ops).toEqual(['attention']);
    const base = born.engine.memory().liveBytes, allocs = born.engine.stats().allocations;
    let peak = 0;
    const ks = await kernelsRun(async () => {
      const on = (): void => { peak = Math.max(peak, born.engine.memory().liveBytes - base); };
      born.engine.on('kernel', on);
      try { await born.realize(y); } finally { born.engine.off('kernel', on); }
    });
    expect(ks).toHaveLength(1);
    const outBytes = 2 * T * E * 4;
    expect(peak).toBeLessThanOrEqual(outBytes); // the composed path holds 2·T·T·4 = 8 MiB of scores
    expect(born.engine.stats().allocations - allocs).toBeLessThanOrEqual(1);
    // Spot rows against the reference on a slice (the first 40 queries only see the first 40 keys).
    const c: RefCase = { B: 1, H: 2, Hkv: 2, L: 40, S: 40, E, Ev: E, causal: true };
    const first = (t: Tensor): Tensor => t.narrow(2, 0, 40).contiguous();
    const want = naiveAttention(c, await first(q).data(), await first(k).data(), await first(v).data());
    expect(maxAbsDiff(await first(y).data(), want)).toBeLessThan(2e-6);
  });
});

describe('fused attention in the LLaMA block', () => {
  test('GroupedQueryAttention plans one attention kernel and no kernel touches [H, T, T] scores', () => {
    const T = 256, H = 4;
    const attn = born.nn.GroupedQueryAttention(32, H, { numKvHeads: 2, maxPositions: T });
    const plan = born.explain(attn.forward(born.randn([1, T, 32], { seed: 1 }))).kernels;
    expect(plan.filter((k) => k.ops.includes('attention'))).toHaveLength(1);
    const scores = H * T * T * 4;
    for (const k of plan) expect(k.bytes, `${k.name}: ${k.ops.join(',')}`).toBeLessThan(scores / 4);
  });
});

describe('fused attention gradient', () => {
  test('dq, dk, dv (grouped-query, causal) equal central finite differences (float64) and the composed path\'s', async () => {
    const c: RefCase = { B: 1, H: 4, Hkv: 2, L: 5, S: 5, E: 3, Ev: 2, causal: true };
    const { q, k, v } = inputs(c, 31, 'float64');
    const w = born.randn([1, 4, 5, 2], { seed: 40, dtype: 'float64' });
    const loss = (a: Tensor, b: Tensor, d: Tensor): Tensor => F.scaledDotProductAttention(a, b, d, { isCausal: true, enableGqa: true }).mul(w).sum();
    const grads = born.grad(loss(q, k, v), [q, k, v]);
    const composed = born.grad(composedAttention(q, k, v, { scale: 1 / Math.sqrt(3), isCausal: true, gqa: true, mask: null, kvLength: null }).mul(w).sum(), [q, k, v]);
    const h = 1e-6;
    const xs = [q, k, v];
    for (let t = 0; t < 3; t++) {
      const g = await grads[t]!.data();
      expect(maxAbsDiff(g, await composed[t]!.data())).toBeLessThan(1e-12);
      const base = Float64Array.from(await xs[t]!.data());
      for (const i of [0, 3, Math.floor(base.length / 2), base.length - 1]) {
        const at = (dx: number): Promise<number> => {
          const d = Float64Array.from(base); d[i] += dx;
          const moved = born.tensor(d, { shape: xs[t]!.shape, dtype: 'float64' });
          const args = xs.map((x, j) => (j === t ? moved : x)) as [Tensor, Tensor, Tensor];
          return loss(...args).item() as Promise<number>;
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        expect(Math.abs(g[i]! - fd)).toBeLessThan(1e-6);
      }
    }
  });

  test('an additive mask gets the softmax\'s gradient; a bool mask and kvLength get none', async () => {
    const q = born.randn([2, 4, 3], { seed: 1, dtype: 'float64' }), k = born.randn([2, 6, 3], { seed: 2, dtype: 'float64' }), v = born.randn([2, 6, 2], { seed: 3, dtype: 'float64' });
    const m = born.randn([4, 6], { seed: 4, dtype: 'float64' });
    const [gm] = born.grad(F.scaledDotProductAttention(q, k, v, { attnMask: m }).square().sum(), [m]);
    const [want] = born.grad(composedAttention(q, k, v, { scale: 1 / Math.sqrt(3), isCausal: false, gqa: false, mask: m, kvLength: null }).square().sum(), [m]);
    expect(maxAbsDiff(await gm!.data(), await want!.data())).toBeLessThan(1e-12);
    const [gq] = born.grad(F.scaledDotProductAttention(q, k, v, { attnMask: born.arange(6).ne(2), kvLength: 5 }).sum(), [q]);
    expect(gq!.shape).toEqual([2, 4, 3]);
    expect((await gq!.data()).every((x) => Number.isFinite(x))).toBe(true);
  });
});
