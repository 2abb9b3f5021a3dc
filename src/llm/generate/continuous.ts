/**
 * Continuous batching: one decode loop per model runs every active sequence as one batch, and
 * sequences join and leave between decode steps (a server's concurrent requests share each
 * step's weight reads). A joining sequence is prefilled alone into a free slot of the running
 * batch (slots.ts), so that its prompt ends where the batch writes next; finished and cancelled
 * ones free their slot. Each row samples exactly as llm.generate does for that prompt alone (the
 * same seeded generator, penalties, stop strings and EOS ids), so a row gives the tokens the
 * single-sequence generation gives.
 *
 * The cache's rows come in powers of two up to maxBatch (few shapes: few compiled plans); a full
 * cache grows, or drops the padding every row shares.
 */
import type { Llm } from '../load.js';
import { abortError, promptIds, type Prompt } from './generate.js';
import { resolveOptions, type GenerateOptions, type ResolvedOptions } from './options.js';
import { sampleToken, seededRandom } from './sampling.js';
import { SlotCache } from './slots.js';
import { TextStream } from './text.js';

/** Cache lengths are rounded up to this many positions (as llm.generate's). */
const ROUND = 64;

export type FinishReason = 'stop' | 'length';

/** One piece of a sequence: a generated token and the text it made printable. */
export interface ContinuousPiece {
  /** The token (-1 in the last piece, which carries what text was held back to the end). */
  readonly token: number;
  readonly text: string;
  /** On the last piece: 'stop' (an EOS id or a stop string) or 'length' (maxTokens, or the context's end). */
  readonly finishReason?: FinishReason;
}

/** A submitted sequence: its pieces as they are generated. Leaving the iteration early cancels it. */
export interface ContinuousSequence extends AsyncIterable<ContinuousPiece> {
  /** Tokens in the prompt. */
  readonly promptTokens: number;
  /** Drops the sequence (waiting or running); the iteration rejects with `reason`. */
  cancel(reason?: unknown): void;
}

export interface ContinuousOptions {
  /** Sequences decoded together at most; more wait to join (default 8). */
  maxBatch?: number;
  /** After each decode step: the sequences it ran and the cache rows (a power of two ≥ them). */
  onStep?: (info: { readonly sequences: number; readonly rows: number }) => void;
  /** When the number of sequences waiting to join changes. */
  onWaiting?: (waiting: number) => void;
}

/** What the loop is doing (for tests and metrics). */
export interface ContinuousStats {
  readonly waiting: number;
  readonly active: number;
  /** Rows of the running cache (0 when idle). */
  readonly rows: number;
  /** Decode steps run so far. */
  readonly steps: number;
  /** Times the cache was rebuilt (rows or positions changed, contents moved). */
  readonly rebuilds: number;
}

