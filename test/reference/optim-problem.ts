// Shared by the optimizer golden tests (optim-golden.test.ts, optim-more.test.ts): the fixed
// problem their generators step on (gen_nn_golden.py, gen_optim_more.py) and one tolerance for
// parameters and losses after float32 steps.
import * as born from '../../src/index.js';
import type { Tensor } from './check.js';
import { expectArr, f32, type Arr } from './golden.js';

/** Parameters and losses after a few float32 steps, against torch's float64 ones. */
export const OPTIM_TOL = { rtol: 1e-4, atol: 1e-5 };

/** |g - w| within atol + rtol·|w|. */
export const close = (g: number, w: number, tol = OPTIM_TOL): boolean => Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);

/** Shape and values of `t` against `want`, within OPTIM_TOL. */
export const expectNear = (t: Tensor, want: Arr, label: string): Promise<void> => expectArr(t, want, OPTIM_TOL, label);

/** The problem as the fixtures store it: loss = mean((tanh(x Wᵀ + b) - t)²), W [3, 4], b [3]. */
export interface OptimProblem { x: Arr; t: Arr; W: Arr; b: Arr }

/** The problem's loss at parameters W and b. */
export function problemLossOf(P: OptimProblem): (W: Tensor, b: Tensor) => Tensor {
  return (W, b) => f32(P.x).matmul(W.T).add(b).tanh().sub(f32(P.t)).pow(2).mean();
}

/**
 * Two steps on the problem with the optimizer `make` builds, then a fresh optimizer on fresh
 * parameter tensors (holding the values after step 2) restored from the first one's state dict:
 * what resuming must continue from.
 */
export async function restoredAfterTwoSteps<O extends born.optim.Optimizer<{ lr: number }>>(P: OptimProblem,
  make: (params: Tensor[]) => O): Promise<{ W: Tensor; b: Tensor; restored: O }> {
  const loss = problemLossOf(P);
  const W = f32(P.W).requiresGrad_();
  const b = f32(P.b).requiresGrad_();
  const first = make([W, b]);
  for (let i = 0; i < 2; i++) {
    first.zeroGrad();
    loss(W, b).backward();
    await first.step();
  }
  const W2 = born.tensor(await W.data(), { shape: W.shape }).requiresGrad_();
  const b2 = born.tensor(await b.data(), { shape: b.shape }).requiresGrad_();
  const restored = make([W2, b2]);
  await restored.loadStateDict(first.stateDict());
  return { W: W2, b: b2, restored };
}
