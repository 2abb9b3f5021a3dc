/**
 * Write stamps of device buffers: every time a buffer may be written (a kernel's output, a
 * host write), its SharedArrayBuffer gets a new stamp. Generated kernels that keep a copy of an
 * operand across calls (matmul/resident.ts) reuse the copy only while the stamp is unchanged.
 *
 * The stamps live on globalThis under WRITE_STAMPS_KEY because kernels are source text compiled
 * apart from this module. Only the thread that owns the device stamps buffers; worker threads
 * see no stamps and never keep copies.
 */

export const WRITE_STAMPS_KEY = '__bornWriteStamps';

export interface WriteStamps {
  /** The last stamp of each buffer; a buffer without one has no reusable copy. */
  readonly m: WeakMap<object, number>;
  /** The last stamp handed out. */
  n: number;
}

function stamps(): WriteStamps {
  const g = globalThis as unknown as Record<string, WriteStamps | undefined>;
  return (g[WRITE_STAMPS_KEY] ??= { m: new WeakMap(), n: 0 });
}

/** Marks `buffer` as (about to be) written: copies made of its old contents are stale. */
export function noteWritten(buffer: object): void {
  const s = stamps();
  s.m.set(buffer, ++s.n);
}
