/**
 * The kernel IR: what the scheduler emits and every device compiles. Device-neutral and
 * hashable; the CPU device prints it to JS, the WebGPU device to WGSL.
 *
 * A kernel writes one contiguous output (slot 0) from input buffers (slots 1..n) — and, in a
 * multi-output kernel, further outputs over the same loop (`extraOutputs`). It loops over
 * the output's coordinates o0..o{p-1} (`loop`); a reduction kernel also loops over r0..r{q-1}
 * combining `reduce.value` into an accumulator; a matmul kernel forms dot products of two strided
 * operands. `value` is the output element, where `acc` names the accumulator (an epilogue).
 * A store kernel writes into an existing buffer at `outIndex` instead of contiguously, and
 * runtime scalars ('param', `params`) are arguments of each run, never part of the source.
 */
import type { DType } from '../graph/dtype.js';
import type { ElementwiseOp, ReduceOp, RowOp } from '../graph/ops.js';
import type { QuantFormat } from './quant.js';

export type Index =
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'num'; readonly n: number }
  | { readonly k: 'add'; readonly a: Index; readonly b: Index }
  | { readonly k: 'mul'; readonly a: Index; readonly n: number }
  /** Floor division; only ever applied to indices that are non-negative wherever they are read. */
  | { readonly k: 'div'; readonly a: Index; readonly n: number }
  | { readonly k: 'mod'; readonly a: Index; readonly n: number }
  /**
   * A data-dependent coordinate (gather): an integer value computed by the kernel. With `bound`,
   * the value must lie in [0, bound.hi); a printer checks it, records the first violation as
   * check number `bound.check` of the kernel's `indexChecks` (see ERROR_RECORD_LENGTH) and reads
   * coordinate 0 instead, so a bad index never reads outside a buffer.
   */
  | { readonly k: 'val'; readonly v: Scalar; readonly bound?: { readonly hi: number; readonly check: number } };

/** Every bound must hold: lo <= a < hi. */
export type Valid = readonly { readonly a: Index; readonly lo: number; readonly hi: number }[];

export type Scalar =
  | { readonly k: 'load'; readonly input: number; readonly index: Index; readonly dtype: DType }
  | { readonly k: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly k: 'acc'; readonly dtype: DType }
  /**
   * Philox-2x32-10 keyed by seed, at counter `index`. Without `dist`: a uniform float in [0, 1),
   * the top 24 bits of word `word` scaled (exact in float32). With dist 'normal': a standard
   * normal from both words of that evaluation, computed in integer arithmetic only as
   * kernel/normal.ts specifies (word 0 r·cos, word 1 r·sin of one Box–Muller pair), a float32
   * with the same bits on every device. Either way a pure function of (seed, index): the
   * scheduler may fuse, split or duplicate it freely.
   */
  | { readonly k: 'rand'; readonly seed: number | Scalar; readonly word: 0 | 1; readonly dist?: 'normal'; readonly index: Index; readonly dtype: DType }
  | { readonly k: 'iota'; readonly index: Index; readonly dtype: DType }
  /** Zero where `valid` fails (padding); `arg` is not evaluated there. */
  | { readonly k: 'masked'; readonly valid: Valid; readonly arg: Scalar; readonly dtype: DType }
  | { readonly k: 'op'; readonly op: ElementwiseOp; readonly args: readonly Scalar[]; readonly dtype: DType }
  | { readonly k: 'cast'; readonly arg: Scalar; readonly dtype: DType }
  /** A runtime scalar: entry `slot` of the run's args (see Kernel.params), never part of the source. */
  | { readonly k: 'param'; readonly slot: number; readonly dtype: DType };

/** A data-dependent index read that must lie in [0, hi): reported as an IndexError naming `op`. */
export interface IndexCheck {
  /** The user-facing op (gather, indexSelect, embedding, crossEntropy, scatterAdd, ...). */
  readonly op: string;
  /** The input dim the index addresses, and its size (the valid range is [0, hi)). */
  readonly dim: number;
  readonly hi: number;
}

