/**
 * A least-recently-used cache bounded both by entry count and by total size (bytes of kernel
 * source, of a plan's kernels): a long-running server that meets ever new shapes must not grow
 * without end. Dependency-free, so the CPU worker threads can load it from dist/ with plain Node.
 */
export interface CacheLimits {
  /** At most this many entries. */
  readonly count: number;
  /** At most this many bytes in total (an entry larger than this is not kept at all). */
  readonly bytes: number;
}

export function checkLimits(limits: CacheLimits): void {
  if (!(limits.count >= 1) || !(limits.bytes >= 1)) {
    throw new RangeError(`cache limits must be at least 1 entry and 1 byte, got ${limits.count} entries, ${limits.bytes} bytes`);
  }
}

export class LruCache<K, V> {
  // Each use stamps its entry and eviction takes the lowest stamp, so a hit is one store. (Moving
  // the entry to the end of the Map instead, a delete and a set, cost ~1 us a hit, most of it the
  // Map rehashing its deleted slots: several hits per batch-1 inference call.) The entries are
  // scanned only to evict one.
  private readonly entries = new Map<K, { readonly value: V; readonly bytes: number; used: number }>();
  private total = 0;
  private tick = 0;

  constructor(private limits: CacheLimits) {}

  get size(): number { return this.entries.size; }
  get bytes(): number { return this.total; }
  get limit(): CacheLimits { return this.limits; }

  /** The value, marked most recently used. */
  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    hit.used = ++this.tick;
    return hit.value;
  }

  has(key: K): boolean { return this.entries.has(key); }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    this.entries.set(key, { value, bytes, used: ++this.tick });
    this.total += bytes;
    this.evict();
  }

  delete(key: K): boolean {
    const hit = this.entries.get(key);
    if (hit === undefined) return false;
    this.entries.delete(key);
    this.total -= hit.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  setLimits(limits: CacheLimits): void {
    checkLimits(limits);
    this.limits = limits;
    this.evict();
  }

  private evict(): void {
    while (this.entries.size > this.limits.count || (this.total > this.limits.bytes && this.entries.size > 0)) {
      let oldest: K | undefined;
      let least = Infinity;
      for (const [k, e] of this.entries) if (e.used < least) { least = e.used; oldest = k; }
      this.delete(oldest as K);
    }
  }
}
