/**
 * Reference-counted device buffers. A buffer lives while a realised node or a running schedule
 * holds it; nodes let go through dispose(), `using`, or — as a safety net for tensors the user
 * simply drops — a FinalizationRegistry, so loops need no tidy(). Its callbacks run between
 * macrotasks, which the engine yields often enough (turns.ts) that they do.
 */
import type { Device, DeviceBuffer } from '../devices/device.js';
import type { BufferHandle, LazyNode } from '../graph/node.js';
import { noteAllocated } from './turns.js';

export const memoryStats = { liveBuffers: 0, liveBytes: 0 };

/**
 * Device memory is SharedArrayBuffers, and V8 does not count those toward the external memory
 * that drives its collections: a loop that drops its tensors would never make V8 collect them,
 * and their FinalizationRegistry callbacks would never free the buffers. Ballast makes V8 see
 * device memory: plain ArrayBuffers, held in proportion to the live device bytes, which V8 counts
 * as external memory and so collects when they grow. They are never touched, so the OS commits
 * none of their pages, and each is larger than glibc's 32 MiB ceiling for its adaptive mmap
 * threshold, so malloc maps every one fresh instead of handing out (and zeroing) reused heap
 * memory. A chunk is dropped only once two are spare, so a loop whose live bytes swing around a
 * chunk boundary does not allocate one per iteration.
 */
export const BALLAST_CHUNK = 40 * 2 ** 20;
const ballast: ArrayBuffer[] = [];

function balance(): void {
  const live = memoryStats.liveBytes;
  while ((ballast.length + 1) * BALLAST_CHUNK <= live) ballast.push(new ArrayBuffer(BALLAST_CHUNK));
  while ((ballast.length - 2) * BALLAST_CHUNK > live) ballast.pop();
}

/** Bytes of ballast held now (for tests). */
export const ballastBytes = (): number => ballast.length * BALLAST_CHUNK;

export class Buffer implements BufferHandle {
  /** The pending write: settles when the kernel that writes the buffer has finished. */
  ready: Promise<void> | null = null;
  /**
   * Reads in flight of the current contents (schedules that read the buffer, data() copies): an
   * in-place write to the buffer waits for them (write-after-read), while readers that start
   * after the write wait for `ready` (read-after-write).
   */
  readonly readers = new Set<Promise<unknown>>();
  private refs = 1;

  constructor(readonly dev: Device, readonly buf: DeviceBuffer) {
    memoryStats.liveBuffers++;
    memoryStats.liveBytes += buf.bytes;
    noteAllocated(buf.bytes);
    balance();
  }

  get device(): string { return this.dev.name; }

  addReader(p: Promise<unknown>): void {
    this.readers.add(p);
    const drop = (): void => { this.readers.delete(p); };
    p.then(drop, drop);
  }

  /** Marks `p` as the pending write: later readers and writers wait for it. */
  pendingWrite(p: Promise<void>): void {
    this.ready = p;
    const clear = (): void => { if (this.ready === p) this.ready = null; };
    p.then(clear, clear);
  }
  get bytes(): number { return this.buf.bytes; }

  retain(): void {
    if (this.refs <= 0) throw new Error('internal: retain of a freed buffer');
    this.refs++;
  }

  release(): void {
    if (--this.refs !== 0) return;
    memoryStats.liveBuffers--;
    memoryStats.liveBytes -= this.buf.bytes;
    this.dev.free(this.buf);
    balance();
  }
}

const finalizer = new FinalizationRegistry<BufferHandle>((h) => h.release());

/** Give a node its buffer (retained for it) and free it when the node is collected or disposed. */
export function attach(node: LazyNode, buf: BufferHandle): void {
  buf.retain();
  node.realized = buf;
  finalizer.register(node, buf, node);
}

export function detach(node: LazyNode): void {
  const buf = node.realized;
  if (!buf) return;
  finalizer.unregister(node);
  node.realized = null;
  buf.release();
}
