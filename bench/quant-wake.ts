// A batch-8 packed q8_0 product (W [out, in]) after the calling thread has been busy for `gap`
// ms, as in a decode step where inline kernels run between the products: claimed (the calling
// thread and a worker take chunks, claim.ts) against the pool alone (forced by marking the
// calling thread busy). The workers sleep during the gap; their wake-up is what this measures.
// Usage: flock /tmp/born-heavy.lock node dist-bench/bench/quant-wake.js [out=2048] [in=768] [gap ms=2] [weights=64]
import { engine, randn, realize, setNumThreads } from '../src/index.js';
import type { CpuDevice } from '../src/devices/cpu-workers/device.js';
import { quantize, quantizedWeight, quantLinear } from '../src/quant/index.js';

const [out, inF, gap, nw] = [2048, 768, 2, 64].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number];
setNumThreads(2);
const device = engine.device('cpu') as CpuDevice;
const W = randn([out, inF], { seed: 1 }).mul(0.02);
const values = await W.data() as Float32Array;
// Many weights, so that they come from memory as a model's do, not from the cache.
const ws = Array.from({ length: nw }, () => quantizedWeight(quantize(values, 'q8_0', [out, inF]), 'q8_0', [out, inF]));
const x = randn([8, inF], { seed: 3 });
await realize(x);
await device.whenPoolReady();
const times: number[] = [];
engine.on('kernel', (e) => { if (e.ops.includes('matmul')) times.push(e.ms); });
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function pass(): Promise<number> {
  times.length = 0;
  for (const w of ws) {
    const until = performance.now() + gap;
    while (performance.now() < until);
    const y = quantLinear(x, w);
    await realize(y);
    y.dispose();
  }
  return median(times);
}

const rows: Record<string, number[]> = { claimed: [], pool: [] };
for (let rep = 0; rep < 5; rep++) {
  rows.claimed!.push(await pass());
  device.callerBusy++;
  try { rows.pool!.push(await pass()); } finally { device.callerBusy--; }
}
console.log(`W [${out}, ${inF}] q8_0, batch 8, ${gap} ms busy before each product; kernel ms, median of ${nw} products, per pass`);
for (const [k, v] of Object.entries(rows)) console.log(`${k.padEnd(8)} ${v.slice(1).map((t) => t.toFixed(3)).join('  ')}   median ${median(v.slice(1)).toFixed(3)}`);
process.exit(0);
