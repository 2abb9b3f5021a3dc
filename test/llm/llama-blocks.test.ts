// The LLaMA building blocks in src/nn against naive references: rotary embeddings (both pairings,
// ropeTheta, linear scaling, positions as a start or a tensor) against a float64 loop written from
// the RoPE formula; grouped-query and multi-query attention against multi-head attention whose kv
// weights repeat each kv head's rows; repeatKv against an index loop; SwiGLU against its formula;
// and the decoder layer's gradients (from Born's autodiff) against central finite differences.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { floatWeight, type Projection } from '../../src/nn/llama.js';

/** The float weight of a block's projection (these blocks are built here, with Linears). */
const W = (p: Projection) => floatWeight(p, 'test');

const { nn } = born;
type T = born.Tensor;

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** RoPE by its formula in float64: x [rows, T, D] with token t at position positions[t]. */
function naiveRope(x: Float32Array, rows: number, positions: number[], d: number, pairing: 'interleaved' | 'half', theta = 10000, factor = 1): Float64Array {
  const out = new Float64Array(x.length), h = d / 2, t = positions.length;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < t; j++) {
      const base = (r * t + j) * d;
      for (let i = 0; i < h; i++) {
        const angle = (positions[j]! / factor) * theta ** (-(2 * i) / d);
        const c = Math.cos(angle), s = Math.sin(angle);
        const [ia, ib] = pairing === 'interleaved' ? [2 * i, 2 * i + 1] : [i, i + h];
        const a = x[base + ia]!, b = x[base + ib]!;
        out[base + ia] = a * c - b * s;
        out[base + ib] = a * s + b * c;
      }
    }
  }
  return out;
}

describe('rotary embeddings', () => {
  const d = 8, t = 5, rows = 6;
  const xData = randomArray(rows * t * d, 3);
  const x = born.tensor(xData, { shape: [2, 3, t, d] });

  for (const pairing of ['interleaved', 'half'] as const) {
    test(`${pairing} pairs: RotaryEmbedding equals the formula, from a start position and from a positions tensor`, async () => {
      const rope = new nn.RotaryEmbedding(d, 64, { pairing });
      expect(maxAbsDiff(await rope.forward(x).data(), naiveRope(xData, rows, [0, 1, 2, 3, 4], d, pairing))).toBeLessThan(2e-6);
      expect(maxAbsDiff(await rope.forward(x, 7).data(), naiveRope(xData, rows, [7, 8, 9, 10, 11], d, pairing))).toBeLessThan(1e-5);
      const pos = [40, 3, 0, 17, 63];
      const byTensor = await rope.forward(x, born.tensor(Int32Array.from(pos))).data();
      expect(maxAbsDiff(byTensor, naiveRope(xData, rows, pos, d, pairing))).toBeLessThan(5e-5);
    });
  }

  test('ropeTheta and linear scaling change the angles as the formula says; the two pairings differ', async () => {
    const pos = [0, 5, 10, 20, 30];
    const rope = new nn.RotaryEmbedding(d, 64, { ropeTheta: 500000, scalingFactor: 4 });
    const got = await rope.forward(x, born.tensor(Int32Array.from(pos))).data();
    expect(maxAbsDiff(got, naiveRope(xData, rows, pos, d, 'interleaved', 500000, 4))).toBeLessThan(2e-5);
    const half = await new nn.RotaryEmbedding(d, 64, { pairing: 'half' }).forward(x, 3).data();
    const inter = await new nn.RotaryEmbedding(d, 64).forward(x, 3).data();
    expect(maxAbsDiff(half, inter)).toBeGreaterThan(0.1);
  });

  test('functional applyRotaryEmb with ropeTables; errors name the shapes and the range', async () => {
    const { cos, sin } = nn.functional.ropeTables(d, 16);
    const got = await nn.functional.applyRotaryEmb(x, cos.narrow(0, 2, t), sin.narrow(0, 2, t), 'half').data();
    expect(maxAbsDiff(got, naiveRope(xData, rows, [2, 3, 4, 5, 6], d, 'half'))).toBeLessThan(5e-6);
    expect(() => nn.functional.applyRotaryEmb(x, cos, sin.narrow(-1, 0, 2))).toThrow(/cos, sin \[T, D\/2\]/);
    expect(() => new nn.RotaryEmbedding(d, 8).forward(x, 4)).toThrow(/positions 4\.\.8 are outside 0\.\.7/);
    expect(() => nn.functional.ropeTables(7, 8)).toThrow(/even/);
  });
});

