// The packed-weight arena: one shared WebAssembly memory per process, seen by every thread, that
// holds the bytes of packed (ggml-quantised) weights and each thread's scratch for the packed
// matmul (matmul/quant.ts). A WebAssembly module addresses one memory; with the weights inside
// the memory its dot reads, the kernel reads them where they lie instead of first copying each
// block of rows into a memory of its own. In a batch-1 decode step that copy of every weight was
// half the kernels' time (100M q8_0 model: 36 -> 16 ms a step), and the weights are held once.
//
// Space is taken from a bump pointer in the arena's first 64 bytes, advanced with Atomics so that
// any thread may take some (workers take their scratch); the device's thread keeps the blocks of
// freed weights for reuse by size. The memory only grows: WebAssembly memories cannot shrink.
//
// Generated kernels are source text compiled apart from this module: they reach the arena as
// globalThis[ARENA_KEY], set on a worker from its workerData before any kernel runs (adoptArena)
// and on the device's thread by sharedArena(). Imports nothing, as the worker loads it.

/** The arena's global name on every thread. */
export const ARENA_KEY = '__bornArena';
/** Pages the arena may grow to: WebAssembly's 32-bit limit (4 GiB). A module importing it declares this maximum. */
export const ARENA_MAX_PAGES = 65536;
const UNIT = 64;

/** The part of WebAssembly.Memory used here (the project's libs do not declare WebAssembly). */
export interface ArenaMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

/**
 * JS: a function (mem, bytes) → byte address of `bytes` (64-aligned, with 64 bytes of slack after
 * them: the dots' v128 loads may run past a row's last byte) taken from the arena `mem`, which it
 * grows as needed. Throws a RangeError when the arena cannot grow that far.
 */
export const ARENA_TAKE = `function (mem, bytes) {
    const units = Math.ceil(bytes / ${UNIT}) + 1;
    const at = (Atomics.add(new Int32Array(mem.buffer, 0, 1), 0, units) + 1) * ${UNIT};
    const end = at + units * ${UNIT};
    for (let have = mem.buffer.byteLength; have < end; have = mem.buffer.byteLength) mem.grow(Math.ceil((end - have) / 65536));
    return at;
  }`;

/** JS: this thread's arena, made here if the thread has none yet (workers adopt the device thread's first). */
export const ARENA_SOURCE = `(globalThis.${ARENA_KEY} ??= new WebAssembly.Memory({ initial: 1, maximum: ${ARENA_MAX_PAGES}, shared: true }))`;

const evaluate = (source: string): unknown => new Function(`"use strict"; return (${source});`)();
const take = evaluate(ARENA_TAKE) as (mem: ArenaMemory, bytes: number) => number;

type Global = Record<string, ArenaMemory | undefined>;

/** This thread's arena, made on the first call (on the device's thread: workers adopt it). */
export function sharedArena(): ArenaMemory {
  return (globalThis as unknown as Global)[ARENA_KEY] ?? (evaluate(ARENA_SOURCE) as ArenaMemory);
}

/** On a worker: takes the device thread's arena as this thread's (from its workerData). */
export function adoptArena(arena: unknown): void {
  if (arena !== undefined && arena !== null) (globalThis as unknown as Global)[ARENA_KEY] = arena as ArenaMemory;
}

/** The arena's memory as this thread sees it now (its length follows every grow, on any thread). */
export function arenaBuffer(): SharedArrayBuffer {
  const a = (globalThis as unknown as Global)[ARENA_KEY];
  if (a === undefined) throw new Error('internal: a kernel binds an arena buffer on a thread without the arena');
  return a.buffer;
}

/** Freed weight blocks by size in units, for reuse (device thread only). */
const freed = new Map<number, number[]>();

/** Byte address of a block for `bytes` in the arena, or null when the arena is full. */
export function arenaTake(bytes: number): number | null {
  const units = Math.ceil(bytes / UNIT);
  const reuse = freed.get(units)?.pop();
  if (reuse !== undefined) return reuse;
  try {
    return take(sharedArena(), units * UNIT);
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** Returns the block at `at`, taken for `bytes`, for reuse. */
export function arenaGive(at: number, bytes: number): void {
  const units = Math.ceil(bytes / UNIT);
  const list = freed.get(units);
  if (list) list.push(at); else freed.set(units, [at]);
}
