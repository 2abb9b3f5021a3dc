/**
 * Picking the next token from one row of logits, on the host: repetition penalty, temperature,
 * top-k, top-p (nucleus) and min-p, applied in Hugging Face's order (penalty, temperature, then
 * the filters), then a draw from a seeded generator, so that a seed gives the same tokens on
 * every run and device.
 */
import { splitmix32 } from '../../data/dataset.js';

export interface SamplingOptions {
  /** 0: greedy (argmax); otherwise logits are divided by it. */
  readonly temperature: number;
  /** Keep the k most likely tokens (0: all). */
  readonly topK: number;
  /** Keep the fewest most likely tokens whose probabilities sum to at least topP (1: all). */
  readonly topP: number;
  /** Drop tokens less likely than minP times the most likely one (0: none). */
  readonly minP: number;
  /** CTRL's penalty on tokens already present (prompt and output): positive logits divided, negative multiplied (1: none). */
  readonly repetitionPenalty: number;
}

/** A seeded uniform generator on [0, 1) (the data loader's splitmix32, 32 bits a draw). */
export function seededRandom(seed: number): () => number {
  const next = splitmix32(seed);
  return () => next() / 4294967296;
}

/** The index of the largest value (the first of equal ones, as torch.argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * The tokens that can be drawn, most likely first where a cut-off by rank follows (ties in id
 * order, so the order is the same everywhere): the top k by insertion, one pass over a large
 * vocabulary rather than a sort of it; without top-k, min-p's floor is applied before sorting
 * (a superset: the exact test follows), and with neither top-p nor min-p nothing is sorted.
 */
function candidates(z: Float64Array, o: SamplingOptions): number[] {
  const k = o.topK;
  if (k > 0 && k < z.length) {
    const ids: number[] = [];
    for (let i = 0; i < z.length; i++) {
      const x = z[i]!;
      if (ids.length === k && !(x > z[ids[k - 1]!]!)) continue;
      let j = ids.length < k ? ids.push(i) - 1 : k - 1;
      for (; j > 0 && z[ids[j - 1]!]! < x; j--) ids[j] = ids[j - 1]!;
      ids[j] = i;
    }
    return ids;
  }
  let ids = Array.from(z.keys());
  if (o.topP === 1 && o.minP === 0) return ids;
  if (o.minP > 0) {
    // p / p_max ≥ minP  ⟺  logit ≥ max + T·ln(minP)
    const floor = z[argmax(z)]! + o.temperature * Math.log(o.minP) - 1e-6;
    ids = ids.filter((i) => z[i]! >= floor);
  }
  return ids.sort((a, b) => z[b]! - z[a]! || a - b);
}

/**
 * The next token from `logits` (one row, [vocab]); `seen` holds the ids the repetition penalty
 * applies to. `random` is called once per sampled (non-greedy) token.
 */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, random: () => number, seen: ReadonlySet<number>): number {
  const z = new Float64Array(logits.length);
  for (let i = 0; i < z.length; i++) z[i] = logits[i]!;
  if (o.repetitionPenalty !== 1) {
    for (const id of seen) z[id] = z[id]! > 0 ? z[id]! / o.repetitionPenalty : z[id]! * o.repetitionPenalty;
  }
  if (o.temperature === 0 || o.topK === 1) return argmax(z);
  const order = candidates(z, o);
  let top = -Infinity;
  for (const id of order) top = Math.max(top, z[id]! / o.temperature);
  let p = order.map((id) => Math.exp(z[id]! / o.temperature - top));
  const total = p.reduce((s, x) => s + x, 0);
  p = p.map((x) => x / total);
  let keep = p.length;
  if (o.topP < 1) {
    let sum = 0;
    for (let i = 0; i < p.length; i++) {
      sum += p[i]!;
      if (sum >= o.topP) { keep = i + 1; break; }
    }
  }
  if (o.minP > 0) { // (order is sorted here: p[0] is the largest)
    const floor = o.minP * p[0]!;
    while (keep > 1 && p[keep - 1]! < floor) keep--;
  }
  let r = random() * p.slice(0, keep).reduce((s, x) => s + x, 0);
  for (let i = 0; i < keep - 1; i++) {
    r -= p[i]!;
    if (r < 0) return order[i]!;
  }
  return order[keep - 1]!;
}
