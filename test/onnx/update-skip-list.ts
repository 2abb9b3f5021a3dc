/**
 * Regenerates a backend-test skip list: runs every backend model and records each failure with its
 * error as the reason.
 *
 * - `npx vite-node test/onnx/update-skip-list.ts`: the CPU, into skip-list.json.
 * - `npx vite-node test/onnx/update-skip-list.ts webgpu`: the models the CPU passes, on WebGPU,
 *   into skip-list-webgpu.json (each reason led by its cause, see CAUSES), and webgpu-subset.json,
 *   the default run's models: every op type that passes on WebGPU in a model that took at most
 *   SUBSET_MODEL_MS, each in the model that ran it fastest here (a greedy cover, rarest op types
 *   first). Run it as `MESA_SHADER_CACHE_DISABLE=true npx vite-node ...` so that the times are
 *   those of cold shader compiles, as on a fresh CI machine (lavapipe caches compiled shaders
 *   on disk).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceName } from '../../src/index.js';
import { decodeModel, type GraphProto } from '../../src/onnx/proto.js';
import { listCases, reason, runCase, type Case } from './backend.js';

const device: DeviceName = process.argv[2] === 'webgpu' ? 'webgpu' : 'cpu';
const file = (name: string): URL => new URL(name, import.meta.url);

/** WebGPU's failures by design, named before the error itself. */
const CAUSES: [RegExp, string][] = [
  [/float64/, 'float64 has no WGSL type (refused on WebGPU by design)'],
];
const withCause = (why: string): string => {
  const c = CAUSES.find(([re]) => re.test(why));
  return c ? `${c[1]}: ${why}` : why;
};

/** The op types of a model's graph and its subgraphs ("domain:Op" outside the default domain). */
function opTypes(c: Case): Set<string> {
  const out = new Set<string>();
  const walk = (g: GraphProto | undefined): void => {
    for (const n of g?.node ?? []) {
      out.add(n.domain ? `${n.domain}:${n.op_type}` : n.op_type!);
      for (const a of n.attribute ?? []) { walk(a.g); for (const s of a.graphs ?? []) walk(s); }
    }
  };
  walk(decodeModel(readFileSync(join(c.dir, 'model.onnx'))).graph);
  return out;
}

/**
 * A model slower than this (cold, on lavapipe) runs only in the full run: the unrolled RNN, GRU
 * and LSTM models take 20-50 s each, every one of them.
 */
const SUBSET_MODEL_MS = 5000;

function cover(ms: ReadonlyMap<string, number>, cases: readonly Case[]): { subset: string[]; left: string[] } {
  const ops = new Map(cases.filter((c) => ms.has(c.name)).map((c) => [c.name, opTypes(c)]));
  const fast = new Map([...ops].filter(([n]) => ms.get(n)! <= SUBSET_MODEL_MS));
  const count = new Map<string, number>();
  for (const s of ops.values()) for (const o of s) count.set(o, (count.get(o) ?? 0) + 1);
  const chosen = new Set<string>(), covered = new Set<string>();
  for (const op of [...count.keys()].sort((a, b) => count.get(a)! - count.get(b)! || (a < b ? -1 : 1))) {
    if (covered.has(op)) continue;
    const best = [...fast].filter(([, s]) => s.has(op)).sort(([a], [b]) => ms.get(a)! - ms.get(b)!)[0]?.[0];
    if (best === undefined) continue;
    chosen.add(best);
    for (const o of ops.get(best)!) covered.add(o);
  }
  return { subset: [...chosen].sort(), left: [...count.keys()].filter((o) => !covered.has(o)).sort() };
}

const cpuSkip = device === 'cpu' ? {} : JSON.parse(readFileSync(file('./skip-list.json'), 'utf8')) as Record<string, string>;
const cases = listCases().filter((c) => cpuSkip[c.name] === undefined);
const skips: Record<string, string> = {};
const ms = new Map<string, number>();
const t0 = performance.now();
for (const c of cases) {
  const t = performance.now();
  try {
    await runCase(c, device);
    ms.set(c.name, performance.now() - t);
  } catch (e) {
    skips[c.name] = device === 'cpu' ? reason(e) : withCause(reason(e));
  }
}
const seconds = (performance.now() - t0) / 1000;
writeFileSync(file(device === 'cpu' ? './skip-list.json' : './skip-list-webgpu.json'), JSON.stringify(skips, null, 1) + '\n');
const passed = ms.size;
console.log(`onnx backend on ${device}: ${passed}/${cases.length} pass (${(100 * passed / Math.max(1, cases.length)).toFixed(1)}%), ` +
  `${Object.keys(skips).length} skipped, ${seconds.toFixed(0)} s`);
if (device === 'webgpu') {
  const { subset, left } = cover(ms, cases);
  writeFileSync(file('./webgpu-subset.json'), JSON.stringify(subset, null, 1) + '\n');
  const sub = subset.reduce((s, n) => s + ms.get(n)!, 0) / 1000;
  console.log(`webgpu-subset.json: ${subset.length} models, ${sub.toFixed(0)} s of the run's time; ` +
    `op types only in the full run (no model under ${SUBSET_MODEL_MS} ms): ${left.join(', ') || 'none'}`);
  // Each model's time, to see what the default run costs (not committed).
  writeFileSync(join(tmpdir(), 'born-onnx-webgpu-times.json'), JSON.stringify(Object.fromEntries([...ms].map(([n, t]) => [n, Math.round(t)])), null, 1) + '\n');
}
process.exit(0);
