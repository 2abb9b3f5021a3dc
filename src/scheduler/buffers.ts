/**
 * Reference-counted device buffers. A buffer lives while a realised node or a running schedule
 * holds it; nodes let go through dispose(), `using`, or — as a safety net for tensors the user
 * simply drops — a FinalizationRegistry, so loops need no tidy().
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Device, DeviceBuffer } from '../devices/device.js';
import type { BufferHandle, LazyNode } from '../graph/node.js';

export const memoryStats = { liveBuffers: 0, liveBytes: 0 };

/**
 * Device memory lives outside V8's heap (SharedArrayBuffers are not counted as external
 * memory), so V8 feels no pressure to collect dropped tensors and their finalizers never run.
 * We apply the pressure ourselves: after 128 MiB of new device memory since the last collection, a
 * full GC runs on the next turn of the event loop.
 */
const collect: (() => void) | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();
const MIN_GC_BYTES = 128 * 1024 * 1024;
let sinceGc = 0;
let gcPending = false;

function allocated(bytes: number): void {
  sinceGc += bytes;
  if (!collect || gcPending || sinceGc < MIN_GC_BYTES) return;
  gcPending = true;
  setImmediate(() => {
    gcPending = false;
    sinceGc = 0;
    collect();
  });
}

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
    allocated(buf.bytes);
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
