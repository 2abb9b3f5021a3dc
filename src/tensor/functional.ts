/**
 * Top-level functional forms of Tensor methods (born.exp(x), born.matmul(a, b),
 * born.sum(x, 1)): `born.f(x, ...args)` is `x.f(...args)`, typed with the method's own
 * parameters and result. Generated from Tensor.prototype, so one wrapper serves every method;
 * src/index.ts picks the names it exports (adding one is one word in that list).
 */
import type { DType } from '../graph/dtype.js';
import { describeArg } from './args.js';
import type { ValuesIndices } from './reduce.js';
import { Tensor, type Promoted } from './tensor.js';

/** The names of Tensor's methods (not getters, not fields). */
export type TensorMethod = {
  [K in keyof Tensor]: Tensor[K] extends (...args: never[]) => unknown ? K : never
}[keyof Tensor];

/** The functional form of method K: the tensor first, then the method's own arguments. */
export type FunctionalForm<K extends TensorMethod> =
  <D extends DType>(x: Tensor<D>, ...args: Tensor<D>[K] extends (...a: infer A) => unknown ? A : never)
    => Tensor<D>[K] extends (...a: never[]) => infer R ? R : never;

/**
 * torch.max / torch.min keep the method's overloads (a conditional type would see only the last):
 * the value, `{ values, indices }` along a dim, or the elementwise extreme of two tensors.
 */
export interface ExtremeForm {
  <D extends DType>(x: Tensor<D>): Tensor<D>;
  <D extends DType>(x: Tensor<D>, dim: number, keepdim?: boolean | { keepdim?: boolean }): ValuesIndices<Tensor<D>>;
  <D extends DType>(x: Tensor<D>, opts: { dim: number; keepdim?: boolean }): ValuesIndices<Tensor<D>>;
  <D extends DType>(x: Tensor<D>, opts: { dim?: undefined; keepdim?: boolean }): Tensor<D>;
  <D extends DType, B extends DType>(x: Tensor<D>, other: Tensor<B>): Tensor<Promoted<D, Tensor<B>>>;
}

export type FunctionalForms = { readonly [K in TensorMethod]: K extends 'max' | 'min' ? ExtremeForm : FunctionalForm<K> };

function form(name: string): (x: unknown, ...args: unknown[]) => unknown {
  const f = (x: unknown, ...args: unknown[]): unknown => {
    if (!(x instanceof Tensor)) {
      throw new TypeError(`${name}: expected a Tensor as the first argument (born.${name}(x, …) is x.${name}(…)), got ${describeArg(x)}`);
    }
    return (x as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
  };
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

/**
 * Every Tensor method as a function of the tensor: `functionalForms.exp(x)`. Built from the
 * prototype when first read, so methods added to Tensor later are there too.
 */
export const functionalForms: FunctionalForms = new Proxy({} as Record<string, unknown>, {
  get(cache, name) {
    if (typeof name !== 'string') return undefined;
    if (!(name in cache)) {
      const d = Object.getOwnPropertyDescriptor(Tensor.prototype, name);
      if (!d || typeof d.value !== 'function' || name === 'constructor') return undefined;
      cache[name] = form(name);
    }
    return cache[name];
  },
}) as unknown as FunctionalForms;
