// Peer process for TensorFlow.js 4.22:
//   node --expose-gc dist-bench/bench/peers/tfjs.js --backend cpu|wasm --workload chain [--quick]
// In Node the wasm backend is single-threaded (tfjs turns multithreading off there); cpu is plain JS.

import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { flops, SIZES } from '../workloads/matmul.js';
import { CASES as OVERHEAD_CASES } from '../workloads/overhead.js';
import { CASES as REDUCE_CASES, N } from '../workloads/reduce.js';
import {
  emit,
  failAll,
  parsePeerArgs,
  runCase,
  summarize,
  timeMs,
  timeUs,
  type CaseResult,
  type Plan,
  type Workload,
} from '../common.js';

const args = parsePeerArgs();
const backend = args.rest.get('backend') ?? 'cpu';
const peer = `tfjs-${backend}`;

async function init(): Promise<void> {
  if (backend === 'wasm') {
    const require = createRequire(import.meta.url);
    // setWasmPaths wants the folder of the .wasm files, as a path with a trailing slash.
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    setWasmPaths(dist);
  } else if (backend !== 'cpu') {
    throw new Error(`unknown tfjs backend ${backend}`);
  }
  // Silence "Hi there 👋. Looks like you are running TensorFlow.js in Node.js…"
  const warn = console.warn;
  console.warn = () => {};
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
    await tf.ready();
  } finally {
    console.warn = warn;
  }
  if (tf.getBackend() !== backend) throw new Error(`backend is ${tf.getBackend()}, wanted ${backend}`);
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    wasmInfo = `, SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`;
  }
}

let wasmInfo = '';

/** Exact gelu from ops: 0.5·v·(1 + erf(v/√2)); tfjs has no gelu op. */
function gelu(v: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(v, 0.5), tf.add(tf.erf(tf.mul(v, Math.SQRT1_2)), 1));
}

async function chain(plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('chain', 'ms', async () => {
      const x = tf.randomNormal([N, N], 0, 1, 'float32', 1);
      await x.data();
      const samples = await timeMs(async () => {
        const y = tf.tidy(() => tf.sum(tf.mul(gelu(tf.add(tf.mul(x, 1.5), 0.5)), x), 1));
        await y.data();
        y.dispose();
      }, plan);
      x.dispose();
      return summarize('chain', 'ms', samples, { note: 'gelu built from tf ops: 0.5·v·(1+tf.erf(v/√2))' });
    }),
  ];
}

async function reduce(plan: Plan): Promise<CaseResult[]> {
  const x = tf.randomNormal([N, N], 0, 1, 'float32', 1);
  await x.data();
  const out: CaseResult[] = [];
  for (const c of REDUCE_CASES) {
    out.push(
      await runCase(c.id, 'ms', async () => {
        const samples = await timeMs(async () => {
          const y = c.dim === undefined ? tf.sum(x) : tf.sum(x, c.dim);
          await y.data();
          y.dispose();
        }, plan);
        return summarize(c.id, 'ms', samples);
      }),
    );
  }
  x.dispose();
  return out;
}

async function matmul(plan: Plan): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const n of SIZES) {
    const id = `matmul_${n}`;
    out.push(
      await runCase(id, 'ms', async () => {
        const a = tf.randomNormal([n, n], 0, 1, 'float32', 2);
        const b = tf.randomNormal([n, n], 0, 1, 'float32', 3);
        await Promise.all([a.data(), b.data()]);
        const samples = await timeMs(async () => {
          const y = tf.matMul(a, b);
          await y.data();
          y.dispose();
        }, plan);
        a.dispose();
        b.dispose();
        return summarize(id, 'ms', samples, { flops: flops(n) });
      }),
    );
  }
  return out;
}

async function overhead(plan: Plan): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  out.push(
    await runCase(OVERHEAD_CASES[0], 'us', async () => {
      const a = tf.tensor([1]);
      let y: tf.Tensor | undefined;
      const samples = await timeUs(
        async () => {
          y = tf.add(a, 1);
          await y.data();
        },
        plan,
        () => y?.dispose(),
      );
      a.dispose();
      return summarize(OVERHEAD_CASES[0], 'us', samples);
    }),
  );
  out.push(
    await runCase(OVERHEAD_CASES[1], 'us', async () => {
      let t: tf.Tensor | undefined;
      let y: tf.Tensor | undefined;
      const samples = await timeUs(
        async () => {
          t = tf.tensor([1]);
          y = tf.add(t, 1);
          await y.data();
        },
        plan,
        () => {
          y?.dispose();
          t?.dispose();
        },
      );
      return summarize(OVERHEAD_CASES[1], 'us', samples);
    }),
  );
  return out;
}

const WORK: Record<Workload, (p: Plan) => Promise<CaseResult[]>> = { chain, reduce, matmul, overhead };

let cases: CaseResult[];
try {
  await init();
  cases = await WORK[args.workload](args.plan);
} catch (e) {
  cases = failAll(args.workload, e);
}
emit({ peer, workload: args.workload, version: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${backend}${wasmInfo}`, cases });
process.exit(0);
