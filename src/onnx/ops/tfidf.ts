/**
 * TfIdfVectorizer (opset 9): counts of the pool's n-grams in each row of an integer sequence.
 * Counting is data-dependent lookup, so it runs on the host over the input's values; the
 * [max(ngram_indexes) + 1] counts (per row) come back as float32. String pools are refused:
 * Born has no string tensors.
 *
 * An n-gram with skip s takes every (s + 1)-th item: X[i], X[i + s + 1], …; every skip from 0 to
 * max_skip_count is tried for n >= 2, while 1-grams are counted once (a skip changes nothing).
 */
import { HOST_LIMIT, host, numbers, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

interface Pool {
  /** n -> (n-gram joined by ',' -> output coordinates). */
  readonly grams: Map<number, Map<string, number[]>>;
  /** The weight of each output coordinate's n-gram (1 where none is given). */
  readonly weightAt: Map<number, number>;
  readonly width: number;
}

function readPool(ctx: OpContext, minN: number, maxN: number): Pool {
  if (ctx.attr.has('pool_strings')) ctx.fail('pool_strings: string n-grams are not supported (Born has no string tensors); use pool_int64s over token ids');
  const pool = ctx.attr.ints('pool_int64s');
  const starts = ctx.attr.ints('ngram_counts');
  const indexes = ctx.attr.ints('ngram_indexes');
  const weights = ctx.attr.floats('weights', []);
  if (weights.length && weights.length !== indexes.length) ctx.fail(`weights has ${weights.length} values for ${indexes.length} ngram_indexes`);
  const grams = new Map<number, Map<string, number[]>>();
  const weightAt = new Map<number, number>();
  let g = 0; // the n-gram's number in the pool, which ngram_indexes and weights are parallel to
  for (let level = 0; level < starts.length; level++) {
    const n = level + 1, from = starts[level]!, to = level + 1 < starts.length ? starts[level + 1]! : pool.length;
    if (from > to || to > pool.length || (to - from) % n) ctx.fail(`ngram_counts [${starts.join(', ')}] does not split pool_int64s (${pool.length} values) into whole ${n}-grams`);
    const byKey = new Map<string, number[]>();
    for (let i = from; i < to; i += n, g++) {
      const at = indexes[g];
      if (at === undefined || at < 0) ctx.fail(`ngram_indexes must give a non-negative coordinate for each of the pool's n-grams, not [${indexes.join(', ')}]`);
      const key = pool.slice(i, i + n).join(',');
      byKey.set(key, [...(byKey.get(key) ?? []), at]);
      weightAt.set(at, weights.length ? weights[g]! : 1);
    }
    if (n >= minN && n <= maxN) grams.set(n, byKey);
  }
  return { grams, weightAt, width: indexes.length ? Math.max(...indexes) + 1 : 0 };
}

register('TfIdfVectorizer', 9, async (ctx: OpContext) => {
  const minN = ctx.attr.int('min_gram_length'), maxN = ctx.attr.int('max_gram_length'), maxSkip = ctx.attr.int('max_skip_count');
  if (!(minN >= 1 && maxN >= minN && maxSkip >= 0)) ctx.fail(`need 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0, got ${minN}, ${maxN}, ${maxSkip}`);
  const mode = ctx.attr.string('mode');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') ctx.fail(`mode '${mode}' is not one of TF, IDF, TFIDF`);
  const x = await ctx.host(0);
  if (x.dtype !== 'int32' && x.dtype !== 'int64') ctx.fail(`X must be int32 or int64 token ids, got ${x.dtype}`);
  if (x.shape.length !== 1 && x.shape.length !== 2) ctx.fail(`X must be [C] or [N, C], got [${x.shape.join(', ')}]`);
  const { grams, weightAt, width } = readPool(ctx, minN, maxN);
  const rows = x.shape.length === 2 ? x.shape[0]! : 1, cols = x.shape[x.shape.length - 1]!;
  const vals = numbers(x);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = vals.slice(r * cols, (r + 1) * cols), y = out.subarray(r * width, (r + 1) * width);
    for (const [n, byKey] of grams) {
      for (let skip = 0; skip <= (n === 1 ? 0 : maxSkip); skip++) {
        const stride = skip + 1;
        for (let i = 0; i + (n - 1) * stride < cols; i++) {
          const key = Array.from({ length: n }, (_, j) => row[i + j * stride]).join(',');
          for (const at of byKey.get(key) ?? []) y[at]! += 1;
        }
      }
    }
    for (let j = 0; j < width; j++) {
      const w = weightAt.get(j) ?? 1;
      if (mode === 'IDF') y[j] = y[j]! > 0 ? w : 0;
      else if (mode === 'TFIDF') y[j] = y[j]! * w;
    }
  }
  const h = host('float32', x.shape.length === 2 ? [rows, width] : [width], out);
  return [rows * width > HOST_LIMIT ? toTensor(h, ctx.device) : h];
});
