/**
 * A key/value cache for LLaMA-style decoding: per layer, a key and a value buffer
 * [B, Hkv, length, hd] allocated once, into which each forward writes its new keys and values in
 * place at a runtime position (a store node whose start is a runtime scalar), then attends over
 * those buffers as the writes leave them, positions < position + t only: no copy of the cache.
 * Everything that
 * changes from one decoding step to the next — the position, the mask's length, the rotary
 * positions — is computed on the device from that scalar and from the per-row padding, so every
 * step after the first has the same graph: it compiles nothing and allocates nothing new.
 *
 * Rows of a batch are left-padded to one length (as Hugging Face pads for generation): all rows
 * write at the same cache position, row b's first `pad[b]` positions are padding that no real
 * token attends to, and its rotary positions start at 0 at its first real token.
 */
import { fmt } from '../graph/errors.js';
import type { DeviceName, LazyNode } from '../graph/node.js';
import { realize } from '../scheduler/realize.js';
import { storeNode } from '../tensor/assign.js';
import { fromStorage, iotaAlong, scalar, zeros } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import type { LayerKvCache } from '../nn/llama.js';
import type { LlamaForwardOptions, LlamaModel, ModelKvCache } from './model.js';

/** One forward's view of the cache: the model's options for it, and the writes it records. */
export interface CacheStep extends ModelKvCache {
  /** Pass to LlamaModel.forward: [B, T] rotary positions and this cache. */
  readonly options: LlamaForwardOptions;
}

export class KvCache {
  readonly keys: Tensor[];
  readonly values: Tensor[];
  /** Positions written so far (every row: padding included). */
  private filled = 0;
  private readonly pad: Tensor;
  private disposed = false;

  /**
   * `pads[b]`: how many padding positions row b's prompt starts with. Use KvCache.create, which
   * also gives the buffers their (zero) contents before the first write.
   */
  private constructor(readonly model: LlamaModel, readonly pads: readonly number[], readonly length: number, device: DeviceName) {
    const c = model.config, hd = c.dim / c.nHeads;
    const shape = [pads.length, c.nKvHeads, length, hd];
    this.keys = Array.from({ length: c.nLayers }, () => zeros(shape, { device }));
    this.values = Array.from({ length: c.nLayers }, () => zeros(shape, { device }));
    this.pad = fromStorage(Int32Array.from(pads), [pads.length], 'int32', device);
  }

  /** A cache of `length` positions for rows with the given left padding, on the model's device. */
  static async create(model: LlamaModel, pads: readonly number[], length: number): Promise<KvCache> {
    if (!Number.isInteger(length) || length < 1 || length > model.config.maxSeqLen) {
      throw new RangeError(`KvCache: length ${length} must be an integer in 1..${model.config.maxSeqLen} (the model's maxSeqLen)`);
    }
    if (pads.length < 1 || pads.some((p) => !Number.isInteger(p) || p < 0 || p >= length)) {
      throw new RangeError(`KvCache: padding per row must be integers in 0..${length - 1}, got ${fmt(pads)}`);
    }
    const cache = new KvCache(model, [...pads], length, model.tokEmbeddings.weight.device);
    await realize([...cache.keys, ...cache.values].map((t) => t.node));
    return cache;
  }

  get batch(): number { return this.pads.length; }

  /** Positions written so far. */
  get position(): number { return this.filled; }

  /**
   * Starts a forward of `t` new tokens per row at the next position. Pass `step.options` to the
   * model, then `commit(step, outputs)`: the writes and the outputs run in one schedule.
   */
  begin(t: number): CacheStep & { readonly stores: LazyNode[] } {
    if (this.disposed) throw new Error('KvCache: the cache was disposed');
    if (!Number.isInteger(t) || t < 1 || this.filled + t > this.length) {
      throw new RangeError(`KvCache: ${t} new tokens at position ${this.filled} do not fit in the cache's ${this.length} positions`);
    }
    const b = this.batch, len = this.length;
    const start = scalar(this.filled, { dtype: 'int32' });
    // Query i of row b sits at position start + i and sees the keys from min(pad[b], start + i)
    // to itself: a real token its row's real keys, a padding token only itself (a finite,
    // ignored result rather than NaN from 0/0). Positions from start + t on are not attended at
    // all (kvLength), so the kernels read only the written part of the cache.
    const qpos = iotaAlong([1, 1, t, 1], 2).add(start);
    const j = iotaAlong([1, 1, 1, len], 3);
    const mask = j.ge(this.pad.reshape([b, 1, 1, 1]).minimum(qpos)).logicalAnd(j.le(qpos)); // [B, 1, T, len]
    const kvLength = start.add(t);
    const positions = iotaAlong([1, t], 1).add(start).sub(this.pad.reshape([b, 1])).clamp({ min: 0 });
    const stores: LazyNode[] = [];
    const layer = (i: number): LayerKvCache => ({
      // The new keys and values are written into the cache first, and the queries attend over
      // the cache itself as the writes leave it (the store nodes are the attention's sources,
      // so the schedule runs each write before its reads: scheduler/read-stores.ts). Nothing
      // is copied: the attention reads the cache buffers in place.
      update: (k: Tensor, v: Tensor) => {
        const sk = storeNode(this.keys[i]!, k, { dim: 2, start }), sv = storeNode(this.values[i]!, v, { dim: 2, start });
        stores.push(sk, sv);
        return { keys: new Tensor(sk), values: new Tensor(sv), mask, kvLength };
      },
    });
    return { options: { positions, cache: { layer } }, layer, stores };
  }

  /** Runs the step's writes together with `outputs` (one schedule), then advances the position. */
  async commit(step: { readonly stores: readonly LazyNode[] }, t: number, outputs: readonly Tensor[]): Promise<void> {
    const c = this.model.config;
    if (step.stores.length !== 2 * c.nLayers) throw new Error(`KvCache: the forward wrote ${step.stores.length / 2} of the ${c.nLayers} layers (pass step.options to the model's forward)`);
    this.filled += t;
    await realize([...step.stores, ...outputs.map((o) => o.node)]);
  }

  /**
   * Moves the write position to `position` (continuous batching: a cache filled by copying
   * another's contents, or a row prefilled so that its prompt ends where a running batch is).
   */
  seek(position: number): void {
    if (!Number.isInteger(position) || position < 0 || position > this.length) throw new RangeError(`KvCache: position ${position} is outside 0..${this.length}`);
    this.filled = position;
  }

  /**
   * Gives the rows new left padding (continuous batching: a sequence placed into a row of a
   * running batch). `pads` stays in step with it; the write runs now, before the next step.
   */
  async setPadding(pads: readonly number[]): Promise<void> {
    if (pads.length !== this.batch || pads.some((p) => !Number.isInteger(p) || p < 0 || p >= this.length)) {
      throw new RangeError(`KvCache: expected ${this.batch} paddings in 0..${this.length - 1}, got ${fmt(pads)}`);
    }
    (this.pads as number[]).splice(0, pads.length, ...pads);
    const values = fromStorage(Int32Array.from(pads), [pads.length], 'int32', this.pad.device);
    await realize([storeNode(this.pad, values)]);
    values.dispose();
  }

  /** Frees the buffers now (they are also freed when the cache is dropped). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.keys, ...this.values, this.pad]) t.dispose();
  }
}
