// Matmul shapes of the issue-9 targets, one realize per call: 256^3 (the bench's matmul_256), the
// MLP's forward and backward shapes at batch 256 (784-512-256-10), and batched attention-head
// matmuls. For each: the median time of a realize warm (back to back) and cold (after a full GC,
// as the bench's timing loop does), the matmul kernel's own time from engine 'kernel' events,
// and where the cost model placed it (explain()).
// Usage: node --expose-gc dist-bench/bench/matmul-shapes.js [reps=20] [name-prefix]
import { engine, explain, nn, randn, realize, type Tensor } from '../src/index.js';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
};

async function main(): Promise<void> {
  const reps = Number(process.argv[2] ?? 20);
  const only = process.argv[3] ?? '';
  const gc = (globalThis as { gc?: () => void }).gc;
  const r = (shape: number[], seed: number): Tensor => randn(shape, { seed });
  const X = r([256, 784], 1), W1 = r([512, 784], 2), b1 = r([512], 3), H1 = r([256, 512], 4), W2 = r([256, 512], 5);
  const H2 = r([256, 256], 6), W3 = r([10, 256], 7), dY3 = r([256, 10], 8), dY2 = r([256, 256], 9), dY1 = r([256, 512], 10);
  const S = r([256, 256], 11), S2 = r([256, 256], 12);
  const Q = r([32, 64, 64], 13), Kt = r([32, 64, 64], 14), Q2 = r([8, 128, 64], 15), K2 = r([8, 64, 128], 16);
  await realize(X, W1, b1, H1, W2, H2, W3, dY3, dY2, dY1, S, S2, Q, Kt, Q2, K2);
  const cases: [string, () => Tensor][] = [
    ['256^3', () => S.matmul(S2)],
    ['fc1 fwd +bias relu', () => nn.functional.linear(X, W1, b1).relu()],
    ['fc2 fwd x W^T', () => H1.matmul(W2.T)],
    ['fc3 fwd x W^T', () => H2.matmul(W3.T)],
    ['fc1 dW = dY^T X', () => dY1.T.matmul(X)],
    ['fc2 dX = dY W', () => dY2.matmul(W2)],
    ['fc2 dW = dY^T X', () => dY2.T.matmul(H1)],
    ['fc3 dX = dY W', () => dY3.matmul(W3)],
    ['fc3 dW = dY^T X', () => dY3.T.matmul(H2)],
    ['attn [32,64,64]^2', () => Q.matmul(Kt)],
    ['attn [8,128,64]x[8,64,128]', () => Q2.matmul(K2)],
  ];
  const events: { ms: number; flops: number; ops: readonly string[] }[] = [];
  engine.on('kernel', (e) => events.push(e));
  console.log(`${'shape'.padEnd(28)} ${'warm ms'.padStart(8)} ${'cold ms'.padStart(8)} ${'kernel'.padStart(8)} ${'GFLOP/s'.padStart(8)}  placement`);
  for (const [name, f] of cases) {
    if (!name.startsWith(only)) continue;
    const time = async (cold: boolean): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < reps; i++) {
        if (cold) gc?.();
        const y = f();
        const t0 = performance.now();
        await realize(y);
        out.push(performance.now() - t0);
        y.dispose();
      }
      return out;
    };
    await time(false);
    events.length = 0;
    const warm = median(await time(false));
    const mm = events.filter((e) => e.ops.includes('matmul'));
    const cold = gc ? median(await time(true)) : NaN;
    const kms = median(mm.map((e) => e.ms));
    const gf = mm.length ? mm[0]!.flops / kms / 1e6 : NaN;
    const y = f();
    const where = explain(y).kernels.filter((k) => k.ops.includes('matmul')).map((k) => k.placement).join('; ');
    y.dispose();
    console.log(`${name.padEnd(28)} ${warm.toFixed(3).padStart(8)} ${cold.toFixed(3).padStart(8)} ${kms.toFixed(3).padStart(8)} ${gf.toFixed(1).padStart(8)}  ${where}`);
  }
}

await main();
process.exit(0);
