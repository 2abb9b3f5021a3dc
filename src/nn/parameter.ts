/** nn.Parameter: a tensor that a Module registers as learnable state. */
import { realize } from '../scheduler/realize.js';
import type { DType } from '../graph/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { flag, options } from '../tensor/args.js';

/**
 * A Tensor that is a module parameter (PyTorch's nn.Parameter): a field holding one is found by
 * Module.parameters() and saved in the state dict, whether or not it requires a gradient.
 * It shares `data`'s graph node (no copy); `requiresGrad` defaults to true. Its value is
 * computed now, in the background, so every forward reads the same stored numbers instead of
 * re-deriving an initialiser inside its kernels.
 *
 * @example const w = new nn.Parameter(born.randn([3, 4]));  // or nn.Parameter(t, false)
 */
export class Parameter<D extends DType = DType> extends Tensor<D> {
  constructor(data: Tensor<D>, requiresGrad?: boolean | { requiresGrad?: boolean }) {
    if (!(data instanceof Tensor)) throw new TypeError(`Parameter: expected a Tensor, got ${data === null ? 'null' : typeof data}`);
    const rg = typeof requiresGrad === 'object' && requiresGrad !== null
      ? options<{ requiresGrad?: boolean }>('Parameter', requiresGrad, ['requiresGrad']).requiresGrad : requiresGrad;
    super(data.node);
    realize([data.node]).catch(() => {}); // a failure surfaces when the parameter is read
    (this as Tensor).requiresGrad_(flag('Parameter', 'requiresGrad', rg) ?? true);
  }

  override toString(): string {
    return `Parameter(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, requiresGrad=${this.requiresGrad})`;
  }
}
