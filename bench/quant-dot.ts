// The packed-weight dot kernels alone (src/devices/cpu-workers/matmul/quant-wasm.ts, quant-int-wasm.ts), one thread,
// no staging: a 4096 x 4096 weight's rows, 16 at a time as the matmul kernel calls it, against 1
// and 4 vectors, the integer dot also 8 (zeros: the time does not depend on the values). Best of 5.
// Usage: node dist-bench/bench/quant-dot.js
import { setFlagsFromString } from 'node:v8';
import { quantDotModule } from '../src/devices/cpu-workers/matmul/quant-wasm.js';
import { intDotModule } from '../src/devices/cpu-workers/matmul/quant-int-wasm.js';
import { QUANT_FORMATS, type QuantFormat } from '../src/kernel/quant.js';

// Typed structurally: the project's libs (ES2022, no DOM) do not declare WebAssembly's values.
interface Wasm {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { grow(pages: number): void };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: { f: (...args: number[]) => void } };
}
const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

setFlagsFromString('--experimental-wasm-relaxed-simd');
const K = 4096, ROWS = 4096, QR = 16;
// The float dot (every format), then the integer dot of q8_0 / q4_0 against q8_0 activations
// (quant-int-wasm.ts), which takes no x strides.
type Kernel = [string, QuantFormat, (nv: number) => Uint8Array | null, boolean];
const kernels: Kernel[] = [
  ...(Object.keys(QUANT_FORMATS) as QuantFormat[]).map((f): Kernel => [f, f, (nv) => quantDotModule(f, nv), false]),
  ...(['q8_0', 'q4_0'] as const).map((f): Kernel => [`${f} int`, f, (nv) => intDotModule(f, nv), true]),
];
for (const [label, format, module, int] of kernels) {
  for (const nv of int ? [1, 4, 8] : [1, 4]) {
    const bytes = module(nv);
    if (!bytes) { console.log(`${label}: no wasm SIMD`); continue; }
    const { blockSize, blockBytes } = QUANT_FORMATS[format];
    const nb = K / blockSize;
    const x = 8 * K * 4, xs = 8 * (K / 32) * 4, w = QR * nb * blockBytes, s = QR * nb * 16 * 4;
    // Shared, as the arena the dots import (cpu-workers/arena.ts).
    const mem = new W.Memory({ initial: 1, maximum: 65536, shared: true });
    mem.grow(Math.ceil((x + xs + w + s + QR * 16 + 64) / 65536));
    const f = new W.Instance(new W.Module(bytes), { e: { m: mem } }).exports.f;
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < ROWS / QR; i++) {
        if (int) f(x + xs, 0, x, x + xs + w + s, QR, nb, nb * blockBytes);
        else f(x + xs, x + xs + w, 0, x + xs + w + s, QR, nb, x, K * 4, K / 8);
      }
      best = Math.min(best, performance.now() - t0);
    }
    const gb = (ROWS * (K / blockSize) * blockBytes) / 1e9;
    console.log(`${label.padEnd(16)} ${nv} vector${nv > 1 ? 's' : ' '}: ${best.toFixed(2).padStart(6)} ms, ${(best / nv).toFixed(2).padStart(6)} ms per vector, ${(gb / (best / 1e3)).toFixed(2)} GB/s of blocks`);
  }
}
