// Batch-1 decoding's matrix-vector product y = x Wᵀ on the CPU with W in float32, q8_0, q4_0, q4_K
// (packed blocks read by the matmul kernel, src/quant), and the same at batch 8. For each: the
// median realize time, the kernel's own time (engine 'kernel' events), the weight's bytes read
// per second over the kernel time, and where the cost model placed it.
// Usage: node dist-bench/bench/quant-matvec.js [out=4096] [in=4096] [reps=30]
import { engine, explain, randn, realize, type Tensor } from '../src/index.js';
import { quantize, quantizedWeight, quantLinear } from '../src/quant/index.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
};

async function main(): Promise<void> {
  const out = Number(process.argv[2] ?? 4096), inF = Number(process.argv[3] ?? 4096), reps = Number(process.argv[4] ?? 30);
  const W = randn([out, inF], { seed: 1 }).mul(0.02);
  const values = await W.data() as Float32Array;
  const q8 = quantizedWeight(quantize(values, 'q8_0', [out, inF]), 'q8_0', [out, inF]);
  const q4 = quantizedWeight(quantize(values, 'q4_0', [out, inF]), 'q4_0', [out, inF]);
  // q4_K is not quantised here; random blocks (small scales) time the same kernel.
  const k4 = new Uint8Array(out * (inF / 256) * 144).map((_, i) => (i * 2654435761) >>> 24);
  for (let p = 0; p < k4.length; p += 144) { k4[p] = 0; k4[p + 1] = 0x14; k4[p + 2] = 0; k4[p + 3] = 0x10; }
  const qk = quantizedWeight(k4, 'q4_K', [out, inF]);
  const xs = [1, 8].map((m) => randn([m, inF], { seed: 2 + m }));
  await realize(W, ...xs);
  const kinds: [string, number, (x: Tensor) => Tensor][] = [
    ['f32', out * inF * 4, (x) => x.matmul(W.T)],
    ['q8_0', q8.nbytes, (x) => quantLinear(x, q8)],
    ['q4_0', q4.nbytes, (x) => quantLinear(x, q4)],
    ['q4_K', qk.nbytes, (x) => quantLinear(x, qk)],
  ];
  const events: { ms: number; ops: readonly string[] }[] = [];
  engine.on('kernel', (e) => events.push(e));
  console.log(`W [${out}, ${inF}], ${reps} reps, medians`);
  console.log(`${'case'.padEnd(14)} ${'MB'.padStart(6)} ${'realize ms'.padStart(10)} ${'kernel ms'.padStart(9)} ${'GB/s'.padStart(6)}  placement`);
  const rows: Record<string, number | string>[] = [];
  for (const x of xs) {
    for (const [name, bytes, f] of kinds) {
      for (let i = 0; i < 3; i++) { const y = f(x); await realize(y); y.dispose(); }
      const wall: number[] = [], kernel: number[] = [];
      for (let i = 0; i < reps; i++) {
        const y = f(x);
        events.length = 0;
        const t0 = performance.now();
        await realize(y);
        wall.push(performance.now() - t0);
        const mm = events.filter((e) => e.ops.includes('matmul'));
        kernel.push(mm.reduce((s, e) => s + e.ms, 0));
        y.dispose();
      }
      const y = f(x);
      const placement = explain(y).kernels.find((k) => k.ops.includes('matmul'))?.placement ?? '?';
      y.dispose();
      const k = median(kernel), gbs = bytes / (k * 1e6);
      const label = `${name} batch ${x.shape[0]}`;
      rows.push({ case: label, mb: +(bytes / 1e6).toFixed(1), realizeMs: +median(wall).toFixed(3), kernelMs: +k.toFixed(3), gbs: +gbs.toFixed(2), placement });
      console.log(`${label.padEnd(14)} ${(bytes / 1e6).toFixed(1).padStart(6)} ${median(wall).toFixed(2).padStart(10)} ${k.toFixed(2).padStart(9)} ${gbs.toFixed(1).padStart(6)}  ${placement}`);
    }
  }
  console.log(JSON.stringify(rows));
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
