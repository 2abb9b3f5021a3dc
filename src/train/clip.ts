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

/**
 * Clamps every gradient into [-clipValue, clipValue] (torch.nn.utils.clip_grad_value_), lazily:
 * the clamp fuses into the optimizer's update schedule.
 */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) throw new RangeError(`clipGradValue: clipValue must be a number >= 0, got ${String(clipValue)}`);
  noGrad(() => {
    for (const p of params) if (p.grad) p.grad = p.grad.clamp({ min: -clipValue, max: clipValue });
  });
}
