/**
 * Filling a model's parameters from a checkpoint without a second copy of the weights: the model
 * is built under skipInit (no random values are drawn), and each parameter is handed the device
 * buffer its values were just written into. What is in flight at a time is one tensor: the host
 * array it was read into (which a loader may reuse from tensor to tensor) and its device buffer,
 * which the parameter then keeps.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { adoptStorage } from '../tensor/assign.js';
import { fromStorage } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Gives `target` (a float32 parameter) the first numel values of `values` as its storage, in a
 * buffer of its own; `values` may be reused afterwards. `what` names the weight in errors.
 */
export function fillParameter(target: Tensor, values: Float32Array, what: string): void {
  const n = target.numel();
  if (values.length < n) throw new ShapeError(`${what}: ${values.length} values for a parameter of shape ${fmt(target.shape)} (${n} values)`);
  const stored = fromStorage(values, target.shape, 'float32');
  adoptStorage(target, stored);
  stored.dispose(); // the parameter's node now holds the buffer
}
