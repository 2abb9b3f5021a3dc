// Shared by the pool (main thread) and its workers, so it imports only dependency-free modules:
// a worker loads it from dist/ with plain Node.
import { arrayFor, storageCtor, type DType, type StorageFor } from '../../graph/dtype.js';
import { LruCache } from '../../kernel/lru.js';
import { arenaBuffer } from './arena.js';
import { sourceText, type KernelSource } from './sources.js';
import { adoptStamp } from './write-stamps.js';

/**
 * The element type a kernel binds: a graph dtype, bound as its storage (dtype.ts StorageFor:
 * float16/bfloat16 as their bits, int64 as a BigInt64Array, bool as bytes).
 */
export type ArrayKind = DType;

/**
 * A buffer as a kernel sees it: `length` elements of `kind`, from byte 0 of `sab`; or, for a
 * buffer in the packed-weight arena (arena.ts), from byte `offset` of the arena as the running
 * thread sees it (a kernel recognises its views as the arena's by their buffer).
 */
export interface KernelBinding {
  sab: SharedArrayBuffer;
  kind: ArrayKind;
  length: number;
  /** In the arena, from this byte. */
  arenaOffset?: number;
  /** The buffer's write stamp when the kernel was bound (write-stamps.ts), adopted by workers. */
  stamp?: number;
}

export type TypedArray = StorageFor[DType];

/**
 * Runs one contiguous range [start, end) of the kernel's index space. `p` holds the kernel's
 * runtime scalars (a learning rate, a position), in the order of the kernel IR's `params`.
 */
export type KernelFn = (b: TypedArray[], start: number, end: number, p?: readonly number[]) => void;

/** The runtime scalars of one kernel run; shared by every range of it. */
export type KernelArgs = readonly number[];
const NO_ARGS: KernelArgs = Object.freeze([]);

/**
 * `source` is a JS expression that evaluates to a KernelFn, e.g.
 * "(b, start, end) => { for (let i = start; i < end; i++) b[0][i] = b[1][i] * 2; }".
 * Strict mode, so a generated kernel cannot leak globals by a typo.
 */
export function compileKernel(source: string): KernelFn {
  const fn: unknown = new Function(`"use strict"; return (${source});`)();
  if (typeof fn !== 'function') {
    throw new TypeError(`kernel source evaluates to ${typeof fn}, not a function`);
  }
  return fn as KernelFn;
}

export function viewOf(binding: KernelBinding): TypedArray {
  const { sab, kind, length, arenaOffset } = binding;
  if (!Object.hasOwn(storageCtor, kind)) throw new TypeError(`unknown array kind ${String(kind)}`);
  return arenaOffset === undefined ? arrayFor(kind, sab, length) : arrayFor(kind, arenaBuffer(), length, arenaOffset);
}

export function viewsOf(bindings: readonly KernelBinding[]): TypedArray[] {
  const views = new Array<TypedArray>(bindings.length);
  for (let i = 0; i < bindings.length; i++) {
    const binding = bindings[i]!;
    views[i] = viewOf(binding);
    adoptStamp(binding.sab, binding.stamp);
  }
  return views;
}

/**
 * Compiled kernels by key, least recently used evicted first, bounded by count and by the
 * bytes of their source: a long-running server that generates many shapes must not grow without
 * bound. The source is kept beside the function so a key reused for different code recompiles
 * instead of silently running the old kernel.
 */
export class KernelCache {
  private readonly entries: LruCache<string, { source: string; fn: KernelFn; id: number }>;
  /** Functions compiled by this cache since it was made. */
  compiles = 0;

  constructor(readonly capacity = 1024, readonly maxBytes = 64 * 1024 * 1024) {
    this.entries = new LruCache({ count: capacity, bytes: maxBytes });
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.bytes;
  }

  /** The kernel of `key`, compiled from `source` unless the cached one was compiled from the same text. */
  get(key: string, source: KernelSource): KernelFn {
    const hit = this.entries.get(key);
    const id = typeof source === 'string' ? 0 : source.id;
    if (hit !== undefined && (id === 0 ? hit.source === source : hit.id === id)) return hit.fn;
    // A ref not seen under this key: read its text (a source written again to a newer table is the same kernel).
    const text = sourceText(source);
    if (hit !== undefined && hit.source === text) {
      hit.id = id;
      return hit.fn;
    }
    const fn = compileKernel(text);
    this.compiles++;
    this.entries.set(key, { source: text, fn, id }, text.length);
    return fn;
  }
}

/** The message of anything thrown, Error or not. */
export function describeThrown(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Compile (cached) and bind a kernel once, for one or more ranges. Errors say which phase failed,
 * so a syntax error in generated code is not mistaken for a bad buffer.
 */
export function prepareCached(
  cache: KernelCache, key: string, source: KernelSource, bindings: readonly KernelBinding[], args: KernelArgs = NO_ARGS,
): (start: number, end: number) => void {
  let fn: KernelFn;
  try {
    fn = cache.get(key, source);
  } catch (e) {
    throw new Error(`compile failed: ${describeThrown(e)}`);
  }
  let views: TypedArray[];
  try {
    views = viewsOf(bindings);
  } catch (e) {
    throw new Error(`bad binding: ${describeThrown(e)}`);
  }
  return (start, end) => {
    try {
      fn(views, start, end, args);
    } catch (e) {
      throw new Error(`threw over [${start}, ${end}): ${describeThrown(e)}`);
    }
  };
}

/** Compile (cached) and run one range. */
export function runCached(
  cache: KernelCache, key: string, source: KernelSource,
  bindings: readonly KernelBinding[], start: number, end: number, args: KernelArgs = NO_ARGS,
): void {
  prepareCached(cache, key, source, bindings, args)(start, end);
}
