/**
 * Explicit bind-group layouts: the device lays out every binding a program declares, so a kernel
 * whose shader never reads one of its buffers, or its runtime-scalar uniform, still dispatches
 * (with `layout: 'auto'` the unread binding is missing from the layout and binding the kernel's
 * buffers fails).
 */
import { describe, expect, it } from 'vitest';
import { WebGpuDevice } from '../../src/devices/webgpu/device.js';
import { bindingTypes } from '../../src/devices/webgpu/wgsl/program.js';
import type { Kernel, Scalar } from '../../src/kernel/ir.js';

const f32 = 'float32' as const;
const load = (input: number): Scalar => ({ k: 'load', input, index: { k: 'var', name: 'o0' }, dtype: f32 });

/** out = 2·in1 over 4 elements; in2 and the float32 runtime scalar are bound but never read. */
const ignoring: Kernel = {
  name: 'E_4_ignores', out: { dtype: f32, shape: [4] }, inputs: [f32, f32], loop: [4], reduce: null, matmul: null,
  value: { k: 'op', op: 'mul', args: [load(1), { k: 'const', value: 2, dtype: f32 }], dtype: f32 },
  params: [f32], outIndex: null, ops: ['mul'], flops: 4, bytes: 48,
};

describe('bind-group layouts from the declared bindings', () => {
  it('types each binding as declared: read-only inputs, writable outputs, the uniform, scratch', () => {
    const code = [
      '@group(0) @binding(0) var<storage, read_write> b0: array<u32>;',
      '@group(0) @binding(1) var<storage, read> b1: array<vec4<u32>>;',
      '@group(0) @binding(2) var<uniform> u_: array<vec4<u32>, 1>;',
      '@group(0) @binding(3) var<storage, read_write> s_: array<f32>;',
    ].join('\n');
    const p = { code, entry: 'main', workgroups: [1, 1, 1] as const, slots: [0, 1], uniformWords: 1, scratch: [64] };
    expect(bindingTypes(p)).toEqual(['storage', 'read-only-storage', 'uniform', 'storage']);
    // A declaration missing or extra against what the device binds is an internal error, not a failed dispatch.
    expect(() => bindingTypes({ ...p, scratch: [] })).toThrow(/declares bindings/);
    expect(() => bindingTypes({ ...p, uniformWords: 0 })).toThrow(/declares bindings/);
  });

  it('a kernel whose shader reads neither its second input nor its uniform still dispatches', async () => {
    const d = new WebGpuDevice();
    await d.ready();
    const [out, a, b] = [d.alloc(f32, 4), d.alloc(f32, 4), d.alloc(f32, 4)];
    d.write(a, Float32Array.from([1, -2, 3.5, 0]));
    d.write(b, Float32Array.from([9, 9, 9, 9]));
    await d.run(d.compile(ignoring), [out, a, b], [7]);
    await d.flush();
    expect(Array.from(await d.read(out, f32, 4) as Float32Array)).toEqual([2, -4, 7, 0]);
    for (const x of [out, a, b]) d.free(x);
    await d.destroy();
  });
});
