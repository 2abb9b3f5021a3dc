// In-place writes (store nodes): PyTorch storage semantics, ordered against readers of the old
// contents within a schedule and across schedules, and a training step that allocates nothing.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { assignAll } from '../src/tensor/assign.js';

const { nn, optim } = born;

const range = (n: number, f: (i: number) => number = (i) => i): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));

/** Counts kernels that the block runs. */
async function kernelsOf(fn: () => Promise<unknown>): Promise<{ name: string; ops: readonly string[] }[]> {
  const seen: { name: string; ops: readonly string[] }[] = [];
  const on = (e: born.KernelEvent): void => { seen.push({ name: e.name, ops: e.ops }); };
  born.engine.on('kernel', on);
  try { await fn(); } finally { born.engine.off('kernel', on); }
  return seen;
}

describe('assign writes in place', () => {
  test('the tensor keeps its node and buffer, and views sharing the buffer see the new value', async () => {
    const p = born.tensor(range(6), { shape: [2, 3] });
    const flat = p.reshape([6]);
    await flat.data(); // realised as an alias of p's buffer
    const node = p.node, buf = p.node.realized;
    expect(flat.node.realized).toBe(buf);
    p.assign(p.mul(10));
    expect(p.node).toBe(node);
    expect(p.node.realized).toBe(buf);
    expect([...await p.data()]).toEqual([0, 10, 20, 30, 40, 50]);
    expect([...await flat.data()]).toEqual([0, 10, 20, 30, 40, 50]);
  });

  test('assign to a tensor without a buffer copies: later in-place writes do not reach the value', async () => {
    const v = born.tensor([1, 2, 3]);
    const b = born.zeros([3]); // lazy: no buffer yet
    b.assign(v);
    b.assign(b.mul(2));
    expect([...await b.data()]).toEqual([2, 4, 6]);
    expect([...await v.data()]).toEqual([1, 2, 3]);
    expect(b.node.realized).not.toBe(v.node.realized);
  });

  test('a graph built before the write and realised after it reads the new contents (storage semantics)', async () => {
    const p = born.tensor([1, 2, 3]);
    const y = p.add(1); // lazy: reads p's buffer when it runs
    p.assign(born.tensor([10, 20, 30]));
    expect([...await y.data()]).toEqual([11, 21, 31]);
  });

  test('an elementwise update is one kernel writing straight into the buffer', async () => {
    const p = born.tensor(range(16), { shape: [4, 4] });
    await p.data();
    const ks = await kernelsOf(async () => { p.assign(p.mul(2).add(1)); await p.data(); });
    expect(ks).toHaveLength(1);
    expect(ks[0]!.ops).toContain('store');
    expect([...await p.data()]).toEqual([...range(16, (i) => 2 * i + 1)]);
  });

  test('p <- p*2 + p.T reads p transposed: the value is computed into a temporary first', async () => {
    const n = 5;
    const init = range(n * n, (i) => i * 0.5 - 3);
    const p = born.tensor(init, { shape: [n, n] });
    await p.data();
    const ks = await kernelsOf(async () => { p.assign(p.mul(2).add(p.T)); await p.data(); });
    const expected = range(n * n, (k) => { const i = Math.floor(k / n), j = k % n; return 2 * init[k]! + init[j * n + i]!; });
    expect([...await p.data()]).toEqual([...expected]);
    expect(ks).toHaveLength(2); // the temporary, then the copy into p
  });

  test('a stored reduction writes straight into the target: one kernel, whole or into a slice', async () => {
    const x = born.tensor(range(12), { shape: [3, 4] });
    const s = born.zeros([3]);
    const acc = born.tensor([100, 200, 300, 400]);
    const cache = born.zeros([3, 4]);
    await born.realize(x, s, acc, cache);
    expect(await kernelsOf(async () => { s.assign(x.sum({ dim: 1 })); await s.data(); })).toHaveLength(1);
    expect([...await s.data()]).toEqual([6, 22, 38]);
    const ks = await kernelsOf(async () => { acc.assign(acc.add(x.sum({ dim: 0 }))); await acc.data(); });
    expect(ks).toHaveLength(1);
    expect(ks[0]!.ops).toEqual(['sum', 'add', 'store']);
    expect([...await acc.data()]).toEqual([112, 215, 318, 421]);
    expect(await kernelsOf(async () => { cache.sliceAssign_(0, born.scalar(2, { dtype: 'int32' }), x.amax({ dim: 0, keepdim: true })); await cache.data(); })).toHaveLength(1);
    expect(await cache.tolist()).toEqual([[0, 0, 0, 0], [0, 0, 0, 0], [8, 9, 10, 11]]);
  });

  test('a stored reduction that reads its own target is computed into a temporary first', async () => {
    const t = born.tensor([1, 2, 3]);
    // Every element is the sum of all of t: in place, later elements would sum overwritten ones.
    t.assign(born.ones([3, 3]).mul(t.reshape([1, 3])).sum({ dim: 1 }));
    expect([...await t.data()]).toEqual([6, 6, 6]);
  });

  test('a reduction over the target (p <- p - mean(p)) is computed before p is overwritten', async () => {
    const p = born.tensor([1, 2, 3, 6]);
    p.assign(p.sub(p.mean()));
    expect([...await p.data()]).toEqual([-2, -1, 0, 3]);
  });

  test('stores that read each other (a swap) in one schedule: each sees the other\'s old value', async () => {
    const a = born.tensor([1, 2, 3]);
    const b = born.tensor([7, 8, 9]);
    await born.realize(a, b);
    const before = born.engine.stats().schedules;
    await assignAll([[a, b], [b, a]]);
    expect(born.engine.stats().schedules - before).toBe(1);
    expect([...await a.data()]).toEqual([7, 8, 9]);
    expect([...await b.data()]).toEqual([1, 2, 3]);
  });

  test('a rotation of three tensors and a fourth store reading one of them, in one schedule', async () => {
    const [a, b, c, d] = [born.tensor([1]), born.tensor([2]), born.tensor([3]), born.tensor([0])];
    await born.realize(a, b, c, d);
    await assignAll([[d, a.mul(10)], [a, b], [b, c.add(0)], [c, a.mul(1)]]);
    expect(await Promise.all([a, b, c, d].map((t) => t.item()))).toEqual([2, 3, 1, 10]);
  });

  test('a store blocked by a cycle it is not part of: the cycle is broken where it is', async () => {
    const [e, a, b] = [born.tensor([5]), born.tensor([1]), born.tensor([2])];
    await born.realize(e, a, b);
    // e is written after a reads it; a and b read each other.
    await assignAll([[e, born.full([1], 7)], [a, b.add(e)], [b, a.mul(1)]]);
    expect(await Promise.all([e, a, b].map((t) => t.item()))).toEqual([7, 7, 1]);
  });

  test('Adam-like chained state: the parameter update reads the state before it is overwritten', async () => {
    const p = born.tensor([1, 2, 3]);
    const m = born.tensor([0.5, 0.5, 0.5]);
    await born.realize(p, m);
    const mNew = m.mul(0.9).add(0.1);
    await assignAll([[m, mNew], [p, p.sub(mNew)]]);
    expect([...await m.data()]).toEqual([...Float32Array.from([0.55, 0.55, 0.55])]);
    // With the new m (read after its store) p would be 1 - 0.595 = 0.405.
    [...await p.data()].forEach((v, i) => expect(v).toBeCloseTo(i + 1 - 0.55, 6));
  });
});

