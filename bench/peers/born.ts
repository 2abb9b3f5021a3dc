// Peer process for Born: `node --expose-gc dist-bench/bench/peers/born.js --workload chain [--quick]`.
// bench/webgpu.ts adds `--device cpu|webgpu` (the default device for the whole workload: inputs,
// parameters and kernels live there) and, for matmul, `--sizes 1024,2048,4096 --cap-s S`
// (the result realised on the device, each size capped by time: workloads/matmul.ts).
// The onnx-* workloads run the ONNX files through `born.onnx.load`, or with `--via nn` Born's
// nn module on the same weights; `--cold` is one of their fresh processes (bench/onnx-cold.ts).

import { performance } from 'node:perf_hooks';
import { loadBorn, type Born } from '../born-api.js';
import { emit, failAll, parsePeerArgs, type CaseResult, type Plan, type Workload } from '../common.js';
import * as chain from '../workloads/chain.js';
import * as embedding from '../workloads/embedding.js';
import * as infer from '../workloads/infer.js';
import * as matmul from '../workloads/matmul.js';
import * as mlpStep from '../workloads/mlp-step.js';
import { bornOnnx, bornOnnxCold, type Via } from '../workloads/onnx-infer.js';
import * as overhead from '../workloads/overhead.js';
import * as reduce from '../workloads/reduce.js';
import * as train from '../workloads/train.js';

const args = parsePeerArgs();
const via = (args.rest.get('via') ?? 'onnx') as Via;

const WORK: Record<Workload, (b: Born, p: Plan) => Promise<CaseResult[]>> = {
  chain: chain.born,
  reduce: reduce.born,
  matmul: matmul.born,
  overhead: overhead.born,
  'mlp-step': mlpStep.born,
  'train-mlp': train.bornMlp,
  'train-cnn': train.bornCnn,
  'infer-mlp': infer.bornMlp,
  'infer-cnn': infer.bornCnn,
  'embedding-bwd': embedding.born,
  'onnx-mlp': (b, p) => bornOnnx(b, p, 'mlp', via, args.quick),
  'onnx-cnn': (b, p) => bornOnnx(b, p, 'cnn', via, args.quick),
};

if (args.rest.has('cold')) {
  const t0 = performance.now();
  const born = await loadBorn();
  await bornOnnxCold(born, args.workload === 'onnx-cnn' ? 'cnn' : 'mlp', via, performance.now() - t0);
  process.exit(0);
}

let cases: CaseResult[];
let version = '';
try {
  if (via !== 'onnx' && via !== 'nn') throw new Error(`--via must be onnx or nn (got ${String(via)})`);
  const born = await loadBorn();
  try {
    const dev = born.defaultDevice?.();
    if (dev !== undefined) version = `device ${typeof dev === 'string' ? dev : String((dev as { name?: unknown }).name ?? dev)}`;
  } catch {
    /* defaultDevice() is informational only */
  }
  const device = args.rest.get('device');
  if (device !== undefined) {
    if (device !== 'cpu' && device !== 'webgpu') throw new Error(`--device must be cpu or webgpu (got ${device})`);
    if (!born.setDefaultDevice) throw new Error("Born's index does not export setDefaultDevice()");
    await born.setDefaultDevice(device);
    version = `device ${device}`;
    if (device === 'webgpu') {
      const dev = born.engine?.device?.('webgpu');
      await dev?.ready?.();
      version += `, adapter ${dev?.adapterName ?? '(unnamed)'}`;
    }
  }
  const sizes = args.rest.get('sizes');
  cases = args.workload === 'matmul' && sizes
    ? await matmul.bornRealised(born, args.plan, sizes.split(',').map(Number), Number(args.rest.get('cap-s') ?? 0))
    : await WORK[args.workload](born, args.plan);
} catch (e) {
  cases = failAll(args.workload, e);
}
emit({ peer: via === 'nn' ? 'born-nn' : 'born', workload: args.workload, version, cases });
// Born's worker pool may keep the event loop alive; the result is out, so leave.
process.exit(0);
