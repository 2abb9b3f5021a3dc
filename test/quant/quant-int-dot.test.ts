// The integer dot of q8_0 / q4_0 weights with q8_0-quantised activations
// (src/devices/cpu-workers/matmul/quant-int-wasm.ts, quant-act.ts): the wasm kernel alone against
// Σ over blocks of d_w · d_x · Σ q_w q_x computed in JS (exact but for float summation order), for
// 1..8 vectors (two accumulators past 4), odd row counts, zero and extreme blocks; then
// the whole matmul (quantLinear, whose kernel quantises x as ggml's quantize_row_q8_0_ref does)
// against a reference that quantises x in JS: halfway values, zero and large blocks, NaN.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { quantizedWeight, quantLinear } from '../../src/quant/index.js';
import { intDotModule } from '../../src/devices/cpu-workers/matmul/quant-int-wasm.js';
import { BLOCK_BYTES, dequantize, half, lcg, matmulT, quantizedActivations, randomBlocks, randomInput, relError } from './reference.js';

interface Wasm {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: { f: (...args: number[]) => void } };
}
const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** Weight quant j of a block at p (q8_0: int8; q4_0: nibble − 8). */
const wq = (bytes: Uint8Array, format: 'q8_0' | 'q4_0', p: number, j: number): number => format === 'q8_0'
  ? (bytes[p + 2 + j]! << 24) >> 24
  : j < 16 ? (bytes[p + 2 + j]! & 15) - 8 : (bytes[p + 2 + j - 16]! >> 4) - 8;

describe('the wasm integer dot', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8].flatMap((nv) => [['q8_0', nv], ['q4_0', nv]] as const))('%s, %i vectors', (format, nv) => {
    const nr = 7, nb = 5, bb = BLOCK_BYTES[format];
    const bytes = randomBlocks(format, nr, nb * 32, nv * 13 + nb);
    // Row 0 at the extremes: every q8_0 quant -128 (which ggml never writes, but a file may hold).
    if (format === 'q8_0') for (let b = 0; b < nb; b++) bytes.fill(0x80, b * bb + 2, b * bb + 34);
    // Weight scales the kernel converts from f16 itself: the smallest subnormal, zero, -0, the largest.
    for (const [blk, h] of [[nb + 1, 0x0001], [2 * nb, 0x0000], [3 * nb + 2, 0x8000], [4 * nb + 3, 0x7bff], [5 * nb, 0xfbff]] as const) {
      bytes[blk * bb] = h & 255; bytes[blk * bb + 1] = h >> 8;
    }
    const r = lcg(nv);
    // Activation quants: block 0 of every vector all zero (scale 0), block 1 all ±127, the rest random.
    const xq = Array.from({ length: nv }, () => Int8Array.from({ length: nb * 32 }, (_, i) => (i < 32 ? 0 : i < 64 ? (i & 1 ? 127 : -127) : Math.floor(r() * 255) - 127)));
    const xd = Array.from({ length: nv }, () => Float32Array.from({ length: nb }, (_, b) => (b === 0 ? 0 : b === 1 ? 4096 : r() * 0.1)));
    // The layout the matmul kernel stages: the nv vectors' block b side by side (i16 quants).
    const wAt = 0, xAt = nr * nb * bb + 16 - ((nr * nb * bb) % 16), xsAt = xAt + nv * nb * 64, oAt = xsAt + nv * nb * 4 + 16;
    // Shared, as the arena the dots read (arena.ts).
    const mem = new W.Memory({ initial: 1, maximum: 65536, shared: true });
    new Uint8Array(mem.buffer).set(bytes, wAt);
    const F = new Float32Array(mem.buffer), q16 = new Int16Array(mem.buffer);
    for (let v = 0; v < nv; v++) for (let b = 0; b < nb; b++) {
      F[xsAt / 4 + b * nv + v] = xd[v]![b]!;
      q16.set(xq[v]!.subarray(b * 32, b * 32 + 32), xAt / 2 + (b * nv + v) * 32);
    }
    // Past the last row's outputs: the whole-v128 stores of nv > 1 may write up to 16 bytes here.
    F.fill(-1, oAt / 4 + nr * nv, oAt / 4 + nr * nv + 8);
    const module = intDotModule(format, nv);
    expect(module).not.toBeNull();
    const f = new W.Instance(new W.Module(module!), { e: { m: mem } }).exports.f;
    // Σ over blocks [b0, b1) of row `row` against vector v, and the error bound of that sum.
    const expected = (row: number, v: number, b0: number, b1: number): [number, number] => {
      let want = 0, size = 0;
      for (let b = b0; b < b1; b++) {
        let dot = 0, abs = 0;
        for (let j = 0; j < 32; j++) { const t = wq(bytes, format, (row * nb + b) * bb, j) * xq[v]![b * 32 + j]!; dot += t; abs += Math.abs(t); }
        const at = (row * nb + b) * bb, d = half(bytes[at]! | (bytes[at + 1]! << 8)) * xd[v]![b]!;
        // The float error scales with the lanes' partial sums, which may cancel in the block's.
        want += d * dot; size += Math.abs(d) * abs;
      }
      return [want, size];
    };
    f(wAt, xAt, xsAt, oAt, nr, nb, nb * bb);
    for (let row = 0; row < nr; row++) for (let v = 0; v < nv; v++) {
      const [want, size] = expected(row, v, 0, nb);
      expect(Math.abs(F[oAt / 4 + row * nv + v]! - want)).toBeLessThanOrEqual(size * 1e-6);
    }
    // A piece of each row, blocks [2, 5), as the matmul kernel takes long rows: the row stride stays the whole row's.
    f(wAt + 2 * bb, xAt + 2 * nv * 64, xsAt + 2 * nv * 4, oAt, nr, 3, nb * bb);
    for (let row = 0; row < nr; row++) for (let v = 0; v < nv; v++) {
      const [want, size] = expected(row, v, 2, 5);
      expect(Math.abs(F[oAt / 4 + row * nv + v]! - want)).toBeLessThanOrEqual(size * 1e-6);
    }
  });
});

