// The markdown of bench/webgpu.ts: the table (Born on WebGPU, tfjs-webgpu, Born on the CPU, and
// the speed ratios), its notes, the targets of issue 10 and the method, as one section of
// bench/RESULTS.md.

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fmt, type CaseResult } from './common.js';

export interface RunMeta { date: string; command: string; quick: boolean; rounds: number }

/** What a run leaves in RESULTS-webgpu.json: the figures per peer and case, and where they came from. */
export interface Saved {
  /** CPU and adapter: figures carry over only between runs on the same. */
  machine: string;
  results: Record<string, Record<string, CaseResult>>;
  /** `${peer}/${caseId}` -> the run that measured it. */
  runs: Record<string, RunMeta>;
  versions: Record<string, string>;
  /** `${workload}/${peer}` -> CPUs' worth of other work while it ran (the worst round). */
  others: Record<string, number>;
}

/** A row: a case id, its label, and how a time becomes the unit shown (rate / ms; none: ms). */
export interface Row { id: string; label: string; unit: string; rate?: number }

export interface ReportInput {
  saved: Saved;
  rows: readonly Row[];
  verdicts: readonly string[];
  gpu: boolean;
  adapter: string | undefined;
  command: string;
  carried: readonly string[];
  peakTflops: number | undefined;
  webgpuVersion: string;
  load: { before: number | undefined; after: number | undefined; noisy: number };
  plans: readonly string[];
  capS: number;
  wallS: number;
  wall: readonly string[];
  commit: string;
}

export function shell(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
}


class Notes {
  readonly texts: string[] = [];
  ref(text: string): string {
    let i = this.texts.indexOf(text);
    if (i < 0) i = this.texts.push(text) - 1;
    return `[${i + 1}]`;
  }
}

const workloadOf = (id: string): string => (id.startsWith('matmul_') ? 'matmul' : id === 'train_mlp' ? 'train-mlp' : id);
const usable = (c: CaseResult | undefined): c is CaseResult & { median: number } => c !== undefined && c.error === undefined && typeof c.median === 'number' && c.median > 0;

const COLUMNS = [
  { peer: 'born', label: 'Born webgpu' },
  { peer: 'tfjs-webgpu', label: 'tfjs-webgpu' },
  { peer: 'born-cpu', label: 'Born cpu' },
] as const;

