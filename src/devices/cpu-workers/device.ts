/**
 * The CPU device: buffers are SharedArrayBuffers, kernels are generated JS run over ranges of
 * their output on a worker pool, or inline on the calling thread when the work is too small to
 * be worth a message (the cost model below).
 */
import { availableParallelism } from 'node:os';
import { arrayFor, DTYPES, itemBytes, newArray, type DType } from '../../graph/dtype.js';
import type { Kernel } from '../../kernel/ir.js';
import { kernelHash } from '../../kernel/ir.js';
import { LruCache, type CacheLimits } from '../../kernel/lru.js';
import type { BufferUse, ChainItem, CompiledKernel, Device, DeviceBuffer, DeviceLimits, DeviceStats, KernelPlacement, RuntimeArgs } from '../device.js';
import { RAN_INLINE } from '../device.js';
import { winogradFold } from './conv/winograd.js';
import { printJs } from './codegen.js';
import { describeThrown, KernelCache, runCached, type ArrayKind, type KernelBinding } from './compile.js';
import { KernelError, splitRanges, WorkerPool } from './pool.js';
import { chainControl, type ChainLink } from './chain.js';
import { claimControl, claimsDone, failClaims, runClaimed } from './claim.js';
import {
  INLINE_COST, kernelCost, MATMUL_INLINE_COST, placement, QUANT_SHARED_FROM, QUANT_SHARED_VECTORS, SERIAL_INLINE_COST, type PlacementBounds,
} from './placement.js';
import { noteWritten, stampOf } from './write-stamps.js';
import { arenaBuffer, arenaGive, arenaTake } from './arena.js';

export {
  INLINE_COST, kernelCost, MATMUL_FLOPS_PER_OP, MATMUL_INLINE_COST, placement, QUANT_FLOPS_PER_OP, QUANT_SHARED_FROM, QUANT_SHARED_VECTORS,
  SERIAL_INLINE_COST, SHARED_COST, type PlacementBounds,
} from './placement.js';

export interface CpuBuffer extends DeviceBuffer {
  /** Its memory: a SharedArrayBuffer of its own, or, for a packed weight, the arena's (arena.ts) as it was when allocated. */
  readonly sab: SharedArrayBuffer;
  /** In the arena: its first byte there. */
  readonly arenaOffset?: number;
}

/** The bytes of `buf`, as this thread sees the arena now for an arena buffer (its `sab` may predate a grow). */
function bytesOf(buf: CpuBuffer, length = buf.bytes): Uint8Array {
  return buf.arenaOffset === undefined ? new Uint8Array(buf.sab, 0, length) : new Uint8Array(arenaBuffer(), buf.arenaOffset, length);
}

interface CpuKernel extends CompiledKernel {
  readonly source: string;
  readonly units: number;
  /** Estimated cost in elementary operations, against INLINE_COST. */
  readonly cost: number;
  /** Below this cost it runs inline: INLINE_COST, or MATMUL_INLINE_COST for a matmul. */
  readonly inlineCost: number;
  /** From this cost it runs shared when uncontended (the packed matmul: QUANT_SHARED_FROM), inline bound or not. */
  readonly sharedFrom: number;
  readonly kinds: readonly ArrayKind[];
  readonly key: string;
  /** In a shared run, the chunks each thread's share is cut into (claim.ts). */
  readonly claimsPerThread: number;
}

/** Chunks per thread of a shared run's units, for kernels whose calls cost little beyond their units. */
const CLAIMS_PER_THREAD = 4;
/**
 * How long the calling thread spins, after running out of chunks, for the ones the workers
 * still run, before it lets the event loop take the workers' answers instead.
 */
const CLAIM_SPIN_MS = 2;
/**
 * The worker threads spawn this long after the first kernel that wants them; until they are up,
 * such kernels run on the calling thread (WorkerPoolOptions). Measured here (bench/cold-start.ts,
 * 2 vCPUs): spawning at once made the MLP's import + first inference 310 ms against 232 ms with
 * the threads started after it, as their start-up (~50 ms of CPU each) competed with it.
 */
export const POOL_START_DELAY_MS = 200;
/** Free buffers kept for reuse, by byte size, up to this much in total. */
const POOL_BYTES = 512 * 1024 * 1024;
/** Compiled kernels kept, by count and by bytes of generated source. */
export const KERNEL_CACHE_LIMITS: CacheLimits = { count: 2048, bytes: 64 * 1024 * 1024 };

