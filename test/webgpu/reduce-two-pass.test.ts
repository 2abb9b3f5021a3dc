/**
 * Two-pass reductions on WebGPU (wgsl/reduce.ts twoPass): a few outputs over long reductions
 * split each output over several workgroups, then combine the partials. Values against the CPU
 * device: float32 sums at rtol 1e-4 (the CPU accumulates in float64, WebGPU in f32 partials of
 * a different order), int32 sums, max/min/argmax/argmin exact, NaN propagated.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { TWO_PASS_MIN } from '../../src/devices/webgpu/wgsl/reduce.js';

afterAll(async () => { await born.setDefaultDevice('cpu'); });

const values = async (t: born.Tensor): Promise<number[]> => Array.from(await t.data() as ArrayLike<number>);
const close = (a: readonly number[], b: readonly number[], rtol: number): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(rtol * Math.abs(b[i]!) + 1e-6);
};

/** Deterministic data in [-1, 1) (an LCG), so the CPU and WebGPU see the same inputs. */
function data(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; }
  return a;
}

describe('two-pass reductions on webgpu', () => {
  // Around the threshold, and lengths that are not multiples of the workgroup size.
  const lengths = [TWO_PASS_MIN - 1, 3 * TWO_PASS_MIN + 37];

  it('full sum of 2^22 + 3 float32 elements, and mean, match the CPU at rtol 1e-4', async () => {
    const n = 2 ** 22 + 3;
    const x = born.tensor(data(n, 1)).add(0.25); // a mean away from 0, so the relative error means something
    const g = x.to('webgpu');
    close(await values(g.sum()), await values(x.sum()), 1e-4);
    close(await values(g.mean()), await values(x.mean()), 1e-4);
  });

  it('sums, max, min, argmax over lengths around the threshold', async () => {
    for (const [j, n] of lengths.entries()) {
      const x = born.tensor(data(n, 7 + j));
      const g = x.to('webgpu');
      close(await values(g.sum()), await values(x.sum()), 1e-4);
      expect(await values(g.max())).toEqual(await values(x.max()));
      expect(await values(g.min())).toEqual(await values(x.min()));
      expect(await values(g.argmax())).toEqual(await values(x.argmax()));
      const xi = born.tensor(Int32Array.from(data(n, 3 + j), (v) => Math.round(v * 1000)));
      expect(await values(xi.to('webgpu').sum())).toEqual(await values(xi.sum()));
    }
  });

  it('a few rows each reducing a long axis (sum, max, prod near 1) match per row', async () => {
    const rows = 3, n = TWO_PASS_MIN * 2 + 11;
    const x = born.tensor(data(rows * n, 5)).reshape([rows, n]).add(0.25);
    const g = x.to('webgpu');
    close(await values(g.sum(1)), await values(x.sum(1)), 1e-4);
    expect(await values(g.amax(1))).toEqual(await values(x.amax(1)));
    const near1 = x.mul(1e-6).add(1);
    // Half a million f32 multiplications, each rounding (f32 epsilon × n ≈ 3e-2 at worst): the
    // check is that the combine is a product (a sum would give ~n), not its accuracy.
    close(await values(near1.to('webgpu').prod(1)), await values(near1.prod(1)), 3e-2);
    // A column reduction: the reduced axis is not the innermost one.
    close(await values(g.transpose(0, 1).sum(0)), await values(x.transpose(0, 1).sum(0)), 1e-4);
  });

  it('propagates NaN from inside a chunk, and gives the index of the first NaN', async () => {
    const n = TWO_PASS_MIN * 3 + 5;
    const a = data(n, 11);
    a[n - 1000] = NaN;
    a[2 * TWO_PASS_MIN + 17] = NaN;
    const x = born.tensor(a);
    const g = x.to('webgpu');
    expect(await values(g.sum())).toEqual([NaN]);
    expect(await values(g.max())).toEqual([NaN]);
    expect(await values(g.min())).toEqual([NaN]);
    expect(await values(g.argmax())).toEqual(await values(x.argmax()));
  });

  it('repeats bit for bit', async () => {
    const g = born.tensor(data(TWO_PASS_MIN * 4 + 1, 13)).to('webgpu');
    const a = await values(g.sum()), b = await values(g.mul(1).sum());
    expect(a).toEqual(b);
  });
});
