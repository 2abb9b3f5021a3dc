import { setFlagsFromString } from 'node:v8';
import { dotKernel, microKernel, packCopy, packTranspose, rowKernel } from './kernels.js';
import { MR } from './tuning.js';
import { Asm, linkModule } from './wasm-asm.js';

/** Exports g (micro-kernel), g1 (one row), d (dot products), pa1/pa2 (A strips, W = MR), pb1/pb2 (B panels, W = NR); imports memory e.m. */
function matmulModule(f64: boolean, relaxed: boolean): Uint8Array {
  const S = f64 ? 8 : 4;
  const NR = 32 / S;
  const fns: [string, Asm][] = [
    ['g', microKernel(f64, relaxed)],
    ['g1', rowKernel(f64, relaxed)],
    ['d', dotKernel(f64, relaxed)],
    ['pa1', packCopy(MR, S)],
    ['pa2', packTranspose(MR, S)],
    ['pb1', packCopy(NR, S)],
    ['pb2', packTranspose(NR, S)],
  ];
  return linkModule(fns);
}

/**
 * Relaxed SIMD gives the micro-kernel fused multiply-add (+25-30 % on matmul). Node 20's V8 has
 * it behind --experimental-wasm-relaxed-simd (later V8s ship it), so the first matmul that wants
 * it, and finds it missing, turns that flag on: V8 flags are process-wide, and this runs on the
 * main thread before any worker compiles the module, so the workers see it too. Nothing else in
 * Born changes V8 flags; BORN_NO_V8_FLAGS=1 leaves them alone and the kernel uses mul + add.
 */
let flagSet = false;
function enableRelaxedSimd(): boolean {
  if (flagSet || process.env['BORN_NO_V8_FLAGS'] === '1') return false;
  flagSet = true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  } catch {
    return false;
  }
}

export interface WasmFlavour { bytes: Uint8Array; key: string; NR: number; relaxed: boolean }
const wasmCache = new Map<string, WasmFlavour | null>();

/** The module for a dtype (with FMA where allowed and the engine has relaxed SIMD), or null without wasm SIMD. */
export function wasmFlavour(f64: boolean, fma: boolean): WasmFlavour | null {
  const id = f64 ? 'f64' : 'f32';
  const hit = wasmCache.get(id + fma);
  if (hit !== undefined) return hit;
  let found: WasmFlavour | null = null;
  // Typed structurally: the project's libs (ES2022, no DOM) do not declare WebAssembly's values.
  const wasm = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  if (wasm !== undefined) {
    const valid = (bytes: Uint8Array): boolean => {
      try {
        return wasm.validate(bytes);
      } catch {
        return false;
      }
    };
    for (const relaxed of fma ? [true, false] : [false]) {
      const bytes = matmulModule(f64, relaxed);
      const ok = valid(bytes) || (relaxed && enableRelaxedSimd() && valid(bytes));
      if (ok) {
        found = { bytes, key: `__bornMatmul_${id}_${relaxed ? 'fma' : 'mul'}_v3`, NR: f64 ? 4 : 8, relaxed };
        break;
      }
    }
  }
  wasmCache.set(id + fma, found);
  return found;
}
