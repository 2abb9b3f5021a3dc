// The WebGPU device against TensorFlow.js's WebGPU backend on the same adapter (issue 10):
//
//   npx tsc -p tsconfig.bench.json && node dist-bench/bench/webgpu.js [options]
//   node dist-bench/bench/run.js --only webgpu [options]      (the same, through the suite)
//
//   --quick                 fewer repetitions
//   --only matmul,chain,train-mlp   workloads (default: all three)
//   --peers born,tfjs-webgpu,born-cpu   peers (default: all three; born-cpu runs train-mlp only)
//   --sizes 1024,2048,4096  matmul sizes
//   --cap-s S               seconds one matmul size may take per peer (default 60): a size whose
//                           calls would not fit runs fewer calls without warm-up, or none
//   --rounds N              run every (workload, peer) process N times, interleaved; a cell is
//                           the median of the rounds' medians (default 1)
//   --peak-tflops X         the card's fp32 peak, for the "% of peak" target on a GPU
//   --out FILE              the markdown file whose WebGPU section is rewritten (default
//                           bench/RESULTS.md); --no-write: print only
//   --no-merge              do not carry over figures of an earlier run (same CPU and adapter)
//                           from FILE's -webgpu.json for the pairs this run does not measure
//   --timeout-s S           per peer process (default 600)
//   --render                measure nothing: rewrite the section from FILE's -webgpu.json
//
// Each peer process (peers/born.js --device webgpu|cpu, peers/tfjs.js --backend webgpu) runs one
// workload as bench/run.ts's peers do; the tfjs process opens Born's WebGPU device first and
// hands its Dawn instance to tfjs (peers/tfjs-webgpu.ts). Ratios are speed ratios: > 1 means
// Born (on WebGPU) is faster.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type CaseResult, type PeerResult, type Plan } from './common.js';
import { doneMeansTable, judge, type Target } from './done-means.js';
import { backgroundLoad, cpuTimes, NOISY, otherLoad } from './load.js';
import { flops } from './workloads/matmul.js';
import { shell, markdown, type Row, type Saved } from './webgpu-report.js';

type W = 'matmul' | 'chain' | 'train-mlp';
const WORKLOADS: readonly W[] = ['matmul', 'chain', 'train-mlp'];

const PLANS: Record<W, { full: Plan; quick: Plan }> = {
  // warm-up 1: the first call compiles the pipelines; a call of 2048 on a software adapter takes seconds
  matmul: { full: { warmup: 1, reps: 10, budgetMs: 10_000, minReps: 3 }, quick: { warmup: 1, reps: 3, budgetMs: 3_000, minReps: 2 } },
  chain: { full: { warmup: 2, reps: 10, budgetMs: 8_000, minReps: 3 }, quick: { warmup: 1, reps: 3, budgetMs: 3_000, minReps: 2 } },
  // The budget is also the first step's allowance (timeSteps): the first step compiles every
  // pipeline, on a software adapter ~25 s for tfjs-webgpu and ~70 s for Born under load, against
  // ~1 s for tfjs's steps after it.
  'train-mlp': { full: { warmup: 2, reps: 15, budgetMs: 120_000, minReps: 3 }, quick: { warmup: 2, reps: 4, budgetMs: 120_000, minReps: 2 } },
};

interface Peer { name: string; label: string; workloads: readonly W[]; args: string[] }
const PEERS: readonly Peer[] = [
  { name: 'born', label: 'Born webgpu', workloads: WORKLOADS, args: ['peers/born.js', '--device', 'webgpu'] },
  { name: 'tfjs-webgpu', label: 'tfjs-webgpu', workloads: WORKLOADS, args: ['peers/tfjs.js', '--backend', 'webgpu'] },
  { name: 'born-cpu', label: 'Born cpu', workloads: ['train-mlp'], args: ['peers/born.js', '--device', 'cpu'] },
];

const here = path.dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const root = path.resolve(here, '..', '..');

interface Options {
  quick: boolean; workloads: W[]; peers: Peer[]; sizes: number[]; capS: number; rounds: number;
  peakTflops?: number; out: string | null; merge: boolean; timeoutS: number;
}

function die(msg: string): never {
  process.stderr.write(`bench/webgpu: ${msg}\n`);
  process.exit(2);
}

