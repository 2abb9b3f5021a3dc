// Workloads infer-mlp / infer-cnn (issue 9): inference of the `born train` models with the
// weights bench/export_models.py wrote (PyTorch's init, fixed seed), the same in every peer.
// One call: the input batch as a Float32Array in hand → a tensor → forward → the logits as
// data in hand. Born: `y = noGrad(() => model.forward(tensor(x, { shape })))`, `await y.data()`,
// the model built as src/cli/models.ts and filled by `loadStateDict(await load(file))`, in eval mode.
// Batch 1 is latency (ms per call), batch 256 throughput (samples/s). Check: the logits of
// both batches against PyTorch's (io.safetensors).

import path from 'node:path';
import type { Born, BornModule, BornTensor } from '../born-api.js';
import { free, need } from '../born-api.js';
import type { CaseResult, Plan } from '../common.js';
import { inferCases, type InferPeer } from '../infer-cases.js';
import { modelsDir, type InferModel } from '../models.js';
import { bornModel } from './train.js';

/** Born's nn module filled from the safetensors file, as an InferPeer (also the onnx-* workloads' baseline). */
export function bornNnPeer(b0: Born, which: InferModel): InferPeer<BornModule> {
  const forward = (model: BornModule, x: Float32Array, batch: number) => {
    const b = need(b0, 'noGrad');
    return b.noGrad(() => model.forward(b.tensor(x, { shape: [batch, 1, 28, 28] })));
  };
  return {
    open: () => openNn(b0, which),
    call: async (model, x, batch) => {
      const y = forward(model, x, batch);
      const got = await y.data();
      free(y);
      return got;
    },
    extra: (model, x, batch) => kernelsPerCall(b0, () => forward(model, x, batch)),
  };
}

/** The model as src/cli/models.ts builds it, filled by `loadStateDict(await load(file))`, in eval mode. */
export async function openNn(b0: Born, which: InferModel): Promise<BornModule> {
  const b = need(b0, 'nn', 'load');
  const model = bornModel(b.nn, which);
  if (!model.loadStateDict) throw new Error("Born's modules have no loadStateDict()");
  model.loadStateDict(await b.load(path.join(modelsDir(), `${which}.safetensors`)));
  model.eval?.();
  return model;
}

/** One more call, untimed: the kernels it runs and their time ('kernel' events). */
export async function kernelsPerCall(b0: Born, call: () => BornTensor | Promise<BornTensor>): Promise<Partial<CaseResult>> {
  if (!b0.engine) return {};
  let kernels = 0;
  let kernelMs = 0;
  const count = (e: { ms: number }): void => void ((kernels += 1), (kernelMs += e.ms));
  b0.engine.on('kernel', count);
  const y = await call();
  await y.data();
  b0.engine.off('kernel', count);
  free(y);
  return { kernels, note: `${kernels} kernels per call, ${kernelMs.toFixed(2)} ms of kernel time in an untimed call ('kernel' events)` };
}

const infer = (b0: Born, plan: Plan, which: InferModel): Promise<CaseResult[]> => inferCases(plan, which, bornNnPeer(b0, which));

export const bornMlp = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'mlp');
export const bornCnn = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'cnn');
