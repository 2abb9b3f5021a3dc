// Claimed runs (src/devices/cpu-workers/claim.ts): the calling thread and the workers take a
// kernel's units in chunks from one counter. Each unit runs exactly once whoever is late, a
// failure stops the claiming and reaches the caller, and a packed matmul run that way through
// the engine gives the values of the same kernel on the pool and of a float64 reference.
import { afterAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { KernelCache, type KernelBinding } from '../src/devices/cpu-workers/compile.js';
import { claimControl, claimsDone, failClaims, runClaimed } from '../src/devices/cpu-workers/claim.js';
import { WorkerPool } from '../src/devices/cpu-workers/pool.js';
import type { CpuDevice } from '../src/devices/cpu-workers/device.js';
import { quantize, quantizedWeight, quantLinear } from '../src/quant/index.js';
import { fromFloat16Bits } from '../src/graph/dtype.js';

/** q8_0 blocks (an f16 scale, 32 int8 quants) back to floats, read naively. */
function dequantQ8(bytes: Uint8Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let b = 0, o = 0; o < count; b += 34, o += 32) {
    const d = fromFloat16Bits(bytes[b]! | (bytes[b + 1]! << 8));
    for (let j = 0; j < 32; j++) out[o + j] = d * ((bytes[b + 2 + j]! << 24) >> 24);
  }
  return out;
}

const int32 = (length: number): KernelBinding => ({ sab: new SharedArrayBuffer(length * 4), kind: 'int32', length });
// Each unit adds 1 where it ran, and writes who ran it: 1 on the calling thread (which sets the
// tag), 2 on a worker. `slowOn` (1 or 2) spins ~1 ms per chunk on that side.
const marking = (slowOn: number): string => `(b, start, end) => {
  const who = globalThis.__bornClaimTestTag ?? 2;
  if (who === ${slowOn}) { const t = performance.now() + 1; while (performance.now() < t); }
  for (let i = start; i < end; i++) { Atomics.add(b[0], i, 1); b[1][i] = who; }
}`;

const pool = new WorkerPool({ threads: 2 });
const cache = new KernelCache(16);
afterAll(async () => { await pool.destroy(); });
(globalThis as { __bornClaimTestTag?: number }).__bornClaimTestTag = 1;

async function claimed(source: string, total: number, chunk: number): Promise<{ counts: Int32Array; who: Int32Array; mine: number }> {
  const b = [int32(total), int32(total)];
  const ctl = claimControl();
  const theirs = pool.runClaimed(`claim-${source.length}-${total}`, source, b, ctl, total, chunk, 1);
  const mine = runClaimed(cache, `claim-${source.length}-${total}`, source, b, ctl, total, chunk);
  await theirs;
  expect(claimsDone(ctl, total, 0)).toBe(true);
  return { counts: new Int32Array(b[0]!.sab), who: new Int32Array(b[1]!.sab), mine };
}

describe('claimed runs', () => {
  test('every unit runs exactly once, whichever thread is slow', async () => {
    await pool.whenReady();
    for (const [slowOn, total, chunk] of [[1, 4000, 97], [2, 4000, 97], [0, 10_007, 1000], [1, 5, 1]] as const) {
      const { counts, who, mine } = await claimed(marking(slowOn), total, chunk);
      expect(counts.every((c) => c === 1)).toBe(true);
      const onMain = who.filter((w) => w === 1).length;
      expect(onMain).toBe(mine);
      // A slow calling thread leaves most chunks to the worker, a slow worker most to the caller.
      if (slowOn === 1 && total > 1000) expect(onMain).toBeLessThan(total / 2);
      if (slowOn === 2) expect(onMain).toBeGreaterThan(total / 2);
    }
  });

  test('a chunk that throws stops the claiming, the caller sees the error, and the pool keeps working', async () => {
    const total = 2000, chunk = 10;
    // Throws on the worker only: the caller's own claims succeed, the run still fails.
    const source = `(b, start, end) => {
      if (globalThis.__bornClaimTestTag === undefined && start >= 500) throw new Error('unit ' + start + ' failed');
      const t = performance.now() + 0.05; while (performance.now() < t);
      for (let i = start; i < end; i++) Atomics.add(b[0], i, 1);
    }`;
    const b = [int32(total)];
    const ctl = claimControl();
    const theirs = pool.runClaimed('claim-fail', source, b, ctl, total, chunk, 1)!;
    const outcome = theirs.then(() => 'resolved', (e: unknown) => String(e));
    runClaimed(cache, 'claim-fail', source, b, ctl, total, chunk);
    const result = await outcome;
    if (result !== 'resolved') {
      expect(result).toMatch(/claim-fail[\s\S]*failed/);
      // Once failed, no one claims again: units past the failure stay unrun.
      expect(claimsDone(ctl, total, 0)).toBe(false);
    } else {
      // The caller took every unit from 500 on before the worker got there.
      expect(new Int32Array(b[0]!.sab).every((c) => c === 1)).toBe(true);
    }
    failClaims(ctl);
    const again = await claimed(marking(0), 300, 7);
    expect(again.counts.every((c) => c === 1)).toBe(true);
  });

  test('a batch-8 packed matmul runs shared and equals the pool run and a float64 reference', async () => {
    const [out, inF, batch] = [2048, 768, 8];
    const w = born.randn([out, inF], { seed: 21 }).mul(0.05);
    const bytes = quantize(await w.data() as Float32Array, 'q8_0', [out, inF]);
    const q = quantizedWeight(bytes, 'q8_0', [out, inF]);
    const x = born.randn([batch, inF], { seed: 22 });
    await born.realize(x);
    const device = born.engine.device('cpu') as CpuDevice;
    await device.whenPoolReady();
    const placementOf = (): string => born.explain(quantLinear(x, q)).kernels.find((k) => k.ops.includes('matmul'))!.placement;
    expect(placementOf()).toMatch(/calling thread, claimed/);
    const shared = await quantLinear(x, q).data();
    device.callerBusy++;
    let pooled: ArrayBufferView;
    try {
      expect(placementOf()).toMatch(/^pool ×/);
      pooled = await quantLinear(x, q).data();
    } finally {
      device.callerBusy--;
    }
    expect(Array.from(shared)).toEqual(Array.from(pooled as Float32Array));
    // Against the dequantised weight in float64: within x's own q8_0 rounding.
    const wd = dequantQ8(bytes, out * inF), xv = await x.data();
    for (const [r, o] of [[0, 0], [7, 2047], [3, 1024], [5, 17]] as const) {
      let s = 0, mag = 0;
      for (let k = 0; k < inF; k++) { s += xv[r * inF + k]! * wd[o * inF + k]!; mag += Math.abs(xv[r * inF + k]! * wd[o * inF + k]!); }
      expect(Math.abs(shared[r * out + o]! - s)).toBeLessThan(1e-2 * mag);
    }
  });
});