function parse(argv: readonly string[]): Options {
  const o: Options = {
    quick: false, workloads: [...WORKLOADS], peers: [...PEERS], sizes: [1024, 2048, 4096], capS: 60, rounds: 1,
    out: path.join(root, 'bench', 'RESULTS.md'), merge: true, timeoutS: 600,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const val = (): string => (eq > 0 ? a.slice(eq + 1) : (argv[++i] ?? ''));
    const list = (): string[] => val().split(',').map((s) => s.trim()).filter(Boolean);
    const num = (what: string): number => { const v = Number(val()); if (!(v > 0)) die(`${what} needs a positive number`); return v; };
    if (key === '--quick') o.quick = true;
    else if (key === '--only') {
      const ws = list().filter((w) => w !== 'webgpu');
      for (const w of ws) if (!(WORKLOADS as readonly string[]).includes(w)) die(`--only: unknown workload ${w} (${WORKLOADS.join(', ')})`);
      if (ws.length) o.workloads = WORKLOADS.filter((w) => ws.includes(w));
    } else if (key === '--peers') {
      const ps = list().filter((p) => p !== 'installed');
      for (const p of ps) if (!PEERS.some((q) => q.name === p)) die(`--peers: unknown peer ${p} (${PEERS.map((q) => q.name).join(', ')})`);
      if (ps.length) o.peers = PEERS.filter((p) => ps.includes(p.name));
    } else if (key === '--sizes') o.sizes = list().map(Number);
    else if (key === '--cap-s') o.capS = num('--cap-s');
    else if (key === '--rounds') o.rounds = Math.round(num('--rounds'));
    else if (key === '--peak-tflops') o.peakTflops = num('--peak-tflops');
    else if (key === '--out') o.out = path.resolve(val());
    else if (key === '--no-write') o.out = null;
    else if (key === '--no-merge') o.merge = false;
    else if (key === '--timeout-s') o.timeoutS = num('--timeout-s');
    else if (key === '--render') o.workloads = [];
    else if (key === '--help' || key === '-h') {
      const src = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
      process.stdout.write(src.slice(0, src.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    } else die(`unknown option ${a} (try --help)`);
  }
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1)) die('--sizes: positive integers, e.g. 1024,2048,4096');
  return o;
}

interface Outcome { result: PeerResult | null; error?: string; wallS: number; other?: number }

function runPeer(peer: Peer, w: W, o: Options): Promise<Outcome> {
  const plan = PLANS[w][o.quick ? 'quick' : 'full'];
  const [file, ...extra] = peer.args;
  const args = ['--expose-gc', path.join(here, file!), ...extra, '--workload', w, '--warmup', String(plan.warmup), '--reps', String(plan.reps),
    '--budget-ms', String(plan.budgetMs), '--min-reps', String(plan.minReps), ...(o.quick ? ['--quick'] : []),
    ...(w === 'matmul' ? ['--sizes', o.sizes.join(','), '--cap-s', String(o.capS)] : [])];
  const t0 = Date.now();
  const cpu0 = cpuTimes();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-10_000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallS = (Date.now() - t0) / 1000;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (line) {
        const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as PeerResult;
        resolve({ result, wallS, other: otherLoad(cpu0, cpuTimes(), result.cpuS) });
        return;
      }
      const last = err.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
      resolve({ result: null, wallS, error: signal === 'SIGKILL' && wallS >= o.timeoutS ? `timed out after ${o.timeoutS} s` : `exited ${signal ?? code} without a result${last ? `: ${last.slice(0, 200)}` : ''}` });
    });
  });
}

/** The case ids of a workload in this run. */
const caseIds = (w: W, o: Options): string[] => (w === 'matmul' ? o.sizes.map((n) => `matmul_${n}`) : w === 'chain' ? ['chain'] : ['train_mlp']);

