// The packed-weight arena (cpu-workers/arena.ts): packed weights live in one shared WebAssembly
// memory that the packed matmul (cpu-workers/matmul/quant.ts) reads in place. Checked here: a
// weight in the arena and the same bytes in a buffer of their own (which the kernel stages, as
// before the arena) give bit-identical products, inline and on the worker pool, both equal to a
// naive dequantise-then-matmul; the bytes read back unchanged; a freed block is reused; threads
// taking arena space at once never overlap.
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { QuantizedWeight, quantizedWeight, quantLinear } from '../../src/quant/index.js';
import type { CpuBuffer, CpuDevice } from '../../src/devices/cpu-workers/device.js';
import { ARENA_TAKE, arenaTake, sharedArena } from '../../src/devices/cpu-workers/arena.js';
import type { Buffer as EngineBuffer } from '../../src/scheduler/buffers.js';
import { dequantize, matmulT, quantizedActivations, randomBlocks, randomInput, relError, type Format } from './reference.js';

const device = born.engine.device('cpu') as CpuDevice;
// The pool's threads up, so that pool-placed products run on workers, not on this thread.
beforeAll(() => device.whenPoolReady());

const bufferOf = (w: QuantizedWeight): CpuBuffer => (w.bytes.node.realized as EngineBuffer).buf as CpuBuffer;

describe.each(['q8_0', 'q4_0', 'q4_K'] as Format[])('%s weights in the arena', (format) => {
  // [x rows, out, in]: inline at batch 1 and 8, then large enough for the pool.
  const shapes: [number, number, number][] = [[1, 37, 256], [8, 19, 512], [1, 2600, 4096], [8, 700, 2048]];
  test.each(shapes)('x [%i, in] · W [%i, %i]ᵀ: read in place = staged = reference', async (m, n, k) => {
    const bytes = randomBlocks(format, n, k, n + k);
    const x = born.tensor(randomInput(m * k, m * 7 + n), { shape: [m, k] });
    const inArena = quantizedWeight(bytes, format, [n, k]);
    // The same bytes in a plain uint8 buffer: the kernel copies each block of rows to its scratch.
    const own = new QuantizedWeight(born.tensor(bytes.slice()), format, [n, k]);
    expect(bufferOf(inArena).arenaOffset).toBeGreaterThan(0);
    expect(bufferOf(own).arenaOffset).toBeUndefined();
    const y = quantLinear(x, inArena);
    if (n * k >= 2600 * 2048) expect(born.explain(y).kernels[0]!.placement).toMatch(/^pool/);
    const a = await y.data() as Float32Array;
    const b = await quantLinear(x, own).data() as Float32Array;
    expect(a).toEqual(b);
    const xs = await x.data() as Float32Array;
    const ref = matmulT(format === 'q4_K' ? xs : quantizedActivations(xs), dequantize(bytes, format, n, k), m, n, k);
    expect(relError(a, ref)).toBeLessThan(2e-6);
    // (Compared as one buffer: toEqual walks megabytes element by element.)
    const back = await inArena.bytes.data() as Uint8Array;
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(bytes))).toBe(true);
    inArena.dispose(); own.dispose();
  });
});

describe('the arena allocator', () => {
  test('a freed weight block is reused by the next weight of its size; blocks never overlap', () => {
    const bytes = randomBlocks('q8_0', 64, 256, 3);
    const a = quantizedWeight(bytes, 'q8_0', [64, 256]), b = quantizedWeight(bytes, 'q8_0', [64, 256]);
    const [at, bt] = [bufferOf(a).arenaOffset!, bufferOf(b).arenaOffset!];
    expect(Math.abs(at - bt)).toBeGreaterThanOrEqual(bytes.length);
    a.dispose();
    // Disposal hands the block back once no schedule holds the buffer: here at once.
    const c = quantizedWeight(bytes, 'q8_0', [64, 256]);
    expect(bufferOf(c).arenaOffset).toBe(at);
    b.dispose(); c.dispose();
  });

  test('threads taking space at once get disjoint blocks, and the arena grows to hold them', async () => {
    const arena = sharedArena();
    const src = `const { parentPort, workerData } = require('node:worker_threads');
      const take = (${ARENA_TAKE});
      const got = [];
      for (let i = 0; i < 200; i++) got.push(take(workerData.arena, 1000 + i * 37));
      parentPort.postMessage(got);`;
    const workers = [0, 1, 2].map(() => new Worker(src, { eval: true, workerData: { arena } }));
    const mine: [number, number][] = [];
    for (let i = 0; i < 200; i++) { const n = 500 + i * 11; mine.push([arenaTake(n)!, n]); }
    const theirs = await Promise.all(workers.map((w) => new Promise<number[]>((ok) => w.once('message', ok))));
    await Promise.all(workers.map((w) => w.terminate()));
    const blocks = [...mine, ...theirs.flatMap((got) => got.map((at, i): [number, number] => [at, 1000 + i * 37]))].sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]![0]).toBeGreaterThanOrEqual(blocks[i - 1]![0] + blocks[i - 1]![1]);
    const [lastAt, lastN] = blocks[blocks.length - 1]!;
    expect(arena.buffer.byteLength).toBeGreaterThanOrEqual(lastAt + lastN);
    expect(blocks.every(([at]) => at % 64 === 0 && at >= 64)).toBe(true);
  });
});
