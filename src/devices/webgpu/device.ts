/**
 * The WebGPU device: Born's kernels as WGSL compute pipelines on Dawn. Buffers hold each dtype as
 * storage.ts lays it out; a schedule's kernels are encoded in order into one command encoder
 * (queue.ts) and sent on flush(); pipelines are compiled ahead (at plan time, asynchronously) and
 * cached by kernel hash, bounded. The adapter opens on first use, so making the device costs
 * nothing until a tensor lives on it. Born keeps its own memory budget: a software adapter never
 * reports running out, it crashes.
 */
import type { DType } from '../../graph/dtype.js';
import { DeviceError } from '../../graph/errors.js';
import { numel } from '../../graph/shape.js';
import { bindingsOf, kernelHash, type Kernel } from '../../kernel/ir.js';
import { LruCache, type CacheLimits } from '../../kernel/lru.js';
import type { CompiledKernel, Device, DeviceBuffer, DeviceLimits, DeviceStats, KernelPlacement, RuntimeArgs } from '../device.js';
import { RAN_INLINE } from '../device.js';
import { acquireGpu, forgetGpu, type Gpu } from './gpu.js';
import { CommandQueue } from './queue.js';
import { bufferBytes, deviceItemBytes, fromDeviceLayout, toDeviceLayout, WEBGPU_DTYPES } from './storage.js';
import { printWgsl } from './wgsl/index.js';
import { bindGroupLayout } from './layout.js';
import { passesOf, UnsupportedKernel, type WgslOptions, type WgslProgram } from './wgsl/program.js';

interface GpuBuffer extends DeviceBuffer {
  readonly dtype: DType;
  gpu: GPUBuffer | null;
  /** Data written before the adapter opened. */
  early: ArrayBufferView | null;
}

/** One way to bind a kernel (its slots' aliases): printed once, its pipeline compiled once. */
interface Variant {
  readonly program: WgslProgram;
  /** One per pass (passesOf), in order, all on `layout`. */
  pipelines: GPUComputePipeline[] | null;
  /** The bind-group layout of every pass: the program's declared bindings (bindingTypes). */
  layout: GPUBindGroupLayout | null;
  /** Settles when the pipeline is built; rejects (every time it is awaited) if it failed to compile. */
  ready: Promise<void>;
}

interface GpuKernel extends CompiledKernel {
  readonly variants: Map<string, Variant>;
}

export const WEBGPU_KERNEL_CACHE_LIMITS: CacheLimits = { count: 1024, bytes: 32 * 1024 * 1024 };
/** Bytes of unused buffers kept for reuse. */
const FREE_LIST_BYTES = 256 * 2 ** 20;

/** Born's own budget for WebGPU memory: BORN_WEBGPU_MEMORY (bytes), else 2 GiB on a software adapter, 16 GiB on a GPU. */
function budgetFor(gpu: Gpu): number {
  const env = Number(process.env.BORN_WEBGPU_MEMORY);
  if (Number.isFinite(env) && env > 0) return env;
  return gpu.software ? 2 * 2 ** 30 : 16 * 2 ** 30;
}

const aliasKey = (alias: readonly number[]): string => alias.join(',');

/** The printer the device uses; tests replace it to make a kernel that fails to compile. */
export const wgslPrinters = { print: printWgsl };

export class WebGpuDevice implements Device {
  readonly name = 'webgpu' as const;
  readonly dtypes: ReadonlySet<DType> = new Set(WEBGPU_DTYPES);
  private gpu: Gpu | null = null;
  private queue: CommandQueue | null = null;
  private readonly opening: Promise<Gpu>;
  private failure: Error | null = null;
  private readonly kernels = new LruCache<string, GpuKernel>(WEBGPU_KERNEL_CACHE_LIMITS);
  private readonly freeList = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;
  /** Bytes of every GPUBuffer this device holds (live and on the free list), against the budget. */
  private heldBytes = 0;
  private budget = Infinity;
  private nextId = 0;
  private allocations = 0;
  private kernelCompiles = 0;

  constructor(private readonly onLost: () => void = () => {}) {
    this.opening = acquireGpu().then((g) => this.opened(g));
    // A failure to open is reported by the first operation that needs the adapter.
    this.opening.catch((e: unknown) => { this.failure = e as Error; });
  }