/** A copy of `attn`'s weights into a multi-head attention (numKvHeads = numHeads) with each kv head's rows repeated. */
async function asMultiHead(attn: InstanceType<typeof nn.GroupedQueryAttention>): Promise<InstanceType<typeof nn.GroupedQueryAttention>> {
  const { dim, numHeads: h, numKvHeads: hkv, headDim: hd } = attn;
  const mha = new nn.GroupedQueryAttention(dim, h);
  const repeatRows = async (w: T): Promise<T> => {
    const src = await w.data() as Float32Array;
    const out = new Float32Array(h * hd * dim);
    for (let head = 0; head < h; head++) {
      const kv = Math.floor(head / (h / hkv));
      out.set(src.subarray(kv * hd * dim, (kv + 1) * hd * dim), head * hd * dim);
    }
    return born.tensor(out, { shape: [h * hd, dim] });
  };
  mha.loadStateDict({
    'wq.weight': W(attn.wq), 'wo.weight': W(attn.wo),
    'wk.weight': await repeatRows(W(attn.wk)), 'wv.weight': await repeatRows(W(attn.wv)),
  });
  return mha;
}

describe('grouped-query attention', () => {
  const x = born.tensor(randomArray(2 * 6 * 16, 11), { shape: [2, 6, 16] });

  for (const kvHeads of [2, 1]) {
    test(`${kvHeads} kv heads for 4 query heads equals multi-head attention with the kv heads repeated`, async () => {
      born.manualSeed(kvHeads);
      const gqa = new nn.GroupedQueryAttention(16, 4, { numKvHeads: kvHeads, maxPositions: 32 });
      expect(gqa.wk.weight.shape).toEqual([4 * kvHeads, 16]);
      const mha = await asMultiHead(gqa);
      const a = await gqa.forward(x).data(), b = await mha.forward(x).data();
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
      expect(maxAbsDiff(a, new Float32Array(a.length))).toBeGreaterThan(0.01);
    });
  }

  test('causal: a token\'s output does not depend on later tokens; a positions tensor equals the same start', async () => {
    born.manualSeed(5);
    const gqa = new nn.GroupedQueryAttention(16, 4, { numKvHeads: 2, maxPositions: 32 });
    const full = await gqa.forward(x).data();
    const prefix = await gqa.forward(x.narrow(1, 0, 3)).data();
    const firstThree = Array.from({ length: 2 }, (_, b) => Array.from(full.subarray(b * 96, b * 96 + 48))).flat();
    expect(maxAbsDiff(prefix, firstThree)).toBeLessThan(1e-6);
    const shifted = await gqa.forward(x, { positions: 4 }).data();
    const byTensor = await gqa.forward(x, { positions: born.tensor(Int32Array.from([4, 5, 6, 7, 8, 9])) }).data();
    expect(maxAbsDiff(shifted, byTensor)).toBeLessThan(1e-6);
  });

  test('the kv heads are not repeated: pure-copy kernels move at most one layout copy of v and of the merged heads', async () => {
    born.manualSeed(6);
    const gqa = new nn.GroupedQueryAttention(16, 4, { numKvHeads: 2, maxPositions: 32 });
    await born.realize(x, ...gqa.parameters());
    const copies = born.explain(gqa.forward(x)).kernels.filter((k) => k.ops.length === 0);
    // Read + write of float32 [B·T, kv dim] (v in [B, Hkv, T, hd] order) and [B·T, dim] (heads
    // merged before wo); repeating k and v to 4 heads would copy twice as many kv bytes on top.
    const bt = 2 * 6;
    expect(copies.reduce((n, k) => n + k.bytes, 0)).toBeLessThanOrEqual(2 * 4 * (bt * 8 + bt * 16));
  });

  test('repeatKv equals an index loop; bad head counts are refused', async () => {
    const kv = born.tensor(randomArray(2 * 3 * 4 * 2, 4), { shape: [2, 3, 4, 2] });
    const got = await nn.functional.repeatKv(kv, 2).data();
    const src = await kv.data();
    const want: number[] = [];
    for (let b = 0; b < 2; b++) for (let h = 0; h < 6; h++) for (let i = 0; i < 8; i++) want.push(src[(b * 3 + Math.floor(h / 2)) * 8 + i]!);
    expect(Array.from(got)).toEqual(want);
    expect(() => new nn.GroupedQueryAttention(16, 4, { numKvHeads: 3 })).toThrow(/multiple of numKvHeads/);
  });
});

