// tfjs's side of the infer-mlp / infer-cnn workloads (used by tfjs.ts): the same weights
// (bench/export_models.py) as raw tf ops inside tf.tidy, NHWC for the convolutions. The input's
// one channel makes NCHW and NHWC the same bytes; the last pooled map is transposed back to
// NCHW before the flatten so that the first Linear's weights apply as exported.
// One call: tf.tensor(x) → forward → `await y.data()`.

import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CaseResult, Plan } from '../common.js';
import { inferCases } from '../infer-cases.js';
import { modelsDir, readF32Safetensors, type InferModel } from '../models.js';

type Forward = (x: tf.Tensor) => tf.Tensor;

function build(which: InferModel): { forward: Forward; weights: tf.Tensor[] } {
  const sd = readF32Safetensors(path.join(modelsDir(), `${which}.safetensors`));
  const weights: tf.Tensor[] = [];
  const get = (name: string): tf.Tensor => {
    const t = sd.get(name);
    if (!t) throw new Error(`${which}.safetensors has no ${name}`);
    const w = tf.tensor(t.data, t.shape);
    weights.push(w);
    return w;
  };
  /** Linear: [out, in] weight, kept transposed once ([in, out]) so matMul needs no flag. */
  const linear = (i: number): Forward => {
    const w = tf.keep(tf.transpose(get(`${i}.weight`)));
    const bias = get(`${i}.bias`);
    weights.push(w);
    return (x) => tf.add(tf.matMul(x, w), bias);
  };
  const conv = (i: number): Forward => {
    const w = tf.keep(tf.transpose(get(`${i}.weight`), [2, 3, 1, 0])); // [out, in, kh, kw] → [kh, kw, in, out]
    const bias = get(`${i}.bias`);
    weights.push(w);
    return (x) => tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'), bias);
  };
  if (which === 'mlp') {
    const [l1, l2, l3] = [linear(1), linear(3), linear(5)];
    return { forward: (x) => l3(tf.relu(l2(tf.relu(l1(tf.reshape(x, [x.shape[0]!, 784])))))), weights };
  }
  const [c1, c2, l1, l2] = [conv(0), conv(3), linear(7), linear(9)];
  const pool = (x: tf.Tensor): tf.Tensor => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
  return {
    forward: (x) => {
      const n = x.shape[0]!;
      const h = pool(tf.relu(c2(pool(tf.relu(c1(tf.reshape(x, [n, 28, 28, 1])))))));
      return l2(tf.relu(l1(tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [n, 64 * 5 * 5]))));
    },
    weights,
  };
}

export const tfjsInfer = (plan: Plan, which: InferModel): Promise<CaseResult[]> => inferCases(plan, which, {
  open: () => build(which),
  call: async (model, x, batch) => {
    const y = tf.tidy(() => model.forward(tf.tensor(x, [batch, 1, 28, 28])));
    const got = await y.data();
    y.dispose();
    return got;
  },
  extra: async () => ({ note: 'raw tf ops (matMul, conv2d NHWC, maxPool) on the exported weights' }),
  close: (model) => tf.dispose(model.weights),
});
