/**
 * A nested-array operand is made on the device of the tensor beside it: `x.add([1, 2])` with x on
 * WebGPU computes there, as it would on the CPU, instead of failing as an op over two devices.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';

const rows = [[1, -2, 3], [4, 5, -6]];

describe('nested-array operands follow the tensor beside them', () => {
  it('binary ops, comparisons, where, logical and in-place ops on webgpu give the CPU values', async () => {
    const build = (x: born.Tensor): born.Tensor[] => {
      const i = x.to('int32');
      const y = x.mul(1);
      y.add_([1, 1, 1]).mul_([[2], [3]]).clamp_({ min: -5 });
      return [
        x.add([10, 20, 30]), x.sub([[1], [2]]).mul([0.5, 1, 2]), x.where(x.gt(0), [7, 8, 9]), x.maximum([0, 0, 0]),
        x.logicalAnd([true, false, true]), i.mul([1, 3, 7]), x.maskedFill(x.lt(0), 0), x.eq([1, -2, 3.1]),
        born.where(x.gt(0), [1, 1, 1], x), x.atan2([1, 1, 1]), x.remainder([2, 3, 4]), y,
      ];
    };
    const cpu = build(born.tensor(rows));
    const gpu = build(born.tensor(rows, { device: 'webgpu' }));
    expect(gpu.every((t) => t.device === 'webgpu')).toBe(true);
    for (let k = 0; k < cpu.length; k++) {
      const [a, b] = [Array.from(await gpu[k]!.data(), Number), Array.from(await cpu[k]!.data(), Number)];
      expect(a.length).toBe(b.length);
      a.forEach((v, j) => expect(Math.abs(v - b[j]!), `output ${k}, element ${j}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(b[j]!))));
    }
  });
});