describe('x Wᵀ on the integer dot: x quantised to q8_0 blocks in the kernel', () => {
  test.each([['q8_0', 5], ['q4_0', 5], ['q8_0', 11], ['q4_0', 11]] as const)('%s: halfway values, zero and large blocks, %i rows, 37 outputs', async (format, m) => {
    const [n, k] = [37, 128];
    const x = randomInput(m * k, 3);
    // Row 0, block 0: amax 127, so d = 1 and x / d is exact: ±2.5 and ±0.5 round away from zero.
    x.set([127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 126.5], 0);
    x.fill(0, 32, 64);                                           // a zero block (scale 0)
    for (let j = 64; j < 96; j++) x[k + j] = (j & 1 ? 3e4 : -2e4) + j; // large magnitudes
    const bytes = randomBlocks(format, n, k, 17);
    const y = quantLinear(born.tensor(x, { shape: [m, k] }), quantizedWeight(bytes, format, [n, k]));
    const got = await y.data() as Float32Array;
    const ref = matmulT(quantizedActivations(x), dequantize(bytes, format, n, k), m, n, k);
    // Rounding ±2.5 to even instead would be off by d_w · q_w, ~1e-3 of the largest output.
    expect(relError(got, ref)).toBeLessThan(2e-6);
  });

  test('a NaN in x reaches every output of its row, as in the float path', async () => {
    const [n, k] = [19, 64];
    const x = randomInput(2 * k, 4);
    x[40] = NaN;
    const got = await quantLinear(born.tensor(x, { shape: [2, k] }), quantizedWeight(randomBlocks('q8_0', n, k, 2), 'q8_0', [n, k])).data() as Float32Array;
    expect(Array.from(got.subarray(0, n)).every(Number.isNaN)).toBe(true);
    expect(Array.from(got.subarray(n)).some(Number.isNaN)).toBe(false);
  });
});
