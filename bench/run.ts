// The benchmark suite: Born against its peers, each workload in a fresh process per peer.
//
//   npx tsc -p tsconfig.bench.json && node dist-bench/bench/run.js [options]
//
//   --quick                 fewer repetitions
//   --only chain,matmul     workloads to run (chain, reduce, matmul, overhead, mlp-step,
//                           train-mlp, train-cnn, infer-mlp, infer-cnn, embedding-bwd,
//                           onnx-mlp, onnx-cnn);
//                           `--only done-means`: the workloads of issue 9's targets;
//                           `--only onnx`: onnx-mlp and onnx-cnn (issue 11: born.onnx.load
//                           against onnxruntime-node and Born's nn module, their own table);
//                           `--only webgpu`: bench/webgpu.ts (the WebGPU device against
//                           tfjs-webgpu, its own table and section), given the other options
//   --peers born,numpy      peers to run (born, born-nn, tfjs-wasm, tfjs-cpu, numpy, torch, ort, js-loop);
//                           born-nn: Born's nn module, in the onnx-* workloads only;
//                           `--peers installed`: those whose packages are installed (tfjs-cpu
//                           and js-loop only when named: they are slow floors, not targets)
//   --no-born               all peers but Born
//   --out FILE              where the markdown goes (default bench/RESULTS.md); --no-write: nowhere
//   --no-merge              replace FILE outright; by default the figures of the (workload, peer)
//                           pairs this run does not measure are carried over from FILE's .json
//                           (an earlier run), footnoted, so `--only`/`--peers` throw nothing away
//   --python PATH           interpreter for the numpy/torch peers (default /usr/bin/python3,
//                           or $BORN_BENCH_PYTHON)
//   --timeout-s S           per peer process (default 900)
//   --openblas-default      do not correct OpenBLAS's core type (see openblasSetup)
//   --wait-quiet S          before each peer run, wait up to S seconds for other load to fall
//                           below 0.15 CPU (the machine is shared)
//   --retries N             rerun a peer up to N times when other load disturbed it; keep the
//                           least disturbed run
//
// Each peer process warms up, then times repetitions; a cell is the median (and the
// best) of those. The ratio in a peer's cell is peer time / Born time, so > 1 means Born
// is faster (for rates, samples/s or GFLOP/s: Born's rate / the peer's). Born's results are
// checked against float64 references computed in JS.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, COLD_RUNS, copyOnnxSchema, fmt, ONNX_BATCHES, ONNX_WORKLOADS, OP_WORKLOADS, PLANS, SUITE_WORKLOADS, TRAIN_BATCH, WORKLOADS, type CaseResult, type PeerResult, type Workload } from './common.js';
import { DONE_MEANS_WORKLOADS, doneMeansTable, judge } from './done-means.js';
import { installedPeers } from './installed.js';
import { backgroundLoad, cpuTimes, NOISY, otherLoad, waitQuiet } from './load.js';
import { ensureModels, MODELS_ENV, MODELS_ERROR_ENV } from './models.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const root = findRoot(here);

function findRoot(start: string): string {
  for (let d = start; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'bench', 'peers'))) return d;
    if (path.dirname(d) === d) throw new Error(`cannot find the repository root above ${start}`);
  }
}

// ---------------------------------------------------------------------------
// options

interface Options {
  quick: boolean;
  workloads: Workload[];
  peers: string[];
  out: string | null;
  python: string;
  timeoutS: number;
  openblasDefault: boolean;
  waitQuietS: number;
  retries: number;
  merge: boolean;
  noBorn?: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    workloads: [...WORKLOADS],
    peers: PEERS.map((p) => p.name),
    out: path.join(root, 'bench', 'RESULTS.md'),
    python: process.env['BORN_BENCH_PYTHON'] ?? '/usr/bin/python3',
    timeoutS: 900,
    openblasDefault: false,
    waitQuietS: 0,
    retries: 0,
    merge: true,
  };
  let peerList: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const val = (): string => (eq > 0 ? a.slice(eq + 1) : (argv[++i] ?? ''));
    const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);
    switch (key) {
      case '--quick':
        o.quick = true;
        break;
      case '--only': {
        const ws = list(val()).flatMap((w) => (w === 'done-means' ? [...DONE_MEANS_WORKLOADS] : w === 'onnx' ? [...ONNX_WORKLOADS] : [w]));
        for (const w of ws) if (!(WORKLOADS as readonly string[]).includes(w)) die(`--only: unknown workload ${w} (${WORKLOADS.join(', ')})`);
        o.workloads = WORKLOADS.filter((w) => ws.includes(w));
        break;
      }
      case '--peers': {
        const ps = list(val());
        for (const p of ps) if (p !== 'installed' && !PEERS.some((q) => q.name === p)) die(`--peers: unknown peer ${p} (${PEERS.map((q) => q.name).join(', ')}, or installed)`);
        peerList = ps;
        break;
      }
      case '--no-born':
        o.noBorn = true;
        break;
      case '--out':
        o.out = path.resolve(val());
        break;
      case '--no-write':
        o.out = null;
        break;
      case '--no-merge':
        o.merge = false;
        break;
      case '--python':
        o.python = val();
        break;
      case '--timeout-s':
        o.timeoutS = Number(val());
        break;
      case '--wait-quiet':
        o.waitQuietS = Number(val());
        break;
      case '--retries':
        o.retries = Number(val());
        break;
      case '--openblas-default':
        o.openblasDefault = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n') + '\n');
        process.exit(0);
      // falls through (unreachable)
      default:
        die(`unknown option ${a} (try --help)`);
    }
  }
  // Resolved after the loop: `installed` asks the interpreter --python names, wherever it stands.
  if (peerList) {
    const ps = peerList.flatMap((p) => (p === 'installed' ? installedPeers(o.python) : [p]));
    o.peers = PEERS.map((p) => p.name).filter((p) => ps.includes(p));
  }
  if (o.noBorn) o.peers = o.peers.filter((p) => p !== 'born');
  return o;
}

