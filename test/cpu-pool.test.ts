import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KernelCache, compileKernel, viewOf, type KernelBinding } from '../src/devices/cpu-workers/compile.js';
import { KernelError, WorkerPool, splitRanges } from '../src/devices/cpu-workers/pool.js';
import { SourceTable, sourceText, type SourceRef } from '../src/devices/cpu-workers/sources.js';

function binding(kind: KernelBinding['kind'], length: number): KernelBinding {
  const bytes = kind === 'float64' ? 8 : kind === 'bool' ? 1 : 4;
  return { sab: new SharedArrayBuffer(length * bytes), kind, length };
}

const INC = '(b, start, end) => { for (let i = start; i < end; i++) b[0][i] += 1; }';
// For runs in flight at the same time over the same buffer: separate run() calls are not ordered
// against each other, so two threads may increment one element at once, and `+= 1` on shared
// memory is a read-modify-write that can lose one of them. Atomics.add cannot.
const ATOMIC_INC = '(b, start, end) => { for (let i = start; i < end; i++) Atomics.add(b[0], i, 1); }';
// Records which range wrote each element: b[0][i] = range start + 1, b[1][start] = end.
const MARK = '(b, start, end) => { for (let i = start; i < end; i++) b[0][i] = start + 1; b[1][start] = end; }';

/** The ranges a kernel was actually run over, read back from MARK's output. */
function rangesOf(starts: Int32Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < starts.length; i++) if (starts[i] !== 0) out.push([i, starts[i]!]);
  return out;
}

