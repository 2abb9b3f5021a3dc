// Workloads infer-mlp / infer-cnn (issue 9): inference of the `born train` models with the
// weights bench/export_models.py wrote (PyTorch's init, fixed seed), the same in every peer.
// One call: the input batch as a Float32Array in hand → a tensor → forward → the logits as
// data in hand. Born: `y = noGrad(() => model.forward(tensor(x, { shape })))`, `await y.data()`,
// the model built as src/cli/models.ts and filled by `loadStateDict(await load(file))`, in eval mode.
// Batch 1 is latency (ms per call), batch 256 throughput (samples/s). Check: the logits of
// both batches against PyTorch's (io.safetensors).

import path from 'node:path';
import type { Born } from '../born-api.js';
import { free, need } from '../born-api.js';
import type { CaseResult, Plan } from '../common.js';
import { inferCases } from '../infer-cases.js';
import { modelsDir, type InferModel } from '../models.js';
import { bornModel } from './train.js';

function infer(b0: Born, plan: Plan, which: InferModel): Promise<CaseResult[]> {
  const forward = (model: ReturnType<typeof bornModel>, x: Float32Array, batch: number) => {
    const b = need(b0, 'noGrad');
    return b.noGrad(() => model.forward(b.tensor(x, { shape: [batch, 1, 28, 28] })));
  };
  return inferCases(plan, which, {
    open: async () => {
      const b = need(b0, 'nn', 'load');
      const model = bornModel(b.nn, which);
      if (!model.loadStateDict) throw new Error("Born's modules have no loadStateDict()");
      model.loadStateDict(await b.load(path.join(modelsDir(), `${which}.safetensors`)));
      model.eval?.();
      return model;
    },
    call: async (model, x, batch) => {
      const y = forward(model, x, batch);
      const got = await y.data();
      free(y);
      return got;
    },
    // One more call, untimed: the kernels it runs and their time ('kernel' events).
    extra: async (model, x, batch) => {
      if (!b0.engine) return {};
      let kernels = 0;
      let kernelMs = 0;
      const count = (e: { ms: number }): void => void ((kernels += 1), (kernelMs += e.ms));
      b0.engine.on('kernel', count);
      const y = forward(model, x, batch);
      await y.data();
      b0.engine.off('kernel', count);
      free(y);
      return { kernels, note: `${kernels} kernels per call, ${kernelMs.toFixed(2)} ms of kernel time in an untimed call ('kernel' events)` };
    },
  });
}

export const bornMlp = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'mlp');
export const bornCnn = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'cnn');
