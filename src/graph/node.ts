/**
 * The lazy graph. A node records one primitive: what it computes from its sources, its shape and
 * dtype. Nodes are immutable except for realisation: once the scheduler has computed a node, it
 * holds a buffer and forgets its sources (unless autodiff still needs them), so a loop that keeps
 * building on realised tensors never grows the graph.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DType } from './dtype.js';
import type { ElementwiseOp, ReduceOp, RowOp } from './ops.js';
import type { WindowGeom, WindowOp } from '../kernel/ir.js';
import type { QuantFormat } from '../kernel/quant.js';
import type { Movement, ShapeTracker } from './view.js';
import { DeviceError } from './errors.js';

/** Where a node's buffer lives and its kernel runs. */
export type DeviceName = 'cpu' | 'webgpu';

/** A device buffer shared by every node realised to it; freed when the last holder lets go. */
export interface BufferHandle {
  readonly device: string;
  readonly bytes: number;
  /** Settles when the kernel that writes the buffer has finished (rejects if it failed). */
  ready: Promise<void> | null;
  retain(): void;
  release(): void;
}

export type NodeArg =
  | { kind: 'buffer' }
  | { kind: 'const'; value: number }
  /**
   * Counter-based random words: element i is word `word` of Philox(seed, counter i). A null seed
   * is read from the node's one source, a 0-d int32 buffer, so fresh draws (dropout masks) reuse
   * one compiled kernel instead of baking a new key into each. With dist 'normal', element i is
   * instead a standard normal from both words of that draw (ir.ts's rand source): word 0 its
   * r·cos, word 1 its r·sin.
   */
  | { kind: 'rand'; seed: number | null; word: 0 | 1; dist?: 'normal' }
  /** Element i is i (over the flat, row-major index). */
  | { kind: 'iota' }
  | { kind: 'view'; tracker: ShapeTracker; movement: Movement }
  | { kind: 'elementwise'; op: ElementwiseOp }
  | { kind: 'cast' }
  /** Reduce over `axes`, keeping them as size-1 dims. */
  | { kind: 'reduce'; op: ReduceOp; axes: readonly number[] }
  /** [..., M, K] x [..., K, N] with identical batch dims (broadcast beforehand by views). */
  | { kind: 'matmul' }
  /**
   * out[..i..] = src[..index[..i..] along axis..]; index is int32 of the output's shape. `op` is
   * the user-facing op an out-of-range index is reported against (indexSelect, embedding, ...).
   */
  | { kind: 'gather'; axis: number; op: string }
  /**
   * Sources [base, index, src]: out = base, then out[..index[..i..] along axis..] += src[..i..]
   * for every coordinate i of index (PyTorch's scatter_add). Shape of base; index of any shape
   * that fits (<= src everywhere, <= base off the axis).
   */
  | { kind: 'scatterAdd'; axis: number; op: string }
  /**
   * A per-row op over the LAST dim of the one source (see RowSpec in kernel/ir.ts): scans
   * (cumsum, cumprod; shape and dtype of the source) and argsorts (int32 indices of a stable
   * sort, NaN as the largest value). Ops over another dim permute it last with views.
   */
  | { kind: 'row'; op: RowOp }
  /**
   * A sliding-window op over the two trailing (spatial) dims of NCHW tensors (WindowSpec in
   * kernel/ir.ts): im2col (x → [N, C, kh·kw, Ho, Wo] patches, zero padding), col2im (its adjoint:
   * patches → [N, C, H, W], overlapping taps summed), maxPool (x → [N, C, Ho, Wo], padding
   * ignored), maxPoolGrad (srcs [x, g] or [x, g, maxPool(x)]: each g element added at its window's first maximum) and
   * maxPoolPick (srcs [x, gg]: gg read at each window's first maximum, maxPoolGrad's adjoint),
   * avgPool (x → [N, C, Ho, Wo], padding as zeros) and avgPoolGrad (its adjoint: g → [N, C, H, W]).
   */
  | { kind: 'window'; op: WindowOp; geom: WindowGeom }
  /**
   * A runtime scalar (0-d): its value travels with each kernel run as an argument, so a new
   * value (a learning rate, a temperature, a position) reuses the compiled kernel and plan.
   */
  | { kind: 'param'; value: number }
  /**
   * An in-place write: srcs [target, value] or, with a runtime slice start, [target, value,
   * start] (a 0-d int32 node). The target is a node with a buffer; the scheduler writes value
   * into that buffer (whole, or the slice [start, start + value.shape[dim]) of `dim`), ordered
   * after every reader of the old contents. A store node has the target's shape and dtype and
   * no buffer of its own; no other node reads it (readers read the target, in later schedules).
   */
  | { kind: 'store'; slice: StoreSlice | null }
  /**
   * A copy of the one source from its device onto this node's: made realised (the copy runs when
   * the node is made, see tensor/transfer.ts), so a schedule only ever meets it as a leaf buffer.
   */
  | { kind: 'transfer' }
  /**
   * A float32 [rows, cols] matrix stored packed in the one source, a 1-D uint8 tensor of ggml
   * block bytes (kernel/quant.ts). Never materialised: only a matmul reads it, dequantising each
   * weight as it loads its operand (scheduler/quant-operand.ts, MatmulOperand.quant).
   */
  | { kind: 'dequant'; format: QuantFormat };

