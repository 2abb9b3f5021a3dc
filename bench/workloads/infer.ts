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
import { runCase, summarize, timeMs, type CaseResult, type Plan } from '../common.js';
import { checkLogits, INFER_BATCHES, inputBatch, planFor, modelsDir, readIo, type InferModel } from '../models.js';
import { bornModel } from './train.js';

async function infer(b0: Born, plan: Plan, which: InferModel): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  let model: ReturnType<typeof bornModel> | undefined;
  let setup: unknown;
  try {
    const b = need(b0, 'nn', 'load', 'noGrad');
    const dir = modelsDir();
    model = bornModel(b.nn, which);
    if (!model.loadStateDict) throw new Error("Born's modules have no loadStateDict()");
    model.loadStateDict(await b.load(path.join(dir, `${which}.safetensors`)));
    model.eval?.();
  } catch (e) {
    setup = e;
  }
  const io = setup ? undefined : readIo(which);
  for (const batch of INFER_BATCHES) {
    const id = `infer_${which}_${batch}`;
    out.push(
      await runCase(id, 'ms', async () => {
        if (setup) throw setup;
        const b = need(b0, 'noGrad');
        const x = inputBatch(io!, batch);
        const shape = [batch, 1, 28, 28];
        let got: ArrayLike<number> | undefined;
        const samples = await timeMs(async () => {
          const y = b.noGrad(() => model!.forward(b.tensor(x, { shape })));
          got = await y.data();
          free(y);
        }, planFor(plan, batch));
        // One more call, untimed: the kernels it runs and their time ('kernel' events).
        let kernels = 0;
        let kernelMs = 0;
        const count = (e: { ms: number }): void => void ((kernels += 1), (kernelMs += e.ms));
        b0.engine?.on('kernel', count);
        const y = b.noGrad(() => model!.forward(b.tensor(x, { shape })));
        await y.data();
        b0.engine?.off('kernel', count);
        free(y);
        const note = b0.engine ? `${kernels} kernels per call, ${kernelMs.toFixed(2)} ms of kernel time in an untimed call ('kernel' events)` : undefined;
        return summarize(id, 'ms', samples, { ...(batch > 1 ? { samples: batch } : {}), check: checkLogits(got!, io!, batch), ...(note ? { kernels, note } : {}) });
      }),
    );
  }
  return out;
}

export const bornMlp = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'mlp');
export const bornCnn = (b: Born, plan: Plan): Promise<CaseResult[]> => infer(b, plan, 'cnn');
