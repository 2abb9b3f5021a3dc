import type { DType } from '../graph/dtype.js';
import type { Kernel, WindowFold } from '../kernel/ir.js';
import type { CacheLimits } from '../kernel/lru.js';
import type { DeviceName } from '../graph/node.js';

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

/**
 * The runtime scalars of one kernel run, in the order of the kernel's `params` (a learning rate,
 * a temperature, a position): values that change from call to call without compiling anew.
 */
export type RuntimeArgs = readonly number[];

/** Counters since the device was made, and the current size of its compiled-kernel cache. */
export interface DeviceStats {
  /** Buffers newly created (a buffer reused from the device's free list does not count). */
  readonly allocations: number;
  /** Kernels generated and compiled for this device. */
  readonly kernelCompiles: number;
  readonly cachedKernels: number;
  readonly cachedKernelBytes: number;
}

/**
 * What run() returns for a kernel that has already finished, synchronously, on the calling
 * thread: the scheduler then goes on to the next kernel at once, without a promise hop per kernel.
 * Any other promise is awaited.
 */
export const RAN_INLINE: Promise<void> = Promise.resolve();

/** What the scheduler reads of a device before it plans: limits and dtypes as data. */
export interface DeviceLimits {
  /** Storage buffers one kernel may bind (outputs, inputs, error record): the scheduler splits kernels beyond it. */
  readonly maxBindings: number;
  /** The largest buffer the device can hold, in bytes. */
  readonly maxBufferBytes: number;
  /**
   * Matmul operands may read a convolution's patches straight from its input (implicit GEMM,
   * MatmulOperand.window), so the im2col matrix is never written (scheduler/window-operand.ts):
   * every such read (WebGPU's implicit GEMM), or those the function accepts (the CPU's Winograd
   * convolution takes the forward 3x3 ones).
   */
  readonly windowOperands?: boolean | ((fold: WindowFold) => boolean);
}

/**
 * What the scheduler may ask of a device, nothing more. Kernels run in the order run() is called
 * (a later kernel sees what an earlier one wrote once run()'s promise settles, or at once for
 * RAN_INLINE); a device that batches work (WebGPU: one command encoder per schedule) sends it
 * on flush(), which the scheduler calls once a schedule's kernels have all been issued.
 */
/** What a buffer is for, where a device places buffers by use: 'packed' holds ggml-quantised weight bytes. */
export type BufferUse = 'packed';

export interface Device {
  readonly name: DeviceName;
  readonly limits: DeviceLimits;
  /** The dtypes its buffers hold; a tensor of another dtype is refused naming these. */
  readonly dtypes: ReadonlySet<DType>;
  /**
   * A buffer for `count` elements of `dtype`: the device decides its layout and size, and where
   * it lies by `use` (the CPU device puts packed weights where its packed matmul reads them).
   */
  alloc(dtype: DType, count: number, use?: BufferUse): DeviceBuffer;
  /** Fills a buffer with CPU storage of the dtype it was allocated for. */
  write(buf: DeviceBuffer, data: ArrayBufferView): void;
  /** A copy of the first `length` elements of `buf`, as `dtype`. */
  read(buf: DeviceBuffer, dtype: DType, length: number): Promise<ArrayBufferView>;
  /**
   * The first `length` elements of `buf` as `dtype`, synchronously and without copying, on a
   * device whose memory the main thread can see (console.log of a computed tensor reads them).
   */
  peek?(buf: DeviceBuffer, dtype: DType, length: number): ArrayBufferView;
  /** Cached by the kernel's structural hash, in a cache bounded by count and bytes. */
  compile(kernel: Kernel): CompiledKernel;
  /**
   * Runs `k` over `bufs` (slot 0 the output; a store kernel's output may also be one of its
   * inputs) with the runtime scalars `args` (one per entry of the kernel's `params`). Returns
   * RAN_INLINE when the kernel ran to completion before returning. `contended`: other schedules
   * are running too, so the calling thread is worth keeping free.
   */
  run(k: CompiledKernel, bufs: readonly DeviceBuffer[], args?: RuntimeArgs, contended?: boolean): Promise<void>;
  /**
   * Runs the kernels in order as one submission, each after the one before is done (each may read
   * what earlier ones wrote), settling once all are: where a device can do that without the
   * calling thread between kernels (the CPU device's workers wait for each other). A failure
   * rejects once nothing of the chain still runs.
   */
  runChain?(items: readonly ChainItem[]): Promise<void>;
  /**
   * With runChain: whether `k` would go to a chain, as a kernel that leaves the calling thread
   * while that thread has other work (a chain is worth it from one such with others beside it).
   */
  offloads?(k: CompiledKernel, contended: boolean): boolean;
  /** Sends every kernel issued so far; settles once they have run (rejects with their failure). */
  flush?(): Promise<void>;
  free(buf: DeviceBuffer): void;
  /** Where the device runs `k` and why (explain() prints it); absent on devices with one way to run. */
  placement?(k: CompiledKernel): KernelPlacement;
  stats(): DeviceStats;
  setKernelCacheLimits(limits: CacheLimits): void;
  /** Releases the device's threads or adapter so the process can exit; it starts again on demand. */
  destroy(): Promise<void>;
}

/** One kernel of a chain (Device.runChain): as the arguments of run(). */
export interface ChainItem { readonly k: CompiledKernel; readonly bufs: readonly DeviceBuffer[]; readonly args?: RuntimeArgs }

/** How a device runs one kernel: on the calling thread, or split into `ranges` parallel tasks. */
export interface KernelPlacement {
  readonly inline: boolean;
  readonly ranges: number;
  /** E.g. 'inline (cost 12k < 350k)', 'pool ×2 (cost 1.2M)'. */
  readonly text: string;
}

export type { DeviceName } from '../graph/node.js';