/** The region of a store: `start` is a number baked into the kernel, or null for a runtime start. */
export interface StoreSlice { readonly dim: number; readonly start: number | null }

let nextId = 0;
/** The id the next node will get: nodes with a larger or equal id were made after this call. */
export const nextNodeId = (): number => nextId;

export class LazyNode {
  readonly id = nextId++;
  srcs: readonly LazyNode[];
  realized: BufferHandle | null = null;
  /** On a path from a leaf that wants gradients: such nodes keep their sources once realised. */
  requiresGrad = false;
  /** A leaf whose gradient backward() accumulates (set by requiresGrad_()). */
  gradLeaf = false;
  /** detach(): gradients do not flow through this node. */
  stopGradient = false;
  /** The accumulated gradient of a gradLeaf node. */
  grad: LazyNode | null = null;
  disposed = false;
  /** Made by grad() or backward(): a schedule that computes it is a backward pass. */
  gradNode = false;
  /**
   * Keeps its sources once realised even without requiresGrad: a gradient (and the forward nodes
   * it was derived from) stays differentiable until disposed, so a second-order grad() can walk it
   * and recompute any forward value it needs.
   */
  keepsHistory = false;
  /**
   * Realised only because a backward pass may read it (an intermediate on a gradient path, not a
   * requested output). The schedule of that backward pass releases it (PyTorch's
   * retain_graph=False); its sources stay, so it is recomputed if something asks again.
   */
  saved = false;
  /** Realisation dropped the sources (no requiresGrad): grad()'s error messages name this cut. */
  historyReleased = false;
  /**
   * The device its buffer lives on and its kernel runs on: its sources' device, or for a source
   * of its own (a buffer, an explicit placement) the one it was given. Null for nodes that hold
   * no storage and read no device (constants, iota, runtime scalars, seeded random numbers): they
   * go wherever the node reading them runs, and alone on the default device.
   */
  device: DeviceName | null;

  constructor(
    readonly arg: NodeArg,
    srcs: readonly LazyNode[],
    readonly shape: readonly number[],
    readonly dtype: DType,
    device?: DeviceName,
  ) {
    this.srcs = srcs;
    this.device = device ?? (arg.kind === 'transfer' ? null : commonDevice(arg, srcs));
  }

  /** Called once the node's buffer is written: its history is no longer needed to compute it. */
  forgetSources(): void {
    if (this.requiresGrad || this.keepsHistory || this.srcs.length === 0) return;
    this.srcs = [];
    this.historyReleased = true;
  }
}

