// Philox-2x32-10 against the published known-answer vectors (Random123's kat_vectors, from
// Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC11), then the mapping from a
// counter and a seed to the numbers rand() and randn() give. The generator is the kernels' own
// prelude source, evaluated here on the main thread: one implementation, tested as it runs.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { jsPrelude } from '../src/devices/cpu-workers/prelude.js';

interface Philox {
  /** The bare bijection: [word 0, word 1] for counter (c0, c1) and key, as uint32. */
  words(key: number, c0: number, c1: number): [number, number];
  /** What a kernel draws at flat counter `ctr`: both words' top 24 bits, scaled to [0, 1). */
  uniform(key: number, ctr: number): [number, number];
}

const philox = new Function(`${jsPrelude}
  return {
    words: (key, c0, c1) => { const w0 = philox2x32(key, c0, c1); return [w0, phw1]; },
    uniform: (key, ctr) => { const u0 = philox2(key, ctr); return [u0, ph1]; },
  };`)() as Philox;

// philox2x32 10 rows of Random123's kat_vectors: counter words, key, expected output words.
const KAT: [name: string, ctr: [number, number], key: number, out: [number, number]][] = [
  ['zeros', [0x00000000, 0x00000000], 0x00000000, [0xff1dae59, 0x6cd10df2]],
  ['all ones', [0xffffffff, 0xffffffff], 0xffffffff, [0x2c3f628b, 0xab4fd7ad]],
  ['digits of pi', [0x243f6a88, 0x85a308d3], 0x13198a2e, [0xdd7ce038, 0xf62a4c12]],
];

const hex = (ws: readonly number[]): string[] => ws.map((w) => w.toString(16).padStart(8, '0'));
const top24 = (u: number): number => u * 2 ** 24;

/** Born's seed to key mixing (murmur3's 32-bit finaliser of the seed's two halves). */
function keyOf(seed: number): number {
  let h = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

describe('Philox-2x32-10 known answers', () => {
  test.each(KAT)('%s', (_name, [c0, c1], key, out) => {
    expect(hex(philox.words(key, c0, c1))).toEqual(hex(out));
  });

  test('a draw is the top 24 bits of each word; the counter is c0 = low 32 bits, c1 = high bits', () => {
    const [, , key, out] = KAT[0]!;
    expect(philox.uniform(key, 0).map(top24)).toEqual(out.map((w) => w >>> 8));
    // A counter past 2^32 (exact in a double) splits into its two words.
    const ctr = 0x1234 * 2 ** 32 + 0x89abcdef;
    expect(philox.uniform(0x13198a2e, ctr).map(top24)).toEqual(philox.words(0x13198a2e, 0x89abcdef, 0x1234).map((w) => w >>> 8));
    for (const u of philox.uniform(7, 123)) {
      expect(Number.isInteger(top24(u))).toBe(true);
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});

describe('rand and randn draw from Philox at the element index', () => {
  test('rand: element i is word 0 at counter i, keyed by the seed', async () => {
    const n = 1000;
    const got = await born.rand([n], { seed: 7 }).data();
    const want = Float32Array.from({ length: n }, (_, i) => philox.uniform(keyOf(7), i)[0]);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  test('randn: Box–Muller over both words of the same draw', async () => {
    const n = 257;
    // u = (w0 | 1) / 2^32, angle 2π w1 / 2^32 (test/random-normal.test.ts tests the sampler itself):
    // within a float32 rounding; a swapped or shifted word is off by O(1).
    const got = await born.randn([n], { seed: 3 }).data();
    for (let i = 0; i < n; i++) {
      const [w0, w1] = philox.words(keyOf(3), i, 0);
      const want = Math.sqrt(-2 * Math.log(((w0 | 1) >>> 0) / 2 ** 32)) * Math.cos(2 * Math.PI * w1 / 2 ** 32);
      expect(Math.abs(got[i]! - want), `element ${i}: ${got[i]} vs ${want}`).toBeLessThan(3e-7 * Math.max(1, Math.abs(want)));
    }
  });
});
