/**
 * The explicit bind-group layout of a printed program (wgsl/program.ts, bindingTypes): every
 * binding the device binds, read by the shader or not, so a kernel that ignores one of its
 * buffers still dispatches.
 */
import { bindingTypes, type WgslProgram } from './wgsl/program.js';

export function bindGroupLayout(device: GPUDevice, p: WgslProgram): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    entries: bindingTypes(p).map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
  });
}
