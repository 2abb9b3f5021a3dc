// Chains (src/devices/cpu-workers/chain.ts): kernels sent to the workers as one task, each
// kernel's units claimed in chunks, every thread waiting for a kernel's last chunk before the
// next. A link reads what the one before wrote on the other thread, so a missing wait shows as a
// wrong value; a failing link stops the chain and names its kernel; a dead worker fails only its
// chain; and through the engine a CNN forward runs as chains with the values of one run kernel
// by kernel (kernel events turn chains off).
import { afterAll, describe, expect, test, vi } from 'vitest';
import { Piscina } from 'piscina';
import * as born from '../src/index.js';
import { KernelCache, type KernelBinding } from '../src/devices/cpu-workers/compile.js';
import { chainControl, chainDone, runChain, type ChainLink } from '../src/devices/cpu-workers/chain.js';
import { WorkerPool } from '../src/devices/cpu-workers/pool.js';
import type { CpuDevice } from '../src/devices/cpu-workers/device.js';
import { MODELS } from '../src/cli/models.js';

const int32 = (length: number): KernelBinding => ({ sab: new SharedArrayBuffer(length * 4), kind: 'int32', length });

// Link 0: a[i] = i + 1, slowly on odd units so the threads finish unevenly. Link 1: b[i] = a[n-1-i]
// (units the other thread wrote). Link 2: c[i] = b[i] * 2 + a[i].
const n = 256;
const sources = [
  `(b, start, end) => { for (let i = start; i < end; i++) { if (i % 2) { const t = performance.now() + 0.02; while (performance.now() < t); } b[0][i] = i + 1; } }`,
  `(b, start, end) => { for (let i = start; i < end; i++) b[1][i] = b[0][${n - 1} - i]; }`,
  `(b, start, end) => { for (let i = start; i < end; i++) b[2][i] = b[1][i] * 2 + b[0][i]; }`,
];
const links = (bufs: KernelBinding[], chunk: number, failing = -1): ChainLink[] => sources.map((source, i) => ({
  name: `L${i}`, key: `chain-test-${i}-${i === failing}`, bindings: bufs, total: n, chunk,
  source: i === failing ? `(b, start) => { if (start >= ${n / 2}) throw new Error('unit ' + start + ' failed'); }` : source,
}));
const expected = (i: number): number => (n - i) * 2 + i + 1;

const pool = new WorkerPool({ threads: 2 });
afterAll(async () => { await pool.destroy(); });

describe('chains of kernels on the workers', () => {
  test('each link sees every unit of the one before, whichever thread ran it', async () => {
    await pool.whenReady();
    for (const chunk of [1, 7, 64, n]) {
      for (let rep = 0; rep < 5; rep++) {
        const bufs = [int32(n), int32(n), int32(n)];
        const ctl = chainControl(3);
        await pool.runChain(links(bufs, chunk), ctl);
        expect(chainDone(ctl, links(bufs, chunk))).toBe(true);
        const c = new Int32Array(bufs[2]!.sab);
        const wrong = Array.from(c).findIndex((v, i) => v !== expected(i));
        expect(wrong, `chunk ${chunk}: first wrong element`).toBe(-1);
      }
    }
  });

  test('a chain given one thread is one task, and its links still see each other\'s units', async () => {
    const runs = vi.spyOn(Piscina.prototype, 'run');
    try {
      for (const threads of [1, 2]) {
        runs.mockClear();
        const bufs = [int32(n), int32(n), int32(n)];
        await pool.runChain(links(bufs, 7), chainControl(3), threads);
        expect(runs).toHaveBeenCalledTimes(threads);
        expect(Array.from(new Int32Array(bufs[2]!.sab)).every((v, i) => v === expected(i))).toBe(true);
      }
    } finally {
      runs.mockRestore();
    }
  });

  test('a link that throws stops the chain, names its kernel, and the pool runs the next chain', async () => {
    const bufs = [int32(n), int32(n), int32(n)];
    const ctl = chainControl(3);
    await expect(pool.runChain(links(bufs, 8, 1), ctl)).rejects.toThrow(/kernel L1: .*unit \d+ failed/);
    // The last link never ran.
    expect(new Int32Array(bufs[2]!.sab).every((v) => v === 0)).toBe(true);
    const again = [int32(n), int32(n), int32(n)];
    await pool.runChain(links(again, 8), chainControl(3));
    expect(new Int32Array(again[2]!.sab)[0]).toBe(expected(0));
  });

  test('on the calling thread alone it runs the links in order, and a failure there rethrows', () => {
    const cache = new KernelCache(8);
    const bufs = [int32(n), int32(n), int32(n)];
    expect(runChain(cache, links(bufs, 16), chainControl(3))).toBe(3 * n);
    expect(Array.from(new Int32Array(bufs[2]!.sab)).every((v, i) => v === expected(i))).toBe(true);
    const ctl = chainControl(3);
    expect(() => runChain(cache, links([int32(n), int32(n), int32(n)], 16, 2), ctl)).toThrow(/kernel L2/);
    // A thread that joins a failed chain runs nothing.
    expect(runChain(cache, links([int32(n), int32(n), int32(n)], 16), ctl)).toBe(0);
  });

  test('a worker that dies mid-chain fails that chain only', async () => {
    const bufs = [int32(n), int32(n), int32(n)];
    const dying = links(bufs, 4);
    dying[1] = { ...dying[1]!, key: 'chain-test-exit', source: `(b, start) => { if (start === 100) process.exit(3); }` };
    await expect(pool.runChain(dying, chainControl(3))).rejects.toThrow(/a chain of 3 from L0.*worker thread died/);
    const again = [int32(n), int32(n), int32(n)];
    await pool.runChain(links(again, 4), chainControl(3));
    expect(Array.from(new Int32Array(again[2]!.sab)).every((v, i) => v === expected(i))).toBe(true);
  });
});