describe('SwiGLU and the decoder layer', () => {
  test('SwiGLU is w2(silu(w1 x) · w3 x)', async () => {
    born.manualSeed(2);
    const ff = new nn.SwiGLU(4, 6);
    const xs = randomArray(4, 9);
    const [w1, w2, w3] = await Promise.all([W(ff.w1).data(), W(ff.w2).data(), W(ff.w3).data()]);
    const hidden = Array.from({ length: 6 }, (_, j) => {
      let a = 0, b = 0;
      for (let i = 0; i < 4; i++) { a += w1[j * 4 + i]! * xs[i]!; b += w3[j * 4 + i]! * xs[i]!; }
      return (a / (1 + Math.exp(-a))) * b;
    });
    const want = Array.from({ length: 4 }, (_, o) => hidden.reduce((s, v, j) => s + w2[o * 6 + j]! * v, 0));
    expect(maxAbsDiff(await ff.forward(born.tensor(xs, { shape: [1, 4] })).data(), want)).toBeLessThan(1e-6);
  });

  test('state-dict keys are model.py\'s', () => {
    const layer = new nn.LlamaDecoderLayer(8, 2, 12, { numKvHeads: 1, maxPositions: 8 });
    expect(Object.keys(layer.stateDict()).sort()).toEqual([
      'attention.wk.weight', 'attention.wo.weight', 'attention.wq.weight', 'attention.wv.weight',
      'attention_norm.weight', 'feed_forward.w1.weight', 'feed_forward.w2.weight', 'feed_forward.w3.weight', 'ffn_norm.weight',
    ]);
  });

  test('the decoder layer\'s gradients (input and wq) equal central finite differences', async () => {
    born.manualSeed(8);
    const layer = new nn.LlamaDecoderLayer(8, 4, 12, { numKvHeads: 2, maxPositions: 8 });
    const xData = randomArray(1 * 4 * 8, 21);
    const r = born.tensor(randomArray(4 * 8, 22), { shape: [1, 4, 8] });
    const wq = W(layer.attention.wq);
    const wqData = Float32Array.from(await wq.data());
    const loss = (xv: Float32Array): T => layer.forward(born.tensor(xv, { shape: [1, 4, 8] })).mul(r).sum();
    const x = born.tensor(xData, { shape: [1, 4, 8] });
    const [gx, gw] = born.grad(layer.forward(x).mul(r).sum(), [x, wq]);
    const [gxData, gwData] = [await gx!.data(), await gw!.data()];
    const h = 1e-2;
    for (const i of [0, 5, 13, 22, 31]) {
      const up = Float32Array.from(xData), down = Float32Array.from(xData);
      up[i]! += h; down[i]! -= h;
      const fd = ((await loss(up).item()) - (await loss(down).item())) / (2 * h);
      expect(Math.abs(fd - gxData[i]!)).toBeLessThan(5e-3 + 1e-2 * Math.abs(fd));
    }
    for (const i of [1, 9, 30, 63]) {
      const at = async (delta: number): Promise<number> => {
        const w = Float32Array.from(wqData);
        w[i]! += delta;
        wq.assign(born.tensor(w, { shape: wq.shape }));
        return loss(xData).item();
      };
      const fd = ((await at(h)) - (await at(-h))) / (2 * h);
      expect(Math.abs(fd - gwData[i]!)).toBeLessThan(5e-3 + 1e-2 * Math.abs(fd));
    }
  });
});
