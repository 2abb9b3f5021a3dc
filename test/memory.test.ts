// Memory: buffers go back when tensors are dropped, without tidy(); temporaries never outlive a schedule.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { collectGarbage } from './gc.js';

const gc = (globalThis as { gc?: () => void }).gc;

describe('memory', () => {
  test('gc is exposed to the test process (vitest.config execArgv)', () => {
    expect(typeof gc).toBe('function');
  });

  test('10,000 iterations of build-and-realize keep live buffers and bytes flat', async () => {
    const w = born.randn([64, 64], { seed: 1 });
    await born.realize(w);
    let x = born.randn([16, 64], { seed: 2 });
    await born.realize(x);
    await collectGarbage();
    const before = born.engine.memory();
    let peak = before.liveBuffers;
    for (let i = 0; i < 10_000; i++) {
      // Each step builds on the last realised value: the graph must not grow across steps.
      x = x.matmul(w).tanh().mul(0.5).add(x.softmax({ dim: -1 }));
      await born.realize(x);
      if (i % 1000 === 999) {
        await collectGarbage();
        peak = Math.max(peak, born.engine.memory().liveBuffers);
      }
    }
    await collectGarbage();
    const after = born.engine.memory();
    expect(after.liveBuffers).toBeLessThanOrEqual(before.liveBuffers);
    expect(after.liveBytes).toBeLessThanOrEqual(before.liveBytes);
    expect(peak).toBeLessThan(before.liveBuffers + 10);
    expect(x.node.srcs).toHaveLength(0);
  });

  test('dispose() frees at once, and a disposed tensor says so when used', async () => {
    const before = born.engine.memory().liveBuffers;
    const t = born.randn([100], { seed: 3 });
    await born.realize(t);
    expect(born.engine.memory().liveBuffers).toBe(before + 1);
    t.dispose();
    expect(born.engine.memory().liveBuffers).toBe(before);
    await expect(t.data()).rejects.toThrow(/disposed/);
  });

  test('`using` disposes at the end of the block', async () => {
    const before = born.engine.memory().liveBuffers;
    {
      using t = born.ones([10]).add(1);
      await born.realize(t);
      expect(born.engine.memory().liveBuffers).toBe(before + 1);
    }
    expect(born.engine.memory().liveBuffers).toBe(before);
  });

  test('intermediates of a schedule are freed when it ends', async () => {
    const x = born.randn([32, 32], { seed: 4 });
    await born.realize(x);
    const before = born.engine.memory().liveBuffers;
    const y = x.softmax({ dim: -1 }).sum(); // max and sum intermediates, one output
    await born.realize(y);
    expect(born.engine.memory().liveBuffers).toBe(before + 1);
  });
});
