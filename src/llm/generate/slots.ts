/**
 * The KV cache of a continuously batched decode loop (continuous.ts): a KvCache whose rows are
 * slots that sequences take and leave between decode steps. All rows write at one shared
 * position; a sequence joins by being prefilled alone, in a one-row cache of the same length, so
 * that its last prompt token lands just before that position (its padding is the rest), and that
 * row is then copied into a free slot. Moving every row's contents along the positions (to make
 * room for a longer prompt, or to drop the padding all rows share when the cache is full) and
 * changing the number of rows or positions build a new cache from the old one.
 *
 * The copies rely on the cache's layout: keys and values [B, Hkv, length, hd], rows along dim 0,
 * positions along dim 2 (kv-cache.ts).
 */
import { noGrad } from '../../autodiff/grad.js';
import { realize } from '../../scheduler/realize.js';
import { assignAll, storeNode } from '../../tensor/assign.js';
import { fromStorage, scalar } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { KvCache } from '../kv-cache.js';
import type { LlamaModel } from '../model.js';

const ROW_DIM = 0;

/**
 * One forward of `t` tokens per row (`flat`: [batch · t] ids) through `cache`: the writes and the
 * last position's logits in one schedule; returns the [batch, vocab] logits.
 */
export async function cachedForward(model: LlamaModel, cache: KvCache, flat: Int32Array, t: number): Promise<Float32Array> {
  const x = fromStorage(flat, [cache.batch, t], 'int32', model.tokEmbeddings.weight.device);
  const step = cache.begin(t);
  const logits = noGrad(() => model.forward(x, { ...step.options, lastOnly: true }));
  try {
    await cache.commit(step, t, [logits]);
    return (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
    x.dispose();
  }
}

/** Where the rows of a rebuilt cache come from. */
export interface Rebuild {
  /** Rows of the new cache. */
  readonly batch: number;
  /** Row r of the new cache is row rows[r] of the old one (null: an empty slot); at most `batch` entries. */
  readonly rows: readonly (number | null)[];
  /** Positions of the new cache. */
  readonly length: number;
  /** Every cached position moves by this much (> 0: later, making room before; < 0: earlier, dropping shared padding). */
  readonly shift: number;
}

export class SlotCache {
  private constructor(private readonly model: LlamaModel, private cache: KvCache) {}

  /** An empty cache of `batch` slots and `length` positions, writing next at `position`. */
  static async create(model: LlamaModel, batch: number, length: number, position: number): Promise<SlotCache> {
    const cache = await KvCache.create(model, new Array<number>(batch).fill(0), length);
    cache.seek(position);
    return new SlotCache(model, cache);
  }

  get batch(): number { return this.cache.batch; }
  get length(): number { return this.cache.length; }
  get position(): number { return this.cache.position; }
  /** Row r's padding: its sequence's first token is at position pads[r]. */
  get pads(): readonly number[] { return this.cache.pads; }

  /** An empty cache writes next at `position` (nothing it holds is read again). */
  restart(position: number): void { this.cache.seek(position); }

  /** One decode step: token `next[r]` for every row at the shared position; the [batch, vocab] logits. */
  step(next: Int32Array): Promise<Float32Array> {
    return cachedForward(this.model, this.cache, next, 1);
  }

  /**
   * Prefills `ids` into slot `slot` so that its last token is at position - 1 (the position must
   * be at least its length, and the slot free); returns the logits of its last token.
   */
  async place(slot: number, ids: readonly number[]): Promise<Float32Array> {
    const at = this.position, pad = at - ids.length;
    if (pad < 0 || slot < 0 || slot >= this.batch) throw new RangeError(`SlotCache: ${ids.length} prompt tokens cannot end at position ${at} in slot ${slot} of ${this.batch}`);
    const one = await KvCache.create(this.model, [pad], this.length);
    try {
      one.seek(pad);
      const logits = await cachedForward(this.model, one, Int32Array.from(ids), ids.length);
      const start = scalar(slot, { dtype: 'int32' });
      const stores = [...this.cache.keys.map((k, i) => storeNode(k, one.keys[i]!, { dim: ROW_DIM, start })),
        ...this.cache.values.map((v, i) => storeNode(v, one.values[i]!, { dim: ROW_DIM, start }))];
      await realize(stores);
      const pads = [...this.pads];
      pads[slot] = pad;
      await this.cache.setPadding(pads);
      return logits;
    } finally {
      one.dispose();
    }
  }

  /** Replaces the cache by one built from it as `r` says (see Rebuild); the position moves by r.shift. */
  async rebuild(r: Rebuild): Promise<void> {
    const old = this.cache, position = old.position + r.shift;
    if (r.rows.length > r.batch || position < 0 || position > r.length) throw new RangeError(`SlotCache: cannot rebuild ${r.rows.length} rows at position ${position} in ${r.batch} × ${r.length}`);
    const rows = Array.from({ length: r.batch }, (_, i) => r.rows[i] ?? null);
    // An empty slot's padding is its whole past (nothing in it is attended).
    const pads = rows.map((src) => (src === null ? Math.min(position, r.length - 1) : Math.max(0, old.pads[src]! + r.shift)));
    const next = await KvCache.create(this.model, pads, r.length);
    next.seek(position);
    const index = fromStorage(Int32Array.from(rows.map((src) => src ?? 0)), [r.batch], 'int32', this.model.tokEmbeddings.weight.device);
    // pad() takes pairs from the last dim backwards: [hd, positions (dim 2)]; negative amounts crop.
    const moved = (t: Tensor): Tensor => t.indexSelect(ROW_DIM, index).pad([0, 0, r.shift, r.length - old.length - r.shift]);
    try {
      await assignAll([...next.keys.map((k, i) => [k, moved(old.keys[i]!)] as const), ...next.values.map((v, i) => [v, moved(old.values[i]!)] as const)]);
    } finally {
      index.dispose();
    }
    old.dispose();
    this.cache = next;
  }

  dispose(): void { this.cache.dispose(); }
}
