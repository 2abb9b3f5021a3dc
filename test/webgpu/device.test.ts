/**
 * The WebGPU device as a device among equals, on the software adapter: placement of tensors,
 * copies between devices, gradients across them, modules moving, and the failures the issue
 * names (a kernel that does not compile, a buffer over the adapter's limit or Born's budget, a
 * device destroyed mid-schedule) each rejecting with a clear error and leaving the engine usable.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { wgslPrinters, type WebGpuDevice } from '../../src/devices/webgpu/device.js';

const gpuDevice = (): WebGpuDevice => born.engine.device('webgpu') as WebGpuDevice;
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]!)));
};

afterEach(async () => { await born.setDefaultDevice('cpu'); });

describe('devices as equals', () => {
  it('x.to(webgpu) copies every dtype there and back exactly', async () => {
    const cases: [born.DType, number[]][] = [
      ['float32', [1.5, -0, Infinity, NaN, -3.25e-38]], ['int32', [-2147483648, 2147483647, 0, -1, 7]], ['bool', [1, 0, 1, 1, 0]],
      ['uint8', [0, 255, 7, 128, 1]], ['int8', [-128, 127, 0, -1, 5]], ['int16', [-32768, 32767, -2, 3, 0]],
      ['float16', [1, -2.5, 65504, 0.0001, -0]], ['bfloat16', [1, -2.5, 3e38, 0.0078125, 0]],
    ];
    for (const [dtype, values] of cases) {
      const x = born.tensor(values, { dtype });
      const g = x.to('webgpu');
      expect(g.device).toBe('webgpu');
      expect(g.dtype).toBe(dtype);
      const back = g.to('cpu');
      expect(back.device).toBe('cpu');
      expect(Array.from(await back.data() as ArrayLike<number>)).toEqual(Array.from(await x.data() as ArrayLike<number>));
      expect(Array.from(await g.data() as ArrayLike<number>)).toEqual(Array.from(await x.data() as ArrayLike<number>));
    }
    const big = born.tensor(new BigInt64Array([-5n, 2n ** 40n, 3n]));
    expect(Array.from(await big.to('webgpu').data())).toEqual([-5n, 2n ** 40n, 3n]);
  });

  it('refuses float64 on webgpu naming the dtypes it holds', () => {
    expect(() => born.tensor([1, 2], { dtype: 'float64' }).to('webgpu')).toThrow(/float64 tensor cannot move to device 'webgpu'.*float32/);
    expect(() => born.tensor([1, 2], { dtype: 'float64', device: 'webgpu' })).toThrow(/float64 is not supported on device 'webgpu'/);
  });

  it('refuses an op over two devices, naming both', () => {
    const a = born.tensor([1, 2]);
    const b = born.tensor([3, 4], { device: 'webgpu' });
    expect(() => a.add(b)).toThrow(/expected all tensors on one device, found cpu and webgpu/);
  });

  it('computes on the device its inputs live on, and explain() says so', async () => {
    const x = born.tensor([[1, -2, 3], [4, 5, -6]], { device: 'webgpu' });
    const y = x.mul(2).add(1).relu();
    expect(y.device).toBe('webgpu');
    expect(born.explain(y).kernels.map((k) => k.device)).toEqual(['webgpu']);
    expect(Array.from(await y.data())).toEqual([3, 0, 7, 9, 11, 0]);
    expect(born.explain(born.tensor([1]).add(1)).kernels[0]!.device).toBe('cpu');
  });

  it('setDefaultDevice places what names no device; constants follow the tensor that reads them', async () => {
    expect(await born.setDefaultDevice('webgpu')).toBe('webgpu');
    expect(born.defaultDevice()).toBe('webgpu');
    const z = born.zeros([2, 2]).add(born.arange(4).reshape(2, 2));
    expect(z.device).toBe('webgpu');
    expect(Array.from(await z.data())).toEqual([0, 1, 2, 3]);
    const c = born.tensor([1, 2], { device: 'cpu' }).add(5);
    expect(c.device).toBe('cpu');
    expect(born.zeros([2], { device: 'cpu' }).device).toBe('cpu');
    // 'auto' never takes a software adapter.
    const gpu = await acquireGpu();
    expect(await born.setDefaultDevice('auto')).toBe(gpu.software ? 'cpu' : 'webgpu');
    await expect(born.setDefaultDevice('tpu' as never)).rejects.toThrow(/unknown device "tpu" \(valid: cpu, webgpu, auto\)/);
  });

  it('gradients flow back across a copy to the device the value came from', async () => {
    const w = born.tensor([0.5, -1, 2]).requiresGrad_();
    const loss = w.to('webgpu').mul(w.to('webgpu')).sum();
    loss.backward();
    expect(w.grad!.device).toBe('cpu');
    close(await w.grad!.data(), [1, -2, 4]);
  });

  it('model.to(webgpu) moves parameters in place, and an optimizer follows them', async () => {
    born.manualSeed(3);
    const model = new born.nn.Linear(3, 2);
    const before = await model.weight.data();
    const opt = new born.optim.SGD(model.parameters(), { lr: 0.1 });
    model.to('webgpu');
    expect(model.weight.device).toBe('webgpu');
    close(await model.weight.data(), before, 0);
    const x = born.tensor([[1, 2, 3]], { device: 'webgpu' });
    opt.zeroGrad();
    model.forward(x).sum().backward();
    opt.step();
    const after = await model.weight.data();
    close(after, Array.from(before).map((v, i) => v - 0.1 * [1, 2, 3][i % 3]!), 1e-6);
    expect(model.weight.device).toBe('webgpu');
  });
});

describe('writes across devices', () => {
  it('loadStateDict and assign copy CPU values into a model on webgpu', async () => {
    const model = new born.nn.Linear(2, 2);
    await model.realize();
    model.to('webgpu');
    model.loadStateDict({ weight: born.tensor([[1, 2], [3, 4]]), bias: born.tensor([0.5, -0.5]) });
    expect(model.weight.device).toBe('webgpu');
    expect(await model.weight.tolist()).toEqual([[1, 2], [3, 4]]);
    model.bias!.assign(born.tensor([7, 8]));
    expect(model.bias!.device).toBe('webgpu');
    expect(await model.bias!.tolist()).toEqual([7, 8]);
  });
});

describe('compiled once, cached, bounded', () => {
  it('a new runtime scalar reuses the pipeline: nothing compiles after the first value', async () => {
    const x = born.tensor([1, 2, 3], { device: 'webgpu' });
    const scaled = (v: number): born.Tensor => x.mul(born.scalar(v)).add(born.scalar(-v));
    expect(Array.from(await scaled(2).data())).toEqual([0, 2, 4]);
    const compiles = born.engine.stats().kernelCompiles;
    for (const v of [0.5, -3, 10]) expect(Array.from(await scaled(v).data())).toEqual([1, 2, 3].map((e) => Math.fround(e * v - v)));
    expect(born.engine.stats().kernelCompiles).toBe(compiles);
  });

  it('the kernel cache holds what its limits allow', async () => {
    const d = gpuDevice();
    const x = born.tensor([1, 2, 3], { device: 'webgpu' });
    const limits = born.engine.setCacheLimits({}).kernels;
    try {
      born.engine.setCacheLimits({ kernels: { count: 2, bytes: 1 << 20 } });
      for (let i = 1; i <= 4; i++) await x.add(i).mul(i).data();
      expect(d.stats().cachedKernels).toBeLessThanOrEqual(2);
    } finally {
      born.engine.setCacheLimits({ kernels: limits });
    }
  });
});

describe('the process', () => {
  it('exits by itself when the work is done, and Dawn prints nothing to stdout', async () => {
    const script = `import * as born from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      const y = born.tensor([1, 2, 3], { device: 'webgpu' }).mul(2);
      console.log(JSON.stringify(Array.from(await y.data())));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    expect(stdout).toBe('[2,4,6]\n');
  });

  it('BORN_DEVICE chooses the default device before the first tensor; auto never takes a software adapter', async () => {
    const script = `import * as born from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      console.log(born.defaultDevice(), born.zeros([2]).device);`;
    const run = async (env: string): Promise<string> =>
      (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, env: { ...process.env, BORN_DEVICE: env } })).stdout.trim();
    expect(await run('webgpu')).toBe('webgpu webgpu');
    expect(await run('auto')).toBe((await acquireGpu()).software ? 'cpu cpu' : 'webgpu webgpu');
    await expect(run('tpu')).rejects.toThrow(/BORN_DEVICE: unknown device "tpu" \(valid: cpu, webgpu, auto\)/);
  });
});

describe('failures reject the pending work and leave the engine usable', () => {
  it('a kernel that fails to compile names the kernel and the line', async () => {
    const real = wgslPrinters.print;
    wgslPrinters.print = (k, o) => ({ ...real(k, o), code: 'fn main( {' });
    try {
      await expect(born.tensor([1, 2], { device: 'webgpu' }).mul(3).sub(7).data()).rejects.toThrow(/kernel .* failed to compile: line \d+/);
    } finally {
      wgslPrinters.print = real;
    }
    expect(Array.from(await born.tensor([1, 2], { device: 'webgpu' }).mul(3).sub(7).data())).toEqual([-4, -1]);
  });

  it('a buffer beyond what the adapter binds is refused before anything runs', async () => {
    const max = (await gpuDevice().ready()).limits.maxStorageBufferBindingSize;
    await expect(born.zeros([max / 4 + 1], { device: 'webgpu' }).add(1).data()).rejects.toThrow(/larger than the adapter binds \(maxStorageBufferBindingSize/);
  });

  it('memory beyond the budget is refused clearly, and freeing makes room again', async () => {
    const d = gpuDevice();
    await d.ready();
    const { heldBytes, budget } = d.memory();
    d.setMemoryBudget(heldBytes + 4096);
    try {
      const a = born.zeros([512], { device: 'webgpu' }).add(1);
      await a.data();
      await expect(born.zeros([1024], { device: 'webgpu' }).add(2).data()).rejects.toThrow(/out of memory: .* budget of/);
      a.dispose();
      expect(Array.from(await born.zeros([4], { device: 'webgpu' }).add(2).data())).toEqual([2, 2, 2, 2]);
    } finally {
      d.setMemoryBudget(budget);
    }
  });

  it('device.destroy() mid-schedule rejects the pending data() and the CPU carries on', async () => {
    await born.setDefaultDevice('webgpu');
    let y = born.rand([1 << 20], { seed: 1 });
    for (let i = 0; i < 40; i++) y = y.mul(1.0001).add(0.5).tanh();
    const pending = y.data();
    (await acquireGpu()).device.destroy();
    await expect(pending).rejects.toThrow(/lost|destroyed|abort/i);
    expect(born.defaultDevice()).toBe('cpu');
    expect(Array.from(await born.tensor([1, 2]).add(1).data())).toEqual([2, 3]);
    // A new device opens on the next use.
    expect(Array.from(await born.tensor([1, 2], { device: 'webgpu' }).add(1).data())).toEqual([2, 3]);
  });
});
