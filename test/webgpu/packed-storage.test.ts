/**
 * Packed narrow dtypes on WebGPU (storage.ts): int8/uint8 four to a word, int16/float16/bfloat16
 * two, stored through atomicAnd/atomicOr. Every graph runs on both devices and the WebGPU result
 * must equal the CPU's exactly: odd lengths (a word's neighbours written by other invocations and
 * padding bytes past the end), a slice at an odd element offset, casts both ways, a reduction,
 * in-place and scatter stores into a narrow tensor. Memory: an int8 buffer of n elements holds
 * ceil(n / 4) * 4 bytes.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { WebGpuDevice } from '../../src/devices/webgpu/device.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';

const gpuDevice = (): WebGpuDevice => born.engine.device('webgpu') as WebGpuDevice;
type Narrow = 'int8' | 'uint8' | 'int16' | 'float16' | 'bfloat16';
const NARROW: Narrow[] = ['int8', 'uint8', 'int16', 'float16', 'bfloat16'];

/** n values of `dtype`'s range, deterministic, no NaN. */
function values(dtype: Narrow, n: number): number[] {
  const out: number[] = [];
  let s = 12345 + n;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    out.push(dtype === 'int8' ? Math.floor(u * 256) - 128 : dtype === 'uint8' ? Math.floor(u * 256)
      : dtype === 'int16' ? Math.floor(u * 65536) - 32768 : (u - 0.5) * 20);
  }
  return out;
}

/** The same graph's results on `device`, each as a plain array. */
async function graph(dtype: Narrow, vals: number[], device: 'cpu' | 'webgpu'): Promise<number[][]> {
  const n = vals.length;
  const x = born.tensor(vals, { dtype }).to(device);
  const idx = born.tensor(Array.from({ length: n }, (_, i) => (i * 7) % Math.max(1, n - 1)), { dtype: 'int64' }).to(device);
  const results: born.Tensor[] = [
    x,
    x.mul(3).add(x),
    x.sum(),
    x.to('float32'),
    // Constants exact in f32 and a product exact in f32: no double rounding or contraction to tell the devices apart.
    x.to('float32').mul(1.5).sub(0.3).to(dtype),
    x.slice(0, 1).add(1),
    x.slice(0, 1, n, 3).mul(x.slice(0, 1, n, 3)),
    x.clone().add_(1),
    born.zeros([n], { dtype }).to(device).scatterAdd(0, idx, x),
  ];
  const out: number[][] = [];
  for (const r of results) out.push(Array.from(await r.to('cpu').data() as ArrayLike<number | bigint>, Number));
  return out;
}

describe('packed narrow dtypes on webgpu', () => {
  for (const dtype of NARROW) {
    it(`${dtype}: uploads, elementwise, sum, casts, slices, in-place and scatter stores equal the CPU's`, async () => {
      for (const n of [1, 3, 5, 1027]) {
        const vals = values(dtype, n);
        const cpu = await graph(dtype, vals, 'cpu');
        const gpu = await graph(dtype, vals, 'webgpu');
        for (let r = 0; r < cpu.length; r++) expect({ n, r, v: gpu[r] }).toEqual({ n, r, v: cpu[r] });
      }
    });
  }

  it('an int8 buffer of n elements takes ceil(n / 4) * 4 bytes, int16/float16 ceil(n / 2) * 4', async () => {
    const d = gpuDevice();
    await d.ready();
    for (const n of [1, 3, 5, 1027]) {
      const b8 = d.alloc('int8', n), b16 = d.alloc('float16', n), bb = d.alloc('bool', n);
      expect(b8.bytes).toBe(Math.ceil(n / 4) * 4);
      expect(b16.bytes).toBe(Math.ceil(n / 2) * 4);
      expect(bb.bytes).toBe(4 * n);
      d.free(b8); d.free(b16); d.free(bb);
    }
    // The held bytes grow by the packed size for a fresh int8 tensor.
    const before = d.memory().heldBytes + d.memory().freeBytes;
    const t = born.tensor(values('int8', 4093), { dtype: 'int8' }).to('webgpu');
    await t.data();
    const after = d.memory().heldBytes + d.memory().freeBytes;
    expect(after - before).toBeLessThanOrEqual(4096);
    t.dispose();
  });

  it('the adapter reports shader-f16 as a flag (half types are computed in f32 whether or not it has it)', async () => {
    const g = await acquireGpu();
    expect(typeof g.f16).toBe('boolean');
  });
});
