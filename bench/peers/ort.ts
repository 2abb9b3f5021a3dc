// Peer process for onnxruntime-node (ONNX Runtime's native CPU build):
//   node --expose-gc dist-bench/bench/peers/ort.js --workload infer-mlp|infer-cnn|onnx-mlp|onnx-cnn|matmul [--quick]
// Sessions: CPU execution provider, intraOpNumThreads 2, interOpNumThreads 1, sequential
// execution, graphOptimizationLevel 'all'. Models: bench/export_models.py's ONNX files (the same
// weights as every peer); matmul is its one-node MatMul model with dynamic shapes.
// One call: ort.Tensor over the input Float32Array → session.run → the output's data (already
// in JS memory on the CPU provider). The package is imported dynamically so that a `--cold` child
// of the onnx-* workloads (bench/onnx-cold.ts) can time its import.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import { emit, failAll, ONNX_BATCHES, parsePeerArgs, randnArray, runCase, summarize, timeMs, type CaseResult, type Plan, type Workload } from '../common.js';
import { inferCases, type InferPeer } from '../infer-cases.js';
import { modelsDir, type InferModel } from '../models.js';
import { coldCases, coldChild } from '../onnx-cold.js';
import { checkMatmul, flops, SIZES } from '../workloads/matmul.js';

const args = parsePeerArgs();
const t0 = performance.now();
const ort = await import('onnxruntime-node');
const importMs = performance.now() - t0;

const THREADS = Number(process.env['BORN_BENCH_ORT_THREADS'] ?? 2);
const OPTIONS: Ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: THREADS,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

const session = (file: string): Promise<Ort.InferenceSession> => ort.InferenceSession.create(path.join(modelsDir(), file), OPTIONS);

const peer = (which: InferModel): InferPeer<Ort.InferenceSession> => ({
  open: () => session(`${which}.onnx`),
  call: async (s, x, batch) => (await s.run({ x: new ort.Tensor('float32', x, [batch, 1, 28, 28]) }))['y']!.data as Float32Array,
  close: (s) => s.release(),
});
const infer = (plan: Plan, which: InferModel): Promise<CaseResult[]> => inferCases(plan, which, peer(which));

/** onnx-*: the cold cases first (fresh processes), then the batches. */
async function onnx(plan: Plan, which: InferModel): Promise<CaseResult[]> {
  const cold = coldCases(which, args.quick, '`import()` of onnxruntime-node (its native addon)');
  return [...(await inferCases(plan, which, peer(which), { batches: ONNX_BATCHES, prefix: 'onnx' })), ...cold];
}

async function matmul(plan: Plan): Promise<CaseResult[]> {
  const s = await session('matmul.onnx');
  const out: CaseResult[] = [];
  for (const n of SIZES) {
    const id = `matmul_${n}`;
    out.push(
      await runCase(id, 'ms', async () => {
        const a = randnArray(n * n, 2);
        const b = randnArray(n * n, 3);
        let c: Float32Array | undefined;
        const samples = await timeMs(async () => {
          const r = await s.run({ a: new ort.Tensor('float32', a, [n, n]), b: new ort.Tensor('float32', b, [n, n]) });
          c = r['c']!.data as Float32Array;
        }, plan);
        return summarize(id, 'ms', samples, { flops: flops(n), check: checkMatmul(a, b, c!, n), note: 'a one-node MatMul ONNX model' });
      }),
    );
  }
  await s.release();
  return out;
}

const WORK: Partial<Record<Workload, (p: Plan) => Promise<CaseResult[]>>> = {
  matmul,
  'infer-mlp': (p) => infer(p, 'mlp'),
  'infer-cnn': (p) => infer(p, 'cnn'),
  'onnx-mlp': (p) => onnx(p, 'mlp'),
  'onnx-cnn': (p) => onnx(p, 'cnn'),
};

if (args.rest.has('cold')) {
  const which: InferModel = args.workload === 'onnx-cnn' ? 'cnn' : 'mlp';
  await coldChild(which, importMs, async (x) => { const p = peer(which); return p.call(await p.open(), x, 1); });
  process.exit(0);
}

let cases: CaseResult[];
try {
  const work = WORK[args.workload];
  if (!work) throw new Error(`the onnxruntime peer runs ${Object.keys(WORK).join(', ')} only`);
  cases = await work(args.plan);
} catch (e) {
  cases = failAll(args.workload, e);
}
emit({
  peer: 'ort',
  workload: args.workload,
  version: `onnxruntime-node ${ort.env.versions.node ?? '?'}, CPU execution provider, intraOpNumThreads ${THREADS}, interOpNumThreads 1, sequential, graphOptimizationLevel all`,
  cases,
});
process.exit(0);
