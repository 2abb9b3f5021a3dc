// WebAssembly SIMD kernels against the JS ones, interleaved: rounds of one process with
// BORN_SIMD=0 (JS) and one with the default (SIMD where it qualifies), each timing a few
// [4096, 4096] float32 workloads; prints each round and the medians over rounds.
//
//   npm run build && npx tsc -p tsconfig.bench.json && flock /tmp/born-heavy.lock node dist-bench/bench/simd.js [rounds] [size]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as born from '../src/index.js';

const CASES: Record<string, (x: born.Tensor, y: born.Tensor, z: born.Tensor) => born.Tensor> = {
  chain: (x) => x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 }),
  exp: (x) => x.exp(),
  'mul-add': (x, y, z) => x.mul(y).add(z),
  gelu: (x) => x.gelu(),
  'sum dim 1': (x) => x.sum({ dim: 1 }),
};
const REPS = 7;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

async function child(size: number): Promise<void> {
  const x = born.randn([size, size], { seed: 1 }), y = born.randn([size, size], { seed: 2 }), z = born.randn([size, size], { seed: 3 });
  await born.realize(x, y, z);
  const res: Record<string, number> = {};
  for (const [name, f] of Object.entries(CASES)) {
    const t: number[] = [];
    for (let r = 0; r < REPS + 1; r++) {
      const t0 = performance.now();
      const o = f(x, y, z);
      await o.data();
      o.dispose();
      if (r > 0) t.push(performance.now() - t0);
    }
    res[name] = median(t);
  }
  console.log(JSON.stringify(res));
  process.exit(0);
}

function parent(rounds: number, size: number): void {
  const self = fileURLToPath(import.meta.url);
  const all: Record<string, Record<string, number[]>> = { js: {}, simd: {} };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['js', 'simd'] as const) {
      const env = { ...process.env, BORN_SIMD_BENCH_CHILD: String(size), BORN_SIMD: mode === 'js' ? '0' : 'auto' };
      const out = spawnSync(process.execPath, [self], { env, encoding: 'utf8' });
      const line = out.stdout.trim().split('\n').pop() ?? '';
      const res = JSON.parse(line) as Record<string, number>;
      console.log(`round ${r + 1} ${mode}: ${Object.entries(res).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      for (const [k, v] of Object.entries(res)) (all[mode]![k] ??= []).push(v);
    }
  }
  console.log(`\nmedians over ${rounds} rounds, ms, [${size}, ${size}] float32:`);
  console.log('| workload | JS | SIMD | JS / SIMD |\n|---|---:|---:|---:|');
  for (const k of Object.keys(CASES)) {
    const js = median(all.js![k]!), simd = median(all.simd![k]!);
    console.log(`| ${k} | ${js.toFixed(1)} | ${simd.toFixed(1)} | ${(js / simd).toFixed(2)}x |`);
  }
}

const childSize = process.env['BORN_SIMD_BENCH_CHILD'];
if (childSize) await child(Number(childSize));
else parent(Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 4096));
