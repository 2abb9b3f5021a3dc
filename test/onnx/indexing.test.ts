/**
 * born.onnx's ScatterElements reductions the backend data lacks (mul at opset 16, max and min at
 * 18), against a naive loop; and repeated indices, which those reductions refuse clearly. Models
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