/** The one device of `srcs` (null if none has one); two different ones are refused, as PyTorch refuses them. */
function commonDevice(arg: NodeArg, srcs: readonly LazyNode[]): DeviceName | null {
  let d: DeviceName | null = null;
  for (const s of srcs) {
    if (s.device === null || s.device === d) continue;
    if (d !== null) {
      const what = arg.kind === 'elementwise' || arg.kind === 'reduce' || arg.kind === 'row' || arg.kind === 'window' ? `${arg.kind} ${arg.op}` : arg.kind;
      throw new DeviceError(`${what}: expected all tensors on one device, found ${d} and ${s.device} ` +
        `(copy one across with .to('${d}') or .to('${s.device}'))`);
    }
    d = s.device;
  }
  return d;
}

export function argKey(a: NodeArg): string {
  switch (a.kind) {
    case 'buffer': case 'iota': case 'cast': case 'matmul': return a.kind;
    case 'const': return `c${Object.is(a.value, -0) ? '-0' : a.value}`;
    case 'rand': return `r${a.dist === 'normal' ? 'n' : ''}${a.seed ?? 'in'}.${a.word}`;
    case 'view': return `v${a.tracker.map((v) => `${v.shape}|${v.strides}|${v.offset}|${v.mask ?? ''}`).join('/')}`;
    case 'elementwise': return a.op;
    case 'reduce': return `${a.op}${a.axes.join(',')}`;
    case 'gather': return `g${a.axis}${a.op}`;
    case 'scatterAdd': return `s${a.axis}${a.op}`;
    case 'row': return `w${a.op}`;
    case 'window': { const g = a.geom; return `W${a.op}${[g.H, g.W, g.Ho, g.Wo, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw].join(',')}`; }
    // The value is a kernel argument, not part of the structure.
    case 'param': return 'p';
    case 'store': return a.slice ? `st${a.slice.dim}@${a.slice.start ?? 'rt'}` : 'st';
    case 'transfer': return 'tr';
    case 'dequant': return `dq${a.format}`;
  }
}

/**
 * Grad mode. The synchronous extent of a mode block (noGrad, enableGrad) is a plain variable (no
 * other code can run in between). An async callback's continuations after each `await` run
 * later, interleaved with other tasks, so for those the mode is carried by the async context:
 * inside `noGrad(async () => …)` every continuation still records no gradients, while a task
 * running concurrently outside it does. The context is entered only for async callbacks: on
 * Node 20 an AsyncLocalStorage in use adds a promise hook to every promise of the process, which
 * sync callers (the optimizers, every training step) should not pay for. The innermost block
 * wins; outside every block the process-wide setting (setGradEnabled) applies.
 */
interface ModeBox { enabled: boolean }
const gradContext = new AsyncLocalStorage<ModeBox>();
let contextUsed = false;
let syncBox: ModeBox | null = null;
const processBox: ModeBox = { enabled: true };
const AsyncFunction = (async () => {}).constructor as abstract new () => unknown;
const currentBox = (): ModeBox => syncBox ?? (contextUsed ? gradContext.getStore() : undefined) ?? processBox;

export const gradMode = {
  /** 1 while gradients are not recorded (inside noGrad, in this async context), else 0. */
  get disabled(): number { return currentBox().enabled ? 0 : 1; },
  get enabled(): boolean { return currentBox().enabled; },
  /**
   * Sets the mode of the innermost block running now (until that block ends, as PyTorch's
   * set_grad_enabled inside a `with` block), or of the process outside every block.
   */
  set(enabled: boolean): void { currentBox().enabled = enabled; },
  /**
   * Runs `fn` with gradient recording on or off. An `async` function keeps the mode across its
   * awaits; a plain function that returns a promise keeps it for its synchronous part only (what
   * it calls back later follows the surrounding mode again: write it as an async function).
   */
  run<T>(enabled: boolean, fn: () => T): T {
    const saved = syncBox;
    const box: ModeBox = { enabled };
    if (fn instanceof AsyncFunction) {
      contextUsed = true;
      // The async context holds the mode; the synchronous part must not see the outer block's.
      syncBox = null;
      try { return gradContext.run(box, fn); } finally { syncBox = saved; }
    }
    syncBox = box;
    try { return fn(); } finally { syncBox = saved; }
  },
};
