/**
 * Mutated real models (byte flips, truncations, insertions) load and run to a result or a thrown
 * Error: never a crash, a hang or an unbounded allocation.
 */
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';

const ROOT = '/usr/share/libonnx-testdata/data/node';
const MODELS = ['test_add_bcast', 'test_reshape_extended_dims', 'test_slice', 'test_gather_0', 'test_constant', 'test_if']
  .map((m) => `${ROOT}/${m}/model.onnx`).filter(existsSync);

/** Runs the model on ones of its declared shapes (symbolic dims 2); errors are the expected outcome. */
async function attempt(bytes: Uint8Array): Promise<void> {
  const m = await born.onnx.load(bytes);
  const inputs = Object.fromEntries(m.inputs.map((i) => {
    const shape = (i.shape ?? []).map((d) => (typeof d === 'number' ? Math.min(d, 64) : 2));
    return [i.name, born.ones(shape, { dtype: i.dtype })];
  }));
  const out = await m.run(inputs);
  for (const t of Object.values(out)) if (t.numel() <= 1 << 20) await t.data();
}

describe.skipIf(!MODELS.length)('onnx fuzz: mutated models', () => {
  test('byte flips, truncations and insertions end in a result or an Error', async () => {
    const models = MODELS.map((p) => new Uint8Array(readFileSync(p)));
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: models.length - 1 }),
      fc.array(fc.tuple(fc.constantFrom('flip', 'cut', 'insert'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      async (which, edits) => {
        let b = models[which]!.slice();
        for (const [kind, at0, byte] of edits) {
          const at = at0 % Math.max(1, b.length);
          if (kind === 'flip') b[at] = byte;
          else if (kind === 'cut') b = b.subarray(0, at);
          else b = new Uint8Array([...b.subarray(0, at), byte, ...b.subarray(at)]);
        }
        try { await attempt(b); } catch (e) { expect(e).toBeInstanceOf(Error); expect((e as Error).message.length).toBeGreaterThan(0); }
      },
    ), { numRuns: Number(process.env.ONNX_FUZZ_RUNS ?? 150) });
  });
});
