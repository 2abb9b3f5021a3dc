// TensorFlow.js's WebGPU backend (@tensorflow/tfjs-backend-webgpu 4.22) on the Dawn instance of
// Born's own WebGPU device: the same `webgpu` package, the same adapter, in the same run.
//
// The backend finds WebGPU on navigator.gpu when it is imported (it registers itself only if
// navigator.gpu exists), so Born's device opens first and lends the GPU object its create()
// returned: src/devices/webgpu/gpu.ts keeps it at globalThis[Symbol.for('born.webgpu.root')],
// reachable for the life of the process (dawn.node crashes if it is collected under a device).
// A second create() would work too, but would not prove the two ran on one instance.

import { loadBorn } from '../born-api.js';

const ROOT = Symbol.for('born.webgpu.root');

/** What the tfjs peer needs of the WebGPU backend beyond tfjs's public API. */
interface WebGpuBackendInternals {
  device: GPUDevice & { adapterInfo?: GPUAdapterInfo };
  queue: GPUQueue;
  adapterInfo?: { vendor?: string; architecture?: string };
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Opens Born's WebGPU device and makes its GPU object navigator.gpu, then loads the tfjs backend.
 * Resolves to Born's name for the adapter (the name bench/webgpu.ts keys its figures by).
 */
export async function loadTfjsWebgpu(): Promise<string> {
  const born = await loadBorn();
  if (!born.setDefaultDevice) throw new Error("Born's index does not export setDefaultDevice(): cannot open its WebGPU device");
  await born.setDefaultDevice('webgpu');
  const dev = born.engine?.device?.('webgpu');
  await dev?.ready?.();
  const root = (globalThis as { [ROOT]?: GPU })[ROOT];
  if (!root) throw new Error("Born's WebGPU device is open but left no GPU object at globalThis[Symbol.for('born.webgpu.root')]");
  // Node 21+ defines navigator as a getter: define, do not assign.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: root }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  return dev?.adapterName ?? 'unknown adapter';
}

const internals = (backend: unknown): WebGpuBackendInternals => backend as WebGpuBackendInternals;

/** The adapter tfjs's device runs on, in words (the same fields Born's adapterName joins). */
export function tfjsAdapterName(backend: unknown): string {
  const be = internals(backend);
  const info = be.device.adapterInfo;
  const words = info ? [info.vendor, info.architecture, info.device, info.description] : [be.adapterInfo?.vendor, be.adapterInfo?.architecture];
  return words.filter((s) => s).join(' ') || 'unknown adapter';
}

/**
 * Waits until every command tfjs recorded has run on the GPU, without reading anything back:
 * tfjs records dispatches into an open compute pass and submits lazily (every 15 dispatches, or
 * on a read), so close the pass, submit what is pending, and wait for the queue.
 */
export async function settle(backend: unknown): Promise<void> {
  const be = internals(backend);
  const pending = (be as unknown as { commandEncoder: GPUCommandEncoder | null }).commandEncoder;
  if (pending) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
  await be.queue.onSubmittedWorkDone();
}
