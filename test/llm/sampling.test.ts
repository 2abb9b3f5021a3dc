// Host-side sampling (src/llm/generate/sampling.ts) against probabilities worked out here: a
// draw r in [0, 1) picks the token whose interval of the kept, renormalised distribution holds r.
import { describe, expect, test } from 'vitest';
import { sampleToken, seededRandom, type SamplingOptions } from '../../src/llm/generate/sampling.js';

const OFF: SamplingOptions = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };
const logits = [1, 3, 0, 2, -1]; // by likelihood: 1, 3, 0, 2, 4
const none = new Set<number>();

/** The tokens drawn for r = 0.005, 0.015, …, 0.995, with their counts. */
function sweep(o: Partial<SamplingOptions>, seen: ReadonlySet<number> = none, row = logits): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < 100; i++) {
    const id = sampleToken(row, { ...OFF, ...o }, () => (i + 0.5) / 100, seen);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The counts sweep() should give for tokens `ids` with weights exp(logit / t). */
function expected(ids: number[], t = 1, row = logits): Map<number, number> {
  const w = ids.map((id) => Math.exp(row[id]! / t)), total = w.reduce((a, b) => a + b, 0);
  const counts = new Map<number, number>();
  let cum = 0;
  for (let i = 0; i < 100; i++) {
    const r = (i + 0.5) / 100;
    let k = 0;
    for (cum = w[0]! / total; r >= cum && k < ids.length - 1; cum += w[++k]! / total);
    counts.set(ids[k]!, (counts.get(ids[k]!) ?? 0) + 1);
  }
  return counts;
}

describe('sampleToken', () => {
  test('greedy at temperature 0 and with topK 1: the argmax, with no draw', () => {
    const never = (): number => { throw new Error('drew'); };
    expect(sampleToken(logits, { ...OFF, temperature: 0 }, never, none)).toBe(1);
    expect(sampleToken(logits, { ...OFF, topK: 1 }, never, none)).toBe(1);
  });

  test('no filter: every token with its softmax probability (in id order); temperature sharpens', () => {
    expect(sweep({})).toEqual(expected([0, 1, 2, 3, 4]));
    expect(sweep({ temperature: 0.5 })).toEqual(expected([0, 1, 2, 3, 4], 0.5));
    expect(sweep({ topP: 0.9999 })).toEqual(expected([1, 3, 0, 2, 4])); // a cut-off by rank (keeping all): most likely first
  });

  test('topK keeps the k most likely, renormalised', () => {
    expect(sweep({ topK: 2 })).toEqual(expected([1, 3]));
  });

  test('topP keeps the fewest most likely reaching the mass; minP drops those under minP × the top', () => {
    const p = logits.map((l) => Math.exp(l)), z = p.reduce((a, b) => a + b, 0);
    expect((p[1]! + p[3]!) / z).toBeGreaterThan(0.8); // so topP 0.8 keeps two tokens
    expect(p[1]! / z).toBeLessThan(0.8);
    expect(sweep({ topP: 0.8 })).toEqual(expected([1, 3]));
    // p(0) / p(1) = e^-2 ≈ 0.135: minP 0.1 keeps tokens 1, 3, 0; minP 0.2 keeps 1, 3.
    expect(sweep({ minP: 0.1 })).toEqual(expected([1, 3, 0]));
    expect(sweep({ minP: 0.2 })).toEqual(expected([1, 3]));
  });

  test('the repetition penalty divides positive logits and multiplies negative ones of seen tokens', () => {
    const seen = new Set([1, 4]);
    const penalised = [1, 3 / 4, 0, 2, -4];
    expect(sampleToken(logits, { ...OFF, temperature: 0, repetitionPenalty: 4 }, Math.random, seen)).toBe(3);
    expect(sweep({ repetitionPenalty: 4 }, seen)).toEqual(expected([0, 1, 2, 3, 4], 1, penalised));
    expect(sweep({ repetitionPenalty: 4, minP: 0.01 }, seen)).toEqual(expected([3, 0, 1, 2], 1, penalised));
  });

  test('seededRandom: the same seed, the same sequence in [0, 1); another seed, another', () => {
    const a = seededRandom(42), b = seededRandom(42), c = seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

test('topK on a large row keeps exactly the k largest logits', () => {
  const row = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 10);
  const byValue = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
  for (const k of [1, 7, 20]) {
    const drawn = new Set<number>();
    const rand = seededRandom(k);
    for (let i = 0; i < 800; i++) drawn.add(sampleToken(row, { ...OFF, topK: k, temperature: 20 }, rand, none));
    expect([...drawn].sort((a, b) => a - b)).toEqual(byValue.slice(0, k).sort((a, b) => a - b));
  }
});
