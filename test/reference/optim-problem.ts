// Shared by the optimizer golden tests (optim-golden.test.ts, optim-more.test.ts): the fixed
// problem their generators step on (gen_nn_golden.py, gen_optim_more.py) and one tolerance for
// parameters and losses after float32 steps.
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
