/**
 * Runs one printed WGSL program on the process's WebGPU device over plain arrays, without the
 * scheduler: for tests of the printers. Each kernel slot is given as CPU storage of its dtype (or
 * a count of elements to allocate, zeroed); the result is every slot read back as CPU storage.
 */
import type { DType } from '../../src/graph/dtype.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { bufferBytes, fromDeviceLayout, toDeviceLayout } from '../../src/devices/webgpu/storage.js';
import { bindGroupLayout } from '../../src/devices/webgpu/layout.js';
import { passesOf, type WgslProgram } from '../../src/devices/webgpu/wgsl/program.js';

export interface SlotData { readonly dtype: DType; readonly data?: ArrayBufferView; readonly count?: number }

export async function runProgram(p: WgslProgram, slots: readonly SlotData[], params: readonly { dtype: DType; value: number }[] = []): Promise<ArrayBufferView[]> {
  const { device } = await acquireGpu();
  const counts = slots.map((s) => s.count ?? (s.data as unknown as { length: number }).length);
  const bufs = slots.map((s, i) => {
    const b = device.createBuffer({ size: bufferBytes(s.dtype, counts[i]!), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    if (s.data) { const w = toDeviceLayout(s.dtype, s.data); device.queue.writeBuffer(b, 0, w.buffer, w.byteOffset, w.byteLength); }
    return b;
  });
  const entries: GPUBindGroupEntry[] = p.slots.map((slot, binding) => ({ binding, resource: { buffer: bufs[slot]! } }));
  let uniform: GPUBuffer | null = null;
  if (p.uniformWords > 0) {
    const words = new ArrayBuffer(Math.ceil(p.uniformWords / 4) * 16);
    const f = new Float32Array(words), i32 = new Int32Array(words);
    params.forEach((q, s) => { if (q.dtype === 'float32') f[s] = q.value; else i32[s] = q.value; });
    (p.extraUniforms ?? []).forEach((v, j) => { i32[params.length + j] = v; });
    uniform = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(uniform, 0, words);
    entries.push({ binding: p.slots.length, resource: { buffer: uniform } });
  }
  const scratch = (p.scratch ?? []).map((size) => device.createBuffer({ size, usage: GPUBufferUsage.STORAGE }));
  scratch.forEach((buffer) => entries.push({ binding: entries.length, resource: { buffer } }));
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: p.code });
  const enc = device.createCommandEncoder();
  // The device's layout (every declared binding), so these tests run the programs as it does.
  const layout = bindGroupLayout(device, p);
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const group = device.createBindGroup({ layout, entries });
  for (const step of passesOf(p)) {
    const constants = step.constants ? { constants: { ...step.constants } } : {};
    const pipeline = await device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: step.entry, ...constants } });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline); pass.setBindGroup(0, group); pass.dispatchWorkgroups(...step.workgroups); pass.end();
  }
  const staging = bufs.map((b) => { const s = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }); enc.copyBufferToBuffer(b, 0, s, 0, b.size); return s; });
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`${err.message}\n${p.code}`);
  const out: ArrayBufferView[] = [];
  for (const [i, s] of staging.entries()) {
    await s.mapAsync(GPUMapMode.READ);
    out.push(fromDeviceLayout(slots[i]!.dtype, s.getMappedRange().slice(0), counts[i]!));
    s.unmap(); s.destroy(); bufs[i]!.destroy();
  }
  uniform?.destroy();
  for (const b of scratch) b.destroy();
  return out;
}