/** One (peer, case) over the rounds: the median of the rounds' medians, the best of their bests. */
function combine(rounds: readonly CaseResult[]): CaseResult {
  const ok = rounds.filter((c) => c.error === undefined && c.median !== undefined);
  if (!ok.length) return rounds[rounds.length - 1]!;
  const first = ok[0]!;
  const failed = ok.find((c) => c.check !== undefined && !c.check.startsWith('ok'));
  return {
    ...first,
    median: median(ok.map((c) => c.median!)),
    min: Math.min(...ok.map((c) => c.min ?? c.median!)),
    n: ok.reduce((s, c) => s + (c.n ?? 0), 0),
    ...(failed ? { check: failed.check } : {}),
    ...(ok.length > 1 ? { note: [first.note, `median of ${ok.length} processes' medians`].filter(Boolean).join('; ') } : {}),
  };
}

/** Born's name for the adapter: the end of a WebGPU peer's version, after ', adapter '. */
const adapterOf = (version: string | undefined): string | undefined => {
  const at = version?.lastIndexOf(', adapter ') ?? -1;
  return at < 0 ? undefined : version!.slice(at + ', adapter '.length);
};
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software/i;

function machineKey(adapter: string | undefined): string {
  return `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length} | ${adapter ?? '?'}`;
}

