// Workload 5 (issue 3): one forward+backward of an MLP 784-512-256-10 (ReLU), batch 256,
// softmax cross-entropy over random int labels; the gradients of every weight and bias
// computed as ONE schedule:
//   const loss = crossEntropy(model.forward(x), y); const gs = grad(loss, model.parameters());
//   await realize(loss, ...gs)
// x = rand [256, 784] in [0, 1), y = randint 0..9, both materialised. Timed: building the
// graph + the schedule. Reported: ms per step, and (Born) the kernels one step runs.
// Born's loss and gradients are checked against a float64 forward/backward in JS.

import type { Born, BornTensor } from '../born-api.js';
import { need } from '../born-api.js';
import { compare, MLP_SIZES, runCase, summarize, timeMs, TRAIN_BATCH, type CaseResult, type Plan } from '../common.js';

export const BATCH = TRAIN_BATCH;
export const SIZES = MLP_SIZES;

export async function born(b0: Born, plan: Plan): Promise<CaseResult[]> {
  return [
    await runCase('mlp_step', 'ms', async () => {
      const b = need(b0, 'rand', 'randint', 'grad', 'explain', 'engine', 'nn');
      b.manualSeed?.(1);
      const nn = b.nn;
      const [d0, d1, d2, d3] = SIZES;
      const model = nn.Sequential(nn.Linear(d0, d1), nn.ReLU(), nn.Linear(d1, d2), nn.ReLU(), nn.Linear(d2, d3));
      const params = model.parameters();
      const x = b.rand([BATCH, d0], { seed: 11 });
      const y = b.randint(0, d3, [BATCH], { seed: 12 });
      await b.realize(x, y, ...params);

      let loss: BornTensor | undefined;
      let gs: BornTensor[] = [];
      const build = (): void => {
        loss = nn.functional.crossEntropy(model.forward(x), y);
        gs = b.grad(loss, params);
      };
      const samples = await timeMs(async () => {
        build();
        await b.realize(loss!, ...gs);
      }, plan);

      // One more step, untimed: what explain() plans and how many kernels actually run.
      build();
      const explainKernels = b.explain(loss!, ...gs).kernels.length;
      let kernels = 0;
      const count = (): void => void kernels++;
      b.engine.on('kernel', count);
      try {
        await b.realize(loss!, ...gs);
      } finally {
        b.engine.off('kernel', count);
      }

      const check = checkMlp(
        await x.data(),
        await y.data(),
        await Promise.all(params.map((p) => p.data())),
        await loss!.data(),
        await Promise.all(gs.map((g) => g.data())),
      );
      return summarize('mlp_step', 'ms', samples, {
        kernels,
        explainKernels,
        check,
        note: `${kernels} kernels per step ('kernel' events; explain() plans ${explainKernels})`,
      });
    }),
  ];
}

/**
 * Loss and gradients of the MLP in float64 (params in PyTorch's layout: W [out, in], b [out],
 * in the order W1 b1 W2 b2 W3 b3), compared with Born's: each tensor's error relative to its
 * largest magnitude.
 */
function checkMlp(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  params: ArrayLike<number>[],
  loss: ArrayLike<number>,
  grads: ArrayLike<number>[],
): string {
  const B = BATCH;
  const dims = SIZES;
  const L = dims.length - 1;
  if (params.length !== 2 * L || grads.length !== 2 * L) return `WRONG: ${params.length} parameters, ${grads.length} gradients (expected ${2 * L})`;
  // forward: acts[0] = x, acts[l+1] = relu(acts[l] W^T + b) (no relu on the last)
  const acts: Float64Array[] = [Float64Array.from(x)];
  for (let l = 0; l < L; l++) {
    const [n, m] = [dims[l]!, dims[l + 1]!];
    const W = params[2 * l]!;
    const bias = params[2 * l + 1]!;
    const a = acts[l]!;
    const out = new Float64Array(B * m);
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < m; j++) {
        let s = bias[j]!;
        const wr = j * n;
        const ar = i * n;
        for (let k = 0; k < n; k++) s += a[ar + k]! * W[wr + k]!;
        out[i * m + j] = l < L - 1 && s < 0 ? 0 : s;
      }
    }
    acts.push(out);
  }
  // softmax cross-entropy, mean over the batch; dz = (softmax - onehot) / B
  const C = dims[L]!;
  const z = acts[L]!;
  let total = 0;
  let delta = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, z[i * C + c]!);
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(z[i * C + c]! - mx);
    const lse = mx + Math.log(se);
    const yi = y[i]!;
    total += lse - z[i * C + yi]!;
    for (let c = 0; c < C; c++) delta[i * C + c] = (Math.exp(z[i * C + c]! - lse) - (c === yi ? 1 : 0)) / B;
  }
  const refLoss = total / B;
  // backward
  const refGrads: Float64Array[] = new Array(2 * L);
  for (let l = L - 1; l >= 0; l--) {
    const [n, m] = [dims[l]!, dims[l + 1]!];
    const a = acts[l]!;
    const gW = new Float64Array(m * n);
    const gb = new Float64Array(m);
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < m; j++) {
        const d = delta[i * m + j]!;
        if (d === 0) continue;
        gb[j]! += d;
        const ar = i * n;
        const gr = j * n;
        for (let k = 0; k < n; k++) gW[gr + k]! += d * a[ar + k]!;
      }
    }
    refGrads[2 * l] = gW;
    refGrads[2 * l + 1] = gb;
    if (l > 0) {
      const W = params[2 * l]!;
      const prev = new Float64Array(B * n);
      for (let i = 0; i < B; i++) {
        for (let j = 0; j < m; j++) {
          const d = delta[i * m + j]!;
          if (d === 0) continue;
          const wr = j * n;
          const pr = i * n;
          for (let k = 0; k < n; k++) prev[pr + k]! += d * W[wr + k]!;
        }
      }
      for (let k = 0; k < prev.length; k++) if (a[k]! <= 0) prev[k] = 0; // relu'
      delta = prev;
    }
  }
  const parts: string[] = [];
  const lossCheck = compare([loss[0]!], [refLoss], Math.abs(refLoss), 1e-5);
  if (!lossCheck.startsWith('ok')) return `loss ${lossCheck}`;
  let worst = 0;
  for (let p = 0; p < 2 * L; p++) {
    const ref = refGrads[p]!;
    let scale = 0;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    const r = compare(grads[p]!, ref, scale, 1e-4, 0);
    if (!r.startsWith('ok')) parts.push(`grad ${p} ${r}`);
    else worst = Math.max(worst, Number(/err ([^)]+)\)/.exec(r)?.[1] ?? 0));
  }
  return parts.length ? parts.join('; ') : `ok (loss and ${2 * L} gradients; max err ${worst.toExponential(1)} of each tensor's largest entry)`;
}
