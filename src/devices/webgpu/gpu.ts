/**
 * The one WebGPU adapter and device of the process, from Dawn's `webgpu` package, loaded on first
 * use (a CPU-only program never loads the native module). The object create() returns stays
 * reachable here for as long as the process lives: if it is collected while a device is in use,
 * dawn.node crashes the process.
 */
import { DeviceError } from '../../graph/errors.js';

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** A software adapter (lavapipe, SwiftShader): usable on request, never chosen by 'auto'. */
  readonly software: boolean;
  readonly f16: boolean;
  readonly limits: {
    readonly maxStorageBuffersPerShaderStage: number;
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxComputeWorkgroupsPerDimension: number;
    readonly maxComputeInvocationsPerWorkgroup: number;
    readonly maxComputeWorkgroupStorageSize: number;
  };
}

/** What to install where no adapter exists (the message of every "no WebGPU" error). */
export const ADAPTER_HELP =
  'WebGPU needs a Vulkan driver: a GPU vendor driver, or on Debian/Ubuntu without a GPU Mesa\'s software ' +
  'adapter (apt-get install mesa-vulkan-drivers libvulkan1; Mesa >= 24, on bookworm from bookworm-backports)';

type WebGpuModule = { create(options: string[]): GPU; globals: object };

let gpuRoot: GPU | null = null;
const ROOT: unique symbol = Symbol.for('born.webgpu.root');
let acquiring: Promise<Gpu> | null = null;

async function loadModule(): Promise<WebGpuModule> {
  try {
    return (await import('webgpu')) as unknown as WebGpuModule;
  } catch (e) {
    throw new DeviceError(`webgpu: the 'webgpu' package could not be loaded (${(e as Error).message}); ${ADAPTER_HELP}`);
  }
}

async function open(): Promise<Gpu> {
  const mod = await loadModule();
  // GPUBufferUsage, GPUMapMode, ... are globals in browsers; dawn.node exports them.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  // Kept on the global object, not only in this module: a test runner that loads the module afresh
  // per file must not let an earlier instance's root be collected under a device still alive.
  const roots = globalThis as { [ROOT]?: GPU };
  gpuRoot ??= roots[ROOT] ??= mod.create([]);
  const adapter = await gpuRoot.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new DeviceError(`webgpu: no WebGPU adapter found. ${ADAPTER_HELP}`);
  const a = adapter.limits;
  const f16 = adapter.features.has('shader-f16');
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits: {
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
    },
  });
  const info = adapter.info;
  const adapterName = info.description || [info.vendor, info.device].filter((s) => s).join(' ') || 'unknown adapter';
  // isFallbackAdapter moved from the adapter to its info between revisions of the spec.
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const software = fallback === true || /llvmpipe|lavapipe|swiftshader|software/i.test(adapterName);
  const d = device.limits;
  return {
    device, adapterName, software, f16,
    limits: {
      maxStorageBuffersPerShaderStage: d.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: d.maxStorageBufferBindingSize,
      maxBufferSize: d.maxBufferSize,
      maxComputeWorkgroupsPerDimension: d.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: d.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: d.maxComputeWorkgroupStorageSize,
    },
  };
}

/** The process's WebGPU device, opened on the first call; rejects with a DeviceError naming what to install. */
export function acquireGpu(): Promise<Gpu> {
  acquiring ??= open().catch((e: unknown) => { acquiring = null; throw e; });
  return acquiring;
}

/**
 * The GPU object of Dawn's create() once acquireGpu() has run (else null): for code that needs
 * navigator.gpu (TensorFlow.js's WebGPU backend in the benchmarks) without a second instance.
 */
export const webgpuRoot = (): GPU | null => gpuRoot;

/** Forgets the device (after it was lost or destroyed): the next acquireGpu() opens a new one. */
export function forgetGpu(): void {
  acquiring = null;
}
