import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import v8 from 'node:v8';
import {
  matmulSource,
  matmulWorkUnits,
  type MatmulBackend,
  type MatmulOperand,
  type MatmulSpec,
} from '../src/devices/cpu-workers/matmul.js';

// Node 20 validates relaxed-SIMD (fused multiply-add) only behind this flag; enable it so that
// both micro-kernel flavours are tested (the 'wasm-mul' backend below forces the other).
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

type Kernel = (b: ArrayLike<number>[], start: number, end: number) => void;
type FloatArray = Float32Array | Float64Array;

type TestBackend = MatmulBackend | 'wasm-mul';
const BACKENDS: TestBackend[] = ['auto', 'wasm', 'wasm-mul', 'js', 'direct'];

function compile(source: string): Kernel {
  return new Function('"use strict"; return (' + source + ');')() as Kernel;
}

function rowMajor(rows: number, cols: number, batchStride = rows * cols, offset = 0): MatmulOperand {
  return { offset, sBatch: batchStride, sRow: cols, sCol: 1 };
}
/** The operand stored transposed: element (r, c) at c*rows + r. */
function colMajor(rows: number, cols: number, batchStride = rows * cols, offset = 0): MatmulOperand {
  return { offset, sBatch: batchStride, sRow: 1, sCol: rows };
}

/** Smallest buffer length that covers every element the operand addresses. */
function extent(op: MatmulOperand, batch: number, rows: number, cols: number): number {
  if (batch === 0 || rows === 0 || cols === 0) return op.offset + 1;
  const reach = (n: number, s: number) => Math.max(0, (n - 1) * s);
  return op.offset + reach(batch, op.sBatch) + reach(rows, op.sRow) + reach(cols, op.sCol) + 1;
}

function random(T: typeof Float32Array | typeof Float64Array, n: number, seed: number): FloatArray {
  const out = new T(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

interface Problem {
  spec: MatmulSpec;
  bufs: FloatArray[]; // [C, A, B, ...extra]
}

function problem(spec: MatmulSpec, seed = 1, extra: FloatArray[] = [], shared = false): Problem {
  const T = spec.dtype === 'float64' ? Float64Array : Float32Array;
  const alloc = (n: number): FloatArray => {
    if (!shared) return new T(n);
    const sab = new SharedArrayBuffer(n * T.BYTES_PER_ELEMENT);
    return T === Float64Array ? new Float64Array(sab) : new Float32Array(sab);
  };
  const make = (n: number, s: number) => {
    const out = alloc(n);
    out.set(random(T, n, s));
    return out;
  };
  const C = alloc(spec.batch * spec.M * spec.N);
  C.fill(NaN); // every output must be written
  const A = make(extent(spec.a, spec.batch, spec.M, spec.K), seed);
  const B = make(extent(spec.b, spec.batch, spec.K, spec.N), seed + 7);
  return { spec, bufs: [C, A, B, ...extra] };
}

/** Naive triple loop in float64: the dot products and, per element, sum |a*b| (the error scale). */
function naive(p: Problem): { dot: Float64Array; scale: Float64Array } {
  const { batch, M, N, K, a, b } = p.spec;
  const A = p.bufs[1]!, B = p.bufs[2]!;
  const dot = new Float64Array(batch * M * N), scale = new Float64Array(batch * M * N);
  for (let bt = 0; bt < batch; bt++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0, abs = 0;
        for (let k = 0; k < K; k++) {
          const x = A[a.offset + bt * a.sBatch + m * a.sRow + k * a.sCol]! * B[b.offset + bt * b.sBatch + k * b.sRow + n * b.sCol]!;
          s += x;
          abs += Math.abs(x);
        }
        dot[(bt * M + m) * N + n] = s;
        scale[(bt * M + m) * N + n] = abs;
      }
    }
  }
  return { dot, scale };
}

function source(spec: MatmulSpec, backend: TestBackend): string {
  return backend === 'wasm-mul' ? matmulSource(spec, { backend: 'wasm', fma: false }) : matmulSource(spec, { backend });
}

function run(p: Problem, backend: TestBackend = 'auto', ranges?: [number, number][]): FloatArray {
  const kernel = compile(source(p.spec, backend));
  const total = matmulWorkUnits(p.spec);
  for (const [s, e] of ranges ?? [[0, total]]) kernel(p.bufs, s, e);
  return p.bufs[0]!;
}

