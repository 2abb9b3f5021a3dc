/**
 * The engine: the devices, the events the scheduler reports, and memory statistics.
 */
import { EventEmitter } from 'eventemitter3';
import { CpuDevice, KERNEL_CACHE_LIMITS } from '../devices/cpu-workers/device.js';
import type { Device, DeviceName } from '../devices/device.js';
import { DeviceError } from '../graph/errors.js';
import { checkLimits, type CacheLimits, type LruCache } from '../kernel/lru.js';
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

/** What the engine has done since it started, and how full its caches are. */
export interface EngineStats extends MemoryStats {
  /** Device buffers newly created (buffers reused from a device's free list do not count). */
  readonly allocations: number;
  /** Kernels generated and compiled by the devices. */
  readonly kernelCompiles: number;
  readonly cachedKernels: number;
  readonly cachedKernelBytes: number;
  readonly cachedPlans: number;
  readonly cachedPlanBytes: number;
  /** Schedules started (realize() calls that had work to do, stores included). */
  readonly schedules: number;
  /** Plans made: schedules of a graph structure no cached plan had (concurrent ones share one). */
  readonly plansMade: number;
}

/** Bounds of the engine's caches (LRU by count and by bytes); omitted entries stay as they are. */
export interface CacheLimitOptions {
  /** Compiled kernels of each device, sized by their generated source. */
  readonly kernels?: CacheLimits;
  /** Compiled schedules, sized by their graph key and their kernels' hashes. */
  readonly plans?: CacheLimits;
}

export class Engine extends EventEmitter<EngineEvents> {
  private cpu: CpuDevice | null = null;
  private kernelLimits: CacheLimits | null = null;
  /** Set by the scheduler when it loads (it imports the engine, not the other way round). */
  planCache: LruCache<string, unknown> | null = null;
  /** Counted by the scheduler. */
  readonly counters = { schedules: 0, plansMade: 0 };

  device(name: DeviceName = 'cpu'): Device {
    switch (name) {
      case 'cpu': {
        if (!this.cpu) {
          this.cpu = new CpuDevice();
          if (this.kernelLimits) this.cpu.setKernelCacheLimits(this.kernelLimits);
        }
        return this.cpu;
      }
      case 'webgpu':
        throw new DeviceError(`device 'webgpu' is not available in this build yet (available: 'cpu')`);
    }
  }

  memory(): MemoryStats {
    return { ...memoryStats };
  }

  stats(): EngineStats {
    const d = this.cpu?.stats();
    return {
      ...memoryStats,
      allocations: d?.allocations ?? 0,
      kernelCompiles: d?.kernelCompiles ?? 0,
      cachedKernels: d?.cachedKernels ?? 0,
      cachedKernelBytes: d?.cachedKernelBytes ?? 0,
      cachedPlans: this.planCache?.size ?? 0,
      cachedPlanBytes: this.planCache?.bytes ?? 0,
      schedules: this.counters.schedules,
      plansMade: this.counters.plansMade,
    };
  }

  /** Re-bounds the caches (evicting at once what no longer fits); returns the limits now in force. */
  setCacheLimits(opts: CacheLimitOptions): { kernels: CacheLimits; plans: CacheLimits } {
    if (opts.kernels) {
      checkLimits(opts.kernels);
      this.kernelLimits = opts.kernels;
      this.cpu?.setKernelCacheLimits(opts.kernels);
    }
    if (opts.plans) this.planCache?.setLimits(opts.plans);
    return {
      kernels: this.kernelLimits ?? KERNEL_CACHE_LIMITS,
      plans: this.planCache?.limit ?? { count: 0, bytes: 0 },
    };
  }

  /** Stops the worker threads so the process can exit; the engine starts them again on demand. */
  async shutdown(): Promise<void> {
    await this.cpu?.destroy();
  }
}

export const engine = new Engine();
