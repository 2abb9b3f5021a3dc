// Event-loop responsiveness under concurrent inference: Born runs inside Node services, whose
// event loop must keep turning while kernels run.
//
//   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/event-loop.js [seconds] [clients]
//
// `clients` (default 40) concurrent loops each `await model.forward(x).data()` on the MLP of
// `born train` (784-512-256-10), with batch sizes cycling through 1, 2, 4, …, 64, for `seconds`
// (default 3) after a warm-up. Prints the event-loop delay (perf_hooks.monitorEventLoopDelay:
// p50, p99, max), the longest gap between two turns of a 1 ms interval timer, and the throughput
// (requests/s and samples/s). The target: p99 < 10 ms, max < 25 ms.
// On a loaded machine the OS preempts the main thread and inflates every delay; on Linux the
// script also prints the most CPU time the main thread used between two ticks of that timer
// (from /proc's schedstat), which preemption does not inflate, and the process CPU time per
// request, which compares builds fairly when the machine is shared.
import { existsSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as born from '../src/index.js';
import { MODELS } from '../src/cli/models.js';

const seconds = Number(process.argv[2] ?? 3);
const clients = Number(process.argv[3] ?? 40);
const BATCHES = [1, 2, 4, 8, 16, 32, 64];

born.manualSeed(0);
const model = MODELS.mlp();
const inputs = BATCHES.map((b, i) => born.rand([b, 1, 28, 28], { seed: 10 + i }));
await born.realize(...inputs);

async function client(c: number, until: number, stats: { requests: number; samples: number }): Promise<void> {
  for (let r = c; performance.now() < until; r++) {
    const x = inputs[r % inputs.length]!;
    await model.forward(x).data();
    stats.requests++;
    stats.samples += x.shape[0]!;
  }
}

async function phase(ms: number): Promise<{ requests: number; samples: number; ms: number }> {
  const stats = { requests: 0, samples: 0 };
  const t0 = performance.now();
  const until = t0 + ms;
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c, until, stats)));
  return { ...stats, ms: performance.now() - t0 };
}

// Warm-up, which compiles every shape's plan and kernels; its delays are printed apart (planning
// a graph runs synchronously when realize() is called, so cold plans stall the loop once each).
const cold = monitorEventLoopDelay({ resolution: 1 });
cold.enable();
await phase(Math.min(1000, seconds * 500));
cold.disable();

// Nanoseconds the main thread has run, or -1 where /proc is absent.
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const cpuNs = existsSync(schedstat) ? (): number => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) : (): number => -1;

const h = monitorEventLoopDelay({ resolution: 1 });
let last = performance.now();
let lastCpu = cpuNs();
let maxGap = 0;
let maxCpuGap = 0;
const tick = setInterval(() => {
  const now = performance.now();
  const cpu = cpuNs();
  maxGap = Math.max(maxGap, now - last);
  maxCpuGap = Math.max(maxCpuGap, (cpu - lastCpu) / 1e6);
  last = now;
  lastCpu = cpu;
}, 1);
h.enable();
const cpu0 = process.cpuUsage();
const r = await phase(seconds * 1000);
const cpu = process.cpuUsage(cpu0);
h.disable();
clearInterval(tick);

const ms = (ns: number): string => (ns / 1e6).toFixed(2);
console.log(`event-loop: ${clients} clients, MLP forward at batch ${BATCHES.join('/')}, ${(r.ms / 1000).toFixed(1)} s`);
console.log(`  loop delay p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms; longest 1 ms-timer gap ${maxGap.toFixed(1)} ms` +
  (lastCpu >= 0 ? `, most main-thread CPU between ticks ${maxCpuGap.toFixed(1)} ms` : ''));
console.log(`  warm-up (plans and kernels compiled): loop delay p99 ${ms(cold.percentile(99))} ms, max ${ms(cold.max)} ms`);
console.log(`  throughput ${(r.requests / r.ms * 1000).toFixed(0)} requests/s, ${(r.samples / r.ms * 1000).toFixed(0)} samples/s; ` +
  `process CPU (main thread and workers) ${((cpu.user + cpu.system) / 1000 / r.requests).toFixed(2)} ms/request`);
console.log(`EVENT_LOOP ${JSON.stringify({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, maxGap, maxCpuGap, cpuPerRequest: (cpu.user + cpu.system) / 1000 / r.requests, rps: r.requests / r.ms * 1000, sps: r.samples / r.ms * 1000 })}`);
await born.engine.shutdown();
