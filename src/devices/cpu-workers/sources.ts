// Kernel sources in shared memory. A task used to carry its kernel's source text, and a chain
// every link's: a CNN batch posted ~88 KB of source to each worker, cloned on the calling thread
// and again on the worker, for kernels the worker had compiled long before (in a server, a
// tenth of the event loop's time). The calling thread now writes each distinct source once into
// a shared table, and a task names it: a worker reads the text only when its cache lacks the
// kernel (first use, or evicted).
//
// Shared by the main thread and the workers, so it imports nothing.

/** A source written into a shared table: `id` is unique to the (table, place), hence to the text. */
export interface SourceRef { readonly table: SharedArrayBuffer; readonly id: number; readonly at: number; readonly bytes: number }

/** A kernel's source as a task carries it: the text, or where the table holds it. */
export type KernelSource = string | SourceRef;

/** Bytes per table; when one fills, a new one starts (tasks in flight keep theirs alive). */
const TABLE_BYTES = 16 * 1024 * 1024;

const encoder = new TextEncoder(), decoder = new TextDecoder();

/** The text of a source. */
export function sourceText(s: KernelSource): string {
  // A copy: TextDecoder does not read shared memory in every engine.
  return typeof s === 'string' ? s : decoder.decode(new Uint8Array(s.table, s.at, s.bytes).slice());
}

/** The calling thread's table: each distinct source written once; its refs kept until the table is replaced. */
export class SourceTable {
  private table: SharedArrayBuffer | null = null;
  private top = 0;
  private nextId = 1;
  private readonly refs = new Map<string, SourceRef>();

  /** Where `source` is (written now if new); the text itself when it is larger than a table. */
  ref(source: string): KernelSource {
    const hit = this.refs.get(source);
    if (hit !== undefined) return hit;
    const most = source.length * 3; // UTF-16 units to UTF-8 bytes, at most
    if (most > TABLE_BYTES) return source;
    if (this.table === null || this.top + most > TABLE_BYTES) {
      this.table = new SharedArrayBuffer(TABLE_BYTES);
      this.top = 0;
      this.refs.clear();
    }
    const { written } = encoder.encodeInto(source, new Uint8Array(this.table, this.top, most));
    const ref: SourceRef = { table: this.table, id: this.nextId++, at: this.top, bytes: written };
    this.top += written;
    this.refs.set(source, ref);
    return ref;
  }
}
