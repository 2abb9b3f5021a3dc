/**
 * The core WGSL kernels end to end: the same graph built on 'cpu' and on 'webgpu' through the
 * scheduler and the WebGPU device must agree (float32 within the op's tolerance; integer and
 * bool results, casts and random bits exactly).
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { DType } from '../../src/graph/dtype.js';
import type { Tensor } from '../../src/tensor/tensor.js';

type Dev = 'cpu' | 'webgpu';
const ramp = (n: number, salt = 1): number[] => Array.from({ length: n }, (_, i) => (((i * 7919 + salt * 104729) % 2003) / 1001.5) - 1);
const on = (dev: Dev, shape: number[], salt = 1, dtype: DType = 'float32'): Tensor =>
  born.tensor(ramp(shape.reduce((a, b) => a * b, 1), salt), { device: dev }).reshape(shape).to(dtype);

/** Builds the graph on both devices; resolves with both results as plain arrays. */
async function both(build: (dev: Dev) => Tensor | Tensor[]): Promise<{ cpu: number[][]; gpu: number[][] }> {
  const read = async (dev: Dev): Promise<number[][]> => {
    const out = build(dev);
    const ts = Array.isArray(out) ? out : [out];
    for (const t of ts) expect(t.device).toBe(dev);
    expect(born.explain(...ts).kernels.filter((k) => k.device !== dev).map((k) => k.name)).toEqual([]);
    return Promise.all(ts.map(async (t) => Array.from(await t.data() as ArrayLike<number | bigint>, Number)));
  };
  return { cpu: await read('cpu'), gpu: await read('webgpu') };
}

function expectAgree(r: { cpu: number[][]; gpu: number[][] }, rtol = 0, atol = 0): void {
  r.cpu.forEach((want, j) => {
    const got = r.gpu[j]!;
    expect(got.length).toBe(want.length);
    const bad = want.flatMap((w, i) => {
      const g = got[i]!;
      const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
      return ok ? [] : [`output ${j} [${i}]: ${g} on webgpu, ${w} on cpu`];
    });
    expect(bad.slice(0, 5).join('\n')).toBe('');
  });
}

describe('core WGSL kernels through the WebGPU device', () => {
  it('fused float chains with broadcasting, NaN and Inf', async () => {
    expectAgree(await both((d) => {
      const x = on(d, [8, 16], 1), y = on(d, [16], 2);
      const special = born.tensor([NaN, Infinity, -Infinity, 0, -0, 1, -1, 2], { device: d }).reshape([8, 1]);
      return [x.mul(y).add(special).exp().sub(x.tanh()).maximum(y), x.gelu().mul(y.sigmoid()), x.div(y).pow(2).sqrt().log1p(),
        born.where(x.gt(y), x, special.mul(y))];
    }), 1e-5, 1e-6);
  });

  it('integer and bool ops are exact', async () => {
    expectAgree(await both((d) => {
      const a = born.tensor(ramp(64, 3).map((v) => Math.round(v * 1e5)), { device: d, dtype: 'int32' });
      const b = born.tensor(ramp(64, 4).map((v) => Math.round(v * 300)), { device: d, dtype: 'int32' });
      return [a.mul(b).add(a), a.remainder(b), a.fmod(b), a.bitwiseAnd(b).bitwiseXor(a), a.gt(b).logicalAnd(b.lt(0)), a.maximum(b).neg().abs(),
        a.to('int8').add(b.to('int8')), a.to('uint8').mul(3)];
    }));
  });

  it('casts between the dtypes webgpu holds are exact (each to the next, and back to float32)', async () => {
    // Every pair is checked kernel by kernel in wgsl-core.test.ts; here a ring through the device.
    const ring: DType[] = ['float32', 'float16', 'bfloat16', 'int32', 'int16', 'int8', 'uint8', 'bool', 'int64', 'float32'];
    const vals = [-3.7, -2.5, -1, -0.5, 0, 0.5, 1.5, 2.5, 127.9, 128, 255.5, 300, -129, 40000, 65504, 0.1, 1e-8, NaN, Infinity, -Infinity];
    expectAgree(await both((d) => {
      const outs: Tensor[] = [];
      let t: Tensor = born.tensor(vals, { device: d });
      for (let i = 1; i < ring.length; i++) {
        // int64 computes on its low word on webgpu: keep what reaches it within int32 (bool is).
        t = t.to(ring[i]!);
        outs.push(t, t.to('float32'));
      }
      return outs;
    }));
  });

  it('reductions: sum, max, min, prod; inner, column, all; softmax and layer norm', async () => {
    expectAgree(await both((d) => {
      const x = on(d, [6, 300], 1), c = on(d, [500, 3], 2), s = on(d, [40, 20], 3);
      return [x.sum(1), x.amax(1), x.amin(0), c.sum(0), c.amax(0), s.mul(0.1).add(1).prod(1), x.sum(), s.softmax(1), on(d, [2, 1000], 4).softmax(-1),
        born.nn.functional.layerNorm(on(d, [4, 64], 5), 64), on(d, [3000, 8], 6).sum(1)];
    }), 1e-4, 1e-5);
  });

  it('a slice store and an optimizer step (a multi-output kernel)', async () => {
    expectAgree(await both((d) => {
      const t = on(d, [4, 6], 1);
      t.sliceAssign_(1, 2, on(d, [4, 3], 2).mul(5));
      return [t];
    }));
    const step = async (d: Dev): Promise<number[][]> => {
      const p = on(d, [5, 7], 3).requiresGrad_();
      await born.realize(p);
      const opt = new born.optim.Adam([p], { lr: 0.01 });
      for (let i = 0; i < 3; i++) {
        p.mul(p).sum().add(p.sin().sum()).backward();
        await opt.step();
        opt.zeroGrad();
      }
      return [Array.from(await p.data() as Float32Array)];
    };
    expectAgree({ cpu: await step('cpu'), gpu: await step('webgpu') }, 1e-5, 1e-6);
  });

  it('an out-of-range gather index is an IndexError on webgpu as on cpu', async () => {
    const run = async (d: Dev): Promise<string> => {
      const src = on(d, [3, 4], 1);
      const idx = born.tensor([[0, 2, 5, 1]], { device: d, dtype: 'int64' });
      try { await src.gather(0, idx).data(); return 'no error'; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
    };
    const [c, g] = [await run('cpu'), await run('webgpu')];
    expect(g).toMatch(/^IndexError/);
    expect(g).toBe(c);
  });

  it('rand and randn are bit-identical; a 2-D dispatch covers every element', async () => {
    // randn's sampler is integer arithmetic (kernel/normal.ts): compare the float32 bits, over
    // enough draws (2^17) that each of its branches runs, the near-1 series some 128 times.
    const z = await both((d) => [born.randn([1 << 17], { seed: 9, device: d })]);
    expect(new Uint32Array(Float32Array.from(z.gpu[0]!).buffer)).toEqual(new Uint32Array(Float32Array.from(z.cpu[0]!).buffer));
    const r = await both((d) => [born.rand([1000], { seed: 7, device: d })]);
    expect(r.gpu[0]).toEqual(r.cpu[0]);
    const n = 65535 * 64 + 100;
    const g = await born.arange(n, { device: 'webgpu' }).mul(2).sub(1).data() as Float32Array;
    let bad = 0;
    for (let i = 0; i < n; i++) if (g[i] !== Math.fround(i * 2 - 1)) bad++;
    expect(bad).toBe(0);
  });
});
