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
 * The next token from `logits` (one row, [vocab]); `seen` holds the ids the repetition penalty
 * applies to. `random` is called once per sampled (non-greedy) token.
 */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, random: () => number, seen: ReadonlySet<number>): number {
  const z = Float64Array.from(logits as ArrayLike<number>);
  if (o.repetitionPenalty !== 1) {
    for (const id of seen) z[id] = z[id]! > 0 ? z[id]! / o.repetitionPenalty : z[id]! * o.repetitionPenalty;
  }
  if (o.temperature === 0 || o.topK === 1) return argmax(z);
  // Candidates from most to least likely (ties by id, so the order is the same everywhere).
  let order = Array.from(z.keys()).sort((a, b) => z[b]! - z[a]! || a - b);
  if (o.topK > 0 && o.topK < order.length) order = order.slice(0, o.topK);
  const top = z[order[0]!]! / o.temperature;
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
  if (o.minP > 0) {
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
