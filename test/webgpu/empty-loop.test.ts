/**
 * Kernels over no elements (a tensor with a 0 dim, an empty slice, an empty index): the WebGPU
 * device runs nothing for them (their WGSL would divide by the 0 dim and not compile, the ONNX
 * tril_zero and slice_start_out_of_bounds models), while a reduction over an empty axis into a
 * non-empty output still writes its identity; each as on the CPU.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

type Dev = 'cpu' | 'webgpu';
const values = async (t: born.Tensor): Promise<number[]> => Array.from(await t.data() as ArrayLike<number>);
const x = (d: Dev): born.Tensor => born.arange(0, 30, 1, { device: d }).reshape([2, 3, 5]);

describe('kernels over no elements', () => {
  const cases: [string, (d: Dev) => born.Tensor][] = [
    ['an empty slice, copied', (d) => x(d).slice(1, 3, 3).contiguous().add(1)],
    ['a mask over a 0 dim', (d) => born.where(born.zeros([3, 0, 5], { device: d }).gt(0), 1, born.ones([3, 0, 5], { device: d }))],
    ['an empty index', (d) => x(d).indexSelect(2, born.tensor([], { dtype: 'int32', device: d }))],
    ['a sum over an empty axis (into a non-empty output)', (d) => x(d).slice(1, 0, 0).sum(1).add(2)],
  ];
  for (const [name, f] of cases) {
    it(`${name}: the CPU's shape and values`, async () => {
      const g = f('webgpu'), c = f('cpu');
      expect(g.shape).toEqual(c.shape);
      expect(await values(g)).toEqual(await values(c));
    });
  }
});
