/**
 * A gather whose address does not depend on its index: along an axis of size 1, or from a source
 * expanded along the gathered axis. The index is still read and checked there (the kernel's index
 * buffers and error record stay in use: WebGPU's derived bind-group layout dropped them before,
 * "binding index 1 not present"), on WebGPU as on the CPU.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

type Dev = 'cpu' | 'webgpu';
const values = async (t: born.Tensor): Promise<(number | bigint)[]> => Array.from(await t.data() as ArrayLike<number | bigint>);

describe('gather where the address ignores the index', () => {
  const cases: [string, (d: Dev) => born.Tensor, number[]][] = [
    ['float32, an axis of size 1', (d) => born.tensor([[1, 2, 3]], { device: d }), [0, 0]],
    ['int64, an axis of size 1', (d) => born.tensor(new BigInt64Array([7n, -8n, 9n]), { device: d }).reshape([1, 3]), [0]],
    ['a source expanded along the axis', (d) => born.tensor([[1, 2, 3]], { device: d }).expand([4, 3]), [3, 1, 0]],
  ];
  for (const [name, make, index] of cases) {
    it(`${name}: the same values as the CPU`, async () => {
      const got = (d: Dev): born.Tensor => make(d).indexSelect(0, born.tensor(index, { dtype: 'int32', device: d }));
      expect(await values(got('webgpu'))).toEqual(await values(got('cpu')));
      expect(got('cpu').shape).toEqual([index.length, 3]);
    });
    it(`${name}: an index out of range is an IndexError on both devices`, async () => {
      const hi = make('cpu').shape[0]!;
      for (const d of ['cpu', 'webgpu'] as const) {
        const y = make(d).indexSelect(0, born.tensor([0, hi + 4], { dtype: 'int32', device: d }));
        await expect(y.data()).rejects.toThrow(new RegExp(`index ${hi + 4} is out of range for dim 0 of size ${hi}`));
      }
    });
  }

  it('inside a fused kernel (the ONNX Resize of tf_crop_and_resize)', async () => {
    const run = (d: Dev): born.Tensor => {
      const x = born.tensor([[[[1, 2], [3, 4]]]], { device: d });
      const w = born.tensor([0.25], { device: d }).reshape([1, 1, 1, 1]);
      const g = x.indexSelect(0, born.tensor([0], { dtype: 'int32', device: d })).mul(w);
      return g.add(x.indexSelect(1, born.tensor([0], { dtype: 'int32', device: d })).mul(w));
    };
    expect(await values(run('webgpu'))).toEqual(await values(run('cpu')));
  });
});
