// The compute ceiling of this machine for 128-bit WebAssembly SIMD, against native code on the
// same cores. It times (1) a register-only wasm loop of independent f32x4 multiply-adds, the
// most any wasm kernel can reach, on one thread and on two at once; (2) PyTorch's 1024 matmul on
// one thread, alone and as two single-thread processes at once, which shows whether the two
// vCPUs have FMA units of their own; (3) Born's matmul 1024 on one and two threads. A Done-means
// figure that needs more GFLOP/s than (1) gives on two threads cannot be met by wasm code here.
//
//   npm run build && npx tsc -p tsconfig.bench.json && flock /tmp/born-heavy.lock node dist-bench/bench/ceiling.js
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { Asm, I32, oneFunctionModule } from '../src/devices/cpu-workers/matmul/wasm-asm.js';
import * as born from '../src/index.js';

const CHAINS = 12; // independent accumulators: more than FMA latency x ports, fewer than 16 registers
const SECONDS = 2;

/** p(n): n rounds of CHAINS fused f32x4 multiply-adds (8 flops each), one result stored at 0. */
function peakModule(relaxed: boolean): Uint8Array {
  const w = new Asm(1);
  const n = 0;
  const acc = Array.from({ length: CHAINS }, () => w.v128Local());
  const x = w.v128Local(), y = w.v128Local();
  const splat = (v: number, l: number): void => { w.code.push(0x43, ...new Uint8Array(new Float32Array([v]).buffer)); w.simd(0x13).set(l); };
  splat(1.0000001, x);
  splat(0.9999999, y);
  acc.forEach((l, i) => splat(i, l));
  w.countdown(n, () => w.get(n), () => {
    for (const a of acc) {
      if (relaxed) w.get(x).get(y).get(a).simd(0x105);
      else w.get(a).get(x).simd(0xe6).get(y).simd(0xe4);
      w.set(a);
    }
  });
  w.i32(0);
  w.get(acc[0]!);
  for (const a of acc.slice(1)) w.get(a).simd(0xe4);
  w.simdMem(0x0b, 4, 0);
  return oneFunctionModule([1, I32, 0], w.body(), 'p');
}

/** Source run on each thread: instantiates the module, times SECONDS of p(), posts GFLOP/s. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, seconds, flopsPerRound } = workerData;
const p = new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: new WebAssembly.Memory({ initial: 1 }) } }).exports.p;
p(1000);
let rounds = 0; const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) { p(1e6); rounds += 1e6; }
parentPort.postMessage(rounds * flopsPerRound / ((performance.now() - t0) / 1000) / 1e9);
`;

async function wasmPeak(bytes: Uint8Array, threads: number): Promise<number[]> {
  const one = (): Promise<number> => new Promise((resolve, reject) => {
    const w = new Worker(THREAD, { eval: true, workerData: { bytes, seconds: SECONDS, flopsPerRound: CHAINS * 8 } });
    w.once('message', (g: number) => { void w.terminate(); resolve(g); });
    w.once('error', reject);
  });
  return Promise.all(Array.from({ length: threads }, one));
}

const TORCH = `
import time, torch
torch.set_num_threads(1)
a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)
for _ in range(3): a @ b
t = time.perf_counter(); k = 0
while time.perf_counter() - t < ${SECONDS * 2}: a @ b; k += 1
print(2 * 1024 ** 3 * k / (time.perf_counter() - t) / 1e9)
`;

function torchRun(python: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(python, ['-c', TORCH], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (c) => (c === 0 ? resolve(Number(out.trim())) : reject(new Error(`python exited ${c}`))));
  });
}

async function bornMatmul(threads: number): Promise<number> {
  born.setNumThreads(threads);
  const a = born.randn([1024, 1024], { seed: 1 }), b = born.randn([1024, 1024], { seed: 2 });
  await born.realize(a, b);
  const t: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    const c = a.matmul(b);
    await c.data();
    c.dispose();
    if (r > 1) t.push(performance.now() - t0);
  }
  t.sort((x, y) => x - y);
  return (2 * 1024 ** 3) / (t[t.length >> 1]! / 1000) / 1e9;
}

const f1 = (v: number): string => v.toFixed(1);

async function main(): Promise<void> {
  let relaxed = true;
  try { setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch { /* engines that ship it */ }
  let bytes = peakModule(true);
  const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
  if (!wasm.validate(bytes)) { relaxed = false; bytes = peakModule(false); }
  const rows: string[] = [];
  const w1 = (await wasmPeak(bytes, 1))[0]!;
  const w2 = await wasmPeak(bytes, 2);
  const fl = relaxed ? 'f32x4 relaxed multiply-add' : 'f32x4 mul + add';
  rows.push(`| wasm ${fl}, registers only (the ceiling of any wasm kernel) | ${f1(w1)} | ${w2.map(f1).join(' + ')} = ${f1(w2[0]! + w2[1]!)} | ${((w2[0]! + w2[1]!) / w1).toFixed(2)}x |`);
  const python = process.env['BORN_PYTHON'] ?? '/usr/bin/python3';
  let t1: number | null = null;
  try {
    t1 = await torchRun(python);
    const t2 = await Promise.all([torchRun(python), torchRun(python)]);
    rows.push(`| PyTorch matmul 1024, one thread per process | ${f1(t1)} | ${t2.map(f1).join(' + ')} = ${f1(t2[0]! + t2[1]!)} | ${((t2[0]! + t2[1]!) / t1).toFixed(2)}x |`);
  } catch (e) {
    rows.push(`| PyTorch matmul 1024 | not run: ${(e as Error).message} | | |`);
  }
  const b1 = await bornMatmul(1), b2 = await bornMatmul(2);
  rows.push(`| Born matmul 1024 (setNumThreads) | ${f1(b1)} | ${f1(b2)} | ${(b2 / b1).toFixed(2)}x |`);
  console.log('| GFLOP/s | one thread | two threads at once | two / one |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(r);
  const ceiling = w2[0]! + w2[1]!;
  if (t1 !== null) {
    console.log(`\nThe wasm ceiling on both threads is ${f1(ceiling)} GFLOP/s = ${(ceiling / t1).toFixed(2)}x of one PyTorch thread's matmul;` +
      ` Born's matmul reaches ${(100 * Math.max(b1, b2) / ceiling).toFixed(0)} % of it.`);
  }
  process.exit(0);
}

void main();
