// Memory does not depend on the caller letting the event loop turn: loops that drop their
// tensors without dispose() and await nothing but Born stay flat, with no gc() call. Device
// memory (SharedArrayBuffers) is invisible to V8's collection heuristics and finalizers run only
// between macrotasks; the engine's ballast and its memory-budget yields cover both.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { BALLAST_CHUNK, ballastBytes } from '../src/scheduler/buffers.js';

const MiB = 2 ** 20;

/** Runs `body` `iters` times and returns the peak live buffers / bytes and the RSS growth. */
async function peaks(iters: number, body: () => Promise<unknown>): Promise<{ buffers: number; bytes: number; rssGrowth: number; ballast: number }> {
  const start = born.engine.memory();
  const rss0 = process.memoryUsage().rss;
  let buffers = 0, bytes = 0, rss = rss0, ballast = 0;
  for (let i = 0; i < iters; i++) {
    await body();
    if (i % 10 === 9) {
      const m = born.engine.memory();
      buffers = Math.max(buffers, m.liveBuffers - start.liveBuffers);
      bytes = Math.max(bytes, m.liveBytes - start.liveBytes);
      rss = Math.max(rss, process.memoryUsage().rss);
      ballast = Math.max(ballast, ballastBytes() - m.liveBytes);
    }
  }
  return { buffers, bytes, rssGrowth: rss - rss0, ballast };
}

describe('memory stays flat without dispose(), gc() or macrotask turns of the caller', () => {
  const n = 200_000; // 800 KB per buffer

  test('await tensor(new Float32Array(n)).add(1).data() in a loop', async () => {
    const iters = 600; // two 800 KB buffers each: 960 MB if nothing came back
    const p = await peaks(iters, () => born.tensor(new Float32Array(n)).add(1).data());
    // Today every buffer stays: 1,200 of them. Bounded here by V8's external-memory step
    // (64 MB), the ballast chunk and one collection's lag.
    expect(p.buffers).toBeLessThan(400);
    expect(p.bytes).toBeLessThan(320 * MiB);
    expect(p.rssGrowth).toBeLessThan(600 * MiB);
  });

  test('await tensor(arr).mean().item() in a loop', async () => {
    const arr = new Float32Array(n).fill(0.5);
    const iters = 1200;
    let ok = true;
    const p = await peaks(iters, async () => { ok &&= (await born.tensor(arr).mean().item()) === 0.5; });
    expect(ok).toBe(true);
    expect(p.bytes).toBeLessThan(320 * MiB);
    expect(p.rssGrowth).toBeLessThan(600 * MiB);
    // The ballast mirrors live device memory: never more than two chunks beyond it.
    expect(p.ballast).toBeLessThanOrEqual(2 * BALLAST_CHUNK);
  });
});
