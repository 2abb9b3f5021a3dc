/**
 * Write stamps of device buffers: every time a buffer may be written (a kernel's output, a
 * host write), its SharedArrayBuffer gets a new stamp. Generated kernels that keep a copy of an
 * operand across calls (matmul/resident.ts) reuse the copy only while the stamp is unchanged.
 *
 * The stamps live on globalThis under WRITE_STAMPS_KEY because kernels are source text compiled
 * apart from this module. Only the thread that owns the device stamps buffers, from one counter,
 * so a stamp names one buffer at one version: a copy made at stamp v is current exactly while its
 * buffer's stamp is v. A kernel's bindings carry their buffers' stamps to the workers, which
 * adopt them as the binding's views are made (compile.ts): a worker's SharedArrayBuffer objects
 * are new with every message, so a worker never stamps and never compares buffers, only stamps.
 */

export const WRITE_STAMPS_KEY = '__bornWriteStamps';

export interface WriteStamps {
  /** The last stamp of each buffer; a buffer without one has no reusable copy. */
  readonly m: WeakMap<object, number>;
  /** The last stamp handed out. */
  n: number;
  /** Set on worker threads: stamps come from bindings, not from writes. */
  adopts?: boolean;
}

function stamps(): WriteStamps {
  const g = globalThis as unknown as Record<string, WriteStamps | undefined>;
  return (g[WRITE_STAMPS_KEY] ??= { m: new WeakMap(), n: 0 });
}

/** Marks `buffer` as (about to be) written: copies made of its old contents are stale. */
export function noteWritten(buffer: object): number {
  const s = stamps();
  s.m.set(buffer, ++s.n);
  return s.n;
}

/** JS for generated kernels: the stamp of the view `view`'s buffer on this thread, or undefined. */
export const stampJs = (view: string): string => `globalThis[${JSON.stringify(WRITE_STAMPS_KEY)}]?.m.get(${view}.buffer)`;

/** The stamp `buffer` has now on the device's thread (undefined if never written there). */
export function stampOf(buffer: object): number | undefined {
  return stamps().m.get(buffer);
}

/** On a worker thread: from now on, stamps arrive with bindings (adoptStamp). */
export function adoptStampsFromBindings(): void {
  stamps().adopts = true;
}

/**
 * On a worker, records the stamp a binding brought for its buffer object. Done as each kernel's
 * views are made, not for a whole task at once: a chain may write a buffer twice, and a link
 * must see the stamp its own binding was made with.
 */
export function adoptStamp(buffer: object, stamp: number | undefined): void {
  if (stamp === undefined) return;
  const s = stamps();
  if (s.adopts === true) s.m.set(buffer, stamp);
}
