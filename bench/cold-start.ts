// Cold start (issue 13): a fresh process's `import` of the library plus its first inference of
// the MLP (784-512-256-10, ReLU; src/cli/models.ts) at batch 1, timed inside the process from
// just before `await import(...)` to the first result's data in hand. Node's own start-up
// (`node -e 0`) is not counted. Each peer runs in RUNS fresh processes, interleaved round-robin
// so that a noisy spell of the machine hits every peer alike; medians are reported.
//
//   npm run build && npx tsc -p tsconfig.bench.json && \
//     flock /tmp/born-heavy.lock node dist-bench/bench/cold-start.js [--runs 7] [--peers born,ort,tfjs-cpu,tfjs-wasm]
//
// The weights are made once by Born (seeded) into a temporary directory: mlp.safetensors for Born
// and TensorFlow.js, and the same model exported by born.onnx.save as mlp.onnx for onnxruntime.
// Every peer's logits are checked against Born's, computed in this (warm) process.
// BORN_COLD_PROFILE=DIR adds one `node --cpu-prof` run of Born's cold path, profiles in DIR.
//
// This file imports only Node built-ins statically: a child must not have loaded any library
// before its clock starts.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { childMain, input, type ChildResult, PEERS, type PeerName } from './cold-start-child.js';

type Born = typeof import('../src/index.js');

const PREFIX = 'BORN_COLD ';


const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function makeModel(dir: string): Promise<Float32Array> {
  const born = (await import(pathToFileURL(bornEntry()).href)) as Born;
  born.manualSeed(13);
  const { nn } = born;
  const model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10));
  model.eval();
  await born.save(model.stateDict(), path.join(dir, 'mlp.safetensors'), { metadata: { model: 'mlp' } });
  const x = born.tensor(input(), { shape: [1, 1, 28, 28] });
  await born.onnx.save(model, [x], path.join(dir, 'mlp.onnx'), { inputNames: ['x'], outputNames: ['y'] });
  const y = (await born.noGrad(() => model.forward(x)).data()) as Float32Array;
  await born.engine.shutdown();
  return y;
}

/**
 * The file `import 'born'` loads (package.json's exports), from dist-bench/bench/ (or bench/ under a
 * TS runner); BORN_COLD_ENTRY=FILE times another build (e.g. dist/index.js, the per-file modules).
 */
export function bornEntry(): string {
  const other = process.env['BORN_COLD_ENTRY'];
  if (other) return path.resolve(other);
  const here = path.dirname(new URL(import.meta.url).pathname);
  const root = path.basename(path.dirname(here)) === 'dist-bench' ? path.resolve(here, '../..') : path.resolve(here, '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: { '.': { import: string } } };
  return path.join(root, pkg.exports['.'].import);
}

function spawnChild(peer: PeerName, dir: string, extra: string[] = []): ChildResult {
  const r = spawnSync(process.execPath, [...extra, new URL(import.meta.url).pathname, '--child', peer, '--dir', dir], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  const line = `${r.stdout ?? ''}`.split('\n').find((l) => l.startsWith(PREFIX));
  if (!line) {
    const last = `${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${r.status ?? r.signal}`;
    throw new Error(`${peer}: no result (${last.slice(0, 400)})`);
  }
  return JSON.parse(line.slice(PREFIX.length)) as ChildResult;
}

function check(got: readonly number[], ref: Float32Array): string {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((got[i] ?? NaN) - ref[i]!) || (Number.isNaN(got[i]) ? Infinity : 0));
  return worst <= 1e-4 ? 'ok' : `WRONG (max |Δ| ${worst})`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const runs = Number(opt('runs') ?? 7);
  const peers = (opt('peers')?.split(',') ?? [...PEERS]) as PeerName[];
  for (const p of peers) if (!PEERS.includes(p)) throw new Error(`unknown peer ${p} (known: ${PEERS.join(', ')})`);
  const dir = mkdtempSync(path.join(tmpdir(), 'born-cold-'));
  try {
    const ref = await makeModel(dir);
    const results = new Map<PeerName, ChildResult[]>(peers.map((p) => [p, []]));
    const errors = new Map<PeerName, string>();
    for (let i = 0; i < runs; i++) {
      for (const p of peers) {
        if (errors.has(p)) continue;
        try {
          results.get(p)!.push(spawnChild(p, dir));
        } catch (e) {
          errors.set(p, e instanceof Error ? e.message : String(e));
        }
      }
    }
    const rows: string[] = [];
    const bornTotal = median((results.get('born') ?? []).map((r) => r.totalMs));
    rows.push(`cold start: import + first batch-1 MLP inference, in-process, median of ${runs} fresh processes (interleaved)`);
    rows.push(`${'peer'.padEnd(13)} ${'total ms'.padStart(9)} ${'import'.padStart(7)} ${'load'.padStart(7)} ${'first'.padStart(7)} ${'vs born'.padStart(8)} ${'cpu ms'.padStart(7)}  check   (min-max total)`);
    for (const p of peers) {
      const rs = results.get(p)!;
      if (errors.has(p) && !rs.length) { rows.push(`${p.padEnd(13)} n/a: ${errors.get(p)}`); continue; }
      const tot = rs.map((r) => r.totalMs);
      const f = (xs: number[]): string => median(xs).toFixed(1).padStart(7);
      const ratio = Number.isFinite(bornTotal) ? (median(tot) / bornTotal).toFixed(2) + 'x' : '';
      const bad = rs.map((r) => check(r.logits, ref)).find((c) => c !== 'ok') ?? 'ok';
      rows.push(`${p.padEnd(13)} ${median(tot).toFixed(1).padStart(9)} ${f(rs.map((r) => r.importMs))} ${f(rs.map((r) => r.loadMs))} ${f(rs.map((r) => r.firstMs))} ${ratio.padStart(8)} ${f(rs.map((r) => r.cpuMs))}  ${bad.padEnd(6)}  (${Math.min(...tot).toFixed(0)}-${Math.max(...tot).toFixed(0)})`);
    }
    rows.push('import: `await import()` (+ backend set-up for tfjs); load: weights read and model built (ort: session created);');
    rows.push('first: input tensor, forward, logits read; cpu: user + system time of all threads over the total.');
    rows.push(`Node start-up itself is not counted. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs.`);
    for (const p of ['born', 'born-skipinit'] as const) {
      const rs = results.get(p) ?? [];
      if (!rs.length || !rs[0]!.detail) continue;
      const keys = Object.keys(rs[0]!.detail);
      rows.push(`${p} detail: ${keys.map((k) => `${k} ${median(rs.map((r) => r.detail?.[k] ?? NaN)).toFixed(1)}`).join(', ')} (medians)`);
    }
    rows.push('born: nn.Sequential(...) then loadStateDict(await born.load(file)); born-skipinit: the same built under nn.skipInit.');
    console.log(rows.join('\n'));
    const profDir = process.env['BORN_COLD_PROFILE'];
    if (profDir) {
      const r = spawnChild('born', dir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      console.log(`profiled run (--cpu-prof, in ${profDir}): total ${r.totalMs.toFixed(1)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  const argv = process.argv;
  const peer = argv[argv.indexOf('--child') + 1] as PeerName;
  const dir = argv[argv.indexOf('--dir') + 1]!;
  const r = await childMain(peer, dir, bornEntry());
  process.stdout.write(`${PREFIX}${JSON.stringify(r)}\n`);
  process.exit(0);
} else {
  const t0 = performance.now();
  await main();
  console.log(`(bench ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
