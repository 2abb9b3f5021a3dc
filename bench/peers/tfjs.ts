// Peer process for TensorFlow.js 4.22:
//   node --expose-gc dist-bench/bench/peers/tfjs.js --backend cpu|wasm --workload chain [--quick]
// In Node the wasm backend is single-threaded (tfjs turns multithreading off there); cpu is plain JS.
// `--backend webgpu` (bench/webgpu.ts): tfjs-backend-webgpu on the Dawn instance of Born's WebGPU
// device (peers/tfjs-webgpu.ts); for matmul `--sizes 1024,2048,4096 --cap-s S` times each size
// to the queue's completion (no readback), capped by time as Born's side is (workloads/matmul.ts).

import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { cappedSizes, flops, SIZES } from '../workloads/matmul.js';
import { CASES as OVERHEAD_CASES } from '../workloads/overhead.js';
import { CASES as REDUCE_CASES, N } from '../workloads/reduce.js';
import { lossCheck } from '../workloads/train.js';
import { setTfjsBackend, tfjsWasmDir } from './tfjs-backend.js';
import { tfjsInfer } from './tfjs-infer.js';
import { loadTfjsWebgpu, settle, tfjsAdapterName } from './tfjs-webgpu.js';
import {
  emit,
  errorText,
  failAll,
  MLP_SIZES,
  parsePeerArgs,
  rng,
  runCase,
  summarize,
  timeMs,
  timeSteps,
  timeUs,
  TRAIN_BATCH,
  type CaseResult,
  type Plan,
  type Workload,
} from '../common.js';

const args = parsePeerArgs();
const backend = args.rest.get('backend') ?? 'cpu';
const peer = `tfjs-${backend}`;

async function init(): Promise<void> {
  if (backend === 'wasm') {
    setWasmPaths(tfjsWasmDir());
  } else if (backend === 'webgpu') {
    bornAdapter = await loadTfjsWebgpu();
  } else if (backend !== 'cpu') {
    throw new Error(`unknown tfjs backend ${backend}`);
  }
  await setTfjsBackend(tf, backend);
  if (tf.getBackend() !== backend) throw new Error(`backend is ${tf.getBackend()}, wanted ${backend}`);
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    wasmInfo = `, SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`;
  }
  // Born's name for the adapter last (bench/webgpu.ts reads it there), tfjs's own words before it.
  if (backend === 'webgpu') wasmInfo = ` (@tensorflow/tfjs-backend-webgpu), its device on ${tfjsAdapterName(tf.backend())}, adapter ${bornAdapter}`;
}

let wasmInfo = '';
let bornAdapter = '';

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

/** Square matmuls at the sizes bench/webgpu.ts asks for, timed to the queue's completion, each size capped by time. */
async function matmulSized(plan: Plan, sizes: readonly number[], capS: number): Promise<CaseResult[]> {
  return cappedSizes(sizes, plan, capS, async (n, p) => {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 3);
    await Promise.all([a.data(), b.data()]);
    let y: tf.Tensor | undefined;
    const samples = await timeMs(async () => {
      y?.dispose();
      y = tf.matMul(a, b);
      if (backend === 'webgpu') await settle(tf.backend());
      else await y.data();
    }, p);
    tf.dispose([a, b, y!]);
    return summarize(`matmul_${n}`, 'ms', samples, { flops: flops(n), ...(backend === 'webgpu' ? { note: 'timed to the queue\'s completion (submitQueue + onSubmittedWorkDone), no readback' } : {}) });
  });
}