/**
 * Where a kernel with index checks records the first violation: an extra binding after the
 * inputs, ERROR_RECORD_LENGTH int32 words, zero before the kernel runs. Word 0 is the check
 * number + 1 (0: every index was in range), word 1 the offending value (clamped to the int32
 * range). Threads claim word 0 with a compare-exchange (an atomic on WebGPU too), so the value
 * always belongs to the check named. The scheduler reads the records once the schedule's kernels
 * have run — no sync point between kernels — and turns a violation into an IndexError.
 */
export const ERROR_RECORD_LENGTH = 4;

/**
 * A scatter-add kernel (PyTorch's scatter_add / index_add): the output starts as `value` (the
 * base, over the o-coordinates like any elementwise kernel), then for every coordinate s0..s{q-1}
 * of `space` (the index's shape), `src` (over the s-coordinates) is added at the output
 * coordinate s with dim `axis` replaced by `target` (the index value at s, checked against
 * [0, out.shape[axis]) as check number `check`).
 *
 * The work is O(space + output), never O(space x out.shape[axis]). Printers must not race on
 * repeated indices. CPU: each thread owns a range of destination rows along `axis`, scans the
 * whole index and adds only into its rows, in the index's row-major order, so sums are
 * repeatable for any thread count. WebGPU: the same ownership split (one invocation per
 * destination row block), or for large spaces a sorted segment form (sort s by target, then one
 * invocation per segment); float atomics would make the order of summation vary between runs.
 */
export interface ScatterSpec {
  readonly axis: number;
  readonly space: readonly number[];
  readonly target: Scalar;
  readonly src: Scalar;
  readonly check: number;
}

/**
 * A per-row kernel over the last dim of `loop` (rows of length `n`): the input row is
 * `value` evaluated at o{last} = 0..n-1 (the other o-coordinates fixed), and the output row,
 * written contiguously, is
 * - cumsum / cumprod: the inclusive scan, accumulated in float64 for float dtypes (PyTorch's CPU
 *   accumulation type) and wrapped to the dtype for integers;
 * - argsort / argsortDescending: int32 positions 0..n-1 of a stable sort of the row (equal
 *   values keep their order, NaN compares larger than +Infinity, -0 equals 0: PyTorch's
 *   stable sort).
 * Rows are independent: a printer gives each thread (CPU) or workgroup (WebGPU: a scan is a
 * workgroup prefix sum; a sort a bitonic or merge sort in shared memory, with the index as the
 * tie-break so that it is stable) whole rows. Work is O(n) per row for scans, O(n log n) sorts.
 */
export interface RowSpec {
  readonly op: RowOp;
  readonly n: number;
}

export type WindowOp = 'im2col' | 'col2im' | 'maxPool' | 'maxPoolGrad' | 'maxPoolPick' | 'avgPool' | 'avgPoolGrad';

/**
 * The geometry of a sliding window over an H x W grid: a kh x kw window with stride sh x sw,
 * padding ph x pw (each side) and dilation dh x dw gives an Ho x Wo grid of windows; window
 * (i, j)'s tap (a, b) reads input row i·sh - ph + a·dh, column j·sw - pw + b·dw (outside the
 * grid: padding).
 */
export interface WindowGeom {
  readonly H: number; readonly W: number; readonly Ho: number; readonly Wo: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
}

