// noGrad follows the async context: an async callback stays in no-grad mode across its awaits,
// while code running concurrently outside it keeps recording gradients.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

const leaf = (): born.Tensor => born.tensor(Float32Array.from([1, 2, 3])).requiresGrad_();
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
/** Whether a node built here records gradients. */
const recording = (w: born.Tensor): boolean => w.mul(2).requiresGrad;

describe('noGrad with async callbacks', () => {
  test('an async callback records no gradients after an await (PyTorch: no_grad for the whole block)', async () => {
    const w = leaf();
    const seen: boolean[] = [];
    const r = await born.noGrad(async () => {
      seen.push(recording(w));
      await tick();
      seen.push(recording(w));
      await Promise.resolve();
      const out = w.exp().sum();
      seen.push(out.requiresGrad);
      await out.data();
      seen.push(recording(w));
      return out;
    });
    expect(seen).toEqual([false, false, false, false]);
    expect(r.requiresGrad).toBe(false);
    expect(recording(w)).toBe(true);
    // The value is still right, and it is cut from w's graph.
    expect((await r.data())[0]).toBeCloseTo(Math.exp(1) + Math.exp(2) + Math.exp(3), 4);
    expect(() => born.grad(r, [w])).toThrow(/not in the graph/);
  });

  test('two tasks interleave, one inside noGrad and one outside: each sees its own mode', async () => {
    const w = leaf();
    // A fixed interleaving: A0 B0 A1 B1 A2 B2 …, handed over through promises.
    const turns: (() => void)[] = [];
    const waits = Array.from({ length: 12 }, (_, i) => new Promise<void>((r) => { turns[i] = r; }));
    const log: string[] = [];
    const task = async (name: string, first: number): Promise<boolean[]> => {
      const modes: boolean[] = [];
      for (let k = first; k < 12; k += 2) {
        await waits[k];
        modes.push(recording(w));
        log.push(`${name}${k}`);
        if (k % 4 === 0) await tick(); // a macrotask hop too, not only microtasks
        turns[k + 1]?.();
      }
      return modes;
    };
    const inside = born.noGrad(async () => task('A', 0));
    const outside = task('B', 1);
    turns[0]!();
    const [a, b] = await Promise.all([inside, outside]);
    expect(a).toEqual([false, false, false, false, false, false]);
    expect(b).toEqual([true, true, true, true, true, true]);
    expect(log).toEqual(Array.from({ length: 12 }, (_, k) => `${k % 2 ? 'B' : 'A'}${k}`));
    expect(recording(w)).toBe(true);
  });

  test('concurrent async noGrad calls, and a sync one between their awaits', async () => {
    const w = leaf();
    const body = async (): Promise<boolean[]> => {
      const m = [recording(w)];
      await tick();
      m.push(born.noGrad(() => recording(w))); // nested sync inside async
      m.push(recording(w));
      await tick();
      m.push(recording(w));
      return m;
    };
    const p1 = born.noGrad(body);
    const p2 = born.noGrad(body);
    // Between their awaits, the top level records.
    await tick();
    expect(recording(w)).toBe(true);
    expect(born.noGrad(() => recording(w))).toBe(false);
    expect(recording(w)).toBe(true);
    expect(await p1).toEqual([false, false, false, false]);
    expect(await p2).toEqual([false, false, false, false]);
    expect(recording(w)).toBe(true);
  });

  test('nesting in both directions, and a rejection restores the mode', async () => {
    const w = leaf();
    const innerAsync = born.noGrad(() => born.noGrad(async () => { await tick(); return recording(w); }));
    expect(recording(w)).toBe(true);
    expect(await innerAsync).toBe(false);
    const innerSync = await born.noGrad(async () => { await tick(); return born.noGrad(() => recording(w)); });
    expect(innerSync).toBe(false);
    await expect(born.noGrad(async () => { await tick(); throw new Error('boom'); })).rejects.toThrow('boom');
    expect(recording(w)).toBe(true);
    // Gradients flow again after all of it.
    const [g] = born.grad(w.mul(w).sum(), [w]);
    expect(Array.from(await g!.data())).toEqual([2, 4, 6]);
  });
});