/** Compares C with epilogue(naive dot); tolerance relative to sum |a*b| (plus the epilogue's own rounding). */
function check(p: Problem, C: FloatArray, epilogue: (acc: number, o: number) => number = (x) => x): void {
  const { dot, scale } = naive(p);
  const rel = p.spec.dtype === 'float64' ? 1e-12 : 1e-5;
  let worst = 0, worstAt = -1;
  for (let o = 0; o < dot.length; o++) {
    const want = epilogue(dot[o]!, o);
    const got = C[o]!;
    const err = Math.abs(got - want) / (scale[o]! + Math.abs(want) + 1e-30);
    if (!(err <= rel)) {
      worstAt = o;
      worst = err;
      break;
    }
    if (err > worst) worst = err;
  }
  if (worstAt >= 0) {
    throw new Error(`mismatch at ${worstAt}: got ${C[worstAt]}, want ${epilogue(dot[worstAt]!, worstAt)} (relative error ${worst})`);
  }
}

interface Case {
  name: string;
  spec: MatmulSpec;
}

const cases: Case[] = [
  { name: 'square 64', spec: { batch: 1, M: 64, N: 64, K: 64, a: rowMajor(64, 64), b: rowMajor(64, 64) } },
  { name: 'square 100 (not a tile multiple)', spec: { batch: 1, M: 100, N: 100, K: 100, a: rowMajor(100, 100), b: rowMajor(100, 100) } },
  { name: 'odd sizes 37x29x53', spec: { batch: 1, M: 37, N: 29, K: 53, a: rowMajor(37, 53), b: rowMajor(53, 29) } },
  { name: 'transposed A', spec: { batch: 1, M: 45, N: 31, K: 27, a: colMajor(45, 27), b: rowMajor(27, 31) } },
  { name: 'transposed B', spec: { batch: 1, M: 45, N: 31, K: 27, a: rowMajor(45, 27), b: colMajor(27, 31) } },
  { name: 'both transposed', spec: { batch: 1, M: 21, N: 66, K: 19, a: colMajor(21, 19), b: colMajor(19, 66) } },
  {
    name: 'batched, B broadcast (batch stride 0)',
    spec: { batch: 5, M: 13, N: 17, K: 11, a: rowMajor(13, 11), b: rowMajor(11, 17, 0) },
  },
  {
    name: 'batched, A broadcast and transposed, B offset',
    spec: { batch: 3, M: 9, N: 40, K: 70, a: colMajor(9, 70, 0, 5), b: rowMajor(70, 40, 70 * 40, 3) },
  },
  {
    name: 'padded row strides and offsets (views into larger buffers)',
    spec: {
      batch: 2, M: 18, N: 23, K: 35,
      a: { offset: 7, sBatch: 18 * 40 + 3, sRow: 40, sCol: 1 },
      b: { offset: 11, sBatch: 35 * 30, sRow: 30, sCol: 1 },
    },
  },
  { name: 'generic strides (no unit stride)', spec: { batch: 2, M: 10, N: 12, K: 9, a: { offset: 1, sBatch: 200, sRow: 2, sCol: 21 }, b: { offset: 0, sBatch: 300, sRow: 26, sCol: 2 } } },
  { name: 'negative strides (flipped views)', spec: { batch: 1, M: 12, N: 10, K: 14, a: { offset: 12 * 14 - 1, sBatch: 0, sRow: -14, sCol: -1 }, b: { offset: 13 * 10, sBatch: 0, sRow: -10, sCol: 1 } } },
  { name: 'float64', spec: { batch: 2, M: 33, N: 41, K: 29, a: rowMajor(33, 29), b: colMajor(29, 41), dtype: 'float64' } },
  { name: 'float64 square 70', spec: { batch: 1, M: 70, N: 70, K: 70, a: colMajor(70, 70), b: rowMajor(70, 70), dtype: 'float64' } },
  { name: 'M=1 (vector-matrix)', spec: { batch: 1, M: 1, N: 300, K: 200, a: rowMajor(1, 200), b: rowMajor(200, 300) } },
  { name: 'M=1, B transposed', spec: { batch: 1, M: 1, N: 300, K: 200, a: rowMajor(1, 200), b: colMajor(200, 300) } },
  { name: 'M=3, batched', spec: { batch: 3, M: 3, N: 130, K: 40, a: rowMajor(3, 40), b: rowMajor(40, 130, 0) } },
  { name: 'N=1 (matrix-vector)', spec: { batch: 1, M: 90, N: 1, K: 77, a: rowMajor(90, 77), b: rowMajor(77, 1) } },
  { name: 'K=1 (outer product)', spec: { batch: 1, M: 19, N: 23, K: 1, a: rowMajor(19, 1), b: rowMajor(1, 23) } },
  { name: 'K=0 gives zeros', spec: { batch: 2, M: 5, N: 6, K: 0, a: rowMajor(5, 0), b: rowMajor(0, 6) } },
  { name: 'crosses the K block (K=300) and the A row block (M=70)', spec: { batch: 1, M: 70, N: 40, K: 300, a: rowMajor(70, 300), b: colMajor(300, 40) } },
  { name: 'crosses the row super-block (M=600)', spec: { batch: 1, M: 600, N: 20, K: 3, a: rowMajor(600, 3), b: rowMajor(3, 20) } },
  { name: 'crosses the column block (N=2100, few rows)', spec: { batch: 2, M: 3, N: 2100, K: 5, a: rowMajor(3, 5), b: colMajor(5, 2100) } },
  { name: 'tiny batched 8x8x8', spec: { batch: 20, M: 8, N: 8, K: 8, a: rowMajor(8, 8), b: rowMajor(8, 8) } },
];

