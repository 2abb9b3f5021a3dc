/**
 * The engine: the devices, the events the scheduler reports, and memory statistics.
 */
import { EventEmitter } from 'eventemitter3';
import { CpuDevice } from '../devices/cpu-workers/device.js';
import type { Device, DeviceName } from '../devices/device.js';
import { DeviceError } from '../graph/errors.js';
import { memoryStats } from './buffers.js';

/** One kernel run, as reported to 'kernel' listeners. */
export interface KernelEvent {
  readonly name: string;
  readonly device: DeviceName;
  readonly ops: readonly string[];
  readonly ms: number;
  readonly bytes: number;
  readonly flops: number;
}

export interface EngineEvents {
  kernel: [KernelEvent];
}

export interface MemoryStats {
  /** Device buffers held by tensors or running schedules. */
  readonly liveBuffers: number;
  readonly liveBytes: number;
}

export class Engine extends EventEmitter<EngineEvents> {
  private cpu: CpuDevice | null = null;

  device(name: DeviceName = 'cpu'): Device {
    switch (name) {
      case 'cpu': return (this.cpu ??= new CpuDevice());
      case 'webgpu':
        throw new DeviceError(`device 'webgpu' is not available in this build yet (available: 'cpu')`);
    }
  }

  memory(): MemoryStats {
    return { ...memoryStats };
  }

  /** Stops the worker threads so the process can exit; the engine starts them again on demand. */
  async shutdown(): Promise<void> {
    await this.cpu?.destroy();
  }
}

export const engine = new Engine();
