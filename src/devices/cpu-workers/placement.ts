// The CPU device's cost model and placement rule: where a kernel runs (on the calling thread, on
// the pool, or claimed by both) from its estimated cost, its work units and the bounds below.
import type { Kernel } from '../../kernel/ir.js';
import { INLINE_MATMUL_MACS } from './matmul/tuning.js';

/**
 * Below this many elementary operations (op-table flops per element, summed) a kernel runs
 * inline. Measured here (2 vCPUs): a pool round trip is ~90 µs when the other core is idle, and
 * `out = exp(x) * 2 + 1` (11 per element) first gains from the pool at ~32k elements, ~250 µs of
 * inline work.
 */
export const INLINE_COST = 350_000;
/**
 * A kernel that cannot be split (one unit: a batch-1 matmul) gains nothing from the pool but the
 * main thread's time, so it runs inline up to this cost, a few milliseconds of work; beyond it, it
 * goes to a worker so that the event loop on the main thread is not held longer.
 */
export const SERIAL_INLINE_COST = 4_000_000;
/**
 * The WebAssembly SIMD matmul does this many of its flops in the time the cost model's unit
 * (one op-table operation of a JS elementwise loop) takes: a matmul's cost is its flops over
 * this, so that a 64^3 matmul (~20 µs) runs inline rather than paying a pool round trip.
 * Measured here: ~30 GFLOP/s per thread for the wasm micro-kernel, ~1-2 ns per JS element op.
 */
export const MATMUL_FLOPS_PER_OP = 16;
/**
 * A matmul below this cost (~80 MFLOP, 2-3 ms of the calling thread) runs inline even though it
 * could be split. A pool run costs a round trip, a wake-up of the workers after idle time
 * (+1-2 ms on a 256^3 call after a pause) and, per range, a packing of all of B, which at these
 * sizes outweighs the second thread. Measured here (bench/matmul-shapes.ts, medians of 3 interleaved runs),
 * inline against pool x2: 256^3 1.5 against 1.7 ms back to back and 3-4 ms after a pause; the
 * MLP's [256,256]x[256,512]-sized forward and backward matmuls (cost 4.2M) 2.8-3.2 against
 * 3.5-5.4 ms. At 512^3 (cost 16.8M) two ranges win (5.3 against 10.5 ms), so larger ones split.
 */
export const MATMUL_INLINE_COST = (2 * INLINE_MATMUL_MACS) / MATMUL_FLOPS_PER_OP;
/**
 * The packed-weight matmul (matmul/quant.ts) runs a few GFLOP/s per thread: q4_K widens every
 * weight to float, q8_0 and q4_0 take the integer dot (about twice as fast alone). Kept at the
 * float path's figure: a lower cost sent more of a decode step's products to the pool, and the
 * step got slower (87.6 -> 104 ms on the 100M q8_0 model). A batch-1 4096 x 4096 q8_0 product
 * (34 MFLOP) still goes to the pool.
 */
export const QUANT_FLOPS_PER_OP = 4;
/**
 * A splittable kernel costing less than this may run one share of its ranges on the calling
 * thread while the workers run the others (CpuDevice.sharedCost; off by default). It saves a
 * worker's wake-up, but under concurrent requests the shares add up on the event loop: the
 * serving benchmark (`bench/event-loop.js 3 40`) went from p99 6.9 ms to 17.8 ms with it on.
 */
export const SHARED_COST = 4_000_000;
/**
 * A packed matmul (matmul/quant.ts) of at most QUANT_SHARED_VECTORS activation rows (decoding)
 * from this cost runs shared while nothing else runs: its calls cost little beyond their rows,
 * and in a decode step the calling thread would otherwise run the product alone or wait for a
 * worker's wake-up (~0.3 ms after a millisecond asleep, on this 2-vCPU VM). Measured here in quiet
 * spells (bench/llm/profile-step.js, 100M q8_0 model, batch 8): 74.6-76.3 ms a step against
 * 85-95 ms with the pool; under a loaded host the two were not told apart (bench/RESULTS.md).
 * Longer prompts keep the pool: each call restages all their rows, and prefill measured slower.
 */
export const QUANT_SHARED_FROM = 1_000_000;
export const QUANT_SHARED_VECTORS = 8;

/** The cost bounds `placement` reads; all in CpuKernel.cost's units. */
export interface PlacementBounds {
  /** Below it a kernel runs inline (INLINE_COST, or MATMUL_INLINE_COST for a matmul). */
  inline?: number;
  /** Uncontended, a splittable kernel past the inline bound but below this runs shared (0, the default: never). */
  sharedBelow?: number;
  /** Uncontended, a splittable kernel of at least this cost runs shared, inline bound or not (the packed matmul's). */
  sharedFrom?: number;
}

/**
 * Where a kernel of `cost` (see CpuKernel.cost) over `units` work units runs: on the calling
 * thread, on the pool with the calling thread claiming chunks beside it (claim.ts), or on the
 * pool alone. `contended`: other schedules run, or the calling thread has other work.
 */
export function placement(cost: number, units: number, threads: number, bounds: PlacementBounds = {}, contended = false): 'inline' | 'shared' | 'pool' {
  const inlineCost = bounds.inline ?? INLINE_COST;
  // The calling thread takes a share only when nothing else wants it.
  const canShare = !contended && threads >= 2 && units >= 2;
  if (canShare && cost >= (bounds.sharedFrom ?? Infinity)) return 'shared';
  // Under concurrent requests the event loop must keep turning: a splittable kernel gets no more
  // than the plain bound then (bench/event-loop.js 3 40 with the matmul bound regardless:
  // main-thread stretches of 65-80 ms and p99 60-85 ms).
  const bound = contended && units > 1 ? Math.min(inlineCost, INLINE_COST) : inlineCost;
  if (cost < bound || (units <= 1 && cost < SERIAL_INLINE_COST)) return 'inline';
  if (canShare && cost < (bounds.sharedBelow ?? 0)) return 'shared';
  return 'pool';
}

/** The cost-model estimate of a kernel: its op-table flops, a matmul's scaled to the wasm kernel's speed. */
export function kernelCost(kernel: Kernel, units: number): number {
  // The lowering already counted each fused op's flops over its loop; a plain copy still costs
  // one operation per element.
  if (kernel.matmul?.a.quant || kernel.matmul?.b.quant) return Math.ceil(kernel.flops / QUANT_FLOPS_PER_OP);
  return kernel.matmul ? Math.ceil(kernel.flops / MATMUL_FLOPS_PER_OP) : Math.max(kernel.flops, units);
}
