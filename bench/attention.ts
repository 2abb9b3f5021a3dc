// Fused attention (one kernel, online softmax) against the composed path (matmul, softmax, matmul)
// on the CPU device: causal self-attention, batch 1, H heads of dim 64, at T = 128, 512, 2048, and
// one-token decoding against T cached keys (kvLength = T). The fused kernel is forced at every size
// (the CPU's default takes it from 2^22 scores up, sdpa-fused.ts).
// For each: the median ms of a realize (after one warm-up), and the peak of the engine's live
// device bytes while it runs (sampled at every kernel event, less what was live before: the
// output, and for the composed path its [H, T, T] scores and weights).
// Usage: flock /tmp/born-heavy.lock node dist-bench/bench/attention.js [reps=3] [heads=4] [T,...]
import { engine, explain, nn, randn, realize, scalar, type Tensor } from '../src/index.js';
import { composedAttention } from '../src/nn/attention.js';
import { fusedAttentionPolicy } from '../src/nn/sdpa-fused.js';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
const MiB = 2 ** 20;

async function measure(f: () => Tensor, reps: number): Promise<{ ms: number; peak: number; kernels: number }> {
  let peak = 0, base = 0;
  const on = (): void => { peak = Math.max(peak, engine.memory().liveBytes - base); };
  engine.on('kernel', on);
  const times: number[] = [];
  try {
    for (let i = 0; i <= reps; i++) {
      const y = f();
      base = engine.memory().liveBytes;
      const t0 = performance.now();
      await realize(y);
      if (i > 0) times.push(performance.now() - t0);
      on();
      y.dispose();
    }
  } finally { engine.off('kernel', on); }
  return { ms: median(times), peak, kernels: explain(f()).kernels.length };
}

async function main(): Promise<void> {
  const reps = Number(process.argv[2] ?? 3);
  const H = Number(process.argv[3] ?? 4);
  const Ts = (process.argv[4] ?? '128,512,2048').split(',').map(Number);
  const E = 64;
  fusedAttentionPolicy.cpuMinScores = 0;
  console.log(`causal self-attention, batch 1, ${H} heads, head dim ${E}, CPU device, median of ${reps}`);
  console.log(`${'T'.padStart(5)} ${'path'.padEnd(16)} ${'ms'.padStart(9)} ${'peak MiB'.padStart(9)} ${'kernels'.padStart(8)}`);
  for (const T of Ts) {
    const q = randn([1, H, T, E], { seed: 1 }), k = randn([1, H, T, E], { seed: 2 }), v = randn([1, H, T, E], { seed: 3 });
    await realize(q, k, v);
    const q1 = randn([1, H, 1, E], { seed: 4 });
    await realize(q1);
    const len = (): Tensor => scalar(T, { dtype: 'int32' });
    const paths: [string, () => Tensor][] = [
      ['fused', () => nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true })],
      ['composed', () => composedAttention(q, k, v, { scale: 1 / Math.sqrt(E), isCausal: true, gqa: false, mask: null, kvLength: null })],
      ['fused decode', () => nn.functional.scaledDotProductAttention(q1, k, v, { isCausal: true, kvLength: len() })],
      ['composed decode', () => composedAttention(q1, k, v, { scale: 1 / Math.sqrt(E), isCausal: true, gqa: false, mask: null, kvLength: len() })],
    ];
    for (const [name, f] of paths) {
      const r = await measure(f, reps);
      console.log(`${String(T).padStart(5)} ${name.padEnd(16)} ${r.ms.toFixed(1).padStart(9)} ${(r.peak / MiB).toFixed(2).padStart(9)} ${String(r.kernels).padStart(8)}`);
    }
    q.dispose(); k.dispose(); v.dispose(); q1.dispose();
  }
}

await main();
