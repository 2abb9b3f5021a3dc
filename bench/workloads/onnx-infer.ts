// Workloads onnx-mlp / onnx-cnn (issue 11): the MLP and CNN ONNX files of bench/export_models.py
// (opset 13, dynamic batch, input "x", output "y"), imported with `born.onnx.load` and run with
// `model.run({ x: tensor(x, { shape }) })` + `await y.data()`; with `--via nn`, Born's own nn
// module on the same weights (the safetensors file, as infer-*), the baseline the imported graph
// must not be slower than. Batch 1 is latency, batches 64 and 256 throughput; the cold cases
// (library import; load + first inference) run in fresh processes (bench/onnx-cold.ts).

import path from 'node:path';
import type { Born, BornOnnxModel } from '../born-api.js';
import { free, need } from '../born-api.js';
import { ONNX_BATCHES, type CaseResult, type Plan } from '../common.js';
import { inferCases, type InferPeer } from '../infer-cases.js';
import { modelsDir, type InferModel } from '../models.js';
import { coldCases, coldChild } from '../onnx-cold.js';
import { bornNnPeer, kernelsPerCall } from './infer.js';

export type Via = 'onnx' | 'nn';

const run = async (b: Born, model: BornOnnxModel, x: Float32Array, batch: number) => {
  const out = await model.run({ x: b.tensor(x, { shape: [batch, 1, 28, 28] }) });
  const y = out['y'];
  if (!y) throw new Error('the model has no output "y"');
  return y;
};

function onnxPeer(b0: Born, which: InferModel): InferPeer<BornOnnxModel> {
  return {
    open: () => need(b0, 'onnx').onnx.load(path.join(modelsDir(), `${which}.onnx`)),
    call: async (model, x, batch) => {
      const y = await run(b0, model, x, batch);
      const got = await y.data();
      free(y);
      return got;
    },
    extra: (model, x, batch) => kernelsPerCall(b0, () => run(b0, model, x, batch)),
  };
}

const IMPORT_NOTE: Record<Via, string> = {
  onnx: "`import()` of Born's index (src/ compiled into dist-bench/; src/onnx loads on the first onnx.load, inside load + first inference)",
  nn: "`import()` of Born's index (src/ compiled into dist-bench/)",
};

/** The cases of one model: cold ones first (fresh processes, before this one warms anything), then the batches. */
export async function bornOnnx(b: Born, plan: Plan, which: InferModel, via: Via, quick: boolean): Promise<CaseResult[]> {
  const cold = coldCases(which, quick, IMPORT_NOTE[via]);
  const setup = { batches: ONNX_BATCHES, prefix: 'onnx' };
  const warm = via === 'nn' ? await inferCases(plan, which, bornNnPeer(b, which), setup) : await inferCases(plan, which, onnxPeer(b, which), setup);
  return [...warm, ...cold];
}

/** The `--cold` child: Born was imported in `importMs`; load the model and run batch 1 once. */
export function bornOnnxCold(b: Born, which: InferModel, via: Via, importMs: number): Promise<void> {
  return coldChild(which, importMs, async (x) => {
    const peer: InferPeer<unknown> = (via === 'nn' ? bornNnPeer(b, which) : onnxPeer(b, which)) as InferPeer<unknown>;
    return peer.call(await peer.open(), x, 1);
  });
}
