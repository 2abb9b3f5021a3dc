/**
 * A matmul kernel's epilogue as a SIMD map (plan.ts): the fused ops after the dot product (a
 * convolution's per-channel bias, a linear layer's bias and activation) run four lanes at a time
 * over the C block in wasm memory, instead of as a JS expression per element on the copy-out.
 * For a conv over 1.4 M outputs the JS epilogue took three times as long as the matmul itself.
 *
 * The accumulator is operand 0 of the plan (slot 0 of the kernel's bindings is its output, so no
 * load of the kernel uses it): a load at the flat output index, contiguous by construction. The
 * matmul template (matmul/epilogue-out.ts) copies each row's run of C into that operand's block.
 */
import { contiguousStrides } from '../../../graph/shape.js';
import type { Index, Kernel, Scalar } from '../../../kernel/ir.js';
import { BLOCK, layoutOf, simdModule, type SimdLayout } from './module.js';
import { planSimd, type SimdPlan } from './plan.js';

/** The plan's input number for the accumulator. */
export const ACC_INPUT = 0;

function flatIndex(loop: readonly number[]): Index {
  const strides = contiguousStrides(loop);
  let index: Index = { k: 'num', n: 0 };
  loop.forEach((d, i) => {
    if (d !== 1) index = { k: 'add', a: index, b: { k: 'mul', a: { k: 'var', name: `o${i}` }, n: strides[i]! } };
  });
  return index;
}

function withAccLoad(s: Scalar, acc: Scalar): Scalar {
  switch (s.k) {
    case 'acc': return acc;
    case 'op': return { ...s, args: s.args.map((a) => withAccLoad(a, acc)) };
    case 'cast': return { ...s, arg: withAccLoad(s.arg, acc) };
    default: return s;
  }
}

/** The lane-wise plan of a float32 matmul kernel's epilogue, or null where it has none or no lane-wise form. */
export function planMatmulEpilogue(k: Kernel): SimdPlan | null {
  if (!k.matmul || k.value.k === 'acc' || k.out.dtype !== 'float32' || k.outIndex || (k.indexChecks?.length ?? 0) > 0) return null;
  if (k.matmul.a.quant || k.matmul.b.quant) return null;
  const acc: Scalar = { k: 'load', input: ACC_INPUT, index: flatIndex(k.loop), dtype: 'float32' };
  const plan = planSimd({ ...k, matmul: null, value: withAccLoad(k.value, acc) });
  return typeof plan === 'string' || plan.kind !== 'map' ? null : plan;
}

/**
 * The lane-wise plan of a float32 matmul operand's prologue (kernel/ir.ts MatmulOperand.prologue:
 * a function of the element read, `acc`, over constants and runtime scalars), or null where it
 * has no lane-wise form. The template runs it over each staged block of the operand: relu of the
 * activations before a linear layer took 16 ns an element as a JS call per element, its branch
 * mispredicted half the time on the signs of real activations.
 */
export function planMatmulPrologue(k: Kernel, prologue: Scalar): SimdPlan | null {
  if (k.out.dtype !== 'float32') return null;
  const acc: Scalar = { k: 'load', input: ACC_INPUT, index: flatIndex([BLOCK]), dtype: 'float32' };
  const plan = planSimd({ ...k, matmul: null, reduce: null, outIndex: null, indexChecks: [], extraOutputs: [], loop: [BLOCK], value: withAccLoad(prologue, acc) });
  // One run in, the element itself: the template copies the staged block into slot 0.
  return typeof plan === 'string' || plan.kind !== 'map' || plan.vecs.length !== 1 ? null : plan;
}

/** The epilogue's memory layout from byte `base` (above the matmul's scratch) and its module. */
export function epilogueModule(plan: SimdPlan, base: number, relaxed: boolean): { layout: SimdLayout; bytes: Uint8Array } {
  const layout = layoutOf(plan, base);
  return { layout, bytes: simdModule(plan, layout, relaxed) };
}