describe('splitRanges', () => {
  test('covers [0, total) contiguously with at most `parts` ranges of at least `grain`', () => {
    for (const [total, parts, grain] of [[10, 4, 1], [3, 8, 1], [1000, 3, 400], [7, 2, 100], [1, 16, 1], [1e6 + 3, 7, 1]] as const) {
      const r = splitRanges(total, parts, grain);
      expect(r[0]![0]).toBe(0);
      expect(r.at(-1)![1]).toBe(total);
      for (let i = 1; i < r.length; i++) expect(r[i]![0]).toBe(r[i - 1]![1]);
      expect(r.length).toBeLessThanOrEqual(parts);
      if (total >= grain) for (const [s, e] of r) expect(e - s).toBeGreaterThanOrEqual(grain);
      const sizes = r.map(([s, e]) => e - s);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(splitRanges(0, 4)).toEqual([]);
    expect(splitRanges(3, 8)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(splitRanges(1000, 3, 400)).toEqual([[0, 500], [500, 1000]]);
  });
});

describe('KernelCache', () => {
  test('evicts the least recently used and recompiles a key whose source changed', () => {
    const cache = new KernelCache(2);
    const a = cache.get('a', '(b) => { b[0][0] = 1; }');
    cache.get('b', '(b) => { b[0][0] = 2; }');
    expect(cache.get('a', '(b) => { b[0][0] = 1; }')).toBe(a); // hit, and now most recent
    cache.get('c', '(b) => { b[0][0] = 3; }'); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.get('a', '(b) => { b[0][0] = 1; }')).toBe(a);
    const changed = cache.get('a', '(b) => { b[0][0] = 9; }');
    expect(changed).not.toBe(a);
    const out = new Int32Array(1);
    changed([out], 0, 1);
    expect(out[0]).toBe(9);
  });

  test('a source named in the shared table compiles once; the same text under a new ref is the same kernel; other text recompiles', () => {
    const table = new SourceTable();
    const text = '(b) => { b[0][0] = "é€😀".length; }';
    const ref = table.ref(text) as SourceRef;
    expect(typeof ref).toBe('object');
    expect(table.ref(text)).toBe(ref);
    expect(sourceText(ref)).toBe(text);
    const cache = new KernelCache(4);
    const f = cache.get('k', ref);
    expect(cache.get('k', { ...ref })).toBe(f);
    expect(cache.compiles).toBe(1);
    // A newer table holding the same text: read, compared, not recompiled.
    const again = new SourceTable().ref(text) as SourceRef;
    expect(cache.get('k', { ...again, id: ref.id + 1000 })).toBe(f);
    expect(cache.compiles).toBe(1);
    const other = table.ref('(b) => { b[0][0] = 7; }');
    const g = cache.get('k', other);
    expect(g).not.toBe(f);
    const out = new Int32Array(1);
    g([out], 0, 1);
    expect(out[0]).toBe(7);
    f([out], 0, 1);
    expect(out[0]).toBe(4);
  });

  test('the table starts a new buffer when one fills, and keeps refs apart', () => {
    const table = new SourceTable();
    const big = `(b) => { b[0][0] = ${'1 + '.repeat(1_100_000)}1; }`; // 4.4 MB, room kept for 13.2 MB once encoded: two do not fit in 16 MiB
    const first = table.ref(big) as SourceRef;
    const second = table.ref(`${big} `) as SourceRef;
    expect(second.table).not.toBe(first.table);
    expect(second.id).not.toBe(first.id);
    expect(sourceText(first)).toBe(big);
    expect(sourceText(second)).toBe(`${big} `);
    // Larger than a table: carried as text.
    expect(table.ref(big.repeat(2))).toBe(big.repeat(2));
  });

  test('compileKernel accepts an IIFE with helpers and rejects non-functions', () => {
    const fn = compileKernel('(() => { function sq(x) { return x * x; } return function k(b, s, e) { for (let i = s; i < e; i++) b[0][i] = sq(i); }; })()');
    const out = new Float64Array(4);
    fn([out], 1, 4);
    expect([...out]).toEqual([0, 1, 4, 9]);
    expect(() => compileKernel('42')).toThrow(/not a function/);
  });
});

describe('WorkerPool', () => {
  let pool: WorkerPool;
  beforeAll(() => { pool = new WorkerPool({ threads: 3 }); });
  afterAll(async () => { await pool.destroy(); });

  test('a worker compiles a source named in the shared table, and a changed source under the same key', async () => {
    const b = binding('int32', 6);
    await pool.run('set', '(b, s, e) => { for (let i = s; i < e; i++) b[0][i] = 5; }', [b], 6);
    expect([...viewOf(b)]).toEqual([5, 5, 5, 5, 5, 5]);
    await pool.run('set', '(b, s, e) => { for (let i = s; i < e; i++) b[0][i] = 6; }', [b], 6);
    expect([...viewOf(b)]).toEqual([6, 6, 6, 6, 6, 6]);
  });

  test('every index of [0, total) is visited exactly once', async () => {
    const n = 1_000_000;
    const b = binding('int32', n);
    await pool.run('inc', INC, [b], n);
    const v = viewOf(b);
    let ones = 0;
    for (let i = 0; i < n; i++) if (v[i] === 1) ones++;
    expect(ones).toBe(n);
  });

  test('uses one range per thread, or fewer when total < threads', async () => {
    for (const [total, expected] of [[2, [[0, 1], [1, 2]]], [9, [[0, 3], [3, 6], [6, 9]]], [10, [[0, 4], [4, 7], [7, 10]]]] as const) {
      const out = binding('int32', total);
      const ends = binding('int32', total);
      await pool.run('mark', MARK, [out, ends], total);
      expect(rangesOf(viewOf(ends) as Int32Array).map(([s, e]) => [s, e])).toEqual(expected);
      const o = viewOf(out);
      for (const [s, e] of expected) for (let i = s; i < e; i++) expect(o[i]).toBe(s + 1);
    }
  });

  test('grain bounds the number of ranges', async () => {
    const total = 1000;
    const out = binding('int32', total);
    const ends = binding('int32', total);
    await pool.run('mark', MARK, [out, ends], total, { grain: 400 });
    expect(rangesOf(viewOf(ends) as Int32Array)).toEqual([[0, 500], [500, 1000]]);
    const ends2 = binding('int32', total);
    await pool.run('mark', MARK, [binding('int32', total), ends2], total, { grain: 5000 });
    expect(rangesOf(viewOf(ends2) as Int32Array)).toEqual([[0, 1000]]);
  });

  test('total 0 resolves without running anything', async () => {
    await expect(pool.run('never', '(b) => { throw new Error("ran"); }', [], 0)).resolves.toBeUndefined();
  });

  test('float64, int32 and bool views', async () => {
    const n = 1001;
    const x = binding('float64', n);
    const k = binding('int32', n);
    const m = binding('bool', n);
    const y = binding('float64', n);
    const xv = viewOf(x) as Float64Array;
    const kv = viewOf(k) as Int32Array;
    for (let i = 0; i < n; i++) { xv[i] = i / 3; kv[i] = i - 500; }
    const src = `(b, s, e) => {
      const [y, x, k, m] = b;
      if (!(y instanceof Float64Array && k instanceof Int32Array && m instanceof Uint8Array)) throw new Error('wrong view types');
      for (let i = s; i < e; i++) { m[i] = k[i] < 0 ? 1 : 0; y[i] = m[i] ? x[i] * 1e-300 : x[i] + k[i]; }
    }`;
    await pool.run('typed', src, [y, x, k, m], n);
    const yv = viewOf(y);
    const mv = viewOf(m);
    expect(mv).toBeInstanceOf(Uint8Array);
    for (let i = 0; i < n; i++) {
      expect(mv[i]).toBe(i < 500 ? 1 : 0);
      // float64 precision survives: i/3 * 1e-300 underflows float32 to 0
      expect(yv[i]).toBe(i < 500 ? (i / 3) * 1e-300 : i / 3 + (i - 500));
    }
  });

  test('overlapping run() calls all complete with their own results', async () => {
    const n = 50_000;
    const outs = Array.from({ length: 12 }, () => binding('float32', n));
    await Promise.all(outs.map((o, j) =>
      pool.run(`fill${j % 3}`, `(b, s, e) => { for (let i = s; i < e; i++) b[0][i] = i * ${j + 1}; }`, [o], n)));
    outs.forEach((o, j) => {
      const v = viewOf(o);
      expect(v[0]).toBe(0);
      expect(v[n - 1]).toBe(Math.fround((n - 1) * (j + 1)));
      expect(v[12345]).toBe(Math.fround(12345 * (j + 1)));
    });
  });

  test('a throwing kernel rejects with a KernelError naming the key and the cause; the pool stays usable', async () => {
    const b = binding('int32', 10);
    const err = await pool.run('kernel/bad#1', '(b, s, e) => { if (s > 0) throw new RangeError("boom at " + s); }', [b], 10)
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toContain('kernel/bad#1');
    expect((err as Error).message).toMatch(/RangeError: boom at \d/);
    await pool.run('inc', INC, [b], 10);
    expect([...viewOf(b)]).toEqual(new Array(10).fill(1));
  });

  test('a syntax error in generated source is a KernelError too', async () => {
    await expect(pool.run('kernel/syntax', '(b, s, e) => { for ( }', [], 4)).rejects.toThrow(/kernel\/syntax.*compile failed.*SyntaxError/);
  });

  test('a worker that dies rejects the pending run and the pool keeps working', async () => {
    const b = binding('int32', 30);
    for (let round = 0; round < 2; round++) {
      const err = await pool.run('kernel/exit', '(b, s, e) => { if (s === 0) process.exit(1); }', [b], 30)
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(KernelError);
      expect((err as Error).message).toMatch(/kernel\/exit.*worker thread died.*code: 1/);
      await pool.run('inc', INC, [b], 30);
    }
    expect([...viewOf(b)]).toEqual(new Array(30).fill(2));
    // Every thread dies at once, then a full-width run must still be served.
    await expect(pool.run('kernel/exit-all', '() => { process.exit(3); }', [b], 30)).rejects.toThrow(/code: 3/);
    const c = binding('int32', 30);
    const ends = binding('int32', 30);
    await pool.run('mark', MARK, [c, ends], 30);
    expect(rangesOf(viewOf(ends) as Int32Array)).toEqual([[0, 10], [10, 20], [20, 30]]);
  });

  test('a death among many queued runs fails only its own run; every other run does all its work', async () => {
    // The 19 increments run concurrently on the same elements. With a plain `+= 1` this test once
    // saw {19, 17}: after the deaths, a cold replacement thread and a warm one can work on the
    // same range at once and one overtakes the other, losing an element's update (reproduced
    // under CPU load: single elements at 18, never a whole range). The pool loses no work; the
    // kernel raced. Atomic increments make the count exact.
    const n = 3000;
    for (let round = 0; round < 3; round++) {
      const b = binding('int32', n);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, j) =>
        j === 7 ? pool.run('kernel/die', '() => { process.exit(2); }', [b], n) : pool.run('inc-atomic', ATOMIC_INC, [b], n)));
      expect(results.map((r) => r.status)).toEqual(results.map((_, j) => (j === 7 ? 'rejected' : 'fulfilled')));
      expect(new Set(viewOf(b) as Int32Array)).toEqual(new Set([19]));
    }
  });

  test('an exception escaping a kernel asynchronously fails that run, not a hang or a dead process', async () => {
    await expect(pool.run('kernel/late', '() => { queueMicrotask(() => { throw new Error("late"); }); }', [], 3))
      .rejects.toThrow(/kernel\/late.*escaped asynchronously.*late/);
    const b = binding('int32', 3);
    await pool.run('inc', INC, [b], 3);
    expect([...viewOf(b)]).toEqual([1, 1, 1]);
  });

  test('an abort signal stops a kernel that never returns', async () => {
    const ac = new AbortController();
    const pending = pool.run('kernel/spin', '() => { for (;;); }', [], 3, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toThrow(/kernel\/spin.*aborted/);
    const b = binding('int32', 3);
    await pool.run('inc', INC, [b], 3);
    expect([...viewOf(b)]).toEqual([1, 1, 1]);
  });

  test('runInline computes the same result as run over the same range', async () => {
    const n = 4099;
    const x = binding('float32', n);
    const xv = viewOf(x);
    for (let i = 0; i < n; i++) xv[i] = Math.sin(i);
    const src = '(b, s, e) => { for (let i = s; i < e; i++) b[0][i] = Math.exp(b[1][i]) * 2 + 1; }';
    const viaPool = binding('float32', n);
    const inline = binding('float32', n);
    await pool.run('exp', src, [viaPool, x], n);
    pool.runInline('exp', src, [inline, x], 0, n);
    expect(viewOf(inline)).toEqual(viewOf(viaPool));
    expect(viewOf(inline)[1]).toBeCloseTo(Math.exp(Math.sin(1)) * 2 + 1, 5);
    // A sub-range leaves the rest alone.
    const part = binding('float32', n);
    pool.runInline('exp', src, [part, x], 10, 20);
    expect(viewOf(part)[9]).toBe(0);
    expect(viewOf(part)[10]).toBe(viewOf(viaPool)[10]);
    expect(viewOf(part)[20]).toBe(0);
  });

  test('runInline throws a KernelError naming the key', () => {
    expect(() => pool.runInline('kernel/inline-bad', '() => { throw new TypeError("nope"); }', [], 0, 1))
      .toThrow(KernelError);
    expect(() => pool.runInline('kernel/inline-bad', '() => { throw new TypeError("nope"); }', [], 0, 1))
      .toThrow(/kernel\/inline-bad.*TypeError: nope/);
  });
});

describe('WorkerPool lifecycle', () => {
  test('defaults to one thread per CPU and refuses work after destroy', async () => {
    const pool = new WorkerPool();
    expect(pool.threads).toBeGreaterThanOrEqual(1);
    const b = binding('int32', 8);
    await pool.run('inc', INC, [b], 8);
    await pool.destroy();
    await expect(pool.run('inc', INC, [b], 8)).rejects.toThrow(KernelError);
    expect([...viewOf(b)]).toEqual(new Array(8).fill(1));
    expect(() => new WorkerPool({ threads: 0 })).toThrow(RangeError);
  });

  test('destroy rejects runs still queued instead of leaving them pending', async () => {
    const pool = new WorkerPool({ threads: 1 });
    const slow = '() => { const t = Date.now() + 100; while (Date.now() < t); }';
    const runs = [pool.run('slow', slow, [], 1), pool.run('slow', slow, [], 1), pool.run('slow', slow, [], 1)];
    // Observe the runs before destroying, so their rejections are never unhandled.
    const settling = Promise.allSettled(runs);
    await pool.destroy();
    const settled = await settling;
    expect(settled.some((r) => r.status === 'rejected')).toBe(true);
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(KernelError);
  });
});