describe('matmul kernel', () => {
  for (const backend of BACKENDS) {
    describe(`backend ${backend}`, () => {
      for (const c of cases) {
        test(c.name, () => {
          const p = problem(c.spec, 3);
          check(p, run(p, backend));
        });
      }
    });
  }

  test('K=0 runs the epilogue on zeros', () => {
    const spec: MatmulSpec = {
      batch: 1, M: 4, N: 3, K: 0, a: rowMajor(4, 0), b: rowMajor(0, 3),
      epilogue: { expr: 'acc + b[3][o % 3] + 1' },
    };
    const p = problem(spec, 1, [Float32Array.from([0.5, -2, 3])]);
    const C = run(p);
    expect(Array.from(C)).toEqual([1.5, -1, 4, 1.5, -1, 4, 1.5, -1, 4, 1.5, -1, 4]);
  });

  for (const backend of BACKENDS) {
    test(`epilogue with bias and relu, prelude (${backend})`, () => {
      const M = 37, N = 45, K = 66;
      const spec: MatmulSpec = {
        batch: 2, M, N, K, a: rowMajor(M, K), b: colMajor(K, N, 0),
        epilogue: { prelude: `const bias = b[3]; let calls = 0;`, expr: `Math.max(acc + bias[o % ${N}], 0)` },
      };
      const bias = random(Float32Array, N, 99);
      const p = problem(spec, 5, [bias]);
      const C = run(p, backend);
      check(p, C, (acc, o) => Math.max(acc + bias[o % N]!, 0));
      let zeros = 0;
      for (const x of C) if (x === 0) zeros++;
      expect(zeros).toBeGreaterThan(0); // relu did something
    });
  }

  for (const backend of BACKENDS) {
    test(`the epilogue's row and column ($om, $on) are those of o, in every range (${backend})`, () => {
      const M = 70, N = 45, K = 33, batch = 3;
      const spec: MatmulSpec = {
        batch, M, N, K, a: rowMajor(M, K), b: colMajor(K, N),
        epilogue: { expr: `acc + b[3][$on] * 2 + b[4][$om] + ($om * ${N} + $on === o % ${M * N} ? 0 : 1e6)` },
      };
      const colBias = random(Float32Array, N, 31), rowBias = random(Float32Array, M, 32);
      const want = (acc: number, o: number): number => acc + colBias[o % N]! * 2 + rowBias[Math.floor(o / N) % M]!;
      const p = problem(spec, 6, [colBias, rowBias]);
      check(p, run(p, backend), want);
      const t = matmulWorkUnits(spec);
      const q = problem(spec, 6, [colBias, rowBias]);
      check(q, run(q, backend, Array.from({ length: t }, (_, i) => [t - 1 - i, t - i] as [number, number])), want);
    });
  }

  test('a large batch-1 matmul with M < N is split in two column blocks; each half-range gives its columns', () => {
    // Over units.ts SPLIT_MACS: each range then packs all of A instead of all of B.
    const M = 256, N = 640, K = 256;
    const spec: MatmulSpec = { batch: 1, M, N, K, a: rowMajor(M, K), b: colMajor(K, N), epilogue: { expr: 'acc + $on' } };
    const t = matmulWorkUnits(spec);
    expect(t).toBe(2 * (M / 32));
    const p = problem(spec, 21);
    const C = run(p, 'wasm', [[t >> 1, t], [0, t >> 1]]);
    check(p, C, (acc, o) => acc + (o % N));
    // Square and M >= N shapes keep row blocks.
    expect(matmulWorkUnits({ ...spec, M: 640, N: 256 })).toBe(640 / 32);
  });

  test('float64 epilogue keeps float64 precision', () => {
    const spec: MatmulSpec = {
      batch: 1, M: 20, N: 20, K: 20, a: rowMajor(20, 20), b: rowMajor(20, 20), dtype: 'float64',
      epilogue: { expr: 'acc * 3 + 1e-9' },
    };
    const p = problem(spec, 8);
    check(p, run(p, 'wasm'), (acc) => acc * 3 + 1e-9);
  });

  for (const backend of BACKENDS) {
    test(`disjoint ranges equal the whole range (${backend})`, () => {
      for (const spec of [
        { batch: 3, M: 70, N: 50, K: 40, a: rowMajor(70, 40), b: rowMajor(40, 50, 0) } satisfies MatmulSpec,
        { batch: 1, M: 2, N: 700, K: 30, a: rowMajor(2, 30), b: colMajor(30, 700) } satisfies MatmulSpec,
        { batch: 4, M: 5, N: 9, K: 7, a: colMajor(5, 7), b: rowMajor(7, 9) } satisfies MatmulSpec,
      ]) {
        const t = matmulWorkUnits(spec);
        expect(t).toBeGreaterThan(1);
        const whole = Array.from(run(problem(spec, 4), backend));
        const halves = Array.from(run(problem(spec, 4), backend, [[0, t >> 1], [t >> 1, t]]));
        // reversed order, and one unit at a time
        const units = Array.from(run(problem(spec, 4), backend, Array.from({ length: t }, (_, i) => [t - 1 - i, t - i] as [number, number])));
        const odd = Array.from(run(problem(spec, 4), backend, [[0, 1], [1, t - 1], [t - 1, t]]));
        expect(halves).toEqual(whole);
        expect(units).toEqual(whole);
        expect(odd).toEqual(whole);
      }
    });
  }

  test('a compiled kernel is reusable and kernels can interleave (shared per-thread scratch)', () => {
    const s1: MatmulSpec = { batch: 1, M: 80, N: 90, K: 300, a: rowMajor(80, 300), b: rowMajor(300, 90) };
    const s2: MatmulSpec = { batch: 2, M: 30, N: 20, K: 10, a: colMajor(30, 10), b: colMajor(10, 20), dtype: 'float64' };
    const s3: MatmulSpec = { batch: 1, M: 600, N: 700, K: 20, a: rowMajor(600, 20), b: rowMajor(20, 700) };
    const k1 = compile(matmulSource(s1)), k2 = compile(matmulSource(s2)), k3 = compile(matmulSource(s3));
    for (let round = 0; round < 2; round++) {
      for (const [k, s] of [[k1, s1], [k2, s2], [k3, s3], [k1, s1]] as const) {
        const p = problem(s, 10 + round);
        k(p.bufs, 0, matmulWorkUnits(s));
        check(p, p.bufs[0]!);
      }
    }
  });

  test('both wasm micro-kernel flavours are available here', () => {
    const spec: MatmulSpec = { batch: 1, M: 16, N: 16, K: 16, a: rowMajor(16, 16), b: rowMajor(16, 16) };
    expect(matmulSource(spec, { backend: 'wasm' })).toMatch(/__bornMatmul_f32_fma_/);
    expect(matmulSource(spec, { backend: 'wasm', fma: false })).toMatch(/__bornMatmul_f32_mul_/);
  });

  test('SharedArrayBuffer-backed buffers', () => {
    const spec: MatmulSpec = { batch: 2, M: 50, N: 60, K: 70, a: rowMajor(50, 70), b: colMajor(70, 60) };
    const p = problem(spec, 12, [], true);
    check(p, run(p));
  });

  test('two worker threads over disjoint ranges of shared buffers', async () => {
    const spec: MatmulSpec = {
      batch: 2, M: 130, N: 100, K: 270, a: rowMajor(130, 270), b: colMajor(270, 100, 0),
      epilogue: { expr: 'acc * 2' },
    };
    const p = problem(spec, 13, [], true);
    const source = matmulSource(spec);
    const total = matmulWorkUnits(spec);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const kernel = new Function('"use strict"; return (' + workerData.source + ');')();
      kernel(workerData.bufs, workerData.start, workerData.end);
      parentPort.postMessage('done');`;
    const half = total >> 1;
    await Promise.all(
      [[0, half], [half, total]].map(([start, end]) => new Promise<void>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { source, bufs: p.bufs, start, end } });
        w.once('message', () => { void w.terminate(); resolve(); });
        w.once('error', reject);
      })),
    );
    check(p, p.bufs[0]!, (acc) => acc * 2);
  });

  test('empty outputs need no units', () => {
    expect(matmulWorkUnits({ batch: 1, M: 0, N: 5, K: 5, a: rowMajor(0, 5), b: rowMajor(5, 5) })).toBe(0);
    expect(matmulWorkUnits({ batch: 0, M: 3, N: 5, K: 5, a: rowMajor(3, 5), b: rowMajor(5, 5) })).toBe(0);
    const k = compile(matmulSource({ batch: 1, M: 3, N: 0, K: 5, a: rowMajor(3, 5), b: rowMajor(5, 0) }));
    expect(() => k([new Float32Array(0), new Float32Array(15), new Float32Array(0)], 0, 0)).not.toThrow();
  });

  test('bad specs are refused with the field name', () => {
    expect(() => matmulSource({ batch: 1, M: -1, N: 2, K: 2, a: rowMajor(1, 2), b: rowMajor(2, 2) })).toThrow(/M must be >= 0/);
    expect(() => matmulWorkUnits({ batch: 1, M: 1, N: 2, K: 2, a: { ...rowMajor(1, 2), sRow: 0.5 }, b: rowMajor(2, 2) })).toThrow(/a\.sRow/);
  });

  test('property: random shapes, strides, dtypes and backends match the naive loop', () => {
    // Row-major, transposed, or spread out (no unit stride), with padded rows, offsets, broadcast batches.
    const operand = (rows: number, cols: number, batch: number) =>
      fc.record({
        layout: fc.constantFrom('rows', 'cols', 'spread'),
        padRow: fc.integer({ min: 0, max: 3 }),
        broadcast: fc.boolean(),
        offset: fc.integer({ min: 0, max: 5 }),
      }).map(({ layout, padRow, broadcast, offset }): MatmulOperand => {
        const step = layout === 'spread' ? 2 : 1;
        const inner = (layout === 'cols' ? rows : cols) * step + padRow;
        const size = (layout === 'cols' ? cols : rows) * inner;
        return {
          offset,
          sBatch: broadcast || batch === 1 ? 0 : size + padRow,
          sRow: layout === 'cols' ? 1 : inner,
          sCol: layout === 'cols' ? inner : step,
        };
      });
    const arb = fc
      .record({
        batch: fc.integer({ min: 1, max: 3 }),
        M: fc.integer({ min: 1, max: 20 }),
        N: fc.integer({ min: 1, max: 20 }),
        K: fc.integer({ min: 0, max: 20 }),
      })
      .chain(({ batch, M, N, K }) =>
        fc.record({
          spec: fc.record({
            batch: fc.constant(batch), M: fc.constant(M), N: fc.constant(N), K: fc.constant(K),
            a: operand(M, K, batch),
            b: operand(K, N, batch),
            dtype: fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
          }),
          backend: fc.constantFrom<TestBackend>(...BACKENDS),
          seed: fc.integer({ min: 1, max: 1000 }),
          split: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ spec, backend, seed, split }) => {
        const p = problem(spec, seed);
        const t = matmulWorkUnits(spec);
        const cut = Math.floor(split * t);
        check(p, run(p, backend, [[cut, t], [0, cut]]));
      }),
      { numRuns: 400 },
    );
  });
});