/** An async queue of one sequence's pieces. */
class Pieces implements AsyncIterator<ContinuousPiece> {
  private readonly queued: ContinuousPiece[] = [];
  private wake?: () => void;
  private ended = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly onReturn: () => void) {}

  push(p: ContinuousPiece): void { this.queued.push(p); this.wake?.(); }
  end(): void { this.ended = true; this.wake?.(); }
  fail(error: unknown): void { if (!this.ended) { this.failure = { error }; this.ended = true; this.wake?.(); } }

  async next(): Promise<IteratorResult<ContinuousPiece>> {
    for (;;) {
      const p = this.queued.shift();
      if (p) return { value: p, done: false };
      if (this.failure) throw this.failure.error;
      if (this.ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<ContinuousPiece>> {
    if (!this.ended) this.onReturn();
    this.ended = true;
    this.queued.length = 0;
    return { value: undefined, done: true };
  }
}

/** One sequence in the loop: its prompt, its sampling state and where its pieces go. */
class Sequence implements ContinuousSequence {
  readonly seen: Set<number>;
  readonly random: () => number;
  readonly text?: TextStream;
  /** Tokens it may generate: maxTokens, or fewer where the context ends. */
  readonly steps: number;
  sampled = 0;
  /** The last token sampled (fed at the next step). */
  last = 0;
  done = false;
  cancelled = false;
  private readonly out = new Pieces(() => this.cancel(null));

  constructor(readonly llm: Llm, readonly ids: readonly number[], readonly o: ResolvedOptions, private readonly dropped: (s: Sequence) => void) {
    const tok = llm.tokenizer;
    this.seen = new Set(ids);
    // llm.generate's row 0 draws from this generator: the same seed gives the same tokens.
    this.random = seededRandom(o.seed);
    if (tok) {
      const decoder = tok.decoder();
      for (const id of ids) decoder.push(id);
      this.text = new TextStream(decoder, o.stop);
    }
    this.steps = Math.min(o.maxTokens, llm.config.maxSeqLen - ids.length + 1);
    const signal = o.signal;
    signal?.addEventListener('abort', () => this.cancel(abortError(signal)), { once: true });
  }

  get promptTokens(): number { return this.ids.length; }

  /** Positions this row still writes, from the shared position on (one per token it feeds back). */
  get remaining(): number { return this.steps - this.sampled; }

  [Symbol.asyncIterator](): AsyncIterator<ContinuousPiece> { return this.out; }

  cancel(reason: unknown = abortError(AbortSignal.abort())): void {
    if (this.done || this.cancelled) return;
    this.cancelled = true;
    if (reason !== null) this.out.fail(reason);
    this.dropped(this);
  }

  fail(error: unknown): void { this.done = true; this.out.fail(error); }

  /** Samples the next token from its row of logits and hands out the pieces; done when it ends. */
  advance(logits: Float32Array): void {
    const id = sampleToken(logits, this.o, this.random, this.seen);
    this.sampled++;
    if (this.o.eosIds.has(id)) return this.finish('stop', this.text?.end() ?? '');
    this.seen.add(id);
    const piece = this.text?.push(id) ?? { text: '', stopped: false };
    this.out.push({ token: id, text: piece.text });
    if (piece.stopped) return this.finish('stop', '');
    if (this.sampled >= this.steps) return this.finish('length', this.text?.end() ?? '');
    this.last = id;
  }

  private finish(reason: FinishReason, text: string): void {
    this.done = true;
    this.out.push({ token: -1, text, finishReason: reason });
    this.out.end();
  }
}

const roundUp = (n: number, max: number): number => Math.min(max, Math.ceil(n / ROUND) * ROUND);

/**
 * The decode loop of one model. `generate(prompt, opts)` takes llm.generate's options (one
 * prompt; `tokens` is ignored: every piece carries both its token and its text).
 */
export class ContinuousBatcher {
  readonly maxBatch: number;
  private readonly waiting: Sequence[] = [];
  /** The cache's rows: the sequence in each, or null. */
  private slots: (Sequence | null)[] = [];
  private cache: SlotCache | null = null;
  private running = false;
  private steps = 0;
  private rebuilds = 0;

  constructor(readonly llm: Llm, private readonly opts: ContinuousOptions = {}) {
    const m = opts.maxBatch ?? 8;
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`ContinuousBatcher: maxBatch must be a positive integer, got ${m}`);
    this.maxBatch = m;
  }

  get stats(): ContinuousStats {
    return { waiting: this.waiting.length, active: this.active().length, rows: this.cache?.batch ?? 0, steps: this.steps, rebuilds: this.rebuilds };
  }

  /** Queues a sequence; it joins the running batch at the next step. Bad prompts and options throw here. */
  generate(prompt: Prompt, opts?: GenerateOptions): ContinuousSequence {
    const llm = this.llm;
    const o = resolveOptions(opts, llm.vocabSize, llm.meta.eosIds);
    const ids = promptIds(llm, prompt, -1);
    if (o.stop.length && !llm.tokenizer) throw new TypeError('generate: stop strings need a tokenizer, and this model has none (use eosIds)');
    const max = llm.config.maxSeqLen;
    if (ids.length >= max) throw new RangeError(`generate: a prompt of ${ids.length} tokens leaves no room in the model's context of ${max}`);
    if (o.signal?.aborted) throw abortError(o.signal);
    const seq = new Sequence(llm, ids, o, (s) => this.dropWaiting(s));
    this.waiting.push(seq);
    this.opts.onWaiting?.(this.waiting.length);
    // The loop starts on the next turn of the event loop, so that sequences submitted together join together.
    if (!this.running) { this.running = true; setImmediate(() => void this.run()); }
    return seq;
  }

  private dropWaiting(s: Sequence): void {
    const i = this.waiting.indexOf(s);
    if (i >= 0) { this.waiting.splice(i, 1); this.opts.onWaiting?.(this.waiting.length); }
  }

  private active(): Sequence[] { return this.slots.filter((s): s is Sequence => s !== null); }

  private rowsFor(n: number): number {
    let r = 1;
    while (r < n) r *= 2;
    return Math.min(r, this.maxBatch);
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.length > 0 || this.active().length > 0) {
        await this.admit();
        this.slots = this.slots.map((s) => (s && !s.cancelled && !s.done ? s : null));
        const n = this.active().length;
        if (n === 0) continue;
        await this.step(n);
      }
    } finally {
      this.running = false;
      this.cache?.dispose();
      this.cache = null;
      this.slots = [];
    }
  }

  /** One decode step for every active row; failures end the rows that were in it. */
  private async step(n: number): Promise<void> {
    try {
      await this.fit(this.slots.length, 0, 0);
      const cache = this.cache!, vocab = this.llm.vocabSize;
      const next = new Int32Array(cache.batch);
      this.slots.forEach((s, i) => { if (s) next[i] = s.last; });
      const logits = await cache.step(next);
      this.steps++;
      this.opts.onStep?.({ sequences: n, rows: cache.batch });
      this.slots.forEach((s, i) => { if (s && !s.cancelled) s.advance(logits.subarray(i * vocab, (i + 1) * vocab)); });
      this.slots = this.slots.map((s) => (s && !s.cancelled && !s.done ? s : null));
      const left = this.active().length;
      if (left > 0 && this.waiting.length === 0 && this.rowsFor(left) <= cache.batch / 4) await this.fit(this.rowsFor(left), 0, 0);
    } catch (e) {
      for (const s of this.active()) s.fail(e);
      this.slots = [];
      this.cache?.dispose();
      this.cache = null;
    }
  }

  /** Moves waiting sequences into free slots, longest prompt first (the fewest moves of the batch). */
  private async admit(): Promise<void> {
    const free = this.maxBatch - this.active().length;
    if (free <= 0 || this.waiting.length === 0) return;
    const joining = this.waiting.splice(0, free).sort((a, b) => b.ids.length - a.ids.length);
    this.opts.onWaiting?.(this.waiting.length);
    const rows = this.rowsFor(this.active().length + joining.length);
    for (const seq of joining) {
      if (seq.cancelled) continue;
      try {
        const len = seq.ids.length;
        if (this.active().length === 0) await this.restart(rows, len, seq.steps);
        else await this.fit(Math.max(rows, this.slots.length), len, Math.max(this.cache!.position, len) + seq.steps - 1);
        const slot = this.slots.indexOf(null);
        const logits = await this.cache!.place(slot, seq.ids);
        if (seq.cancelled) continue;
        this.slots[slot] = seq;
        seq.advance(logits);
        if (seq.done) this.slots[slot] = null;
      } catch (e) {
        seq.fail(e);
      }
    }
  }

  /** An empty batch of `rows` rows for a first sequence of `len` tokens that generates up to `steps`. */
  private async restart(rows: number, len: number, steps: number): Promise<void> {
    const max = this.llm.config.maxSeqLen, length = roundUp(Math.max(len + steps - 1, len + 1), max);
    if (this.cache && this.cache.batch === rows && this.cache.length === length) {
      this.cache.restart(len);
    } else {
      this.cache?.dispose();
      this.cache = null;
      this.cache = await SlotCache.create(this.llm.model, rows, length, len);
    }
    this.slots = new Array<Sequence | null>(rows).fill(null);
  }

  /**
   * Rebuilds the cache if needed so that it has `rows` rows, writes next at a position of at
   * least `joinLen` (a joining prompt must end there) and has room for that write; `joinNeed`:
   * the positions a joining sequence will fill.
   */
  private async fit(rows: number, joinLen: number, joinNeed: number): Promise<void> {
    const cache = this.cache!, max = this.llm.config.maxSeqLen;
    const active = this.slots.flatMap((s, i) => (s ? [{ s, i }] : []));
    let shift = Math.max(0, joinLen - cache.position), length = cache.length;
    const position = cache.position + shift;
    if (position + 1 > length) {
      const minPad = Math.min(...active.map(({ i }) => cache.pads[i]!));
      if (shift === 0 && minPad > 0 && (length === max || minPad >= length / 4)) {
        shift = -minPad;
      } else {
        if (length === max) throw new Error('internal: ContinuousBatcher: no room in a full cache');
        const need = Math.max(joinNeed, position + 1, ...active.map(({ s }) => cache.position + shift + s.remaining));
        length = Math.min(max, Math.max(length + ROUND, roundUp(need, max)));
      }
    }
    if (rows === cache.batch && shift === 0 && length === cache.length) return;
    // Growing keeps every row where it is; shrinking packs the rows into the first slots.
    const from = rows >= this.slots.length ? this.slots.map((s, i) => (s ? i : null)) : active.map(({ i }) => i);
    await cache.rebuild({ batch: rows, rows: from, length, shift });
    this.rebuilds++;
    this.slots = Array.from({ length: rows }, (_, r) => (from[r] === undefined || from[r] === null ? null : this.slots[from[r]]!));
  }
}
