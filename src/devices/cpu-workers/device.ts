/**
 * The CPU device: buffers are SharedArrayBuffers, kernels are generated JS run over ranges of
 * their output on a worker pool, or inline on the calling thread when the work is too small to
 * be worth a message (the cost model below).
 */
import { setFlagsFromString } from 'node:v8';
import { arrayFor, type DType } from '../../graph/dtype.js';
import type { Kernel } from '../../kernel/ir.js';
import { kernelHash } from '../../kernel/ir.js';
import type { CompiledKernel, Device, DeviceBuffer } from '../device.js';
import { printJs } from './codegen.js';
import { describeThrown, KernelCache, runCached, kindBytes, type ArrayKind, type KernelBinding } from './compile.js';
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

// Relaxed SIMD gives the matmul kernel fused multiply-add (+25-30%). V8 flags are process-wide,
// so setting it before any kernel compiles covers the worker threads too.
setFlagsFromString('--experimental-wasm-relaxed-simd');

/**
 * Below this many elementary operations (op-table flops per element, summed) a kernel runs
 * inline. Measured here (2 vCPUs): a pool round trip is ~90 µs when the other core is idle, and
 * `out = exp(x) * 2 + 1` (11 per element) first gains from the pool at ~32k elements, ~250 µs of
 * inline work.
 */
export const INLINE_COST = 350_000;
/** Free buffers kept for reuse, by byte size, up to this much in total. */
const POOL_BYTES = 512 * 1024 * 1024;

export class CpuDevice implements Device {
  readonly name = 'cpu' as const;
  private pool: WorkerPool | null = null;
  private readonly kernels = new Map<string, CpuKernel>();
  private readonly inline = new KernelCache(1024);
  private readonly free_ = new Map<number, SharedArrayBuffer[]>();
  private freeBytes = 0;
  private nextId = 0;

  constructor(private readonly threads?: number) {}

  private workers(): WorkerPool {
    // Spawned on first parallel use so small programs start fast and never pay for threads.
    return (this.pool ??= new WorkerPool(this.threads === undefined ? {} : { threads: this.threads }));
  }

  alloc(bytes: number): CpuBuffer {
    const size = Math.max(8, Math.ceil(bytes / 8) * 8);
    const list = this.free_.get(size);
    const reused = list?.pop();
    if (reused) this.freeBytes -= size;
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

  compile(kernel: Kernel): CpuKernel {
    const hash = kernelHash(kernel);
    let k = this.kernels.get(hash);
    if (!k) {
      const { source, units } = printJs(kernel);
      // The lowering already counted each fused op's flops over its loop; a plain copy still
      // costs one operation per element.
      const cost = Math.max(kernel.flops, units);
      // Workers cache compiled kernels by this key: short, so each task message stays small.
      k = { hash, key: `k${this.kernels.size}`, kernel, source, units, cost, kinds: [kernel.out.dtype, ...kernel.inputs] };
      this.kernels.set(hash, k);
    }
    return k;
  }

  run(ck: CompiledKernel, bufs: readonly DeviceBuffer[]): Promise<void> {
    const k = ck as CpuKernel;
    const bindings: KernelBinding[] = bufs.map((b, i) => {
      const kind = k.kinds[i]!;
      const sab = (b as CpuBuffer).sab;
      return { sab, kind, length: Math.floor(sab.byteLength / kindBytes[kind]) };
    });
    if (k.cost < INLINE_COST || k.units <= 1) {
      try {
        runCached(this.inline, k.key, k.source, bindings, 0, k.units);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(new KernelError(`kernel ${k.kernel.name} ${describeThrown(e)}`, { cause: e }));
      }
    }
    return this.workers().run(k.key, k.source, bindings, k.units, { grain: 1 });
  }

  async destroy(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}