export function markdown(r: ReportInput): { section: string[]; table: string[]; notes: string[]; targets: string[] } {
  const { saved } = r;
  const notes = new Notes();
  const get = (peer: string, id: string): CaseResult | undefined => saved.results[peer]?.[id];
  const cell = (peer: string, label: string, row: Row): string => {
    const c = get(peer, row.id);
    if (!c) return '–';
    const extra: string[] = [];
    const run = saved.runs[`${peer}/${row.id}`];
    if (run && r.carried.includes(`${peer}/${row.id}`)) extra.push(notes.ref(`measured in an earlier run (${run.date.replace('T', ' ').slice(0, 16)} UTC, \`${run.command}\`${run.quick ? ', quick' : ''}), carried over from RESULTS-webgpu.json`));
    if (!usable(c)) return `n/a ${notes.ref(`${label}: ${c.error ?? 'no figure'}`)}${extra.length ? ' ' + extra.join(' ') : ''}`;
    const v = (ms: number): number => (row.rate ? row.rate / ms : ms);
    let s = `${fmt(v(c.median))} (${fmt(v(c.min ?? c.median))})`;
    if (c.note) extra.push(notes.ref(`${label}: ${c.note}`));
    if (c.check && !c.check.startsWith('ok')) s += ` ⚠ ${notes.ref(`${label} result check failed: ${c.check}`)}`;
    const other = saved.others[`${workloadOf(row.id)}/${peer}`];
    if (other !== undefined && other > r.load.noisy) extra.push(notes.ref(`noisy: other processes used up to ${other.toFixed(2)} CPU while ${label} ran ${workloadOf(row.id)}`));
    return extra.length ? `${s} ${extra.join(' ')}` : s;
  };
  /** Speed of Born on WebGPU over `peer`'s: the peer's time / Born's (> 1: Born faster). */
  const ratio = (peer: string, id: string): string => {
    const b = get('born', id);
    const p = get(peer, id);
    return usable(b) && usable(p) ? `**${fmt(p.median / b.median)}×**` : '–';
  };
  const head = ['case', 'unit', 'Born webgpu', 'tfjs-webgpu', 'Born ÷ tfjs-webgpu', 'Born cpu', 'Born webgpu ÷ Born cpu'];
  const table = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of r.rows) {
    if (!COLUMNS.some((c) => get(c.peer, row.id))) continue;
    const cpu = get('born-cpu', row.id);
    table.push(`| ${row.label} | ${row.unit} | ${cell('born', 'Born webgpu', row)} | ${cell('tfjs-webgpu', 'tfjs-webgpu', row)} | ${ratio('tfjs-webgpu', row.id)} | ${cpu ? cell('born-cpu', 'Born cpu', row) : '–'} | ${cpu ? ratio('born-cpu', row.id) : '–'} |`);
  }
  const noteLines = notes.texts.map((t, i) => `${i + 1}. ${t.replace(/\|/g, '\\|')}`);
  const checks = r.rows.flatMap((row) => { const c = get('born', row.id); return c?.check ? [`- ${row.id}: ${c.check}`] : []; });

  const targets = [...r.verdicts];
  const big = r.rows.filter((row) => row.id.startsWith('matmul_')).map((row) => row.id).pop();
  const bigBorn = big ? get('born', big) : undefined;
  if (r.gpu && big && usable(bigBorn)) {
    const tflops = (Number(big.slice('matmul_'.length)) ** 3 * 2) / (bigBorn.median * 1e9);
    targets.push('', r.peakTflops
      ? `${big.replace('_', ' ')}: ${fmt(tflops)} TFLOP/s = ${fmt((100 * tflops) / r.peakTflops)} % of the card's fp32 peak (${r.peakTflops} TFLOP/s, --peak-tflops); target ≥ 50 %: ${tflops >= 0.5 * r.peakTflops ? 'pass' : '**FAIL**'}`
      : `${big.replace('_', ' ')}: ${fmt(tflops)} TFLOP/s; the "≥ 50 % of the card's fp32 peak" target needs the peak: --peak-tflops X`);
  }
  if (!r.gpu) {
    targets.push('', 'On a software adapter only the ratios to tfjs-webgpu are targets (issue 10: "at least 2x tfjs-webgpu on both adapters"). ' +
      'Matmul 4096 at ≥ 50 % of the fp32 peak and MLP training ≥ 5x the CPU device are targets on a GPU: the Born webgpu ÷ Born cpu column here says only what the CPU running the shaders gives.');
  }

  const cpus = os.cpus();
  const adapterLine = r.adapter === undefined
    ? '- Adapter: none reported (every WebGPU peer failed before opening it)'
    : `- Adapter (Born's \`WebGpuDevice.adapterName\`): ${r.adapter} — ${r.gpu ? 'a hardware GPU' : 'a **software adapter**: the shaders run on the CPU (no GPU on this machine)'}`;
  const tfVersion = saved.versions['tfjs-webgpu'] ?? '';
  const tfAdapter = /its device on (.*), adapter /.exec(tfVersion)?.[1];
  const tfBornAdapter = tfVersion.includes(', adapter ') ? tfVersion.slice(tfVersion.lastIndexOf(', adapter ') + ', adapter '.length) : undefined;
  const noisy = Object.entries(saved.others).filter(([, v]) => v > r.load.noisy).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  const pct = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(2));
  const section = [
    '## WebGPU device (issue 10)',
    '',
    `Produced by \`${r.command}\` (bench/webgpu.ts, also \`run.js --only webgpu\`); \`run.js\` keeps this section as it is. ` +
      'Re-run on a GPU machine: `bench/gpu-check.sh`.',
    ...(r.carried.length ? ['', `Carried over from an earlier run on the same CPU and adapter (footnoted): ${r.carried.join(', ')}.`] : []),
    '',
    `- CPU: ${cpus[0]?.model ?? '?'}, ${cpus.length} CPU(s) (shared with other work), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM; Node ${process.version}; Born ${r.commit ? `commit ${r.commit}` : 'working tree'}`,
    adapterLine,
    `- tfjs-webgpu's device: on ${tfAdapter ?? '(not reported)'} (tfjs's words)${tfBornAdapter && tfBornAdapter === r.adapter ? ', from the GPU object Born\'s device opened, given to tfjs as navigator.gpu: the same Dawn instance and adapter' : ''}`,
    `- Dawn: \`webgpu\` ${r.webgpuVersion}; ${tfVersion ? tfVersion.replace(/, its device on .*$/, '') : 'tfjs-webgpu did not report'}`,
    `- Date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC; other load (CPUs busy elsewhere, sampled 1 s): ${pct(r.load.before)} before, ${pct(r.load.after)} after`,
    noisy.length ? `- **Noisy** (other work above ${r.load.noisy} CPU while the peer ran): ${noisy.join(', ')}` : `- Other work stayed below ${r.load.noisy} CPU while each peer ran`,
    '',
    'Each cell: **median (best)**; GFLOP/s = 2n³ / time, samples/s = 256 / step time. Ratios are speeds: the other\'s time / Born webgpu\'s (**> 1: Born on WebGPU is faster**).',
    '',
    ...table,
    '',
    ...(noteLines.length ? ['Notes:', '', ...noteLines, ''] : []),
    ...(checks.length ? ['Born webgpu\'s result checks (matmul: sampled entries against float64; chain: float64 reference; training: the loss falls):', '', ...checks, ''] : []),
    'Targets (issue 10), on these medians:',
    '',
    ...targets,
    '',
    'Method:',
    '',
    '- Every (workload, peer) pair runs in a fresh process (`peers/born.js --device webgpu|cpu`, `peers/tfjs.js --backend webgpu`), warms up, then times repetitions; inputs are on the device before timing.',
    '- matmul: `a.matmul(b)`, fp32, n × n, a and b `randn` on webgpu; one call = the graph + `await born.realize(y)` (the schedule\'s command buffer submitted and `onSubmittedWorkDone` awaited), no readback; ' +
      'Born\'s result is read once afterwards and 512 sampled entries are checked against float64 dot products. tfjs: `tf.matMul(a, b)`, then its pending commands submitted and `queue.onSubmittedWorkDone()` awaited. ' +
      `Each size gets at most ${r.capS} s per peer (--cap-s): from the size before, scaled by n³, a size too slow for warm-up + 3 calls runs fewer calls without warm-up, one too slow for a single call is not run (footnoted).`,
    '- gelu chain: the CPU bench\'s `chain` workload unchanged (`x.mul(1.5).add(0.5).gelu().mul(x).sum({ dim: 1 })` + `await data()` of the [4096] result, exact erf gelu; tfjs: gelu from `tf.erf`), here with x on webgpu.',
    '- train MLP: the CPU bench\'s `train-mlp` workload unchanged (the `born train` MLP of src/cli/models.ts, Adam 1e-3, one random batch [256, 1, 28, 28]; Born: `crossEntropy(model.forward(x), y); loss.backward(); await opt.step([loss])`; tfjs: tf.layers + `optimizer.minimize`, loss read each step), ' +
      'with the default device webgpu (parameters, Adam state and batch there) or cpu.',
    `- Repetitions (warm-up / timed, capped by a budget; \`--quick\` runs fewer): ${r.plans.join('; ')}. A cell is the median of at least 3 timed calls, except where a footnote says the time cap allowed fewer.`,
    `- Wall time of the last run: ${r.wallS.toFixed(0)} s${r.wall.length ? ` (${r.wall.join(', ')})` : ''}${r.carried.length ? '; the table is put together from several runs (the carried-over cells are footnoted with theirs)' : ''}.`,
    '',
  ];
  return { section, table, notes: noteLines, targets };
}
