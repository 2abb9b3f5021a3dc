/**
 * WebAssembly SIMD kernels printed from the kernel IR: the CPU printer (codegen.ts printJs) asks
 * `printSimd` first and prints JS when it answers null. Which kernels qualify is plan.ts; whether
 * a qualifying kernel is worth it is decided here, by size (see MIN_ELEMENTS).
 */
import { numel } from '../../../graph/shape.js';
import type { Kernel, Scalar } from '../../../kernel/ir.js';
import { wasmFlavour } from '../matmul/wasm-module.js';
import { planSimd, type SimdPlan } from './plan.js';
import { simdBytes, simdSource } from './source.js';
import { planColumn } from './column-plan.js';
import { columnModule, columnSource } from './column.js';
import { epilogueModule, planMatmulEpilogue, planMatmulPrologue } from './epilogue.js';

export { SIMD_MARKER } from './source.js';
export { planSimd } from './plan.js';
export { planColumn } from './column-plan.js';

/**
 * 'auto': SIMD for qualifying kernels large enough to gain; 'always': for every qualifying kernel
 * (tests); 'never': JS only. BORN_SIMD=0 / BORN_SIMD=always set it at start-up.
 */
export type SimdMode = 'auto' | 'always' | 'never';

const env = process.env['BORN_SIMD'];
let mode: SimdMode = env === '0' || env === 'never' ? 'never' : env === 'always' ? 'always' : 'auto';

/**
 * Sets the mode for kernels printed from now on. Compiled kernels are cached by their IR, so a
 * kernel printed before the change keeps its form.
 */
export function setSimdMode(m: SimdMode): void { mode = m; }
export function simdMode(): SimdMode { return mode; }

let useFma = process.env['BORN_SIMD_FMA'] !== '0';
/** Whether kernels printed from now on may use relaxed-SIMD multiply-add (tests run both forms). */
export function setSimdFma(on: boolean): void { useFma = on; }

/** Kernels printed as SIMD in this process, and matmul epilogues given a SIMD form, for tests. */
export const simdStats = { printed: 0, epilogues: 0, prologues: 0 };

/**
 * Below these sizes the JS kernel is as fast: each run of `segment` contiguous elements costs a
 * wasm call and a copy per operand. Measured on this machine (2 vCPUs, bench/simd.ts and a
 * per-kernel sweep): an elementwise kernel over contiguous operands gains from 512 elements up
 * (x + 1 over [8, 64]: 3.1 µs in JS, 0.7 µs in SIMD); a sum over rows of 64 is even for a plain
 * sum and loses at 16 (7 µs against 30 over [256, 16]); rows of 256 gain 1.4-2.5x.
 */
export const MIN_ELEMENTS = 1024;
export const MIN_MAP_SEGMENT = 64;
export const MIN_SUM_SEGMENT = 128;
/**
 * A column reduction copies one run per staged row and operand, so narrow strips and small
 * inputs gain nothing. Measured here (x.sum({ dim: 0 }), medians per call, JS against SIMD):
 * [256, 256] and [64, 1024] even or slower, [512, 512] 0.7 ms against 0.43, [1024, 1024] 3.1-3.7
 * against 1.8-2.3, [4096, 1024] 10.5 against 4.9-8.0, [8192, 256] 7.1-7.3 against 5.5-6.5.
 */
export const MIN_COLUMN_WIDTH = 256;
/**
 * A SIMD epilogue costs about 1.2 µs a row of C (the accumulator's copy, the operands' staging, the
 * call, the copy out) and saves ~2 ns an element over the JS expression: rows shorter than this
 * lose. born serve's MLP (rows of 512 and 256 at batches of 16-64) ran 5% slower with them.
 */
export const MIN_EPILOGUE_ROW = 1024;
export const MIN_COLUMN_ELEMENTS = 1 << 18;

function worthIt(k: Kernel, plan: SimdPlan): boolean {
  if (plan.kind === 'sum') return plan.segment >= MIN_SUM_SEGMENT;
  return plan.segment >= MIN_MAP_SEGMENT && numel(k.loop) >= MIN_ELEMENTS;
}

