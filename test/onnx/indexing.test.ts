/**
 * born.onnx's scatter reductions the backend data lacks (ScatterElements mul at opset 16, max and
 * min at 18; ScatterND max over repeated rows), against naive loops; and repeated indices, which
 * ScatterElements' mul/max/min refuse clearly. Models
 * are written by fixtures/gen-ops.py.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

const model = (name: string) => born.onnx.load(new URL(`./fixtures/${name}.onnx`, import.meta.url).pathname);

const x = [[1, -2, 3, 4], [5, 6, -7, 8]];
const idx = [[3, 0], [1, 2]];
const upd = [[10, -10], [0.5, -20]];
const ops: Record<string, (a: number, b: number) => number> = { mul: (a, b) => a * b, max: Math.max, min: Math.min };

/** out[r][idx[r][j]] = f(out[r][idx[r][j]], upd[r][j]) along axis 1. */
function naive(f: (a: number, b: number) => number): number[] {
  const out = x.map((r) => [...r]);
  idx.forEach((row, r) => row.forEach((c, j) => { out[r]![c] = f(out[r]![c]!, upd[r]![j]!); }));
  return out.flat();
}

describe('onnx ScatterElements reductions', () => {
  for (const red of ['mul', 'max', 'min']) {
    it(`reduction ${red}`, async () => {
      const m = await model(`scatter_elements_${red}`);
      const y = (await m.run({ x: born.tensor(x), i: born.tensor(idx, { dtype: 'int64' }), u: born.tensor(upd) })).y!;
      expect(Array.from(await y.data() as Float32Array)).toEqual(naive(ops[red]!));
    });
  }

  it('repeated indices under mul fail naming what is supported', async () => {
    const m = await model('scatter_elements_mul');
    await expect(m.run({ x: born.tensor(x), i: born.tensor([[1, 1], [0, 2]], { dtype: 'int64' }), u: born.tensor(upd) }))
      .rejects.toThrow(/repeated indices is not supported/);
  });
});

describe('onnx ScatterND reductions', () => {
  it('max over repeated rows applies every update', async () => {
    const m = await model('scatternd_max');
    const xs = [[1, 2], [3, 4], [5, 6], [7, 8]], rows = [2, 0, 2], us = [[9, 0], [-1, 5], [4, 10]];
    const want = xs.map((r) => [...r]);
    rows.forEach((r, j) => { want[r] = want[r]!.map((v, c) => Math.max(v, us[j]![c]!)); });
    const y = (await m.run({ x: born.tensor(xs), i: born.tensor(rows.map((r) => [r]), { dtype: 'int64' }), u: born.tensor(us) })).y!;
    expect(Array.from(await y.data() as Float32Array)).toEqual(want.flat());
  });
});
