/**
 * The kernel IR: what the scheduler emits and every device compiles. Device-neutral and
 * hashable; the CPU device prints it to JS, the WebGPU device to WGSL.
 *
 * A kernel writes one contiguous output (slot 0) from input buffers (slots 1..n). It loops over
 * the output's coordinates o0..o{p-1} (`loop`); a reduction kernel also loops over r0..r{q-1}
 * combining `reduce.value` into an accumulator; a matmul kernel forms dot products of two strided
 * operands. `value` is the output element, where `acc` names the accumulator (an epilogue).
 * A store kernel writes into an existing buffer at `outIndex` instead of contiguously, and
 * runtime scalars ('param', `params`) are arguments of each run, never part of the source.
 */
import type { DType } from '../graph/dtype.js';
import type { ElementwiseOp, ReduceOp } from '../graph/ops.js';

export type Index =
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'num'; readonly n: number }
  | { readonly k: 'add'; readonly a: Index; readonly b: Index }
  | { readonly k: 'mul'; readonly a: Index; readonly n: number }
  /** Floor division; only ever applied to indices that are non-negative wherever they are read. */
  | { readonly k: 'div'; readonly a: Index; readonly n: number }
  | { readonly k: 'mod'; readonly a: Index; readonly n: number }
  /** A data-dependent coordinate (gather): an int32 value computed by the kernel. */
  | { readonly k: 'val'; readonly v: Scalar };

/** Every bound must hold: lo <= a < hi. */
export type Valid = readonly { readonly a: Index; readonly lo: number; readonly hi: number }[];

export type Scalar =
  | { readonly k: 'load'; readonly input: number; readonly index: Index; readonly dtype: DType }
  | { readonly k: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly k: 'acc'; readonly dtype: DType }
  /** Uniform float in [0, 1) from word `word` of Philox-2x32-10 keyed by seed, at counter `index`. */
  | { readonly k: 'rand'; readonly seed: number | Scalar; readonly word: 0 | 1; readonly index: Index; readonly dtype: DType }
  | { readonly k: 'iota'; readonly index: Index; readonly dtype: DType }
  /** Zero where `valid` fails (padding); `arg` is not evaluated there. */
  | { readonly k: 'masked'; readonly valid: Valid; readonly arg: Scalar; readonly dtype: DType }
  | { readonly k: 'op'; readonly op: ElementwiseOp; readonly args: readonly Scalar[]; readonly dtype: DType }
  | { readonly k: 'cast'; readonly arg: Scalar; readonly dtype: DType }
  /** A runtime scalar: entry `slot` of the run's args (see Kernel.params), never part of the source. */
  | { readonly k: 'param'; readonly slot: number; readonly dtype: DType };

export interface MatmulOperand { readonly input: number; readonly offset: number; readonly sBatch: number; readonly sRow: number; readonly sCol: number }

export interface Kernel {
  readonly name: string;
  readonly out: { readonly dtype: DType; readonly shape: readonly number[] };
  readonly inputs: readonly DType[];
  readonly loop: readonly number[];
  /**
   * `inner`: the input's innermost dim is reduced, so one output's inputs are close together;
   * otherwise neighbouring outputs read neighbouring inputs (a column sum) and printers should
   * walk several outputs at once.
   */
  readonly reduce: { readonly op: ReduceOp; readonly dims: readonly number[]; readonly value: Scalar; readonly inner: boolean } | null;
  readonly matmul: { readonly batch: number; readonly M: number; readonly N: number; readonly K: number; readonly a: MatmulOperand; readonly b: MatmulOperand } | null;
  readonly value: Scalar;
  /** The dtypes of the runtime scalars the kernel reads ('param' scalars), by slot. */
  readonly params: readonly DType[];
  /**
   * Null: the kernel writes its output contiguously, element i of `loop` to out[i] (out.shape is
   * `loop`). Otherwise a store: element (o0, o1, …) of `loop` goes to out[outIndex], where `out`
   * is an existing buffer of out.shape (a parameter, a slice of a cache) that the kernel may also
   * read — only at the element it writes, so any split of the loop over threads is safe. The
   * index may depend on runtime scalars (a position). Never set on matmul kernels.
   */
  readonly outIndex: Index | null;
  /** For reports: the graph ops fused into this kernel, in order. */
  readonly ops: readonly string[];
  readonly flops: number;
  readonly bytes: number;
}

/** Structural identity of a kernel: equal hashes compile to the same code. */
export function kernelHash(k: Kernel): string {
  return JSON.stringify([k.out, k.inputs, k.loop, k.reduce, k.matmul, k.value,
    k.params, k.outIndex]);
}

// Leaves of index arithmetic; sums, products, divisions and remainders are built (and
// simplified) by kernel/symbolic.ts.
export const ivar = (name: string): Index => ({ k: 'var', name });
export const inum = (n: number): Index => ({ k: 'num', n });
