// Shared by the module golden tests (nn-modules.test.ts, nn-spatial.test.ts): one module case of
// a fixture checked against PyTorch with its state dict loaded.
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from './check.js';
import { expectArr, f32, i32, type Arr } from './golden.js';

/** What a module case of gen_nn_golden.py / gen_spatial.py stores. */
export interface ModuleGolden {
  mode: 'train' | 'eval';
  state: Record<string, Arr>;
  keys: string[];
  /** Inputs of forward passes in train mode before the checked one (running statistics accumulate). */
  before: Arr[];
  input: Arr;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr>; buffers?: Record<string, Arr | number> };
}

/** A PyTorch state dict as Born tensors (num_batches_tracked as an int32 scalar). */
export function stateDictOf(c: ModuleGolden): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(c.state).map(([k, a]) => [k, k.endsWith('num_batches_tracked') ? i32(a) : f32(a)]));
}

/** Checks module m on case c: state-dict keys, PyTorch's state dict loaded, the forward passes of
 * c.before, then the output, the gradients of sum(out * r) with respect to the input and the
 * parameters named, and the updated buffers, within tol. `x` is the input (float32 by default). */
export async function expectModuleCase(m: born.nn.Module, c: ModuleGolden, tol: { rtol: number; atol: number },
  x: Tensor = f32(c.input)): Promise<void> {
  expect(Object.keys(m.stateDict()).sort(), 'state-dict keys as PyTorch names them').toEqual([...c.keys].sort());
  m.loadStateDict(stateDictOf(c));
  if (c.before.length) {
    m.train();
    for (const b of c.before) m.forward(f32(b));
  }
  if (c.mode === 'train') m.train(); else m.eval();
  const y = m.forward(x);
  const params = new Map(m.namedParameters());
  const names = Object.keys(c.expected.grads);
  const wrt = names.map((n) => (n === 'input' ? x : params.get(n)!));
  expect(wrt.every(Boolean), `parameters ${names.join(', ')}`).toBe(true);
  // Gradients are built before anything is realised: realising a graph releases the history of
  // tensors without requiresGrad (the input).
  const gs = born.grad(y.mul(f32(c.r)).sum(), wrt);
  await born.realize(y, ...gs);
  await expectArr(y, c.expected.out, tol, 'forward');
  for (const [i, n] of names.entries()) await expectArr(gs[i]!, c.expected.grads[n]!, tol, `d/d${n}`);
  const sd = m.stateDict();
  for (const [k, want] of Object.entries(c.expected.buffers ?? {})) {
    if (typeof want === 'number') expect(await sd[k]!.item(), k).toBe(want);
    else await expectArr(sd[k]!, want, tol, k);
  }
}
