// Peer process for onnxruntime-node (ONNX Runtime's native CPU build):
//   node --expose-gc dist-bench/bench/peers/ort.js --workload infer-mlp|infer-cnn|matmul [--quick]
// Sessions: CPU execution provider, intraOpNumThreads 2, interOpNumThreads 1, sequential
// execution, graphOptimizationLevel 'all'. Models: bench/export_models.py's ONNX files (the same
// weights as every peer); matmul is its one-node MatMul model with dynamic shapes.
// One call: ort.Tensor over the input Float32Array → session.run → the output's data (already
// in JS memory on the CPU provider).

import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { emit, failAll, parsePeerArgs, randnArray, runCase, summarize, timeMs, type CaseResult, type Plan, type Workload } from '../common.js';
import { inferCases } from '../infer-cases.js';
import { modelsDir, type InferModel } from '../models.js';
import { checkMatmul, flops, SIZES } from '../workloads/matmul.js';

const THREADS = Number(process.env['BORN_BENCH_ORT_THREADS'] ?? 2);
const OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: THREADS,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

const session = (file: string): Promise<ort.InferenceSession> => ort.InferenceSession.create(path.join(modelsDir(), file), OPTIONS);

const infer = (plan: Plan, which: InferModel): Promise<CaseResult[]> => inferCases(plan, which, {
  open: () => session(`${which}.onnx`),
  call: async (s, x, batch) => (await s.run({ x: new ort.Tensor('float32', x, [batch, 1, 28, 28]) }))['y']!.data as Float32Array,
  close: (s) => s.release(),
});

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
};

const args = parsePeerArgs();
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
