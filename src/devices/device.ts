import type { DType } from '../graph/dtype.js';
import type { Kernel } from '../kernel/ir.js';

/** Storage owned by one device. The scheduler never looks inside. */
export interface DeviceBuffer {
  readonly id: number;
  readonly bytes: number;
}

/** A kernel compiled for one device, ready to run over buffers in slot order (outputs first). */
export interface CompiledKernel {
  readonly hash: string;
  readonly kernel: Kernel;
}

/** What the scheduler may ask of a device, nothing more. */
export interface Device {
  readonly name: DeviceName;
  alloc(bytes: number): DeviceBuffer;
  write(buf: DeviceBuffer, data: ArrayBufferView): void;
  /** A copy of the first `length` elements of `buf`, as `dtype`. */
  read(buf: DeviceBuffer, dtype: DType, length: number): Promise<ArrayBufferView>;
  compile(kernel: Kernel): CompiledKernel;
  run(k: CompiledKernel, bufs: readonly DeviceBuffer[]): Promise<void>;
  free(buf: DeviceBuffer): void;
}

export type DeviceName = 'cpu' | 'webgpu';
