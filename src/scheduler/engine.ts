/**
 * The engine: the devices, the events the scheduler reports, and memory statistics.
 */
import { EventEmitter } from 'eventemitter3';
import { CpuDevice, KERNEL_CACHE_LIMITS } from '../devices/cpu-workers/device.js';
import type { Device, DeviceName } from '../devices/device.js';
import { WebGpuDevice } from '../devices/webgpu/device.js';
import { acquireGpu } from '../devices/webgpu/gpu.js';
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

/** What setDefaultDevice and BORN_DEVICE take: a device, or 'auto' (a hardware GPU if there is one). */
export type DeviceChoice = DeviceName | 'auto';
const CHOICES: readonly DeviceChoice[] = ['cpu', 'webgpu', 'auto'];

function checkChoice(where: string, choice: unknown): DeviceChoice {
  if (!CHOICES.includes(choice as DeviceChoice)) throw new DeviceError(`${where}: unknown device ${JSON.stringify(choice)} (valid: ${CHOICES.join(', ')})`);
  return choice as DeviceChoice;
}

export class Engine extends EventEmitter<EngineEvents> {
  /** The device registry: each made on first use. */
  private readonly devices = new Map<DeviceName, Device>();
  private kernelLimits: CacheLimits | null = null;
  /** Where tensors that name no device are made and computed. */
  private default_: DeviceName;

  constructor() {
    super();
    const env = process.env.BORN_DEVICE;
    // 'auto' needs the adapter, which is asynchronous: index.ts resolves it before the first tensor.
    this.default_ = env === undefined || env === '' || env === 'auto' ? 'cpu' : checkChoice('BORN_DEVICE', env) as DeviceName;
  }

  get defaultDevice(): DeviceName { return this.default_; }

  /**
   * Makes `choice` the default device once it is known to work: resolves to the device chosen
   * ('auto': a hardware GPU through WebGPU, else the CPU; never a software adapter), or rejects
   * naming what to install when WebGPU was asked for and there is none (the default stays).
   */
  async setDefaultDevice(choice: DeviceChoice): Promise<DeviceName> {
    checkChoice('setDefaultDevice', choice);
    if (choice === 'cpu') { this.default_ = 'cpu'; return 'cpu'; }
    if (choice === 'auto') {
      const gpu = await acquireGpu().catch(() => null);
      this.default_ = gpu && !gpu.software ? 'webgpu' : 'cpu';
      return this.default_;
    }
    await acquireGpu();
    this.default_ = 'webgpu';
    return 'webgpu';
  }
  /** Set by the scheduler when it loads (it imports the engine, not the other way round). */
  planCache: LruCache<string, unknown> | null = null;
  /** Counted by the scheduler. */
  readonly counters = { schedules: 0, plansMade: 0 };

  /** The device of that name (the default device if none is named), made on first use. */
  device(name: DeviceName = this.default_): Device {
    let d = this.devices.get(name);
    if (d) return d;
    if (name === 'cpu') d = new CpuDevice();
    else if (name === 'webgpu') d = new WebGpuDevice(() => this.lost(name));
    else throw new DeviceError(`unknown device ${JSON.stringify(name)} (valid: cpu, webgpu)`);
    if (this.kernelLimits) d.setKernelCacheLimits(this.kernelLimits);
    this.devices.set(name, d);
    return d;
  }

  /** The CPU device, made on first use (thread settings and the CPU's own knobs live there). */
  cpu(): CpuDevice {
    return this.device('cpu') as CpuDevice;
  }

  /**
   * A device that failed for good (a lost GPU): it leaves the registry, so the next use makes a
   * new one, and the default falls back to the CPU.
   */
  private lost(name: DeviceName): void {
    this.devices.delete(name);
    if (this.default_ === name) this.default_ = 'cpu';
  }

  memory(): MemoryStats {
    return { ...memoryStats };
  }

  stats(): EngineStats {
    const all = [...this.devices.values()].map((d) => d.stats());
    const total = (k: 'allocations' | 'kernelCompiles' | 'cachedKernels' | 'cachedKernelBytes'): number => all.reduce((n, s) => n + s[k], 0);
    return {
      ...memoryStats,
      allocations: total('allocations'),
      kernelCompiles: total('kernelCompiles'),
      cachedKernels: total('cachedKernels'),
      cachedKernelBytes: total('cachedKernelBytes'),
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
      for (const d of this.devices.values()) d.setKernelCacheLimits(opts.kernels);
    }
    if (opts.plans) this.planCache?.setLimits(opts.plans);
    return {
      kernels: this.kernelLimits ?? KERNEL_CACHE_LIMITS,
      plans: this.planCache?.limit ?? { count: 0, bytes: 0 },
    };
  }

  /** Stops the worker threads and closes the GPU so the process can exit; the engine starts them again on demand. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.devices.values()].map((d) => d.destroy()));
  }
}

export const engine = new Engine();
