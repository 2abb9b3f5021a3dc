/**
 * Matmul kernel of the CPU device, generated as JS source.
 *
 * `matmulSource(spec)` returns a JS expression that evaluates to a function
 * `(b, start, end) => void` computing the work units [start, end) of
 * C[bt, m, n] = epilogue(sum_k A[bt, m, k] * B[bt, k, n]), where C = b[0] is
 * contiguous [batch, M, N] and A = b[1], B = b[2] are read through arbitrary
 * element strides (transposed operands, broadcast batches with stride 0).
 *
 * Design (Goto/BLIS loop order, WebAssembly SIMD micro-kernel):
 * - A work unit is a block of RB rows of one batch item and one column block.
 *   Consecutive units of one range that share a batch item (and column block)
 *   merge into one "run", so that a thread packs B once per run, not per unit.
 * - A run copies KC x NC blocks of B and MC x KC blocks of A into one wasm
 *   memory per thread: whole contiguous stretches with `TypedArray.set`
 *   (memcpy), then a wasm function rearranges them into k-major panels NR
 *   columns wide (B) and strips MR rows high (A). A transposed operand is
 *   transposed by that rearrangement, so it costs the same as a plain one.
 *   Operands with no unit stride are packed element by element in JS.
 * - The micro-kernel is WebAssembly SIMD: an MR x NR tile (4 x 8 for float32,
 *   4 x 4 for float64) held in eight v128 accumulators, with relaxed-SIMD
 *   fused multiply-add where the engine validates it (Node 20 needs
 *   --experimental-wasm-relaxed-simd) and mul + add otherwise. Float32
 *   accumulates in float32, as BLAS does. It accumulates into a scratch C block
 *   that is copied out through the epilogue (memcpy when there is none).
 * - With few rows (M <= SMALL_M: batch-1 inference) B is not packed, since
 *   each element is used once or twice: one row against B rows runs a one-row
 *   kernel (axpy over 16 columns), B stored transposed runs SIMD dot products,
 *   other few-row cases run the micro-kernel straight from B's copy.
 *   That copy stays in the thread's wasm memory above the scratch (matmul/resident.ts) and
 *   is reused while B's buffer keeps its write stamp (write-stamps.ts: the device stamps every
 *   buffer a kernel or the host may write), so a batch-1 layer reads its weights once per call
 *   instead of copying them first (784x512: 0.33 -> 0.11 ms warm).
 * - The module's bytes are embedded (base64) in the source; the instance and
 *   its memory are created once per thread (cached on globalThis under a
 *   versioned key, shared by all matmul kernels of that thread, grown on
 *   demand, never shrunk). A call runs to completion synchronously, so
 *   sharing is safe; ranges in other threads have their own instance.
 * - Without WebAssembly the same loops drive a JS 4x8 register-tiled
 *   micro-kernel over a Float64Array scratch (~4 GFLOP/s instead of 30-40).
 * - K = 0 and tiny problems (<= DIRECT_MAX_MACS per batch item) run a direct
 *   JS loop.
 *
 * Single thread on a 2-vCPU Xeon (Sapphire Rapids), Node 20, float32:
 * 256/512/1024 square ~38-40 GFLOP/s with FMA (~30 with mul + add), 4x8 JS
 * tile ~4; two threads on disjoint ranges ~75 GFLOP/s at 1024.
 */

export type { MatmulBackend, MatmulOperand, MatmulSourceOptions, MatmulSpec } from './matmul/types.js';
export { matmulSource } from './matmul/template.js';
export { matmulWorkUnits } from './matmul/units.js';
