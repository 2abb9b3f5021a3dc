/**
 * The CPU device: buffers are SharedArrayBuffers, kernels are generated JS run over ranges of
 * their output on a worker pool, or inline on the calling thread when the work is too small to
 * be worth a message (the cost model below).
 */
import { availableParallelism } from 'node:os';
import { arrayFor, itemBytes, type DType } from '../../graph/dtype.js';
import type { Kernel } from '../../kernel/ir.js';
import { kernelHash } from '../../kernel/ir.js';
import { LruCache, type CacheLimits } from '../../kernel/lru.js';
import type { CompiledKernel, Device, DeviceBuffer, DeviceStats, RuntimeArgs } from '../device.js';
import { printJs } from './codegen.js';
import { describeThrown, KernelCache, runCached, type ArrayKind, type KernelBinding } from './compile.js';
import { KernelError, WorkerPool } from './pool.js';

export interface CpuBuffer extends DeviceBuffer {
  readonly sab: SharedArrayBuffer;
}

interface CpuKernel extends CompiledKernel {
  readonly source: string;
  readonly units: number;
  /** Estimated cost in elementary operations, against INLINE_COST. */
  readonly cost: number;
  readonly kinds: readonly ArrayKind[];
  readonly key: string;
}

/**
 * Below this many elementary operations (op-table flops per element, summed) a kernel runs
 * inline. Measured here (2 vCPUs): a pool round trip is ~90 µs when the other core is idle, and
 * `out = exp(x) * 2 + 1` (11 per element) first gains from the pool at ~32k elements, ~250 µs of
 * inline work.
 */
export const INLINE_COST = 350_000;
/**
 * A kernel that cannot be split (one unit: a batch-1 matmul) gains nothing from the pool but the
 * main thread's time, so it runs inline up to this cost, a few milliseconds of work; beyond it, it
 * goes to a worker so that the event loop on the main thread is not held longer.
 */
export const SERIAL_INLINE_COST = 4_000_000;
/** Free buffers kept for reuse, by byte size, up to this much in total. */
const POOL_BYTES = 512 * 1024 * 1024;
/** Compiled kernels kept, by count and by bytes of generated source. */
export const KERNEL_CACHE_LIMITS: CacheLimits = { count: 2048, bytes: 64 * 1024 * 1024 };

export class CpuDevice implements Device {
  readonly name = 'cpu' as const;
  private pool: WorkerPool | null = null;
  private readonly kernels = new LruCache<string, CpuKernel>(KERNEL_CACHE_LIMITS);
  private readonly inline = new KernelCache(1024);
  private readonly free_ = new Map<number, SharedArrayBuffer[]>();
  private freeBytes = 0;
  private nextId = 0;
  private allocations = 0;
  private kernelCompiles = 0;
  /** Worker-side cache keys: never reused, so an evicted kernel that comes back cannot meet a stale entry. */
  private nextKey = 0;

  /** Pools replaced by setThreads, finishing the kernels they were running. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(private threads?: number) {}

  /** The number of worker threads kernels run on (the machine's parallelism unless set). */
  get threadCount(): number { return this.threads ?? availableParallelism(); }

  /**
   * Resizes the worker pool: kernels started from now on run on `n` threads (a positive integer,
   * checked by setNumThreads); the old pool finishes the kernels it is running, then stops.
   */
  setThreads(n: number): void {
    if (n === this.threads) return;
    this.threads = n;
    const old = this.pool;
    this.pool = null;
    if (old) {
      const done = old.retire().catch(() => {});
      this.retiring.add(done);
      void done.then(() => this.retiring.delete(done));
    }
  }

  private workers(): WorkerPool {
    // Spawned on first parallel use so small programs start fast and never pay for threads.
    return (this.pool ??= new WorkerPool(this.threads === undefined ? {} : { threads: this.threads }));
  }

  alloc(bytes: number): CpuBuffer {
    const size = Math.max(8, Math.ceil(bytes / 8) * 8);
    const list = this.free_.get(size);
    const reused = list?.pop();
    if (reused) this.freeBytes -= size;
    else this.allocations++;
    const sab = reused ?? new SharedArrayBuffer(size);
    return { id: this.nextId++, bytes: size, sab };
  }

  free(buf: DeviceBuffer): void {
    const { sab } = buf as CpuBuffer;
    if (this.freeBytes + sab.byteLength > POOL_BYTES) return;
    const list = this.free_.get(sab.byteLength);
    if (list) list.push(sab); else this.free_.set(sab.byteLength, [sab]);
    this.freeBytes += sab.byteLength;
  }

  write(buf: DeviceBuffer, data: ArrayBufferView): void {
    new Uint8Array((buf as CpuBuffer).sab).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  read(buf: DeviceBuffer, dtype: DType, length: number): Promise<ArrayBufferView> {
    return Promise.resolve(arrayFor(dtype, (buf as CpuBuffer).sab, length).slice());
  }

  peek(buf: DeviceBuffer, dtype: DType, length: number): ArrayBufferView {
    return arrayFor(dtype, (buf as CpuBuffer).sab, length);
  }

  compile(kernel: Kernel): CpuKernel {
    const hash = kernelHash(kernel);
    let k = this.kernels.get(hash);
    if (!k) {
      const { source, units } = printJs(kernel);
      this.kernelCompiles++;
      // The lowering already counted each fused op's flops over its loop; a plain copy still
      // costs one operation per element.
      const cost = Math.max(kernel.flops, units);
      // Workers cache compiled kernels by this key: short, so each task message stays small.
      k = { hash, key: `k${this.nextKey++}`, kernel, source, units, cost, kinds: [kernel.out.dtype, ...kernel.inputs, ...(kernel.indexChecks?.length ? ['int32' as const] : []),
        ...(kernel.extraOutputs ?? []).map((e) => e.dtype)] };
      this.kernels.set(hash, k, source.length + hash.length);
    }
    return k;
  }

  stats(): DeviceStats {
    return {
      allocations: this.allocations,
      kernelCompiles: this.kernelCompiles,
      cachedKernels: this.kernels.size,
      cachedKernelBytes: this.kernels.bytes,
    };
  }

  setKernelCacheLimits(limits: CacheLimits): void {
    this.kernels.setLimits(limits);
  }

  run(ck: CompiledKernel, bufs: readonly DeviceBuffer[], args: RuntimeArgs = []): Promise<void> {
    const k = ck as CpuKernel;
    const bindings: KernelBinding[] = bufs.map((b, i) => {
      const kind = k.kinds[i]!;
      const sab = (b as CpuBuffer).sab;
      return { sab, kind, length: Math.floor(sab.byteLength / itemBytes[kind]) };
    });
    if (k.cost < INLINE_COST || (k.units <= 1 && k.cost < SERIAL_INLINE_COST)) {
      try {
        runCached(this.inline, k.key, k.source, bindings, 0, k.units, args);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(new KernelError(`kernel ${k.kernel.name} ${describeThrown(e)}`, { cause: e }));
      }
    }
    return this.workers().run(k.key, k.source, bindings, k.units, { grain: 1, args });
  }

  async destroy(): Promise<void> {
    await Promise.all(this.retiring);
    await this.pool?.destroy();
    this.pool = null;
  }
}