function die(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// peers

interface Peer {
  name: string;
  label: string;
  workloads: readonly Workload[];
  command(o: Options): { cmd: string; args: string[] };
}

const nodePeer = (file: string, extra: string[] = []) => (): { cmd: string; args: string[] } => ({
  cmd: process.execPath,
  args: ['--expose-gc', path.join(here, 'peers', file), ...extra],
});
const pyPeer = (file: string) => (o: Options): { cmd: string; args: string[] } => ({
  cmd: o.python,
  args: [path.join(root, 'bench', 'peers', file)],
});

const PEERS: Peer[] = [
  { name: 'born', label: 'Born', workloads: WORKLOADS, command: nodePeer('born.js') },
  { name: 'born-nn', label: 'Born nn module', workloads: ONNX_WORKLOADS, command: nodePeer('born.js', ['--via', 'nn']) },
  { name: 'tfjs-wasm', label: 'tfjs-wasm', workloads: SUITE_WORKLOADS, command: nodePeer('tfjs.js', ['--backend', 'wasm']) },
  { name: 'tfjs-cpu', label: 'tfjs-cpu', workloads: SUITE_WORKLOADS, command: nodePeer('tfjs.js', ['--backend', 'cpu']) },
  { name: 'numpy', label: 'numpy', workloads: OP_WORKLOADS, command: pyPeer('numpy_peer.py') },
  { name: 'torch', label: 'PyTorch (2 thr)', workloads: SUITE_WORKLOADS, command: pyPeer('torch_peer.py') },
  { name: 'ort', label: 'onnxruntime (2 thr)', workloads: ['matmul', 'infer-mlp', 'infer-cnn', ...ONNX_WORKLOADS], command: nodePeer('ort.js') },
  { name: 'js-loop', label: 'plain JS loop (1 thr)', workloads: ['chain', 'reduce', 'matmul'], command: nodePeer('js_loop.js') },
];

interface RunOutcome {
  result: PeerResult | null;
  error?: string;
  wallS: number;
  /** CPUs' worth of other work while this peer ran (see otherLoad). */
  other?: number;
}

function runPeer(peer: Peer, workload: Workload, o: Options, env: NodeJS.ProcessEnv): Promise<RunOutcome> {
  const plan = PLANS[workload][o.quick ? 'quick' : 'full'];
  const { cmd, args } = peer.command(o);
  const full = [
    ...args,
    '--workload',
    workload,
    ...(o.quick ? ['--quick'] : []),
    '--warmup',
    String(plan.warmup),
    '--reps',
    String(plan.reps),
    '--budget-ms',
    String(plan.budgetMs),
    '--min-reps',
    String(plan.minReps),
  ];
  const t0 = Date.now();
  const cpu0 = cpuTimes();
  return new Promise((resolve) => {
    const child = spawn(cmd, full, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutS * 1000);
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      clearTimeout(timer);
      const wallS = (Date.now() - t0) / 1000;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (line) {
        try {
          const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as PeerResult;
          resolve({ result, wallS, other: otherLoad(cpu0, cpuTimes(), result.cpuS) });
          return;
        } catch (e) {
          resolve({ result: null, error: `unreadable result: ${String(e)}`, wallS });
          return;
        }
      }
      const lastErr = err.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
      const why = spawnError
        ? `cannot start ${cmd}: ${spawnError.message}`
        : signal === 'SIGKILL' && wallS >= o.timeoutS
          ? `timed out after ${o.timeoutS} s`
          : `exited ${signal ?? code} without a result${lastErr ? `: ${lastErr.slice(0, 200)}` : ''}`;
      resolve({ result: null, error: why, wallS });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/**
 * Debian's OpenBLAS 0.3.21 does not know recent Xeons and falls back to its generic
 * "Prescott" (SSE3) kernels: numpy and PyTorch then run matmul at a fifth of their speed.
 * A user tuning those peers would set OPENBLAS_CORETYPE, so we do the same, and say so.
 */
function openblasSetup(o: Options): { env: Record<string, string>; note: string } {
  if (process.env['OPENBLAS_CORETYPE']) return { env: {}, note: `OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE']} (from the environment)` };
  const r = spawnSync(o.python, ['-c', 'import numpy'], {
    env: { ...process.env, OPENBLAS_VERBOSE: '2' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  const core = /Core:\s*(\w+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? '';
  if (!core) return { env: {}, note: '' };
  const flags = cpuFlags();
  const better = flags.has('avx512f') ? 'SkylakeX' : flags.has('avx2') ? 'Haswell' : '';
  const generic = ['Prescott', 'Katmai', 'Coppermine', 'Northwood', 'Core2', 'Penryn', 'Dunnington', 'Nehalem', 'Atom', 'Barcelona'];
  if (!better || !generic.includes(core)) return { env: {}, note: `OpenBLAS core type: ${core} (detected)` };
  if (o.openblasDefault) return { env: {}, note: `OpenBLAS core type: ${core} (its generic fallback; kept by --openblas-default)` };
  return {
    env: { OPENBLAS_CORETYPE: better },
    note: `OpenBLAS 0.3.21 misdetects this CPU as "${core}" (SSE3 kernels, about 5x slower matmul); numpy and PyTorch run with OPENBLAS_CORETYPE=${better} (\`--openblas-default\` to keep the fallback)`,
  };
}

function cpuFlags(): Set<string> {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set((m?.[1] ?? '').split(/\s+/));
  } catch {
    return new Set();
  }
}

// ---------------------------------------------------------------------------
// noise: bench/load.ts (shared with bench/webgpu.ts)

// ---------------------------------------------------------------------------
// machine description

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
}

function machine(): string[] {
  const lscpu = sh('lscpu', []);
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(lscpu)?.[1]?.trim() ?? '';
  const model = field('Model name') || os.cpus()[0]?.model || '?';
  const cpus = field('CPU\\(s\\)') || String(os.cpus().length);
  const flags = cpuFlags();
  const simd = ['avx512f', 'avx2', 'fma'].filter((f) => flags.has(f)).join(', ');
  const hyper = field('Hypervisor vendor');
  const mem = `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
  const commit = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : '';
  return [
    `- CPU: ${model}, ${cpus} CPU(s)${simd ? ` (${simd})` : ''}${hyper ? `, ${hyper} VM` : ''}, ${mem}`,
    `- Node ${process.version}, ${os.type()} ${os.release()}`,
    `- Born: ${commit ? `commit ${commit}${dirty}` : 'working tree'}`,
    `- Date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`,
  ];
}

// ---------------------------------------------------------------------------
// table


type Results = Map<string, Map<string, CaseResult>>; // peer -> case id -> result

class Footnotes {
  private readonly texts: string[] = [];
  ref(text: string): string {
    let i = this.texts.indexOf(text);
    if (i < 0) i = this.texts.push(text) - 1;
    return `[${i + 1}]`;
  }
  render(): string[] {
    return this.texts.map((t, i) => `${i + 1}. ${t.replace(/\|/g, '\\|')}`);
  }
}

function cell(c: CaseResult | undefined, peer: Peer, born: CaseResult | undefined, notes: Footnotes, other?: number): string {
  if (!c) return '–';
  if (c.error !== undefined || c.median === undefined || c.min === undefined) {
    if (c.cannot) return `cannot ${notes.ref(`${peer.label} cannot run this: ${c.error}`)}`;
    return `n/a ${notes.ref(`${peer.label}: ${c.error ?? 'no figure'}`)}`;
  }
  const toUnit = (t: number): number => { const r = rateOf(c); return r === undefined ? t : r / t; };
  let s = `${fmt(toUnit(c.median))} (${fmt(toUnit(c.min))})`;
  if (peer.name !== 'born' && born?.median !== undefined && born.error === undefined) {
    s += ` · **${fmt(c.median / born.median)}×**`;
  }
  if (c.note) s += ` ${notes.ref(`${peer.label}: ${c.note}`)}`;
  if (c.check && !c.check.startsWith('ok')) s += ` ⚠ ${notes.ref(`${peer.label} result check failed: ${c.check}`)}`;
  if (other !== undefined && other > NOISY) s += ` ${notes.ref(`noisy: other processes used ${other.toFixed(2)} CPU while ${peer.label} ran this workload`)}`;
  return s;
}

/** A case shown as a rate: its amount per ms of time (flops → GFLOP/s, samples → samples/s). */
function rateOf(c: CaseResult): number | undefined {
  if (c.flops !== undefined) return c.flops / 1e6;
  if (c.samples !== undefined) return c.samples * 1000;
  return undefined;
}

function unitOf(w: Workload, id: string): string {
  if (w === 'matmul') return 'GFLOP/s';
  const spec = CASES[w].find((c) => c.id === id);
  if (spec?.rate) return spec.rate;
  return spec?.unit === 'us' ? 'µs' : 'ms';
}

/**
 * The results table. `carried` maps `workload/peer` to a footnote for figures taken over from
 * an earlier run: on the row's label when every figure of the row is carried over from the
 * same run, else on each carried cell.
 */
function table(workloads: readonly Workload[], peers: Peer[], results: Results, notes: Footnotes, others: Map<string, number>, carried: Map<string, string> = new Map()): string[] {
  const head = ['workload', 'unit', ...peers.map((p) => p.label)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const w of workloads) {
    for (const c of CASES[w]) {
      const born = results.get('born')?.get(c.id);
      const shown = peers.filter((p) => p.workloads.includes(w) && results.get(p.name)?.has(c.id));
      const froms = new Set(shown.map((p) => carried.get(`${w}/${p.name}`)));
      const rowFrom = froms.size === 1 ? [...froms][0] : undefined;
      const cells = peers.map((p) => {
        if (!p.workloads.includes(w)) return '–';
        const text = cell(results.get(p.name)?.get(c.id), p, born, notes, others.get(`${w}/${p.name}`));
        const from = carried.get(`${w}/${p.name}`);
        return from && !rowFrom && results.get(p.name)?.has(c.id) ? `${text} ${notes.ref(from)}` : text;
      });
      lines.push(`| ${c.label}${rowFrom ? ` ${notes.ref(rowFrom)}` : ''} | ${unitOf(w, c.id)} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------
// merging with an earlier run (rows of the workloads this run does not measure)

/** The run a (workload, peer) pair's figures in RESULTS.json came from. */
interface RunMeta {
  date: string;
  command: string;
  quick: boolean;
}

interface SavedResults {
  date: string;
  quick: boolean;
  versions: Record<string, string>;
  results: Record<string, Record<string, CaseResult>>;
  /** Added with merging; absent in files written before it (then read from the .md). */
  meta?: { runs?: Record<string, RunMeta>; others?: Record<string, number> };
}

interface Carried {
  /** `workload/peer` -> the run it came from */
  runs: Map<string, RunMeta>;
  results: Results;
  versions: Map<string, string>;
  others: Map<string, number>;
}

/** The earlier run's results for every (workload, peer) pair that this run does not measure. */
function carryOver(o: Options, peers: readonly Peer[]): Carried | null {
  if (!o.out || !o.merge) return null;
  const jsonPath = o.out.replace(/\.md$/, '') + '.json';
  if (!existsSync(jsonPath)) return null;
  let saved: SavedResults;
  try {
    saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as SavedResults;
  } catch (e) {
    process.stderr.write(`bench: note: cannot read ${jsonPath} (${String(e)}): nothing carried over\n`);
    return null;
  }
  // Files from before merging existed keep the command and the noise figures only in the .md.
  let legacyCommand = '';
  const legacyOthers = new Map<string, number>();
  if (!saved.meta && existsSync(o.out)) {
    const md = readFileSync(o.out, 'utf8');
    legacyCommand = /^Produced by `([^`]*)`/m.exec(md)?.[1] ?? '';
    const noisy = /\*\*Noisy measurements\*\*[^:]*:\s*(.*)$/m.exec(md)?.[1] ?? '';
    for (const m of noisy.matchAll(/([\w-]+\/[\w-]+) ([\d.]+)/g)) legacyOthers.set(m[1]!, Number(m[2]));
  }
  const out: Carried = { runs: new Map(), results: new Map(), versions: new Map(), others: new Map() };
  for (const w of WORKLOADS) {
    const ids = new Set(CASES[w].map((c) => c.id));
    for (const [peer, cases] of Object.entries(saved.results ?? {})) {
      if (o.workloads.includes(w) && peers.some((p) => p.name === peer && p.workloads.includes(w))) continue; // measured now
      const mine = Object.entries(cases).filter(([id]) => ids.has(id));
      if (!mine.length) continue;
      if (!out.results.has(peer)) out.results.set(peer, new Map());
      for (const [id, c] of mine) out.results.get(peer)!.set(id, c);
      if (saved.versions?.[peer]) out.versions.set(peer, saved.versions[peer]!);
      const key = `${w}/${peer}`;
      out.runs.set(key, saved.meta?.runs?.[key] ?? { date: saved.date, command: legacyCommand, quick: saved.quick });
      const other = saved.meta?.others?.[key] ?? legacyOthers.get(key);
      if (other !== undefined) out.others.set(key, other);
    }
  }
  return out.runs.size ? out : null;
}

const when = (iso: string): string => iso.replace('T', ' ').slice(0, 16) + ' UTC';

// ---------------------------------------------------------------------------
// main

/**
 * `--only webgpu` hands the run to bench/webgpu.js: its peers share one adapter and its table
 * (sizes, devices, ratios) is not this one's, so it writes its own section of the results file.
 */
function delegateWebgpu(argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return false;
  const list = (argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : (argv[i + 1] ?? '')).split(',').map((s) => s.trim());
  if (!list.includes('webgpu')) return false;
  if (list.some((w) => w && w !== 'webgpu')) die('--only webgpu runs bench/webgpu.js on its own: name no other workload with it');
  const rest = argv.filter((_, j) => j !== i && !(j === i + 1 && !argv[i]!.includes('=')));
  const r = spawnSync(process.execPath, [path.join(here, 'webgpu.js'), ...rest], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  delegateWebgpu(process.argv.slice(2));
  const o = parseOptions(process.argv.slice(2));
  const peers = PEERS.filter((p) => o.peers.includes(p.name));
  const needsPython = peers.some((p) => p.name === 'numpy' || p.name === 'torch');
  const blas = needsPython ? openblasSetup(o) : { env: {}, note: '' };
  const results: Results = new Map(peers.map((p) => [p.name, new Map()]));
  const versions = new Map<string, string>();
  const wall: string[] = [];
  const started = Date.now();
  const bgBefore = await backgroundLoad();
  const noisy: string[] = [];
  const others = new Map<string, number>();

  if (peers.some((p) => p.name === 'born') && !existsSync(path.join(root, 'dist', 'devices', 'cpu-workers', 'worker.js'))) {
    process.stderr.write('bench: note: dist/devices/cpu-workers/worker.js is missing: run `npm run build` first if Born needs its workers\n');
  }

  if (o.workloads.some((w) => w.startsWith('onnx-'))) copyOnnxSchema();

  // The model files of the inference workloads (and onnxruntime's matmul), once for every peer.
  const modelEnv: Record<string, string> = {};
  const needsModels = o.workloads.some((w) => w.startsWith('infer-') || w.startsWith('onnx-')) || (o.workloads.includes('matmul') && peers.some((p) => p.name === 'ort'));
  if (needsModels) {
    const dir = path.join(root, 'dist-bench', 'models');
    process.stderr.write('bench: model files (bench/export_models.py) … ');
    const why = ensureModels(root, dir, o.python);
    process.stderr.write(why ? `none: ${why}\n` : `in ${path.relative(process.cwd(), dir) || '.'}\n`);
    if (why) modelEnv[MODELS_ERROR_ENV] = why;
    else modelEnv[MODELS_ENV] = dir;
  }

  for (const w of o.workloads) {
    for (const p of peers) {
      if (!p.workloads.includes(w)) continue;
      process.stderr.write(`bench: ${w.padEnd(8)} ${p.name.padEnd(9)} … `);
      const env = { ...process.env, ...modelEnv, ...(p.name === 'numpy' || p.name === 'torch' ? blas.env : {}) };
      let r: RunOutcome | undefined;
      for (let attempt = 0; attempt <= o.retries; attempt++) {
        if (o.waitQuietS > 0) await waitQuiet(o.waitQuietS);
        const t = await runPeer(p, w, o, env);
        if (!r || (t.result && (!r.result || (t.other ?? 0) < (r.other ?? 0)))) r = t;
        if (!t.result || t.other === undefined || t.other <= NOISY) break;
        if (attempt < o.retries) process.stderr.write(`noisy (other load ${t.other.toFixed(2)} CPU), again … `);
      }
      if (!r) continue;
      const into = results.get(p.name)!;
      if (r.result) {
        for (const c of r.result.cases) into.set(c.id, c);
        if (r.result.version) versions.set(p.name, r.result.version);
      } else {
        for (const c of CASES[w]) into.set(c.id, { id: c.id, unit: c.unit, error: r.error ?? 'failed' });
      }
      const summary = CASES[w]
        .map((c) => {
          const x = into.get(c.id);
          if (!x || x.error !== undefined || x.median === undefined) return `${c.id}=n/a`;
          const v =
            x.flops !== undefined
              ? `${fmt(x.flops / (x.median * 1e6))} GFLOP/s`
              : x.samples !== undefined
                ? `${fmt((x.samples * 1000) / x.median)} samples/s (${fmt(x.median)} ms/step)`
                : `${fmt(x.median)} ${x.unit}`;
          return `${c.id}=${v}${x.check && !x.check.startsWith('ok') ? ' (CHECK FAILED)' : ''}`;
        })
        .join(', ');
      const other = r.other !== undefined ? `  [other load ${r.other.toFixed(2)} CPU]` : '';
      process.stderr.write(`${r.wallS.toFixed(1)} s  ${summary}${other}\n`);
      if (r.other !== undefined) others.set(`${w}/${p.name}`, r.other);
      if (r.other !== undefined && r.other > NOISY) noisy.push(`${w}/${p.name} ${r.other.toFixed(2)}`);
      if (!r.result) process.stderr.write(`bench:   ${r.error}\n`);
      wall.push(`${w}/${p.name} ${r.wallS.toFixed(0)} s`);
    }
  }

  const bgAfter = await backgroundLoad();
  const pct = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(2));
  const command = `node dist-bench/bench/run.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const now = new Date().toISOString();

  // Rows of the workloads this run did not measure: from the earlier run's RESULTS.json.
  const carried = carryOver(o, peers);
  const carriedNotes = new Map<string, string>();
  const allResults: Results = new Map(results);
  const allOthers = new Map(others);
  const allVersions = new Map(versions);
  if (carried) {
    for (const [peer, cases] of carried.results) {
      const into = new Map(allResults.get(peer) ?? []);
      for (const [id, c] of cases) into.set(id, c);
      allResults.set(peer, into);
    }
    for (const [k, v] of carried.others) allOthers.set(k, v);
    for (const [k, v] of carried.versions) if (!allVersions.has(k)) allVersions.set(k, v);
    for (const [key, m] of carried.runs) {
      carriedNotes.set(key, `measured in an earlier run (${when(m.date)}${m.command ? `, \`${m.command}\`` : ''}${m.quick ? ', quick mode' : ''}), carried over from RESULTS.json: compare with this run's figures with care`);
    }
  }
  const carriedKeys = [...(carried?.runs.keys() ?? [])];
  const tableWorkloads = WORKLOADS.filter((w) => o.workloads.includes(w) || carriedKeys.some((k) => k.startsWith(`${w}/`)));
  const quickOf = (w: Workload): boolean => (o.workloads.includes(w) ? o.quick : [...(carried?.runs ?? [])].find(([k]) => k.startsWith(`${w}/`))?.[1].quick ?? o.quick);
  const carriedSummary = tableWorkloads
    .map((w) => {
      const ps = carriedKeys.filter((k) => k.startsWith(`${w}/`)).map((k) => k.slice(w.length + 1));
      if (!ps.length) return '';
      return o.workloads.includes(w) ? `${w} (${ps.join(', ')})` : w;
    })
    .filter(Boolean);
  const tablePeers = PEERS.filter((p) => peers.includes(p) || (carried?.results.has(p.name) ?? false));
  const noisyCarried = [...(carried?.others ?? [])].filter(([, v]) => v > NOISY).map(([k, v]) => `${k} ${v.toFixed(2)}`);

  // The ONNX workloads get a table of their own: Born's ONNX import against onnxruntime and Born's nn module.
  const isOnnx = (w: Workload): boolean => (ONNX_WORKLOADS as readonly Workload[]).includes(w);
  const suiteWorkloads = tableWorkloads.filter((w) => !isOnnx(w));
  const onnxWorkloads = tableWorkloads.filter(isOnnx);
  const suitePeers = tablePeers.filter((p) => p.workloads.some((w) => suiteWorkloads.includes(w)));
  const onnxPeers = tablePeers.filter((p) => p.workloads.some((w) => onnxWorkloads.includes(w))).map((p) => (p.name === 'born' ? { ...p, label: 'Born onnx.load' } : p));
  const notes = new Footnotes();
  const tableLines = suiteWorkloads.length ? table(suiteWorkloads, suitePeers, allResults, notes, allOthers, carriedNotes) : [];
  const onnxNotes = new Footnotes();
  const onnxLines = onnxWorkloads.length ? table(onnxWorkloads, onnxPeers, allResults, onnxNotes, allOthers, carriedNotes) : [];
  const caseWorkload = new Map(WORKLOADS.flatMap((w) => CASES[w].map((c) => [c.id, w] as const)));
  const checks = [...(allResults.get('born') ?? new Map<string, CaseResult>()).values()]
    .filter((c) => c.check)
    .sort((a, b) => tableWorkloads.indexOf(caseWorkload.get(a.id)!) - tableWorkloads.indexOf(caseWorkload.get(b.id)!));
  const peerChecks = tablePeers
    .filter((p) => p.name !== 'born')
    .flatMap((p) => [...(allResults.get(p.name)?.values() ?? [])].filter((c) => c.check && (c.id.startsWith('infer_') || c.id.startsWith('onnx_') || !c.check.startsWith('ok'))).map((c) => `- ${p.label}, ${c.id}: ${c.check}`));
  // The targets of issue 9, when this run (with what it carried over) measured any of them.
  const doneLines = tableWorkloads.some((w) => DONE_MEANS_WORKLOADS.includes(w)) ? doneMeansTable(judge(allResults)) : [];
  const plan = (w: Workload, quick: boolean): string => {
    const pl = PLANS[w][quick ? 'quick' : 'full'];
    return `${w} ${pl.warmup} / ${pl.reps} (≥ ${pl.minReps}, budget ${pl.budgetMs / 1000} s)`;
  };
  const overheadPlan = PLANS.overhead[quickOf('overhead') ? 'quick' : 'full'];
  const method: Record<Workload, string> = {
    chain: '- chain: `x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 })`, x = randn [4096, 4096]; gelu in its exact erf form unless a note says otherwise.',
    reduce: '- reduce: `x.sum()`, `x.sum({ dim: 0 })`, `x.sum({ dim: 1 })` on the same x.',
    matmul: '- matmul: `a.matmul(b)`, fp32, square n × n.',
    overhead:
      '- overhead: per-call latency of building a one-element graph and `await y.data()`, each call timed on its own, median over ' +
      `${overheadPlan.reps.toLocaleString('en-US')} calls after ${overheadPlan.warmup} warm-up calls.`,
    'mlp-step':
      `- mlp-step: one forward+backward of an MLP 784-512-256-10 (ReLU), batch ${TRAIN_BATCH}, x uniform [0, 1), random int labels, mean softmax cross-entropy, ` +
      'the gradients of all weights and biases. Born: `loss = nn.functional.crossEntropy(model.forward(x), y); gs = born.grad(loss, model.parameters()); await born.realize(loss, ...gs)` (one schedule; ' +
      "its kernel count from `engine.on('kernel')` during one step, and `explain(loss, ...gs)`); tfjs: raw ops on `tf.variable` weights, `tf.variableGrads`, every gradient read with `data()`; " +
      'PyTorch: `torch.autograd.grad(loss, params)`. Born\'s loss and gradients are checked against a float64 forward/backward in JS.',
    'train-mlp':
      `- train-mlp / train-cnn: training steps of the \`born train\` models (src/cli/models.ts) on one random batch shaped like Fashion-MNIST (${TRAIN_BATCH} × 1 × 28 × 28 in [0, 1), int labels 0..9; ` +
      'tfjs takes it NHWC), Adam lr 1e-3. Born: `loss = crossEntropy(model.forward(x), y); loss.backward(); await opt.step([loss]); opt.zeroGrad()` (as src/train/trainer.ts); ' +
      'tfjs: the same model in tf.layers, `optimizer.minimize(…)` with `tf.train.adam(1e-3)`, loss read each step; PyTorch: `zero_grad(); cross_entropy(model(x), y).backward(); opt.step(); loss.item()`. ' +
      `Each step timed on its own; samples/s = ${TRAIN_BATCH} / step time. A peer whose first step alone takes longer than the whole budget is timed on that one cold step (footnoted). ` +
      'Check (every peer): the loss falls over the steps on the repeated batch.',
    'train-cnn': '',
    'infer-mlp':
      '- infer-mlp / infer-cnn: inference of the `born train` models with one set of weights for every peer, written by `bench/export_models.py` (PyTorch layers in Born\'s layout, PyTorch\'s init from a fixed seed: ' +
      'safetensors for Born, tfjs and PyTorch, ONNX opset 13 with a dynamic batch for onnxruntime) into dist-bench/models/. One call: the input batch as a Float32Array in hand → a tensor → forward → the logits read back. ' +
      'Born: `noGrad(() => model.forward(tensor(x, { shape })))` + `await data()`, the model filled by `loadStateDict(await load(file))`, eval mode; onnxruntime-node: `session.run({ x: new ort.Tensor(…) })`, ' +
      'CPU execution provider, intraOpNumThreads 2, interOpNumThreads 1, sequential, graphOptimizationLevel all; PyTorch: `model.eval()`, `no_grad`, `model(torch.from_numpy(x)).numpy()`; tfjs: raw ops (matMul, conv2d NHWC, maxPool). ' +
      'Batch 1: latency, median ms per call; batch 256: samples/s. Check: every peer\'s logits against PyTorch\'s for the same input (|Δ| ≤ 1e-3·|ref| + 2e-5).',
    'infer-cnn': '',
    'onnx-mlp':
      '- onnx-mlp / onnx-cnn: the MLP and CNN ONNX files of `bench/export_models.py` (opset 13, dynamic batch, input `x`, output `y`; the weights of infer-*). ' +
      'Born onnx.load: `model = await born.onnx.load(file)` once, one call `(await model.run({ x: tensor(x, { shape }) })).y` + `await data()`; ' +
      'onnxruntime-node: `session.run` as in infer-*; Born nn module: the infer-* model (`loadStateDict` of the same weights from safetensors, `noGrad`, eval). ' +
      `Batches ${ONNX_BATCHES.join(', ')}: batch 1 latency (ms per call), the others samples/s. ` +
      `Cold cases, each in a fresh process (the peer starts itself again, ${COLD_RUNS.full} times, ${COLD_RUNS.quick} in quick mode, one after another; the OS file cache is warm): ` +
      'library import = `import()` of Born\'s index or of onnxruntime-node; load + first inference = open the model (Born: `onnx.load`, which also loads src/onnx and its schema, or build the module + `load` + `loadStateDict`; onnxruntime: `InferenceSession.create`) ' +
      'and run batch 1 to the logits in hand (Born: worker start, planning and kernel compilation included). Check: logits against PyTorch\'s (|Δ| ≤ 1e-3·|ref| + 2e-5).',
    'onnx-cnn': '',
    'embedding-bwd':
      '- embedding-bwd: the dense gradient of an Embedding(32000, 256) table for 512 random tokens and a given output gradient [512, 256]. ' +
      'Born: `born.grad(emb.forward(tokens), [emb.weight], { gradOutput })` then `realize` (a scatter-add kernel); tfjs: `tf.grad((w) => tf.gather(w, ids))(W, dy)`; ' +
      'PyTorch: `torch.autograd.grad(F.embedding(ids, W), W, dy)`. No read-back of the 32 MB gradient. Born\'s gradient is checked against a float64 scatter in JS.',
  };
  const md: string[] = [
    '# Benchmark results: Born and its peers',
    '',
    `Produced by \`${command}\` (bench/run.ts)${o.quick ? ' — **quick mode: few repetitions**' : ''}.`,
    ...(carried
      ? [
          '',
          `Not measured by this run: ${carriedSummary.join(', ')}. Those figures are carried over from an earlier run, as RESULTS.json held them (footnoted); \`--no-merge\` drops them.`,
        ]
      : []),
    '',
    '## Machine',
    '',
    ...machine(),
    ...(blas.note ? [`- ${blas.note}`] : []),
    `- Other load on this shared machine (CPUs busy with other processes + hypervisor steal, sampled 1 s): ${pct(bgBefore)} before, ${pct(bgAfter)} after the run`,
    noisy.length
      ? `- **Noisy measurements** (other work above ${NOISY} CPU while the peer ran): ${noisy.join(', ')}`
      : `- Other work stayed below ${NOISY} CPU while each peer ran`,
    ...(noisyCarried.length ? [`- **Noisy measurements** in the carried-over rows (their run): ${noisyCarried.join(', ')}`] : []),
    '',
    '## Peers',
    '',
    ...tablePeers.map((p) => `- ${p.label}: ${allVersions.get(p.name) ?? '(did not report)'}${!versions.has(p.name) && allVersions.has(p.name) ? ' (as reported in the earlier run)' : ''}`),
    '',
    '## Results',
    '',
    'Each cell: **median (best)** over the timed repetitions, each workload in a fresh process per peer, after warm-up.',
    'For matmul the figures are GFLOP/s (2n³ / time) at the median and at the best time; for train-* and infer-* at batch 256 samples/s (batch / time per step or call).',
    'The bold ratio is *peer time / Born time* at the median (for rates: Born\'s rate / the peer\'s): **> 1 means Born is faster**.',
    'Inputs are materialised before timing; a timed call includes building the graph and `await data()` (the peers: the eager op plus reading the result).',
    '',
    ...tableLines,
    '',
    ...(notes.render().length ? ['Notes:', '', ...notes.render(), ''] : []),
    ...(checks.length ? ['Born result checks (against float64 references in JS; training: the loss falls; inference: PyTorch\'s logits):', '', ...checks.map((c) => `- ${c.id}: ${c.check}`), ''] : []),
    ...(peerChecks.length ? ['Other peers\' inference checks (against PyTorch\'s logits) and failed checks:', '', ...peerChecks, ''] : []),
    ...(doneLines.length ? ['## Done means (issue 9)', '', 'measured: Born\'s median time over the peer\'s for time and latency targets, Born\'s rate over the peer\'s for GFLOP/s and samples/s, in this run (or the carried-over rows).', '', ...doneLines, ''] : []),
    ...(onnxLines.length
      ? [
          '## ONNX import (issue 11): born.onnx.load, onnxruntime-node and Born\'s nn module',
          '',
          'The same machine and run as above (the onnx-* workloads; method below). Each cell: **median (best)**; batch 1 and the cold cases in ms, batches 64 and 256 in samples/s.',
          'The bold ratio is *peer time / Born onnx.load time* at the median: **> 1 means the imported model is faster**. Born nn module is the same weights through Born\'s own modules: the imported graph should be at least as fast (ratio ≥ 1).',
          '',
          ...onnxLines,
          '',
          ...(onnxNotes.render().length ? ['Notes:', '', ...onnxNotes.render(), ''] : []),
        ]
      : []),
    '## Method',
    '',
    ...tableWorkloads.map((w) => method[w]).filter(Boolean),
    `- Repetitions (warm-up / timed, capped by a time budget): ${tableWorkloads.map((w) => plan(w, quickOf(w))).join('; ')}.`,
    '- Node peers run with `--expose-gc` and collect garbage between repetitions (outside the timed region); Python peers call `gc.collect()` likewise.',
    '- tfjs in Node: the wasm backend is single-threaded (tfjs disables its threads there), the cpu backend is plain JS. PyTorch: `torch.set_num_threads(2)`. numpy: OpenBLAS with its default threads.',
    '- The machine is shared and noisy: compare figures from the same run only.',
    `- Wall time of this run: ${((Date.now() - started) / 1000).toFixed(0)} s (${wall.join(', ')}).`,
    '',
  ];
  const text = md.join('\n');
  if (tableLines.length) process.stdout.write('\n' + tableLines.join('\n') + '\n\n' + (notes.render().length ? notes.render().join('\n') + '\n' : ''));
  if (onnxLines.length) process.stdout.write('\nONNX import (issue 11)\n\n' + onnxLines.join('\n') + '\n\n' + (onnxNotes.render().length ? onnxNotes.render().join('\n') + '\n' : ''));
  if (doneLines.length) {
    const from = carried ? 'medians of this run and of the rows carried over from an earlier one (see RESULTS.md)' : 'medians of this run';
    process.stdout.write(`\nDone means (issue 9): Born's ratio to the peer, ${from}\n\n${doneLines.join('\n')}\n`);
  }
  if (o.out) {
    const runs: Record<string, RunMeta> = {};
    for (const [k, m] of carried?.runs ?? []) runs[k] = m;
    for (const w of o.workloads) for (const p of peers) if (p.workloads.includes(w)) runs[`${w}/${p.name}`] = { date: now, command, quick: o.quick };
    const saved: SavedResults = {
      date: now,
      quick: o.quick,
      versions: Object.fromEntries(allVersions),
      results: Object.fromEntries([...allResults].map(([k, v]) => [k, Object.fromEntries(v)])),
      meta: { runs, others: Object.fromEntries(allOthers) },
    };
    writeFileSync(o.out, text + handWritten(o.out));
    writeFileSync(o.out.replace(/\.md$/, '') + '.json', JSON.stringify(saved, null, 1) + '\n');
    process.stderr.write(`bench: wrote ${path.relative(process.cwd(), o.out)}\n`);
  }
}

/**
 * The hand-kept sections of a results file (figures of the scripts run.js does not run: serving,
 * memory): everything from the first heading HAND_WRITTEN names on, kept when the table is rewritten.
 */
const HAND_WRITTEN = '\n## Serving and memory';

function handWritten(file: string): string {
  if (!existsSync(file)) return '';
  const old = readFileSync(file, 'utf8');
  const at = old.indexOf(HAND_WRITTEN);
  return at < 0 ? '' : `\n${old.slice(at).replace(/^\n+/, '')}`;
}

await main();