/** Whether the engine takes the module (an engine without wasm SIMD refuses it). */
export function valid(bytes: Uint8Array): boolean {
  // Typed structurally: the project's libs (ES2022, no DOM) do not declare WebAssembly's values.
  const wasm = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  try {
    return wasm !== undefined && wasm.validate(bytes);
  } catch {
    return false;
  }
}

/** The SIMD form of a kernel, or null where it does not qualify, is too small, or wasm SIMD is missing. */
export function printSimd(k: Kernel): string | null {
  if (mode === 'never') return null;
  if (k.reduce && !k.reduce.inner && !k.reduce.spread) return printColumn(k);
  const plan = planSimd(k);
  if (typeof plan === 'string') return null;
  if (mode === 'auto' && !worthIt(k, plan)) return null;
  const built = validBytes((fma) => simdBytes(plan, fma));
  if (built === null) return null;
  simdStats.printed++;
  return simdSource(k, plan, built.bytes);
}

/**
 * A module's bytes with relaxed-SIMD multiply-add where the engine has it, else without; null
 * where the engine takes neither. The matmul's detection decides (and turns on V8's flag where
 * it must), so every SIMD path agrees on it.
 */
function validBytes(build: (fma: boolean) => Uint8Array): { bytes: Uint8Array; fma: boolean } | null {
  const fma = useFma && (wasmFlavour(false, true)?.key.includes('_fma_') ?? false);
  const bytes = build(fma);
  if (valid(bytes)) return { bytes, fma };
  if (!fma) return null;
  const plain = build(false);
  return valid(plain) ? { bytes: plain, fma: false } : null;
}

/** A matmul epilogue the template runs as SIMD: its plan, and whether its module may use multiply-add. */
export interface SimdEpilogue { readonly plan: SimdPlan; readonly fma: boolean }

/** The SIMD form of a matmul kernel's epilogue (epilogue.ts), or null: none, no lane-wise form, too small, or no wasm SIMD. */
export function simdEpilogueOf(k: Kernel): SimdEpilogue | null {
  if (mode === 'never') return null;
  const plan = planMatmulEpilogue(k);
  if (plan === null || (mode === 'auto' && (!worthIt(k, plan) || k.matmul!.N < MIN_EPILOGUE_ROW))) return null;
  // Validated at byte 0; the template builds it again at its place above the matmul's scratch.
  const built = validBytes((fma) => epilogueModule(plan, 0, fma).bytes);
  if (built === null) return null;
  simdStats.epilogues++;
  return { plan, fma: built.fma };
}

/**
 * The SIMD form of a float32 matmul operand's prologue (epilogue.ts planMatmulPrologue), or null.
 * The template runs it over staged blocks of at least MIN_PROLOGUE_RUN elements and keeps the JS
 * function for shorter ones and for operands it packs element by element.
 */
export function simdPrologueOf(k: Kernel, prologue: Scalar): SimdEpilogue | null {
  if (mode === 'never') return null;
  const plan = planMatmulPrologue(k, prologue);
  if (plan === null) return null;
  const built = validBytes((fma) => epilogueModule(plan, 0, fma).bytes);
  if (built === null) return null;
  simdStats.prologues++;
  return { plan, fma: built.fma };
}

/** Staged runs shorter than this apply a prologue in JS: a SIMD call costs two copies and a call, ~0.3 µs. */
export const MIN_PROLOGUE_RUN = 256;

/** The SIMD form of a column reduction (column-plan.ts), or null. */
function printColumn(k: Kernel): string | null {
  const plan = planColumn(k);
  if (typeof plan === 'string') return null;
  const width = plan.outer[plan.outer.length - 1]![0];
  if (mode === 'auto' && (width < MIN_COLUMN_WIDTH || numel(k.reduce!.dims) * numel(k.loop) < MIN_COLUMN_ELEMENTS)) return null;
  const built = validBytes((fma) => columnModule(plan, fma));
  if (built === null) return null;
  simdStats.printed++;
  return columnSource(k, plan, built.bytes);
}
