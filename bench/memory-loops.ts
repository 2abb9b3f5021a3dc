// Memory of loops that drop their tensors without dispose() and never yield a macrotask:
// live device buffers and RSS must stay bounded.
//
//   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/memory-loops.js [add-iterations] [mean-iterations]
//
// Loop 1: `await born.tensor(new Float32Array(200000)).add(1).data()` (default 2000 times).
// Loop 2: `await born.tensor(arr).mean().item()` with one 200,000-element array (default 6000 times).
// Prints, for each, the peak and final live buffers / bytes and the peak RSS.
import * as born from '../src/index.js';

const addIters = Number(process.argv[2] ?? 2000);
const meanIters = Number(process.argv[3] ?? 6000);
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

async function loop(name: string, iters: number, body: () => Promise<unknown>): Promise<void> {
  let peakBuffers = 0, peakBytes = 0, peakRss = 0;
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    await body();
    if (i % 50 === 49) {
      const m = born.engine.memory();
      peakBuffers = Math.max(peakBuffers, m.liveBuffers);
      peakBytes = Math.max(peakBytes, m.liveBytes);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  const m = born.engine.memory();
  const rss = process.memoryUsage().rss;
  console.log(`${name}: ${iters} iterations in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
    `live buffers peak ${peakBuffers}, end ${m.liveBuffers}; live bytes peak ${mib(peakBytes)} MiB, end ${mib(m.liveBytes)} MiB; ` +
    `RSS peak ${mib(Math.max(peakRss, rss))} MiB, end ${mib(rss)} MiB`);
}

await loop('tensor(Float32Array(200000)).add(1).data()', addIters, () => born.tensor(new Float32Array(200000)).add(1).data());
const arr = new Float32Array(200000).fill(1);
await loop('tensor(arr).mean().item()', meanIters, () => born.tensor(arr).mean().item());
await born.engine.shutdown();
