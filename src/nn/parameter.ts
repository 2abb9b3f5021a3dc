/** nn.Parameter: a tensor that a Module registers as learnable state. */
import { deferInit } from '../scheduler/realize.js';
import type { DType } from '../graph/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { flag, options } from '../tensor/args.js';

let skipping = 0;

/**
 * Runs `make` (a module's construction) with its parameters' initialisers recorded but not
 * computed, as PyTorch's nn.utils.skip_init: for a loader that fills every parameter from a file,
 * so that the random values are never drawn into memory only to be overwritten. A parameter read
 * before it is filled computes its initialiser then.
 */
export function skipInit<T>(make: () => T): T {
  skipping++;
  try {
    return make();
  } finally {
    skipping--;
  }
}

/**
 * A Tensor that is a module parameter (PyTorch's nn.Parameter): a field holding one is found by
 * Module.parameters() and saved in the state dict, whether or not it requires a gradient.
 * It shares `data`'s graph node (no copy); `requiresGrad` defaults to true. Its value is
 * computed, once, by the first schedule that reads it (a forward, an optimizer's set-up,
 * Module.realize()), so that every forward reads the same stored numbers instead of re-deriving
 * an initialiser inside its kernels; a value loaded first (loadStateDict, nn.init) replaces it
 * without it ever being computed.
 *
 * @example const w = new nn.Parameter(born.randn([3, 4]));  // or nn.Parameter(t, false)
 */
export class Parameter<D extends DType = DType> extends Tensor<D> {
  constructor(data: Tensor<D>, requiresGrad?: boolean | { requiresGrad?: boolean }) {
    if (!(data instanceof Tensor)) throw new TypeError(`Parameter: expected a Tensor, got ${data === null ? 'null' : typeof data}`);
    const rg = typeof requiresGrad === 'object' && requiresGrad !== null
      ? options<{ requiresGrad?: boolean }>('Parameter', requiresGrad, ['requiresGrad']).requiresGrad : requiresGrad;
    super(data.node);
    if (skipping === 0) deferInit(this); // a failure surfaces when the parameter is read
    (this as Tensor).requiresGrad_(flag('Parameter', 'requiresGrad', rg) ?? true);
  }

  override toString(): string {
    return `Parameter(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, requiresGrad=${this.requiresGrad})`;
  }
}