describe('ordering across schedules', () => {
  test('read, write, read without awaiting: the first read sees the old value, the last the new', async () => {
    const p = born.tensor([1, 2, 3, 4]);
    const r1 = p.data();
    p.assign(born.tensor([10, 20, 30, 40]).mul(1));
    const r2 = p.data();
    expect([...await r2]).toEqual([10, 20, 30, 40]);
    expect([...await r1]).toEqual([1, 2, 3, 4]);
  });

  test('a write waits for a schedule in flight that reads the old contents (write after read)', async () => {
    const n = 1 << 20; // large enough to run on the worker pool, so the reader is in flight
    const p = born.randn([n], { seed: 7 });
    void born.realize(p); // p's own computation is pending too
    const sumOld = p.mul(1).sum();
    const r1 = sumOld.data(); // a schedule reading p, not awaited
    p.assign(p.add(1));
    const sumNew = p.sum();
    const r2 = sumNew.data(); // started after the write: sees it
    const [a, b] = [(await r1)[0]!, (await r2)[0]!];
    const values = await p.data();
    let ref = 0;
    for (const v of values) ref += v;
    expect(b).toBeCloseTo(ref, -1);
    expect(b - a).toBeCloseTo(n, -1);
  });

  test('two writes in a row without awaiting apply in order (write after write)', async () => {
    const p = born.tensor([1, 2]);
    p.assign(p.mul(3));
    p.assign(p.add(1));
    const r = p.data();
    p.assign(p.mul(0));
    expect([...await r]).toEqual([4, 7]);
    expect([...await p.data()]).toEqual([0, 0]);
  });

  test('a failed read does not fail a later write', async () => {
    const p = born.tensor([1, 2]);
    const bad = p.data().then(() => { throw new Error('consumer failed'); });
    p.assign(p.add(1));
    await expect(bad).rejects.toThrow('consumer failed');
    expect([...await p.data()]).toEqual([2, 3]);
  });
});

