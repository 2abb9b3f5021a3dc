// Tuning (measured on a 2-vCPU Xeon (Sapphire Rapids, 2.3 GHz), Node 20).
// 4 x 8 tiles beat 3, 5 and 6 rows (5 and 6 spill: V8 gives wasm 15 xmm
// registers) and beat unrolling k by two; KC 128..384 and MC 32..128 measured
// flat. Invariants: MC and RS are multiples of MR (a block's padded rows must
// not spill into the next block's rows of the C scratch).

/** Micro-tile height. */
export const MR = 4;
/** K block: a KC x NR panel of B stays in L1 while MR-row strips of A stream past it. */
export const KC = 256;
/** Row block of packed A (MC x KC), kept in L2. */
export const MC = 64;
/** Column block of packed B (KC x NC). */
export const NC = 2048;
/** Row super-block: rows accumulated in the scratch C block before copy-out. */
export const RS = 512;
/** Up to this many rows per batch item, B is used without packing. */
export const SMALL_M = 8;
/** K block when B is not packed (no reuse to keep in cache; fewer, longer copies). */
export const KC_SMALL = 2048;
/** Problems with at most this many multiply-adds per batch item run the direct JS loop. */
export const DIRECT_MAX_MACS = 128;
/** Rows shorter than this are copied by a JS loop rather than `set` (~80 ns per call). */
export const SET_MIN = 32;

export const MAX_INT32 = 2 ** 31 - 1;

/**
 * Below this many multiply-adds (80 MFLOP) a matmul may run on the calling thread (device.ts
 * MATMUL_INLINE_COST); from it up, it is split over the pool (units.ts).
 */
export const INLINE_MATMUL_MACS = 40_000_000;