/** The targets of issue 10 that this adapter is held to (a GPU's only where the adapter is one). */
function targets(gpu: boolean): Target[] {
  const t: Target[] = [
    { what: 'matmul fp32 1024 on WebGPU, GFLOP/s', workload: 'matmul', caseId: 'matmul_1024', peer: 'tfjs-webgpu', kind: 'speed', threshold: 2 },
    { what: 'matmul fp32 4096 on WebGPU, GFLOP/s', workload: 'matmul', caseId: 'matmul_4096', peer: 'tfjs-webgpu', kind: 'speed', threshold: 2 },
  ];
  if (gpu) t.push({ what: 'MLP training on WebGPU, samples/s', workload: 'train-mlp', caseId: 'train_mlp', peer: 'born-cpu', kind: 'speed', threshold: 5 });
  return t;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const started = Date.now();
  const bgBefore = await backgroundLoad();
  const rounds = new Map<string, CaseResult[]>(); // `${peer}/${case}` -> one result per round
  const versions = new Map<string, string>();
  const others = new Map<string, number[]>();
  const wall: string[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const w of o.workloads) {
      for (const p of o.peers) {
        if (!p.workloads.includes(w)) continue;
        process.stderr.write(`bench/webgpu: ${o.rounds > 1 ? `round ${r + 1}/${o.rounds} ` : ''}${w.padEnd(9)} ${p.name.padEnd(11)} … `);
        const t = await runPeer(p, w, o);
        if (t.result?.version) versions.set(p.name, t.result.version);
        const firstError = t.result?.cases.find((c) => c.error !== undefined)?.error;
        for (const id of caseIds(w, o)) {
          const c = t.result?.cases.find((x) => x.id === id) ?? { id, unit: 'ms' as const, error: t.error ?? firstError ?? 'no figure' };
          const key = `${p.name}/${id}`;
          rounds.set(key, [...(rounds.get(key) ?? []), c]);
        }
        if (t.other !== undefined) others.set(`${w}/${p.name}`, [...(others.get(`${w}/${p.name}`) ?? []), t.other]);
        wall.push(`${w}/${p.name} ${t.wallS.toFixed(0)} s`);
        const summary = (t.result?.cases ?? []).map((c) => {
          if (c.median === undefined) return `${c.id}=n/a (${(c.error ?? '').slice(0, 90)})`;
          const v = c.flops ? `${(c.flops / (c.median * 1e6)).toFixed(2)} GFLOP/s` : c.id === 'train_mlp' ? `${((256 * 1000) / c.median).toFixed(0)} samples/s` : `${c.median.toFixed(1)} ms`;
          return `${c.id}=${v}${c.check && !c.check.startsWith('ok') ? ' (CHECK FAILED)' : ''}`;
        }).join(', ');
        process.stderr.write(`${t.wallS.toFixed(1)} s  ${summary || t.error}${t.other !== undefined ? `  [other load ${t.other.toFixed(2)} CPU]` : ''}\n`);
      }
    }
  }
  const bgAfter = await backgroundLoad();

  const adapter = adapterOf(versions.get('born')) ?? adapterOf(versions.get('tfjs-webgpu'));
  const now = new Date().toISOString();
  const command = `node dist-bench/bench/webgpu.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const fresh: Saved = { machine: machineKey(adapter), results: {}, runs: {}, versions: Object.fromEntries(versions), others: {} };
  for (const [key, rs] of rounds) {
    const [peer, id] = key.split('/') as [string, string];
    (fresh.results[peer] ??= {})[id] = combine(rs);
    fresh.runs[key] = { date: now, command, quick: o.quick, rounds: o.rounds };
  }
  for (const [k, v] of others) fresh.others[k] = Math.max(...v);

  // Pairs this run did not measure: from an earlier run on the same CPU and adapter.
  const jsonFile = o.out ? o.out.replace(/\.md$/, '') + '-webgpu.json' : null;
  let saved = fresh;
  const carried: string[] = [];
  if (o.merge && jsonFile && existsSync(jsonFile)) {
    const old = JSON.parse(readFileSync(jsonFile, 'utf8')) as Saved;
    if (old.machine === fresh.machine || adapter === undefined) {
      saved = { ...old, results: { ...old.results }, runs: { ...old.runs }, versions: { ...old.versions, ...fresh.versions }, others: { ...old.others, ...fresh.others } };
      for (const [peer, cases] of Object.entries(fresh.results)) saved.results[peer] = { ...(old.results[peer] ?? {}), ...cases };
      Object.assign(saved.runs, fresh.runs);
      carried.push(...Object.keys(saved.runs).filter((k) => !(k in fresh.runs)));
    } else {
      process.stderr.write(`bench/webgpu: ${path.relative(process.cwd(), jsonFile)} is from another machine (${old.machine}): not carried over\n`);
    }
  }

  const results = new Map(Object.entries(saved.results).map(([p, cs]) => [p, new Map(Object.entries(cs))]));
  const gpu = adapter !== undefined && !SOFTWARE.test(adapter);
  const verdicts = judge(results, targets(gpu));
  const rows: Row[] = [
    ...o.sizes.map((n) => ({ id: `matmul_${n}`, label: `matmul fp32 ${n}`, unit: 'GFLOP/s', rate: flops(n) / 1e6 })),
    { id: 'chain', label: 'gelu chain (x·1.5+0.5).gelu()·x, sum dim 1, [4096, 4096]', unit: 'ms' },
    { id: 'train_mlp', label: 'train MLP 784-512-256-10, Adam, batch 256', unit: 'samples/s', rate: 256 * 1000 },
  ];
  const md = markdown({
    saved, rows, verdicts: doneMeansTable(verdicts), gpu, adapter, command, carried, peakTflops: o.peakTflops,
    webgpuVersion: packageVersion('webgpu'), load: { before: bgBefore, after: bgAfter, noisy: NOISY },
    plans: WORKLOADS.map((w) => { const p = PLANS[w].full; return `${w} ${p.warmup} / ${p.reps} (≥ ${p.minReps}, budget ${p.budgetMs / 1000} s)`; }),
    capS: o.capS, wallS: (Date.now() - started) / 1000, wall, commit: shell('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
  });
  process.stdout.write(`\n${md.table.join('\n')}\n\n${md.notes.join('\n')}\n\n${md.targets.join('\n')}\n`);
  if (o.out && jsonFile) {
    writeSection(o.out, md.section);
    writeFileSync(jsonFile, JSON.stringify(saved, null, 1) + '\n');
    process.stderr.write(`bench/webgpu: wrote the WebGPU section of ${path.relative(process.cwd(), o.out)} and ${path.relative(process.cwd(), jsonFile)}\n`);
  }
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** The heading that starts this script's section; run.js keeps it (it lies after "## Serving and memory"). */
export const SECTION = '## WebGPU device (issue 10)';

/** Replaces the WebGPU section of `file` (from its heading to the next "## " heading or the end), or appends it. */
function writeSection(file: string, section: string[]): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(`\n${SECTION}`);
  const text = section.join('\n').trimEnd() + '\n';
  if (at < 0) {
    writeFileSync(file, old ? `${old.trimEnd()}\n\n${text}` : text);
    return;
  }
  const next = old.indexOf('\n## ', at + 1);
  writeFileSync(file, `${old.slice(0, at + 1)}${text}${next < 0 ? '' : old.slice(next)}`);
}

await main();
