/**
 * The text side of `born train --model gpt`: a file's bytes as token ids over the bytes it holds,
 * the split (the first 90% trains, the rest validates), training batches of random windows and
 * the validation windows. Batches come from Born's seeded permutation (data/dataset.ts), which
 * bench/gpt/train_gpt.py re-implements bit for bit, so PyTorch sees the very same batches.
 */
import { permutation } from '../../data/dataset.js';
import { fromStorage } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';

export interface TextData {
  /** Token i is the byte vocab[i]; the distinct bytes of the text, ascending. */
  readonly vocab: number[];
  readonly train: Int32Array;
  readonly val: Int32Array;
}

/** The permutation stream of training batches (validation windows are in order and need none). */
export const BATCH_STREAM = 0x6770;

/** Token ids of `text` over its own bytes, split at ⌊valFraction·n⌋ from the end. */
export function textData(text: Uint8Array, valFraction = 0.1): TextData {
  const seen = new Uint8Array(256);
  for (const b of text) seen[b] = 1;
  const vocab: number[] = [];
  for (let b = 0; b < 256; b++) if (seen[b]) vocab.push(b);
  const idOf = new Int32Array(256).fill(-1);
  vocab.forEach((b, i) => { idOf[b] = i; });
  const ids = Int32Array.from(text, (b) => idOf[b]!);
  const nTrain = text.length - Math.floor(text.length * valFraction);
  return { vocab, train: ids.subarray(0, nTrain), val: ids.subarray(nTrain) };
}

export interface Batch { readonly x: Tensor; readonly y: Tensor }

/**
 * Training batches: each pass is a seeded permutation of every window start 0..n-T-1 (stream
 * BATCH_STREAM + pass), taken `batchSize` at a time; x is ids[s..s+T), y is ids[s+1..s+T].
 * `batchAt(step)` depends on the step alone, so a resumed run continues with the same batches.
 */
export class WindowSampler {
  private readonly starts: number;
  private pass = -1;
  private order: Int32Array = new Int32Array(0);

  constructor(readonly ids: Int32Array, readonly context: number, readonly batchSize: number, readonly seed: number) {
    this.starts = ids.length - context;
    if (this.starts < batchSize) {
      throw new RangeError(`the training text has ${ids.length} tokens: too few for ${batchSize} windows of ${context + 1} (lower --batch-size or --context, or give a longer text)`);
    }
  }

  /** Window starts of batch `step` (0-based). */
  startsAt(step: number): Int32Array {
    const perPass = Math.floor(this.starts / this.batchSize);
    const pass = Math.floor(step / perPass), k = step % perPass;
    if (pass !== this.pass) { this.order = permutation(this.starts, this.seed, BATCH_STREAM + pass); this.pass = pass; }
    return this.order.subarray(k * this.batchSize, (k + 1) * this.batchSize);
  }

  batchAt(step: number): Batch {
    return windows(this.ids, this.startsAt(step), this.context);
  }
}

/** x [n, T] and y [n, T] (the next tokens) of the windows starting at `starts`. */
export function windows(ids: Int32Array, starts: ArrayLike<number>, t: number): Batch {
  const n = starts.length, x = new Int32Array(n * t), y = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    const s = starts[i]!;
    x.set(ids.subarray(s, s + t), i * t);
    y.set(ids.subarray(s + 1, s + t + 1), i * t);
  }
  return { x: fromStorage(x, [n, t], 'int32'), y: fromStorage(y, [n, t], 'int32') };
}

/**
 * The validation set as consecutive, non-overlapping windows of T (the tail that does not fill
 * one is left out), in batches of at most `batchSize`: every token but the first is predicted
 * once, from the tokens before it in its window.
 */
export function* validationBatches(ids: Int32Array, t: number, batchSize: number): Generator<Batch> {
  const count = Math.floor((ids.length - 1) / t);
  for (let w = 0; w < count; w += batchSize) {
    const starts = Array.from({ length: Math.min(batchSize, count - w) }, (_, i) => (w + i) * t);
    yield windows(ids, starts, t);
  }
}