  /** Until the adapter is known: the limits WebGPU guarantees everywhere. */
  get limits(): DeviceLimits {
    const l = this.gpu?.limits;
    return { maxBindings: l?.maxStorageBuffersPerShaderStage ?? 8, maxBufferBytes: l?.maxStorageBufferBindingSize ?? 128 * 2 ** 20, windowOperands: true };
  }

  /** The adapter in words, once open (explain() and benchmarks name it). */
  get adapterName(): string | null { return this.gpu?.adapterName ?? null; }

  /** Resolves once the adapter is open; rejects naming what to install if there is none. */
  ready(): Promise<Gpu> { return this.opening; }

  private opened(g: Gpu): Gpu {
    this.gpu = g;
    this.queue = new CommandQueue(g.device);
    this.budget = budgetFor(g);
    void g.device.lost.then((info) => {
      if (this.gpu !== g) return;
      this.failure = new DeviceError(`webgpu: the device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}); ` +
        'tensors on it are gone, and the CPU is the default device now');
      forgetGpu();
      this.onLost();
    });
    return g;
  }

  private check(): Gpu {
    if (this.failure) throw this.failure;
    if (!this.gpu) throw new Error('internal: webgpu used before its adapter opened');
    return this.gpu;
  }

  /** Sets Born's memory budget for this device, in bytes (see budgetFor for the default). */
  setMemoryBudget(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`setMemoryBudget: expected a positive number of bytes, got ${bytes}`);
    this.budget = bytes;
  }

  alloc(dtype: DType, count: number): GpuBuffer {
    const bytes = bufferBytes(dtype, count);
    const max = this.limits.maxBufferBytes;
    if (bytes > max) {
      throw new DeviceError(`webgpu: a ${dtype} buffer of ${count} elements (${bytes} bytes) is larger than the adapter binds ` +
        `(maxStorageBufferBindingSize ${max} bytes); split the tensor or compute it on the CPU`);
    }
    const buf: GpuBuffer = { id: this.nextId++, bytes, dtype, gpu: null, early: null };
    if (this.gpu) buf.gpu = this.take(bytes);
    return buf;
  }

  /** A GPUBuffer of `bytes`, from the free list or new within the budget. */
  private take(bytes: number): GPUBuffer {
    const reused = this.freeList.get(bytes)?.pop();
    if (reused) { this.freeBytes -= bytes; return reused; }
    if (this.heldBytes + bytes > this.budget) this.dropFreeList();
    if (this.heldBytes + bytes > this.budget) {
      throw new DeviceError(`webgpu: out of memory: ${bytes} more bytes would exceed the device's budget of ${this.budget} bytes ` +
        `(${this.heldBytes} held); free tensors (dispose()), or raise the budget with BORN_WEBGPU_MEMORY`);
    }
    this.allocations++;
    this.heldBytes += bytes;
    return this.check().device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  private dropFreeList(): void {
    for (const list of this.freeList.values()) for (const b of list) { this.heldBytes -= b.size; b.destroy(); }
    this.freeList.clear();
    this.freeBytes = 0;
  }

  /** The buffer's GPUBuffer, made (and filled with what was written early) once the adapter is open. */
  private bound(b: DeviceBuffer): GPUBuffer {
    const buf = b as GpuBuffer;
    if (!buf.gpu) {
      buf.gpu = this.take(buf.bytes);
      if (buf.early) { this.queue!.write(buf.gpu, buf.early); buf.early = null; }
    }
    return buf.gpu;
  }

  write(b: DeviceBuffer, data: ArrayBufferView): void {
    const buf = b as GpuBuffer;
    const words = toDeviceLayout(buf.dtype, data);
    if (!this.gpu) {
      if (this.failure) throw this.failure;
      // Kept until the adapter opens; a copy, as the caller may reuse its array.
      buf.early = words === data ? new Uint8Array(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : words;
      return;
    }
    this.check();
    this.queue!.write(this.bound(buf), words);
  }

  async read(b: DeviceBuffer, dtype: DType, length: number): Promise<ArrayBufferView> {
    await this.opening;
    this.check();
    const buf = b as GpuBuffer;
    const bytes = Math.max(4, length * (deviceItemBytes[dtype] ?? 4));
    try {
      return fromDeviceLayout(dtype, await this.queue!.read(this.bound(buf), bytes), length);
    } catch (e) {
      throw this.failure ?? e;
    }
  }

  free(b: DeviceBuffer): void {
    const buf = b as GpuBuffer;
    const g = buf.gpu;
    buf.gpu = null;
    buf.early = null;
    if (!g) return;
    if (this.failure || this.freeBytes + g.size > FREE_LIST_BYTES) { this.heldBytes -= g.size; g.destroy(); return; }
    const list = this.freeList.get(g.size);
    if (list) list.push(g); else this.freeList.set(g.size, [g]);
    this.freeBytes += g.size;
  }

  private options(alias: readonly number[]): WgslOptions {
    const l = this.gpu?.limits;
    return {
      alias,
      maxWorkgroupsPerDimension: l?.maxComputeWorkgroupsPerDimension ?? 65535,
      maxInvocationsPerWorkgroup: l?.maxComputeInvocationsPerWorkgroup ?? 256,
      maxWorkgroupStorageBytes: l?.maxComputeWorkgroupStorageSize ?? 16384,
      f16: this.gpu?.f16 ?? false,
    };
  }

  compile(kernel: Kernel): CompiledKernel {
    const hash = kernelHash(kernel);
    const hit = this.kernels.get(hash);
    if (hit) return hit;
    const k: GpuKernel = { hash, kernel, variants: new Map() };
    // A loop without elements writes nothing (an empty slice, a tensor with a 0 dim): no pipeline,
    // and none could be printed (its unravel divides by the 0 dim).
    if (numel(kernel.loop) === 0) return k;
    // Compiled ahead: the pipeline is built while the rest of the plan is made.
    const identity = Array.from({ length: bindingsOf(kernel) }, (_, i) => i);
    this.variant(k, identity);
    this.kernels.set(hash, k, hash.length + (k.variants.values().next().value?.program.code.length ?? 0));
    return k;
  }

  /** The kernel printed and compiled for one aliasing of its slots. */
  private variant(k: GpuKernel, alias: readonly number[]): Variant {
    const key = aliasKey(alias);
    let v = k.variants.get(key);
    if (v) return v;
    let program: WgslProgram;
    try {
      program = wgslPrinters.print(k.kernel, this.options(alias));
    } catch (e) {
      if (e instanceof UnsupportedKernel) {
        throw new DeviceError(`webgpu: kernel ${k.kernel.name} [${k.kernel.ops.join(', ')}] cannot run on WebGPU yet (${e.message}); compute it on the CPU with .to('cpu')`);
      }
      throw e;
    }
    const made: Variant = { program, pipelines: null, layout: null, ready: Promise.resolve() };
    made.ready = this.opening.then((g) => this.build(g, k.kernel, made));
    // A kernel that failed to compile is forgotten, so a later plan compiles it afresh.
    made.ready.catch(() => { if (this.kernels.get(k.hash) === k) this.kernels.delete(k.hash); });
    k.variants.set(key, made);
    this.kernelCompiles++;
    return made;
  }

  private async build(g: Gpu, kernel: Kernel, v: Variant): Promise<void> {
    const module = g.device.createShaderModule({ code: v.program.code });
    try {
      const layout = bindGroupLayout(g.device, v.program);
      const pipelineLayout = g.device.createPipelineLayout({ bindGroupLayouts: [layout] });
      v.pipelines = await Promise.all(passesOf(v.program).map((p) => g.device.createComputePipelineAsync({
        layout: pipelineLayout, compute: { module, entryPoint: p.entry, ...(p.constants ? { constants: { ...p.constants } } : {}) },
      })));
      v.layout = layout;
    } catch (e) {
      const info = await module.getCompilationInfo();
      const where = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
      throw new DeviceError(`webgpu: kernel ${kernel.name} [${kernel.ops.join(', ')}] failed to compile: ${where || (e as Error).message}`);
    }
  }

  run(c: CompiledKernel, bufs: readonly DeviceBuffer[], args: RuntimeArgs = [], _contended?: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const k = c as GpuKernel;
    if (numel(k.kernel.loop) === 0) return RAN_INLINE;
    const v = this.variant(k, aliasesOf(bufs));
    if (v.pipelines && this.gpu) {
      this.encode(k.kernel, v, bufs, args);
      return RAN_INLINE;
    }
    return v.ready.then(() => {
      this.check();
      this.encode(k.kernel, v, bufs, args);
    });
  }

  private encode(kernel: Kernel, v: Variant, bufs: readonly DeviceBuffer[], args: RuntimeArgs): void {
    const g = this.check();
    const { program } = v;
    const entries: GPUBindGroupEntry[] = program.slots.map((slot, binding) => ({ binding, resource: { buffer: this.bound(bufs[slot]!) } }));
    if (program.uniformWords > 0) {
      const size = Math.ceil(program.uniformWords / 4) * 16;
      const { buffer, offset, range } = this.queue!.uniform(size);
      const f32 = new Float32Array(range), i32 = new Int32Array(range);
      kernel.params.forEach((d, s) => { if (d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64') f32[s] = args[s]!; else i32[s] = args[s]!; });
      (program.extraUniforms ?? []).forEach((x, j) => { i32[kernel.params.length + j] = x; });
      entries.push({ binding: program.slots.length, resource: { buffer, offset, size } });
    }
    // Scratch is needed only between this program's passes: it goes back to the pool at once
    // (a later kernel reusing it runs after these passes, in the same stream).
    const scratch = (program.scratch ?? []).map((bytes) => this.take(bytes));
    scratch.forEach((buffer) => entries.push({ binding: entries.length, resource: { buffer } }));
    // Every pass has the same layout: one bind group serves them all.
    const group = g.device.createBindGroup({ layout: v.layout!, entries });
    passesOf(program).forEach((p, j) => {
      const pass = this.queue!.computePass();
      pass.setPipeline(v.pipelines![j]!);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...p.workgroups);
      this.queue!.dispatches++;
    });
    for (const b of scratch) this.release(b);
  }

  /** A scratch buffer back to the free list, or destroyed once the commands using it have run. */
  private release(g: GPUBuffer): void {
    if (this.freeBytes + g.size > FREE_LIST_BYTES) { this.heldBytes -= g.size; this.queue!.once(g); return; }
    const list = this.freeList.get(g.size);
    if (list) list.push(g); else this.freeList.set(g.size, [g]);
    this.freeBytes += g.size;
  }

  async flush(): Promise<void> {
    if (!this.queue) return;
    try {
      await this.queue.flush();
    } catch (e) {
      throw this.failure ?? e;
    }
  }

  placement(c: CompiledKernel): KernelPlacement {
    const v = (c as GpuKernel).variants.values().next().value;
    const w = v?.program.workgroups ?? [0, 0, 0];
    return { inline: false, ranges: 1, text: `webgpu (${w.join('×')} workgroups)` };
  }

  stats(): DeviceStats {
    return { allocations: this.allocations, kernelCompiles: this.kernelCompiles, cachedKernels: this.kernels.size, cachedKernelBytes: this.kernels.bytes };
  }

  setKernelCacheLimits(limits: CacheLimits): void {
    this.kernels.setLimits(limits);
  }

  /** Dispatches and uniform buffers since the adapter opened (a schedule's uniforms share one buffer). */
  commandStats(): { dispatches: number; uniformBuffers: number } {
    return { dispatches: this.queue?.dispatches ?? 0, uniformBuffers: this.queue?.uniformBuffers ?? 0 };
  }

  /** Bytes of GPU memory held (live buffers and the free list), against the budget. */
  memory(): { heldBytes: number; freeBytes: number; budget: number } {
    return { heldBytes: this.heldBytes, freeBytes: this.freeBytes, budget: this.budget };
  }

  async destroy(): Promise<void> {
    if (!this.gpu || this.failure) return;
    await this.flush().catch(() => {});
    this.dropFreeList();
  }
}


/** For each slot, the first slot bound to the same buffer (a store kernel reading its target). */
function aliasesOf(bufs: readonly DeviceBuffer[]): number[] {
  return bufs.map((b, i) => { const j = bufs.indexOf(b); return j < i ? j : i; });
}