/**
 * A sliding-window kernel over NCHW planes (the 'window' node kind). The output is contiguous;
 * its shape is [C, kh·kw, N, Ho, Wo] (im2col: rows of a matmul over the batch) or [N, C, H, W] (col2im, maxPoolGrad) or
 * [N, C, Ho, Wo] (maxPool, maxPoolPick, avgPool) or [N, C, H, W] (avgPoolGrad). `args` are the sources, fused expressions of buffers
 * over the variables wn, wc (batch, channel) and:
 * - im2col, maxPool, avgPool: args[0] is the input at wh, ww (input grid);
 * - avgPoolGrad: args[0] is the gradient at wi, wj;
 * - col2im: args[0] is the patches at wq (tap a·kw + b), wi, wj (window grid);
 * - maxPoolGrad: args[0] the input at wh, ww; args[1] the gradient at wi, wj; optionally args[2],
 *   the window's maximum at wi, wj (the maxPool of args[0], as stored in the output dtype): a
 *   printer may take the first in-grid tap whose value, rounded to that dtype, equals it, instead
 *   of scanning for the maximum (the same position unless it is NaN or no tap matches: then scan);
 * - maxPoolPick: args[0] the input at wh, ww; args[1] the gradient at wh, ww (read at the maximum).
 * Semantics: im2col writes tap values, 0 for padding; col2im sums every tap landing on an input
 * element, in tap order (a, b), then window order; maxPool is each window's maximum over its
 * in-grid taps (a NaN is the maximum); its "first maximum" is PyTorch's: scanning taps in order,
 * the last position where v > max or v is NaN (the first in-grid tap if none), and maxPoolGrad
 * adds g there (windows in row-major order), maxPoolPick reads gg there. avgPool is the sum of
 * the in-grid taps divided by kh·kw (padding counts as zeros); avgPoolGrad adds g / (kh·kw) to
 * each in-grid tap of each window, windows in row-major order.
 * Printers must not race: planes (wn, wc) are independent, so a thread (CPU) or workgroup
 * (WebGPU) owns whole planes; maxPoolGrad and col2im accumulate within a plane in the order above.
 */
export interface WindowSpec {
  readonly op: WindowOp;
  readonly N: number;
  readonly C: number;
  readonly geom: WindowGeom;
  readonly args: readonly Scalar[];
}

/**
 * A fused attention kernel (the 'attention' node kind): softmax(q kᵀ · scale + mask) v for
 * `batch` independent (query-head) problems, written contiguously as [batch, L, Ev], without
 * materialising the [L, S] scores (flash attention's online softmax: per query row a running
 * maximum and sum over blocks of keys). The sources are fused expressions over the variables
 * ab (batch, 0..batch-1), ai (query row), aj (key row), ad (q/k feature, 0..E-1), ae (v feature,
 * 0..Ev-1): q reads ab, ai, ad; k reads ab, aj, ad and v ab, aj, ae (a grouped-query mapping of
 * query heads to kv heads lives in their indices); mask reads ab, ai, aj; kvLength reads none.
 *
 * Score (ai, aj) is scale · Σ_ad q·k, and key aj is hidden from query ai (its weight is 0) where
 * - aj ≥ len, len being min(S, kvLength) when kvLength is set (an int runtime scalar), else S;
 * - causal and aj > ai + off, off = len - L with kvLength (query ai sits at position len - L + ai,
 *   a decoder's cache), else 0 (PyTorch's top-left causal mask);
 * - mask 'bool' is false there (true: may attend); mask 'add' adds its value (-Infinity hides).
 * A row whose keys are all hidden is NaN (0/0), as the composed softmax gives. Printers give a
 * thread (CPU) or an invocation (WebGPU) whole query rows: rows are independent, no races.
 */
export interface AttentionSpec {
  readonly batch: number; readonly L: number; readonly S: number; readonly E: number; readonly Ev: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly q: Scalar; readonly k: Scalar; readonly v: Scalar;
  readonly mask: { readonly kind: 'bool' | 'add'; readonly value: Scalar } | null;
  readonly kvLength: Scalar | null;
}

export interface MatmulOperand {
  readonly input: number; readonly offset: number; readonly sBatch: number; readonly sRow: number; readonly sCol: number;
  /**
   * A prologue: the operand's element is this function of the element read at the strides,
   * which it names `{ k: 'acc' }`. It holds only op, cast, const, param and acc scalars (no
   * loads, no indices), so a printer may apply it wherever it reads the operand (CPU: as it
   * packs panels), once per element read, rounding to the operand's dtype.
   */
  readonly prologue?: Scalar;
  /**
   * Implicit GEMM: the strides address the patches of an im2col that is never written (a
   * WindowOperand), not the input buffer. Only where the device asks for them
   * (DeviceLimits.windowOperands); printers apply the prologue to the element read from the
   * input, never to the padding's zero.
   */
  readonly window?: WindowOperand;
  /**
   * A packed weight (kernel/quant.ts): `input` is a uint8 buffer holding, from byte `byteOffset`,
   * the blocks of a float [rows, cols] matrix W, and the strides address W's elements as if W
   * were stored contiguously (element e is W[⌊e / cols⌋, e % cols]). Printers dequantise each
   * element as they read it; there is no prologue.
   */
  readonly quant?: QuantOperand;
}

