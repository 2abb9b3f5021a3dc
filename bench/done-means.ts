// Issue 9's "Done means" targets, judged on one run's medians: each target names a case, the
// peer it is compared with and a threshold on Born's ratio to that peer.
//
// ratio: for a time target, Born's median time / the peer's ('≤ 0.5x': Born takes at most half
// the peer's time); for a speed target (GFLOP/s, samples/s), Born's rate / the peer's, that is
// the peer's median time / Born's (each call does the same work on both sides).

import type { CaseResult, Workload } from './common.js';

export interface Target {
  /** What the target is about, e.g. 'gelu chain [4096, 4096]'. */
  what: string;
  workload: Workload;
  caseId: string;
  peer: string;
  /** 'time': Born's time over the peer's must be ≤ (or < when strict) the threshold; 'speed': Born's rate over the peer's must be ≥ it. */
  kind: 'time' | 'speed';
  threshold: number;
  strict?: boolean;
}

export const DONE_MEANS: readonly Target[] = [
  { what: 'gelu chain [4096, 4096], time', workload: 'chain', caseId: 'chain', peer: 'torch', kind: 'time', threshold: 0.5 },
  { what: 'matmul fp32 1024, GFLOP/s', workload: 'matmul', caseId: 'matmul_1024', peer: 'tfjs-wasm', kind: 'speed', threshold: 4 },
  { what: 'matmul fp32 1024, GFLOP/s', workload: 'matmul', caseId: 'matmul_1024', peer: 'torch', kind: 'speed', threshold: 0.45 },
  { what: 'matmul fp32 256, GFLOP/s', workload: 'matmul', caseId: 'matmul_256', peer: 'tfjs-wasm', kind: 'speed', threshold: 2 },
  { what: 'MLP training, Adam, batch 256, samples/s', workload: 'train-mlp', caseId: 'train_mlp', peer: 'torch', kind: 'speed', threshold: 1 },
  { what: 'CNN training, Adam, batch 256, samples/s', workload: 'train-cnn', caseId: 'train_cnn', peer: 'torch', kind: 'speed', threshold: 0.75 },
  { what: 'MLP inference, batch 256, samples/s', workload: 'infer-mlp', caseId: 'infer_mlp_256', peer: 'ort', kind: 'speed', threshold: 0.45 },
  { what: 'MLP inference, batch 1, latency', workload: 'infer-mlp', caseId: 'infer_mlp_1', peer: 'ort', kind: 'time', threshold: 1, strict: true },
  { what: 'CNN inference, batch 256, samples/s', workload: 'infer-cnn', caseId: 'infer_cnn_256', peer: 'ort', kind: 'speed', threshold: 0.45 },
  { what: 'CNN inference, batch 1, latency', workload: 'infer-cnn', caseId: 'infer_cnn_1', peer: 'ort', kind: 'time', threshold: 1, strict: true },
  { what: 'sum [4096, 4096] over dim 0, time', workload: 'reduce', caseId: 'sum_dim0', peer: 'numpy', kind: 'time', threshold: 1.5 },
  { what: 'sum [4096, 4096] over dim 1, time', workload: 'reduce', caseId: 'sum_dim1', peer: 'numpy', kind: 'time', threshold: 1.5 },
];

/** The workloads the targets need, in the suite's order of first use. */
export const DONE_MEANS_WORKLOADS: readonly Workload[] = [...new Set(DONE_MEANS.map((t) => t.workload))];

export interface Verdict {
  target: Target;
  /** Born's ratio to the peer as the target defines it; undefined when a figure is missing. */
  ratio?: number;
  status: 'pass' | 'fail' | 'missing';
  /** Why a figure is missing, or that Born's result check failed. */
  why?: string;
}

const PEER_NAMES: Record<string, string> = { torch: 'PyTorch', 'tfjs-wasm': 'tfjs-wasm', ort: 'onnxruntime', numpy: 'numpy' };

type Results = ReadonlyMap<string, ReadonlyMap<string, CaseResult>>;

const usable = (c: CaseResult | undefined): c is CaseResult & { median: number } =>
  c !== undefined && c.error === undefined && typeof c.median === 'number' && c.median > 0;

/** Judges every target on `results` (peer → case id → result). */
export function judge(results: Results, targets: readonly Target[] = DONE_MEANS): Verdict[] {
  return targets.map((target) => {
    const born = results.get('born')?.get(target.caseId);
    const peer = results.get(target.peer)?.get(target.caseId);
    if (!usable(born)) return { target, status: 'missing', why: born?.error ? `Born: ${born.error}` : 'Born not measured' };
    const name = PEER_NAMES[target.peer] ?? target.peer;
    if (!usable(peer)) return { target, status: 'missing', why: peer?.error ? `${name}: ${peer.error}` : `${name} not measured` };
    const ratio = target.kind === 'time' ? born.median / peer.median : peer.median / born.median;
    const met = target.kind === 'speed' ? ratio >= target.threshold : target.strict ? ratio < target.threshold : ratio <= target.threshold;
    if (born.check !== undefined && !born.check.startsWith('ok')) return { target, ratio, status: 'fail', why: `Born's result check failed: ${born.check}` };
    return { target, ratio, status: met ? 'pass' : 'fail' };
  });
}

/** '≤ 0.5x PyTorch's time', '≥ 4x tfjs-wasm', '< 1x onnxruntime's latency'. */
export function thresholdText(t: Target): string {
  const name = PEER_NAMES[t.peer] ?? t.peer;
  if (t.kind === 'speed') return `≥ ${t.threshold}x ${name}`;
  return `${t.strict ? '<' : '≤'} ${t.threshold}x ${name}'s ${t.caseId.endsWith('_1') ? 'latency' : 'time'}`;
}

const ratioText = (r: number): string => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;

/** The verdicts as a markdown table plus a count line. */
export function doneMeansTable(verdicts: readonly Verdict[]): string[] {
  const lines = ['| target | threshold | measured | verdict |', '|---|---|---:|---|'];
  for (const v of verdicts) {
    const measured = v.ratio === undefined ? '–' : ratioText(v.ratio);
    const verdict = v.status === 'pass' ? 'pass' : v.status === 'fail' ? '**FAIL**' : 'not measured';
    lines.push(`| ${v.target.what} | ${thresholdText(v.target)} | ${measured} | ${verdict}${v.why ? ` (${v.why.replace(/\|/g, '\\|').slice(0, 160)})` : ''} |`);
  }
  const n = (s: Verdict['status']): number => verdicts.filter((v) => v.status === s).length;
  lines.push('', `${n('pass')} of ${verdicts.length} targets met, ${n('fail')} missed, ${n('missing')} not measured.`);
  return lines;
}