describe('sliceAssign_ and copy_', () => {
  test('literal and runtime starts, broadcasting of the other dims', async () => {
    const cache = born.zeros([4, 3]);
    cache.sliceAssign_(0, 1, born.tensor([[1, 2, 3]]));
    cache.sliceAssign_(0, born.scalar(3, { dtype: 'int32' }), born.tensor([[7]]));
    expect(await cache.tolist()).toEqual([[0, 0, 0], [1, 2, 3], [0, 0, 0], [7, 7, 7]]);
    cache.sliceAssign_(1, 0, born.tensor([[5], [6], [7], [8]]));
    expect(await cache.tolist()).toEqual([[5, 0, 0], [6, 2, 3], [7, 0, 0], [8, 7, 7]]);
  });

  test('a start read from a 0-d int32 buffer is a kernel input (clamped into range)', async () => {
    const cache = born.zeros([5]);
    cache.sliceAssign_(0, born.tensor(new Int32Array([2]), { shape: [] }), born.tensor([1, 1]));
    cache.sliceAssign_(0, born.tensor(new Int32Array([99]), { shape: [] }), born.tensor([9, 9]));
    expect([...await cache.data()]).toEqual([0, 0, 1, 9, 9]);
  });

  test('errors name the op, the start and the valid range', () => {
    const cache = born.zeros([4, 3]);
    expect(() => cache.sliceAssign_(0, 4, born.ones([1, 3]))).toThrow(/sliceAssign_: start 4 is out of range .*valid: 0 to 3/);
    expect(() => cache.sliceAssign_(0, born.scalar(-1, { dtype: 'int32' }), born.ones([1, 3]))).toThrow(/start -1 is out of range/);
    expect(() => cache.sliceAssign_(0, 0, born.ones([3]))).toThrow(/as many dims/);
    expect(() => cache.sliceAssign_(0, born.scalar(1), born.ones([1, 3]))).toThrow(/0-d int32/);
  });

  test('a value reading the same cache at another position is safe', async () => {
    const c = born.tensor([1, 2, 3, 4]);
    c.sliceAssign_(0, 1, c.slice(0, 0, 3)); // c[1:4] = c[0:3]: overlapping, shifted read
    expect([...await c.data()]).toEqual([1, 1, 2, 3]);
  });

  test('copy_ casts and broadcasts into the existing buffer', async () => {
    const t = born.zeros([2, 3]);
    t.copy_(born.tensor(new Int32Array([1, 2, 3]), { shape: [3] }));
    expect(await t.tolist()).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  test('loadStateDict copies: training in place does not write into the loaded tensors', async () => {
    const model = nn.Linear(2, 1);
    const w = born.tensor([[1, 2]]);
    const b = born.tensor([0.5]);
    model.loadStateDict({ weight: w, bias: b });
    model.weight.assign(model.weight.mul(0));
    expect(await model.weight.tolist()).toEqual([[0, 0]]);
    expect(await w.tolist()).toEqual([[1, 2]]);
  });
});

describe('training steps in place', () => {
  test('after warm-up, an MLP step with Adam allocates no new device buffers', async () => {
    born.manualSeed(3);
    const model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
    const x = born.randn([16, 20], { seed: 2 });
    const y = born.randint(0, 5, [16], { seed: 3 });
    await born.realize(x, y);
    const step = async (): Promise<number> => {
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      await opt.step([loss]);
      const l = await loss.item();
      loss.dispose();
      return l;
    };
    for (let i = 0; i < 3; i++) await step();
    const base = born.engine.stats().liveBuffers;
    const params = model.parameters().map((p) => p.node.realized);
    const allocs: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = born.engine.stats();
      losses.push(await step());
      const after = born.engine.stats();
      allocs.push(after.allocations - before.allocations);
      expect(after.kernelCompiles).toBe(before.kernelCompiles);
      expect(after.schedules - before.schedules).toBe(1);
      // No waiting for the garbage collector: the step's saved intermediates are released when
      // its backward pass ends, so the next step reuses their buffers.
      expect(after.liveBuffers).toBeLessThanOrEqual(base);
    }
    expect(allocs).toEqual(new Array(8).fill(0));
    expect(losses[7]!).toBeLessThan(losses[0]!);
    // The parameters were updated in their own buffers.
    expect(model.parameters().map((p) => p.node.realized)).toEqual(params);
  });

  test('BatchNorm running statistics are written inside the training step\'s schedule', async () => {
    born.manualSeed(4);
    const model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2), nn.BatchNorm1d(2));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const x = born.randn([8, 4], { seed: 5 });
    // The initial values first: otherwise the first step's schedule is preceded by theirs.
    await model.realize();
    await born.realize(x);
    const bn = model.children()[1] as InstanceType<typeof nn.BatchNorm1d>;
    const rmBuffer = bn.runningMean.node.realized;
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      const h = (model.children()[0] as born.nn.Module).forward(x);
      const hv = await h.data(); // the input of the first BatchNorm, before this step's update
      const mean = Array.from({ length: 6 }, (_, c) => { let s = 0; for (let r = 0; r < 8; r++) s += hv[r * 6 + c]!; return s / 8; });
      const rmBefore = [...await bn.runningMean.data()];
      const before = born.engine.stats().schedules;
      const loss = model.forward(x).pow(2).mean();
      loss.backward();
      await opt.step([loss]);
      expect(born.engine.stats().schedules - before).toBe(1);
      const rm = await bn.runningMean.data();
      rmBefore.forEach((v, c) => expect(rm[c]!).toBeCloseTo(0.9 * v + 0.1 * mean[c]!, 5));
    }
    expect(bn.runningMean.node.realized).toBe(rmBuffer);
    expect(await (bn.stateDict()['num_batches_tracked']!).item()).toBe(3);
  });

  test('reading a running statistic after a training forward sees the update', async () => {
    const bn = nn.BatchNorm1d(2);
    bn.forward(born.tensor([[1, 2], [3, 4]]));
    expect([...await bn.runningMean.data()]).toEqual([...Float32Array.from([0.2, 0.3])]);
    // An eval forward built after a second training forward reads the updated statistics.
    bn.forward(born.tensor([[1, 2], [3, 4]]));
    bn.eval();
    const out = bn.forward(born.tensor([[0, 0]]));
    const rm = Float32Array.from([0.2 * 0.9 + 0.2, 0.3 * 0.9 + 0.3]);
    const rv = await bn.runningVar.data();
    const o = await out.data();
    [0, 1].forEach((c) => expect(o[c]!).toBeCloseTo(-rm[c]! / Math.sqrt(rv[c]! + 1e-5), 5));
  });
});
