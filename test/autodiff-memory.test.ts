// A training step releases what backward saved as soon as the backward pass has run (PyTorch's
// retain_graph=False), deterministically: this file replaces FinalizationRegistry with one that
// never calls back before loading Born, so no buffer here is ever freed by the garbage collector.
import { describe, expect, test } from 'vitest';

class NoFinalizers<T> {
  register(_target: object, _held: T, _token?: object): void {}
  unregister(_token: object): boolean { return false; }
  readonly [Symbol.toStringTag] = 'FinalizationRegistry';
}
const realRegistry = globalThis.FinalizationRegistry;
globalThis.FinalizationRegistry = NoFinalizers as unknown as FinalizationRegistryConstructor;
const born = await import('../src/index.js');
globalThis.FinalizationRegistry = realRegistry;
const { nn } = born;

const BATCH = 64;
const f32 = 4;

/** The MLP of `born train` (784-512-256-10), Adam, one fixed random batch. */
async function setup(): Promise<{ step: (readFirst: boolean) => Promise<number>; paramBytes: number; activationBytes: number }> {
  born.manualSeed(3);
  const model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10));
  const opt = new born.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = born.rand([BATCH, 1, 28, 28], { seed: 1 });
  const y = born.randint(0, 10, [BATCH], { seed: 2 });
  await born.realize(x, y, ...model.parameters());
  const paramBytes = model.parameters().reduce((a, p) => a + p.numel() * f32, 0);
  // One step's forward values: the input, each linear's output and each ReLU's, the logits.
  const activationBytes = BATCH * (784 + 2 * 512 + 2 * 256 + 10) * f32;
  const step = async (readFirst: boolean): Promise<number> => {
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    if (readFirst) await loss.data(); // the forward alone: its intermediates are saved for backward
    loss.backward();
    await opt.step([loss]);
    opt.zeroGrad();
    return loss.item();
  };
  return { step, paramBytes, activationBytes };
}

describe('saved intermediates are released once backward has read them', () => {
  for (const readFirst of [false, true]) {
    test(`50 MLP training steps with Adam keep live device bytes bounded (${readFirst ? 'forward read before backward' : 'one schedule per step'})`, async () => {
      // Measured from before the model exists: what earlier tests left is not this loop's.
      const before = born.engine.memory().liveBytes;
      const { step, paramBytes, activationBytes } = await setup();
      const start = born.engine.memory().liveBytes - before;
      // Parameter and optimizer-state updates are written into their own buffers, so nothing a
      // step makes outlives it but the loss the caller holds.
      const supersededPerStep = 0;
      const bound = 2 * (paramBytes + 2 * paramBytes + activationBytes);
      const losses: number[] = [];
      let worst = 0;
      for (let i = 1; i <= 50; i++) {
        losses.push(await step(readFirst));
        const live = born.engine.memory().liveBytes - before - i * supersededPerStep;
        worst = Math.max(worst, live);
      }
      expect(start).toBeLessThanOrEqual(bound);
      expect(worst, `live bytes beyond the optimizer's superseded values: ${worst} (bound ${bound})`).toBeLessThanOrEqual(bound);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!); // and it trains
    });
  }

  test('a second backward after the first one was read recomputes the released values', async () => {
    const w = born.tensor(Float32Array.from([0.5, -1, 2]), { shape: [3, 1] }).requiresGrad_();
    const x = born.tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    const h = x.matmul(w).tanh();
    const loss = h.mul(h).sum();
    await loss.data(); // h is saved for backward
    loss.backward();
    const first = Array.from(await w.grad!.data()); // the backward pass releases h
    expect(h.node.realized).toBeNull();
    loss.backward(); // recomputes h from its sources
    const twice = Array.from(await w.grad!.data());
    // d/dw Σ tanh(xw)² = xᵀ (2 tanh(z) (1 - tanh(z)²)), in float64 by hand.
    const z = [0.5 - 2 + 6, 2 - 5 + 12];
    const dz = z.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
    const rows = [[1, 2, 3], [4, 5, 6]];
    const want = [0, 1, 2].map((k) => rows[0]![k]! * dz[0]! + rows[1]![k]! * dz[1]!);
    first.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
    twice.forEach((g, i) => expect(g).toBeCloseTo(2 * want[i]!, 5));
    expect(Array.from(await h.data())).toEqual(Array.from(await x.matmul(w).tanh().data()));
  });
});
