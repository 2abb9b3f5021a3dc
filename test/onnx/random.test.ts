/**
 * born.onnx's random ops: the backend data's expected values come from numpy's generator, so
 * those models check only shape and dtype there; here, ranges, seeds and dtypes. Models are
 * written by fixtures/gen-ops.py.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

const model = (name: string) => born.onnx.load(new URL(`./fixtures/${name}.onnx`, import.meta.url).pathname);
const values = async (t: born.Tensor): Promise<number[]> => Array.from(await t.data() as ArrayLike<number | bigint>, Number);

describe('onnx random ops', () => {
  it('RandomUniform: shape, dtype, [low, high) and a seed that repeats', async () => {
    const m = await model('random_uniform');
    const a = (await m.run({})).y!, b = (await m.run({})).y!;
    expect([a.dtype, a.shape]).toEqual(['float64', [3, 4]]);
    const va = await values(a);
    expect(va.every((v) => v >= -2 && v < 3)).toBe(true);
    expect(new Set(va).size).toBeGreaterThan(6);
    expect(await values(b)).toEqual(va);
  });

  it('RandomNormalLike: the input\'s shape and dtype, mean and scale', async () => {
    const m = await model('random_normal_like');
    const y = (await m.run({ x: born.zeros([64, 64]) })).y!;
    expect([y.dtype, y.shape]).toEqual(['float32', [64, 64]]);
    const v = await values(y);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean - 5)).toBeLessThan(0.05);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.05);
  });

  it('Bernoulli: p = 0 and p = 1 are certain, the dtype attribute is kept', async () => {
    const m = await model('bernoulli_dtype');
    const y = (await m.run({ p: born.tensor([[0, 1, 0], [1, 1, 0]]) })).y!;
    expect(y.dtype).toBe('int64');
    expect(await values(y)).toEqual([0, 1, 0, 1, 1, 0]);
  });

  it('Multinomial: log-probabilities per row, [batch, sample_size] of the dtype', async () => {
    const m = await model('multinomial');
    const y = (await m.run({ x: born.tensor([[0, -1e4, -1e4], [-1e4, -1e4, 0]]) })).y!;
    expect([y.dtype, y.shape]).toEqual(['int64', [2, 5]]);
    expect(await values(y)).toEqual([0, 0, 0, 0, 0, 2, 2, 2, 2, 2]);
  });
});
