// The cold cases of the onnx-* workloads: each measurement in a fresh process, since a library's
// import and a model's first run (its parsing, planning, kernel compilation, worker start) happen
// once per process. The peer process starts itself again with `--cold` COLD_RUNS times, one after
// another; each child times the library's import and load + first inference (batch 1, logits in
// hand, checked against PyTorch's) and prints one `BENCH_COLD {json}` line.

import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { COLD_RUNS, errorText, summarize, type CaseResult } from './common.js';
import { checkLogits, inputBatch, readIo, type InferModel } from './models.js';

const PREFIX = 'BENCH_COLD ';

interface Cold {
  importMs: number;
  loadMs: number;
  check: string;
}

/** In the child: time `load` (open the model, run batch 1, logits in hand) and print the line. */
export async function coldChild(which: InferModel, importMs: number, load: (x: Float32Array) => Promise<ArrayLike<number>>): Promise<void> {
  const io = readIo(which);
  const x = inputBatch(io, 1);
  const t0 = performance.now();
  const got = await load(x);
  const loadMs = performance.now() - t0;
  const cold: Cold = { importMs, loadMs, check: checkLogits(got, io, 1) };
  process.stdout.write(`${PREFIX}${JSON.stringify(cold)}\n`);
}

/** In the peer: the two cold cases from COLD_RUNS fresh processes of this script (`--cold` added). */
export function coldCases(which: InferModel, quick: boolean, what: string): CaseResult[] {
  const importId = `onnx_${which}_import`;
  const loadId = `onnx_${which}_load`;
  const runs: Cold[] = [];
  try {
    for (let i = 0; i < COLD_RUNS[quick ? 'quick' : 'full']; i++) {
      const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--cold'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000,
      });
      const line = `${r.stdout ?? ''}`.split('\n').find((l) => l.startsWith(PREFIX));
      if (!line) {
        const last = `${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status ?? r.signal}`;
        throw new Error(`cold run ${i + 1}: no result (${last.slice(0, 200)})`);
      }
      runs.push(JSON.parse(line.slice(PREFIX.length)) as Cold);
    }
  } catch (e) {
    return [importId, loadId].map((id) => ({ id, unit: 'ms' as const, error: errorText(e) }));
  }
  const bad = runs.find((r) => !r.check.startsWith('ok'));
  const n = `${runs.length} fresh processes, one after another`;
  return [
    summarize(importId, 'ms', runs.map((r) => r.importMs), { note: `${n}; ${what}` }),
    summarize(loadId, 'ms', runs.map((r) => r.loadMs), { note: n, check: bad?.check ?? runs[0]!.check }),
  ];
}