/** How a quant operand's bytes hold its matrix (MatmulOperand.quant). */
export interface QuantOperand {
  readonly format: QuantFormat;
  readonly rows: number;
  readonly cols: number;
  readonly byteOffset: number;
}

/**
 * A matmul operand read through an im2col: the operand's offset and strides address the patches
 * [C, kh·kw, N, Ho, Wo] of im2col (WindowSpec), laid out contiguously, whose element
 * (c, a·kw + b, n, i, j) is input element [n, c, i·sh - ph + a·dh, j·sw - pw + b·dw], read at
 * `offset + n·sN + c·sC + h·sH + w·sW` of the input buffer, and 0 where (h, w) falls outside the
 * H x W grid (padding). The patch index fits in an int32.
 */
export interface WindowOperand {
  readonly N: number;
  readonly C: number;
  readonly geom: WindowGeom;
  readonly offset: number; readonly sN: number; readonly sC: number; readonly sH: number; readonly sW: number;
}

/**
 * An im2col that matmuls could read through a window (MatmulOperand.window) rather than from a
 * buffer, as a device is asked about it (DeviceLimits.windowOperands): its geometry, and every
 * matmul operand that reads the patches — which side, the matmul's sizes, its strides over the
 * patches [C, kh·kw, N, Ho, Wo] as if they were a contiguous buffer.
 */
export interface WindowFold {
  readonly geom: WindowGeom;
  readonly dtype: DType;
  readonly N: number;
  readonly C: number;
  readonly reads: readonly {
    readonly side: 'a' | 'b'; readonly batch: number; readonly M: number; readonly N: number; readonly K: number;
    readonly offset: number; readonly sBatch: number; readonly sRow: number; readonly sCol: number;
  }[];
}

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
  readonly reduce: {
    readonly op: ReduceOp; readonly dims: readonly number[]; readonly value: Scalar; readonly inner: boolean;
    /**
     * A spread reduction (softmax's sum and divide, layer norm's variance and scaling): the loop keeps
     * the reduced dims, which are its trailing ones (`dims`). For each row — a coordinate of the
     * leading loop dims — `acc` is reduced once over r0..r{q-1} (`value` reads the row's o-vars
     * and the r-vars), then `value` is written for every o-coordinate of the row. Printers split
     * the work by rows.
     */
    readonly spread?: boolean;
  } | null;
  readonly matmul: { readonly batch: number; readonly M: number; readonly N: number; readonly K: number; readonly a: MatmulOperand; readonly b: MatmulOperand } | null;
  readonly value: Scalar;
  /** A scatter-add kernel: `value` is the base each output element starts from. */
  readonly scatter?: ScatterSpec | null;
  /** A per-row kernel: `value` is the input element at the loop's coordinates. */
  readonly row?: RowSpec | null;
  /** A sliding-window kernel: `value` is unused (a constant); the sources are `window.args`. */
  readonly window?: WindowSpec | null;
  /** A fused attention kernel: `value` is unused (a constant); the sources are in the spec. */
  readonly attention?: AttentionSpec | null;
  /** Data-dependent index reads and their valid ranges; non-empty means an ErrorRecord is bound. */
  readonly indexChecks?: readonly IndexCheck[];
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
  /**
   * Further outputs written by the same loop (a multi-output kernel: one optimizer update storing
   * a parameter and its state). Each is written like the main output — `value` at every element
   * of `loop`, contiguously or, for a store, at `outIndex` of an existing buffer — and is bound
   * at slot extraOutputSlot(k, j), after the inputs (and the error record). A printer evaluates
   * every output's value at an element before it writes any of them: a store may read its own
   * target and the other outputs' targets, but only at the element it writes (the scheduler
   * checks this), so all reads see the old contents. Only on elementwise kernels (no reduce,
   * matmul, scatter or row); absent or empty on one-output kernels.
   */
  readonly extraOutputs?: readonly ExtraOutput[];
  /** For reports: the graph ops fused into this kernel, in order. */
  readonly ops: readonly string[];
  readonly flops: number;
  readonly bytes: number;
}

