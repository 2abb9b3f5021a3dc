/** One served model: its source, what is loaded from it now, its batcher, and its hot reloads. */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Llm } from '../llm/load.js';
import { Batcher, type BatchOptions } from './batcher.js';
import type { ServeMetrics } from './metrics.js';
import { loadSource, warmUp, type Loaded, type ModelKind, type ModelSource } from './registry.js';
import type { Servable } from './servable.js';

export class ServedModel {
  private loaded: Loaded | null = null;
  /** Tensor models only; LLM requests are batched by the LLM routes. */
  readonly batcher: Batcher | null;
  /** How many times the model was loaded (1 after start-up). */
  version = 0;
  loadedAt: Date | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private listener: ((cur: Stats, prev: Stats) => void) | null = null;

  constructor(
    readonly source: ModelSource,
    readonly kind: ModelKind,
    private readonly opts: BatchOptions,
    private readonly metrics: ServeMetrics,
    /** Called with each LLM loaded (start-up and reloads): the LLM routes read the map it fills. */
    private readonly onLlm: (name: string, llm: Llm) => void,
  ) {
    const model = source.name;
    this.batcher = kind === 'llm' ? null : new Batcher(model, () => this.servable, opts, {
      queueDepth: (n) => metrics.queue.set({ model }, n),
      batch: (rows, requests) => { metrics.batch.observe({ model }, rows); metrics.batchRequests.observe({ model }, requests); },
    });
    if (this.batcher) metrics.queue.set({ model }, 0);
  }

  get name(): string { return this.source.name; }
  get ready(): boolean { return this.loaded !== null; }

  get servable(): Servable {
    if (this.loaded?.kind !== 'tensor') throw new Error(`model '${this.name}' is not loaded`);
    return this.loaded.servable;
  }

  /** Loads and warms up the source, then swaps it in; a failed load leaves the old model serving. */
  async load(): Promise<void> {
    const next = await loadSource(this.source);
    if ((next.kind === 'llm') !== (this.kind === 'llm')) throw new Error(`model '${this.name}': the file now holds a ${next.kind === 'llm' ? 'language' : 'tensor'} model; restart to change its kind`);
    await warmUp(next, this.opts.maxBatch);
    this.loaded = next;
    if (next.kind === 'llm') this.onLlm(this.name, next.llm);
    this.version++;
    this.loadedAt = new Date();
  }

  /** A hot reload, after any still running; errors are logged and counted, never thrown. */
  reload(log: (line: string) => void): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      try {
        await this.load();
        this.metrics.reloads.inc({ model: this.name, result: 'ok' });
        log(`born serve: reloaded model '${this.name}' (version ${this.version})`);
      } catch (e) {
        this.metrics.reloads.inc({ model: this.name, result: 'failed' });
        log(`born serve: reloading model '${this.name}' failed, the previous one keeps serving: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    return this.reloading;
  }

  /**
   * Reloads when the file changes. Polled (stat every `intervalMs`) rather than fs.watch: a file
   * replaced by a rename, as atomic writers do, is a new inode that fs.watch would not follow.
   */
  watch(intervalMs: number, log: (line: string) => void): void {
    if (!('path' in this.source) || this.listener) return;
    this.listener = (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      if (cur.nlink === 0 && cur.size === 0) return; // removed: keep serving what is loaded
      void this.reload(log);
    };
    watchFile(this.source.path, { interval: intervalMs, persistent: false }, this.listener);
  }

  unwatch(): void {
    if (this.listener && 'path' in this.source) unwatchFile(this.source.path, this.listener);
    this.listener = null;
  }

  /** The description GET /v1/models gives. */
  describe(): Record<string, unknown> {
    const base = { name: this.name, kind: this.kind, ready: this.ready, version: this.version, loaded_at: this.loadedAt?.toISOString() ?? null };
    if (this.loaded?.kind !== 'tensor') return base;
    const m = this.loaded.servable;
    return { ...base, description: m.description, batched: m.batched, inputs: m.inputs, outputs: m.outputs };
  }
}