/** born train's CNN in eval mode, its weights realized, from seed `seed`. */
async function evalCnn(seed: number): Promise<ReturnType<typeof MODELS.cnn>> {
  born.manualSeed(seed);
  const model = MODELS.cnn();
  model.eval();
  await model.realize();
  return model;
}

describe('chains in the engine', () => {
  test('a CNN forward runs as chains, with the values of the same forward kernel by kernel', async () => {
    const device = born.engine.device('cpu') as CpuDevice;
    const model = await evalCnn(3);
    const x = born.randn([64, 1, 28, 28]);
    await x.data();
    let chains = 0;
    const original = device.runChain.bind(device);
    let chainedKernels = 0;
    device.runChain = (items) => { chains++; chainedKernels += items.length; return original(items); };
    // An idle calling thread runs its kernels' turns itself: no chains.
    await born.noGrad(() => model.forward(x)).data();
    expect(chains, 'chains while the calling thread is idle').toBe(0);
    // While it has other work (a server's HTTP), the forward goes to the workers in chains.
    device.callerBusy++;
    let chained: Float32Array;
    try {
      chained = (await born.noGrad(() => model.forward(x)).data()) as Float32Array;
    } finally {
      device.callerBusy--;
      delete (device as { runChain?: unknown }).runChain;
    }
    expect(chains, 'chains run').toBeGreaterThan(0);
    // Kernels small enough to run inline go in the chain too (the im2col before it, the last
    // linear layer after it): the calling thread, a server's, runs none of the forward.
    device.callerBusy++;
    const planned = born.explain(born.noGrad(() => model.forward(x))).kernels.length;
    device.callerBusy--;
    expect(chainedKernels).toBe(planned);
    // A kernel listener gets every kernel on its own: the same program without chains.
    let kernels = 0;
    const count = (): void => { kernels++; };
    born.engine.on('kernel', count);
    const single = (await born.noGrad(() => model.forward(x)).data()) as Float32Array;
    born.engine.off('kernel', count);
    expect(kernels).toBeGreaterThan(5);
    expect(Array.from(chained)).toEqual(Array.from(single));
  });

  test('with chainsInFlight (born serve\'s batches in flight), each chain takes its share of the threads, with the same values', async () => {
    const device = born.engine.device('cpu') as CpuDevice;
    const model = await evalCnn(4);
    const xs = [born.randn([20, 1, 28, 28], { seed: 1 }), born.randn([20, 1, 28, 28], { seed: 2 })];
    await born.realize(...xs);
    const forward = (x: (typeof xs)[number]): Promise<Float32Array> => born.noGrad(() => model.forward(x)).data() as Promise<Float32Array>;
    const alone = await Promise.all(xs.map(forward));
    const shares: number[] = [];
    const real = WorkerPool.prototype.runChain;
    const spy = vi.spyOn(WorkerPool.prototype, 'runChain').mockImplementation(function (this: WorkerPool, links: ChainLink[], ctl: Int32Array, threads?: number) {
      shares.push(threads ?? this.threads);
      return real.call(this, links, ctl, threads);
    });
    device.callerBusy++;
    try {
      const run = async (inFlight: number): Promise<void> => {
        shares.length = 0;
        device.chainsInFlight = inFlight;
        const together = await Promise.all(xs.map(forward));
        expect(together.map((t) => Array.from(t))).toEqual(alone.map((t) => Array.from(t)));
      };
      await run(2);
      if (device.threadCount >= 2) expect(new Set(shares)).toEqual(new Set([Math.floor(device.threadCount / 2)]));
      await run(1);
      if (device.threadCount >= 2) expect(new Set(shares)).toEqual(new Set([device.threadCount]));
    } finally {
      device.callerBusy--;
      device.chainsInFlight = 1;
      spy.mockRestore();
    }
  });
});