/** A further output of a multi-output kernel (Kernel.extraOutputs). */
export interface ExtraOutput {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly value: Scalar;
  /** As Kernel.outIndex: null writes element i of the loop to out[i]. */
  readonly outIndex: Index | null;
}

/** Storage buffers a kernel binds: its output, inputs, error record and further outputs. */
export const bindingsOf = (k: Kernel): number => 1 + k.inputs.length + (k.indexChecks?.length ? 1 : 0) + (k.extraOutputs?.length ?? 0);

/** The binding slot of extra output `j` of `k`: after the inputs and the error record, if any. */
export const extraOutputSlot = (k: Kernel, j: number): number => k.inputs.length + 1 + (k.indexChecks?.length ? 1 : 0) + j;

/**
 * JSON writes Infinity, -Infinity and NaN as null and -0 as 0, so constants that print to
 * different code would share a key; such numbers get a tagged string no kernel field can hold
 * (every string in a kernel is an identifier, an op or a dtype).
 */
function exactNumber(_key: string, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  if (Number.isFinite(v)) return Object.is(v, -0) ? '#-0' : v;
  return `#${v}`; // '#Infinity', '#-Infinity', '#NaN'
}

/** Structural identity of a kernel: equal hashes compile to the same code. */
export function kernelHash(k: Kernel): string {
  return JSON.stringify([k.out, k.inputs, k.loop, k.reduce, k.matmul, k.value,
    k.params, k.outIndex, k.scatter ?? null, k.indexChecks?.length ?? 0, ...(k.row ? [k.row] : []), ...(k.window ? [{ window: k.window }] : []),
    ...(k.attention ? [{ attention: k.attention }] : []),
    ...(k.extraOutputs?.length ? [k.extraOutputs] : [])], exactNumber);
}

/** A scalar or an index expression, as the walks over kernel expressions meet them. */
export type ExprRef = { readonly scalar: Scalar } | { readonly index: Index };

/**
 * The direct parts of a scalar or index expression: the scalars it reads and the index
 * expressions it addresses. Every walk over kernel expressions (the loop variables a value reads,
 * where a store kernel reads its target) recurses through this one function.
 */
export function partsOf(e: ExprRef): { scalars: readonly Scalar[]; indices: readonly Index[] } {
  if ('index' in e) {
    const i = e.index;
    switch (i.k) {
      case 'var': case 'num': return { scalars: [], indices: [] };
      case 'add': return { scalars: [], indices: [i.a, i.b] };
      case 'mul': case 'div': case 'mod': return { scalars: [], indices: [i.a] };
      case 'val': return { scalars: [i.v], indices: [] };
    }
  }
  const s = e.scalar;
  switch (s.k) {
    case 'const': case 'acc': case 'param': return { scalars: [], indices: [] };
    case 'load': case 'iota': return { scalars: [], indices: [s.index] };
    case 'rand': return { scalars: typeof s.seed === 'number' ? [] : [s.seed], indices: [s.index] };
    case 'masked': return { scalars: [s.arg], indices: s.valid.map((v) => v.a) };
    case 'op': return { scalars: s.args, indices: [] };
    case 'cast': return { scalars: [s.arg], indices: [] };
  }
}

// Leaves of index arithmetic; sums, products, divisions and remainders are built (and
// simplified) by kernel/symbolic.ts.
export const ivar = (name: string): Index => ({ k: 'var', name });
export const inum = (n: number): Index => ({ k: 'num', n });
