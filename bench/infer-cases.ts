// The timing loop every peer's infer-mlp / infer-cnn side shares (and the onnx-* workloads, with
// their batches and case ids): open the model once, then for each batch of INFER_BATCHES time one
// call (input array in hand → output data in hand) and check the logits against PyTorch's. A
// failed open fails every case with its error.

import { runCase, summarize, timeMs, type CaseResult, type Plan } from './common.js';
import { checkLogits, INFER_BATCHES, inputBatch, planFor, readIo, type InferModel } from './models.js';

export interface InferPeer<M> {
  open(): M | Promise<M>;
  /** One call on a [batch, 1, 28, 28] input: the logits. */
  call(model: M, x: Float32Array, batch: number): Promise<ArrayLike<number>>;
  /** What else a case reports (a footnote, a kernel count), measured after the timed calls. */
  extra?(model: M, x: Float32Array, batch: number): Promise<Partial<CaseResult>>;
  close?(model: M): unknown;
}

export interface InferSetup {
  /** Default INFER_BATCHES. */
  batches?: readonly number[];
  /** Case ids are `${prefix}_${which}_${batch}`; default 'infer'. */
  prefix?: string;
}

export async function inferCases<M>(plan: Plan, which: InferModel, peer: InferPeer<M>, setup0: InferSetup = {}): Promise<CaseResult[]> {
  let model: M | undefined;
  let setup: unknown;
  try {
    model = await peer.open();
  } catch (e) {
    setup = e;
  }
  const io = setup ? undefined : readIo(which);
  const out: CaseResult[] = [];
  for (const batch of setup0.batches ?? INFER_BATCHES) {
    const id = `${setup0.prefix ?? 'infer'}_${which}_${batch}`;
    out.push(
      await runCase(id, 'ms', async () => {
        if (setup) throw setup;
        const x = inputBatch(io!, batch);
        let got: ArrayLike<number> | undefined;
        const samples = await timeMs(async () => { got = await peer.call(model!, x, batch); }, planFor(plan, batch));
        const extra = peer.extra ? await peer.extra(model!, x, batch) : {};
        return summarize(id, 'ms', samples, { ...(batch > 1 ? { samples: batch } : {}), check: checkLogits(got!, io!, batch), ...extra });
      }),
    );
  }
  if (model !== undefined) await peer.close?.(model);
  return out;
}
