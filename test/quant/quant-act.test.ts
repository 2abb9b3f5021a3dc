// The WebAssembly activation quantiser (cpu-workers/matmul/quant-act.ts) against ggml's
// quantize_row_q8_0_ref written out in JS (reference.ts quantizeActivations): every quant and
// every f16-rounded scale equal, bit for bit, on random vectors and on blocks at the edges:
// halfway values, zero, f16-subnormal and f16-overflowing scales, scales on an f16 tie, NaN, ±Inf.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { quantiserModule } from '../../src/devices/cpu-workers/matmul/quant-act.js';
import { lcg, quantizeActivations } from './reference.js';

interface Wasm {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: { f: (...args: number[]) => void } };
}
const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
const mem = new W.Memory({ initial: 4, maximum: 65536, shared: true });
const module = quantiserModule();
const f = module ? new W.Instance(new W.Module(module), { e: { m: mem } }).exports.f : null;

/** Quantises x in wasm: quants of block b at i16 element b·32·n + 32·slot, its scale at f32 element b·n + slot (n vectors interleaved). */
function quantise(x: Float32Array, n = 3, slot = 1): { q: number[]; d: number[] } {
  const nb = x.length / 32, qAt = x.length * 4, sAt = qAt + nb * n * 64;
  new Float32Array(mem.buffer, 0, x.length).set(x);
  f!(0, nb, qAt + slot * 64, sAt + slot * 4, n * 64, n * 4);
  const q16 = new Int16Array(mem.buffer), F = new Float32Array(mem.buffer);
  const q: number[] = [], d: number[] = [];
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < 32; j++) q.push(q16[qAt / 2 + (b * n + slot) * 32 + j]!);
    d.push(F[sAt / 4 + b * n + slot]!);
  }
  return { q, d };
}

function expectSame(x: Float32Array): void {
  const got = quantise(x), want = quantizeActivations(x);
  expect(got.q).toEqual(Array.from(want.q));
  got.d.forEach((d, b) => expect(Object.is(d, want.d[b]) || (Number.isNaN(d) && Number.isNaN(want.d[b]!))).toBe(true));
}

describe.runIf(f !== null)('the wasm q8_0 activation quantiser', () => {
  test('random vectors, every quant and scale as ggml rounds them', () => {
    const r = lcg(7);
    for (const scale of [1, 1e-3, 3e-6, 1e4]) expectSame(Float32Array.from({ length: 32 * 24 }, () => (r() * 2 - 1) * scale));
  });

  test('blocks at the edges', () => {
    const blocks: number[][] = [
      [127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 126.5, -126.5, 3.5],  // d = 1: halves round away from zero
      [],                                                         // all zero: scale 0, quants 0
      [-0, -0],                                                   // negative zeros
      [1e-5, -3e-6, 2e-7],                                        // d below 2^-14: an f16 subnormal
      [127 * 2 ** -24 * 0.5],                                     // d half the smallest subnormal: a tie, to even (0)
      [127 * 2 ** -24 * 1.5],                                     // a tie between 1 and 2 quanta: to even (2)
      [127 * (1 + 2 ** -11)],                                     // d = 1 + 2^-11: a tie between f16 neighbours, to even (1)
      [127 * (1 + 3 * 2 ** -11)],                                 // the other side of the tie: up
      [127 * 65519], [127 * 65520], [127 * 70000],                // just under f16's overflow, at it, past it
      [3e4, -2e4, 1e4 + 0.5],
      [1, NaN, 2],                                                // NaN: scale NaN, quants 0
      [Infinity, 1], [-Infinity, 5],                              // ±Inf: scale Inf, quants 0
      [1e-40, -1e-42],                                            // float32 subnormals
    ];
    const x = new Float32Array(blocks.length * 32);
    blocks.forEach((vals, b) => x.set(vals, b * 32));
    expectSame(x);
  });

  test('any float32 vector (fast-check)', () => {
    fc.assert(fc.property(fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 32, maxLength: 32 * 6 }), (vals) => {
      const x = new Float32Array(Math.ceil(vals.length / 32) * 32);
      x.set(vals);
      expectSame(x);
    }), { numRuns: 200 });
  });
});
