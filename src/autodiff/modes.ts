/**
 * Grad modes as PyTorch names them: setGradEnabled / isGradEnabled, enableGrad (recording again
 * inside noGrad), inferenceMode. The mode follows the async context as noGrad's does
 * (graph/node.ts gradMode).
 */
import { gradMode } from '../graph/node.js';

const checkFn = (op: string, fn: unknown): void => {
  if (typeof fn !== 'function') throw new TypeError(`${op}: expected a function to run, got ${fn === null ? 'null' : typeof fn}`);
};

/**
 * Turns gradient recording on or off (torch.set_grad_enabled): inside a noGrad / enableGrad
 * block until that block ends, else for the whole process. With `fn`, runs fn in that mode
 * instead and returns its result: `born.setGradEnabled(isTraining, () => model.forward(x))`.
 */
export function setGradEnabled(enabled: boolean): void;
export function setGradEnabled<T>(enabled: boolean, fn: () => T): T;
export function setGradEnabled<T>(enabled: boolean, fn?: () => T): T | void {
  if (typeof enabled !== 'boolean') throw new TypeError(`setGradEnabled: expected true or false, got ${typeof enabled}`);
  if (fn === undefined) { gradMode.set(enabled); return; }
  checkFn('setGradEnabled', fn);
  return gradMode.run(enabled, fn);
}

/** Whether new operations record gradient information here and now (torch.is_grad_enabled). */
export const isGradEnabled = (): boolean => gradMode.enabled;

/**
 * Runs `fn` recording gradients, even inside noGrad (torch.enable_grad). An `async` fn keeps
 * the mode across its awaits.
 */
export function enableGrad<T>(fn: () => T): T {
  checkFn('enableGrad', fn);
  return gradMode.run(true, fn);
}

/**
 * Runs `fn` for inference (torch.inference_mode): in Born the same as noGrad — results record
 * no gradient information and hold no history for autodiff.
 */
export function inferenceMode<T>(fn: () => T): T {
  checkFn('inferenceMode', fn);
  return gradMode.run(false, fn);
}
