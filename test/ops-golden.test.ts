// PyTorch golden values (test/fixtures/golden.json, written by
// test/fixtures/gen_golden.py from torch 1.13) for composite ops: Born must
// match them, and so must the eager reference the other suites rely on.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectTensor, ref, type Tensor, type Tol } from './reference/check.js';
import { NDArray, type DType } from './reference/ndarray.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface GoldenCase {
  name: string;
  op: string;
  dtype: 'float32' | 'float64';
  params: { dim?: number | number[]; keepdim?: boolean; correction?: number };
  inputs: Record<string, Arr>;
  expected: Arr;
}
interface Golden {
  torch: string;
  cases: GoldenCase[];
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')) as Golden;

/** One implementation of each composite, written against an ops interface both Born and the reference satisfy. */
interface Ops<T> {
  input(name: string, a: Arr, dtype: DType): T;
  gelu(x: T): T;
  geluTanh(x: T): T;
  silu(x: T): T;
  sigmoid(x: T): T;
  softplus(x: T): T;
  softmax(x: T, dim: number): T;
  logSoftmax(x: T, dim: number): T;
  logsumexp(x: T, dim: number | number[], keepdim: boolean): T;
  var(x: T, o: { dim?: number | number[]; keepdim?: boolean; correction?: number }): T;
  std(x: T, o: { dim?: number | number[]; keepdim?: boolean; correction?: number }): T;
  mean(x: T, dim: number, keepdim: boolean): T;
  sum(x: T, dim: number): T;
  matmul(a: T, b: T): T;
  T(x: T): T;
  add(a: T, b: T | number): T;
  sub(a: T, b: T | number): T;
  mul(a: T, b: T | number): T;
  div(a: T, b: T | number): T;
  sqrt(x: T): T;
  neg(x: T): T;
  gather(x: T, dim: number, index: T): T;
}

const bornOps: Ops<Tensor> = {
  input: (name, a, dtype) => {
    // Inputs named y are class indices.
    const dt: DType = name === 'y' ? 'int32' : dtype;
    const values =
      dt === 'int32' ? Int32Array.from(a.data) : dt === 'float64' ? Float64Array.from(a.data) : Float32Array.from(a.data);
    return born.tensor(values, { shape: a.shape, dtype: dt });
  },
  gelu: (x) => x.gelu(),
  geluTanh: (x) => x.gelu({ approximate: 'tanh' }),
  silu: (x) => x.silu(),
  sigmoid: (x) => x.sigmoid(),
  softplus: (x) => x.softplus(),
  softmax: (x, dim) => x.softmax({ dim }),
  logSoftmax: (x, dim) => x.logSoftmax({ dim }),
  logsumexp: (x, dim, keepdim) => x.logsumexp({ dim, keepdim }),
  var: (x, o) => x.var(o),
  std: (x, o) => x.std(o),
  mean: (x, dim, keepdim) => x.mean({ dim, keepdim }),
  sum: (x, dim) => x.sum({ dim }),
  matmul: (a, b) => a.matmul(b),
  T: (x) => x.T,
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  sqrt: (x) => x.sqrt(),
  neg: (x) => x.neg(),
  gather: (x, dim, index) => x.gather(dim, index),
};

const refOps: Ops<NDArray> = {
  input: (name, a, dtype) => new NDArray(a.data, a.shape, name === 'y' ? 'int32' : dtype),
  gelu: (x) => ref.gelu(x),
  geluTanh: (x) => ref.gelu(x, { approximate: 'tanh' }),
  silu: ref.silu,
  sigmoid: ref.sigmoid,
  softplus: ref.softplus,
  softmax: (x, dim) => ref.softmax(x, { dim }),
  logSoftmax: (x, dim) => ref.logSoftmax(x, { dim }),
  logsumexp: (x, dim, keepdim) => ref.logsumexp(x, { dim, keepdim }),
  var: (x, o) => ref.var(x, o),
  std: (x, o) => ref.std(x, o),
  mean: (x, dim, keepdim) => ref.mean(x, { dim, keepdim }),
  sum: (x, dim) => ref.sum(x, { dim }),
  matmul: ref.matmul,
  T: ref.T,
  add: ref.add,
  sub: ref.sub,
  mul: ref.mul,
  div: ref.div,
  sqrt: ref.sqrt,
  neg: ref.neg,
  gather: ref.gather,
};

function run<T>(o: Ops<T>, c: GoldenCase): T {
  const ins: Record<string, T> = {};
  for (const [k, v] of Object.entries(c.inputs)) ins[k] = o.input(k, v, c.dtype);
  const p = c.params;
  const x = ins.x!;
  switch (c.op) {
    case 'gelu':
      return o.gelu(x);
    case 'gelu_tanh':
      return o.geluTanh(x);
    case 'silu':
      return o.silu(x);
    case 'sigmoid':
      return o.sigmoid(x);
    case 'softplus':
      return o.softplus(x);
    case 'softmax':
      return o.softmax(x, p.dim as number);
    case 'logSoftmax':
      return o.logSoftmax(x, p.dim as number);
    case 'logsumexp':
      return o.logsumexp(x, p.dim!, p.keepdim ?? false);
    case 'var':
      return o.var(x, p);
    case 'std':
      return o.std(x, p);
    case 'matmul':
      return o.matmul(ins.a!, ins.b!);
    case 'layerNorm': {
      const m = o.mean(x, -1, true);
      const v = o.var(x, { dim: -1, keepdim: true, correction: 0 });
      return o.div(o.sub(x, m), o.sqrt(o.add(v, 1e-5)));
    }
    case 'mlp':
      return o.sum(o.gelu(o.add(o.matmul(x, o.T(ins.w!)), ins.b!)), -1);
    case 'crossEntropy': {
      // [6, 1] picked log-probabilities -> [6] -> 0-d mean, as torch's .mean().
      const picked = o.sum(o.gather(o.logSoftmax(x, 1), 1, ins.y!), 1);
      return o.neg(o.mean(picked, 0, false));
    }
    case 'attention': {
      const d = c.inputs.q!.shape[1]!;
      const scores = o.div(o.matmul(ins.q!, o.T(ins.k!)), Math.sqrt(d));
      return o.matmul(o.softmax(scores, -1), ins.v!);
    }
    default:
      throw new Error(`golden: unknown op ${c.op}`);
  }
}

/** float32 results are compared with float64 torch values: allow float32 rounding through the composite. */
function tolFor(c: GoldenCase): Tol {
  if (c.dtype === 'float64') return { rtol: 1e-12, atol: 1e-12 };
  switch (c.op) {
    case 'matmul':
    case 'mlp':
    case 'attention':
    case 'layerNorm':
    case 'var':
    case 'std':
      return { rtol: 1e-4, atol: 1e-4 };
    default:
      return { rtol: 1e-5, atol: 1e-5 };
  }
}

function wantOf(c: GoldenCase): NDArray {
  return new NDArray(c.expected.data, c.expected.shape, c.dtype);
}

describe(`golden values from torch ${golden.torch}`, () => {
  test('the fixture is present and covers every composite', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(40);
    const ops = new Set(golden.cases.map((c) => c.op));
    for (const op of ['gelu', 'gelu_tanh', 'softmax', 'logSoftmax', 'logsumexp', 'var', 'std', 'silu', 'softplus', 'matmul', 'layerNorm']) {
      expect(ops.has(op), op).toBe(true);
    }
  });

  test.each(golden.cases.map((c) => [c.name, c] as const))('born: %s', async (_n, c) => {
    await expectTensor(run(bornOps, c), wantOf(c), tolFor(c));
  });
});

describe('the eager reference agrees with torch (so the other suites can trust it)', () => {
  test.each(golden.cases.map((c) => [c.name, c] as const))('reference: %s', (_n, c) => {
    const got = run(refOps, c);
    const want = c.expected;
    expect([...got.shape]).toEqual([...want.shape]);
    // The reference computes in float64 from the same inputs as torch's float64 path
    // (rounding each float32 step to float32, hence the looser float32 bound).
    for (let i = 0; i < want.data.length; i++) {
      const w = want.data[i]!;
      const g = got.data[i]!;
      const tol = c.dtype === 'float64' ? 1e-12 + 1e-12 * Math.abs(w) : 1e-6 + 1e-6 * Math.abs(w);
      expect(Math.abs(g - w), `${c.name} at ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(tol);
    }
  });
});