const compact = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toPrecision(3)}M` : n >= 1e3 ? `${+(n / 1e3).toPrecision(3)}k` : `${n}`);

export class CpuDevice implements Device {
  readonly name = 'cpu' as const;
  readonly limits: DeviceLimits = { maxBindings: Infinity, maxBufferBytes: 2 ** 31, windowOperands: winogradFold };
  readonly dtypes: ReadonlySet<DType> = new Set(DTYPES);
  /** Below this cost a splittable kernel runs a share on the calling thread (0: never; see SHARED_COST). */
  sharedCost = 0;
  /**
   * While above 0, the calling thread has other work to do (a server's HTTP): a kernel that can
   * split gets the plain inline bound, not the matmul one, as while other schedules contend.
   * `born serve` counts its running tensor-model batches here (serve/servable.ts): with
   * bench/serve.ts (64 connections, batch-1 requests) the MLP served 5,290-5,450 requests/s
   * without it and 5,730-5,800 with it, p99 26 → 21 ms. Its LLM decode loop does not: there
   * each step's kernels are a chain, and a pool round trip per kernel cost 25% at 32 streams.
   */
  callerBusy = 0;
  /**
   * Schedules expected to run chains side by side while callerBusy (born serve sets its batches
   * in flight): each chain then takes threadCount / chainsInFlight threads, not all. With two CNN
   * batches (of ~20) in flight on two threads, a thread per chain served 3,590-3,810 requests/s against
   * 3,360-3,520 with both threads on every chain (five pairs of runs): no thread waits at a
   * link's end for the other, or for a sleeping one to wake. Sizing a chain by the schedules
   * running when it starts measured worse than either (2,950-3,250): the first of two batches
   * took both threads and the second queued behind it.
   */
  chainsInFlight = 1;
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

  /** The machine's parallelism, read once: the call is a system call, and placement asks per kernel (37 µs a CNN forward). */
  private machineThreads: number | undefined;

  /** The number of worker threads kernels run on (the machine's parallelism unless set). */
  get threadCount(): number { return this.threads ?? (this.machineThreads ??= availableParallelism()); }

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
    // Made on first parallel use so small programs start fast and never pay for threads; its
    // threads spawn POOL_START_DELAY_MS later, and until they are up its kernels run here.
    return (this.pool ??= new WorkerPool({
      inlineWhileStarting: true, startDelayMs: POOL_START_DELAY_MS, ...(this.threads === undefined ? {} : { threads: this.threads }),
    }));
  }

  /**
   * Spawns the worker threads now if they are not yet, and resolves once they all run kernels:
   * for a caller that needs its next pool-placed kernels on a worker (a test that ends a thread).
   */
  whenPoolReady(): Promise<void> {
    return this.workers().whenReady();
  }

  alloc(dtype: DType, count: number, use?: BufferUse): CpuBuffer {
    const size = Math.max(8, Math.ceil((count * itemBytes[dtype]) / 8) * 8);
    if (use === 'packed') {
      // In the arena, where the packed matmul reads it in place; a full arena gives a buffer of its own.
      const at = arenaTake(size);
      if (at !== null) {
        this.allocations++;
        return { id: this.nextId++, bytes: size, sab: arenaBuffer(), arenaOffset: at };
      }
    }
    const list = this.free_.get(size);
    const reused = list?.pop();
    if (reused) this.freeBytes -= size;
    else this.allocations++;
    const sab = reused ?? new SharedArrayBuffer(size);
    return { id: this.nextId++, bytes: size, sab };
  }

  free(buf: DeviceBuffer): void {
    const { sab, arenaOffset } = buf as CpuBuffer;
    if (arenaOffset !== undefined) { arenaGive(arenaOffset, buf.bytes); return; }
    if (this.freeBytes + sab.byteLength > POOL_BYTES) return;
    const list = this.free_.get(sab.byteLength);
    if (list) list.push(sab); else this.free_.set(sab.byteLength, [sab]);
    this.freeBytes += sab.byteLength;
  }

  write(buf: DeviceBuffer, data: ArrayBufferView): void {
    const b = buf as CpuBuffer;
    // Arena buffers share one SharedArrayBuffer: stamping it would say nothing of which was written.
    if (b.arenaOffset === undefined) noteWritten(b.sab);
    bytesOf(b, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  read(buf: DeviceBuffer, dtype: DType, length: number): Promise<ArrayBufferView> {
    // new + set, not slice(): V8 copies a SharedArrayBuffer view's slice element by element
    // (0.20 ms for 256 KiB here, against 0.08 ms).
    const out = newArray(dtype, length);
    new Uint8Array(out.buffer, 0, out.byteLength).set(bytesOf(buf as CpuBuffer, out.byteLength));
    return Promise.resolve(out);
  }

  peek(buf: DeviceBuffer, dtype: DType, length: number): ArrayBufferView {
    const b = buf as CpuBuffer;
    return b.arenaOffset === undefined ? arrayFor(dtype, b.sab, length) : arrayFor(dtype, arenaBuffer(), length, b.arenaOffset);
  }

  compile(kernel: Kernel): CpuKernel {
    const hash = kernelHash(kernel);
    let k = this.kernels.get(hash);
    if (!k) {
      const { source, units } = printJs(kernel);
      this.kernelCompiles++;
      const cost = kernelCost(kernel, units);
      // Workers cache compiled kernels by this key: short, so each task message stays small.
      const inlineCost = kernel.matmul ? MATMUL_INLINE_COST : INLINE_COST;
      // A float matmul packs its B operand on every call: one chunk per thread. Other kernels' calls cost little.
      const mm = kernel.matmul, packed = Boolean(mm?.a.quant ?? mm?.b.quant);
      const claimsPerThread = mm && !packed ? 1 : CLAIMS_PER_THREAD;
      // The packed side's other operand: its rows are the activation vectors.
      const vectors = mm ? mm.batch * (mm.b.quant ? mm.M : mm.N) : 0;
      const sharedFrom = packed && vectors <= QUANT_SHARED_VECTORS ? QUANT_SHARED_FROM : Infinity;
      k = { hash, key: `k${this.nextKey++}`, kernel, source, units, cost, inlineCost, sharedFrom, claimsPerThread, kinds: [kernel.out.dtype, ...kernel.inputs, ...(kernel.indexChecks?.length ? ['int32' as const] : []),
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

  /** The kernel's bindings over `bufs`, its writable ones stamped as written (write-stamps.ts). */
  private bind(k: CpuKernel, bufs: readonly DeviceBuffer[]): KernelBinding[] {
    const bindings: KernelBinding[] = bufs.map((b, i) => {
      const kind = k.kinds[i]!;
      const { sab, arenaOffset } = b as CpuBuffer;
      if (arenaOffset !== undefined) return { sab, kind, length: Math.floor(b.bytes / itemBytes[kind]), arenaOffset };
      return { sab, kind, length: Math.floor(sab.byteLength / itemBytes[kind]) };
    });
    // Everything but the inputs may be written: the output, index records, further outputs.
    for (let i = 0; i < bindings.length; i++) {
      const binding = bindings[i]!;
      if (binding.arenaOffset !== undefined) continue;
      const stamp = i === 0 || i > k.kernel.inputs.length ? noteWritten(binding.sab) : stampOf(binding.sab);
      if (stamp !== undefined) binding.stamp = stamp;
    }
    return bindings;
  }

  /** Where run() would place `k`. Contended: other schedules run, or the pool is still busy with earlier work. */
  private where(k: CpuKernel, contended: boolean): 'inline' | 'shared' | 'pool' {
    return placement(k.cost, k.units, this.threadCount, this.boundsOf(k), contended || this.callerBusy > 0 || this.pool?.busy === true);
  }

  /**
   * Only while the calling thread has other work (contended, or callerBusy: a server's HTTP) is a
   * chain worth it: there each kernel's answer waited for its event loop (bench/serve.ts, CNN: the
   * workers idle 60% of the time). An idle calling thread runs its inline kernels and its share of
   * claimed ones itself, which a chain would leave to the workers: llama-100m-q8_0 decoded at
   * batch 8 at 84 tokens/s in chains against 98 without (one pair of runs).
   */
  offloads(ck: CompiledKernel, contended: boolean): boolean {
    const busy = contended || this.callerBusy > 0;
    return busy && this.threadCount >= 2 && this.where(ck as CpuKernel, busy) !== 'inline';
  }

  /**
   * The kernels as one chain on the workers (chain.ts): each kernel's units in chunks, as a
   * claimed run cuts them, every thread moving to the next kernel once the current one is done.
   */
  runChain(items: readonly ChainItem[]): Promise<void> {
    const share = this.callerBusy > 0 ? Math.max(1, this.chainsInFlight) : 1;
    const threads = Math.max(1, Math.floor(this.threadCount / share));
    const links: ChainLink[] = items.map(({ k: ck, bufs, args }) => {
      const k = ck as CpuKernel;
      return { name: k.kernel.name, key: k.key, source: k.source, bindings: this.bind(k, bufs), total: k.units, chunk: this.chunkOf(k, threads), ...(args?.length ? { args: [...args] } : {}) };
    });
    return this.workers().runChain(links, chainControl(links.length), threads);
  }

  /** The units a thread claims at a time in a claimed run or a chain (claim.ts). */
  private chunkOf(k: CpuKernel, threads = this.threadCount): number {
    return Math.max(1, Math.ceil(k.units / (k.claimsPerThread * threads)));
  }

  run(ck: CompiledKernel, bufs: readonly DeviceBuffer[], args: RuntimeArgs = [], contended = false): Promise<void> {
    const k = ck as CpuKernel;
    const bindings = this.bind(k, bufs);
    const where = this.where(k, contended);
    if (where === 'inline') {
      try {
        runCached(this.inline, k.key, k.source, bindings, 0, k.units, args);
        return RAN_INLINE;
      } catch (e) {
        return Promise.reject(new KernelError(`kernel ${k.kernel.name} ${describeThrown(e)}`, { cause: e }));
      }
    }
    if (where === 'shared') return this.runShared(k, bindings, args);
    return this.workers().run(k.key, k.source, bindings, k.units, { grain: 1, args });
  }

  placement(ck: CompiledKernel): KernelPlacement {
    const k = ck as CpuKernel;
    const cost = `cost ${compact(k.cost)}`;
    const where = placement(k.cost, k.units, this.threadCount, this.boundsOf(k), this.callerBusy > 0);
    if (where === 'inline') {
      const bound = k.units <= 1 && k.cost >= k.inlineCost ? `one unit, < ${compact(SERIAL_INLINE_COST)}`
        : `< ${compact(k.inlineCost)}${k.cost >= INLINE_COST ? ' matmul, pool while the pool is busy' : ''}`;
      return { inline: true, ranges: 1, text: `inline (${cost} ${bound})` };
    }
    if (where === 'shared') {
      const parts = Math.min(this.threadCount, k.units);
      const why = k.cost >= k.sharedFrom ? `≥ ${compact(k.sharedFrom)} packed matmul` : `< ${compact(this.sharedCost)}`;
      return { inline: false, ranges: parts, text: `pool ×${parts - 1} + calling thread, claimed (${cost} ${why})` };
    }
    const ranges = splitRanges(k.units, this.threadCount).length;
    return { inline: false, ranges, text: `pool ×${ranges} (${cost})` };
  }

  private boundsOf(k: CpuKernel): PlacementBounds {
    return { inline: k.inlineCost, sharedBelow: this.sharedCost, sharedFrom: k.sharedFrom };
  }

  /**
   * The calling thread and threads - 1 workers claim the units in chunks (claim.ts). Settles at
   * once (RAN_INLINE) when every chunk is done by the time the calling thread has run out of
   * them, having spun a little for the workers' last ones; otherwise once the workers answer.
   */
  private runShared(k: CpuKernel, bindings: KernelBinding[], args: RuntimeArgs): Promise<void> {
    const ctl = claimControl();
    const chunk = this.chunkOf(k);
    const theirs = this.workers().runClaimed(k.key, k.source, bindings, ctl, k.units, chunk, this.threadCount - 1, args);
    let failed: KernelError | null = null, mine = 0;
    try {
      mine = runClaimed(this.inline, k.key, k.source, bindings, ctl, k.units, chunk, args);
    } catch (e) {
      failed = new KernelError(`kernel ${k.kernel.name} ${describeThrown(e)}`, { cause: e });
    }
    if (theirs === null) return failed ? Promise.reject(failed) : RAN_INLINE;
    if (failed === null && claimsDone(ctl, k.units, CLAIM_SPIN_MS)) {
      // A worker that ran chunks is answered before the next run, so that piscina sees it free again.
      if (mine < k.units) return theirs;
      // Every unit was the calling thread's: a worker still to answer will find none left.
      theirs.catch(() => {});
      return RAN_INLINE;
    }
    if (failed !== null) failClaims(ctl);
    // The workers are awaited even after a local failure, so no chunk still writes when this settles.
    return theirs.then(() => {
      if (failed !== null) throw failed;
      if (!claimsDone(ctl, k.units, 0)) throw new KernelError(`kernel ${k.kernel.name}: its workers answered with units left undone`);
    }, (e: unknown) => { throw failed ?? e; });
  }

  async destroy(): Promise<void> {
    await Promise.all(this.retiring);
    await this.pool?.destroy();
    this.pool = null;
  }
}
