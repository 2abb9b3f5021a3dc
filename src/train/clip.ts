/** Gradient clipping by global norm, lazily: it fuses into the optimizer's update schedule. */
import { noGrad } from '../autodiff/grad.js';
import type { Tensor } from '../tensor/tensor.js';

/** Scales every gradient by min(1, maxNorm / (‖g‖₂ + 1e-6)); returns the (lazy) total norm. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor | null {
  const ps = [...params].filter((p) => p.grad);
  if (!ps.length) return null;
  return noGrad(() => {
    const total = ps.map((p) => p.grad!.pow(2).sum()).reduce((a, b) => a.add(b)).sqrt();
    const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp({ max: 1 });
    for (const p of ps) p.grad = p.grad!.mul(coef);
    return total;
  });
}