async function matmul(plan: Plan): Promise<CaseResult[]> {
  const sizes = args.rest.get('sizes');
  if (sizes) return matmulSized(plan, sizes.split(',').map(Number), Number(args.rest.get('cap-s') ?? 0));
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

// ---------------------------------------------------------------------------
// autodiff and training (mlp-step, train-mlp, train-cnn)

const B = TRAIN_BATCH;

/** Random int labels 0..C-1 as a one-hot [B, C] float tensor (what tf.losses.softmaxCrossEntropy takes). */
function oneHotLabels(n: number, classes: number, seed: number): tf.Tensor2D {
  const r = rng(seed);
  const ids = Int32Array.from({ length: n }, () => Math.floor(r() * classes));
  return tf.tidy(() => tf.oneHot(tf.tensor1d(ids, 'int32'), classes).toFloat() as tf.Tensor2D);
}

/** Mean softmax cross-entropy of logits against one-hot labels. */
const xent = (labels: tf.Tensor, logits: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

/**
 * MLP forward+backward with raw ops: tf.variable weights W [in, out] (tfjs's natural layout,
 * x·W), PyTorch's default init bounds, tf.variableGrads over every weight and bias; the loss
 * and all gradients are read back (data()) to finish the step.
 */
async function mlpStep(plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('mlp_step', 'ms', async () => {
      const dims = MLP_SIZES;
      const vars: tf.Variable[] = [];
      for (let l = 0; l + 1 < dims.length; l++) {
        const bound = 1 / Math.sqrt(dims[l]!);
        vars.push(tf.variable(tf.randomUniform([dims[l]!, dims[l + 1]!], -bound, bound, 'float32', 100 + l), true, `W${l + 1}`));
        vars.push(tf.variable(tf.randomUniform([dims[l + 1]!], -bound, bound, 'float32', 200 + l), true, `b${l + 1}`));
      }
      const x = tf.randomUniform([B, dims[0]!], 0, 1, 'float32', 11);
      const y = oneHotLabels(B, dims[dims.length - 1]!, 12);
      const forward = (): tf.Tensor => {
        let h: tf.Tensor = x;
        for (let l = 0; l < vars.length / 2; l++) {
          h = tf.add(tf.matMul(h, vars[2 * l]!), vars[2 * l + 1]!);
          if (l < vars.length / 2 - 1) h = tf.relu(h);
        }
        return h;
      };
      const samples = await timeMs(async () => {
        const { value, grads } = tf.tidy(() => tf.variableGrads(() => xent(y, forward()), vars));
        const gs = Object.values(grads);
        await Promise.all([value.data(), ...gs.map((g) => g.data())]);
        tf.dispose([value, ...gs]);
      }, plan);
      tf.dispose([x, y, ...vars]);
      return summarize('mlp_step', 'ms', samples, { note: 'raw ops, tf.variableGrads over tf.variable weights; loss and every gradient read with data()' });
    }),
  ];
}

/** The `born train` models (src/cli/models.ts) in tf.layers; NHWC, as tfjs's conv2d wants. */
function layersModel(which: 'mlp' | 'cnn'): tf.Sequential {
  const m = tf.sequential();
  if (which === 'mlp') {
    m.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
    m.add(tf.layers.dense({ units: 512, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
  } else {
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'valid', activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'valid', activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 10 }));
  }
  return m;
}

/**
 * Training steps: `optimizer.minimize(() => softmaxCrossEntropy(y, model.apply(x, { training })), true)`
 * with tf.train.adam(1e-3) over the model's weights, the loss read back each step.
 */
async function train(plan: Plan, which: 'mlp' | 'cnn'): Promise<CaseResult[]> {
  const id = `train_${which}`;
  return [
    await runCase(id, 'ms', async () => {
      const model = layersModel(which);
      const opt = tf.train.adam(1e-3);
      const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const x = tf.randomUniform([B, 28, 28, 1], 0, 1, 'float32', 21);
      const y = oneHotLabels(B, 10, 22);
      const losses: number[] = [];
      let stepped;
      try {
        stepped = await timeSteps(async () => {
          const cost = opt.minimize(() => xent(y, model.apply(x, { training: true }) as tf.Tensor), true, varList)!;
          losses.push((await cost.data())[0]!);
          cost.dispose();
        }, plan);
      } catch (e) {
        const msg = errorText(e);
        // tfjs-wasm has no Conv2DBackpropFilter: it cannot train a CNN at all.
        if (/not registered for backend|not (yet )?implemented/i.test(msg)) return { id, unit: 'ms', error: msg, cannot: true };
        throw e;
      } finally {
        tf.dispose([x, y]);
      }
      const notes = ['tf.layers model, NHWC input; optimizer.minimize with tf.train.adam(1e-3) (epsilon 1e-7), loss read each step'];
      if (stepped.slow) notes.push(stepped.slow);
      const check = lossCheck(losses[0]!, losses[losses.length - 1]!, losses.length);
      return summarize(id, 'ms', stepped.samples, { samples: B, note: notes.join('; '), check });
    }),
  ];
}

/** The dense table gradient of tf.gather (an unsorted segment sum), left in memory as the other peers do. */
async function embeddingBwd(plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('embedding_bwd', 'ms', async () => {
      if (backend === 'cpu') {
        // Measured once: a single call had not finished after 500 s (a synchronous call cannot
        // be interrupted, so the peer would only run into the orchestrator's timeout).
        return { id: 'embedding_bwd', unit: 'ms', error: 'not run: one call of tf.grad(gather) on tfjs-cpu took over 500 s here', cannot: true };
      }
      const V = 32000, D = 256, T = 512;
      const r = rng(1);
      const ids = tf.tensor1d(Int32Array.from({ length: T }, () => Math.floor(r() * V)), 'int32');
      const W = tf.randomNormal([V, D], 0, 1, 'float32', 3);
      const dy = tf.randomNormal([T, D], 0, 1, 'float32', 4);
      const grad = tf.grad((w: tf.Tensor) => tf.gather(w, ids));
      let samples: number[];
      try {
        samples = await timeMs(() => { grad(W, dy).dispose(); }, plan);
      } catch (e) {
        const msg = errorText(e);
        // tfjs-wasm has no UnsortedSegmentSum, gather's gradient.
        if (/not registered for backend/i.test(msg)) return { id: 'embedding_bwd', unit: 'ms', error: msg, cannot: true };
        throw e;
      } finally {
        tf.dispose([ids, W, dy]);
      }
      return summarize('embedding_bwd', 'ms', samples, { note: 'tf.grad((w) => tf.gather(w, ids))(W, dy), eager' });
    }),
  ];
}

const WORK: Partial<Record<Workload, (p: Plan) => Promise<CaseResult[]>>> = {
  chain,
  reduce,
  matmul,
  overhead,
  'mlp-step': mlpStep,
  'train-mlp': (p) => train(p, 'mlp'),
  'train-cnn': (p) => train(p, 'cnn'),
  'infer-mlp': (p) => tfjsInfer(p, 'mlp'),
  'infer-cnn': (p) => tfjsInfer(p, 'cnn'),
  'embedding-bwd': embeddingBwd,
};

let cases: CaseResult[];
try {
  const work = WORK[args.workload];
  if (!work) throw new Error(`the tfjs peer does not run ${args.workload}`);
  await init();
  cases = await work(args.plan);
} catch (e) {
  cases = failAll(args.workload, e);
}
emit({ peer, workload: args.workload, version: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${backend}${wasmInfo}`, cases });
process.exit(0);
