// Spread reductions: a reduction over trailing dims read back broadcast by an elementwise chain that is
// written anyway (softmax's divide, layer norm's scaling) computes the reduction per row inside
// that chain's kernel. Checked against the same graph with the reduction materialised first
// (the unfused plan), and against a float64 reference.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { kernelsRun } from './reference/golden.js';

type Op = 'sum' | 'max';
/** exp(x) / sum(exp(x)) or (x - max(x)) * 2 over trailing dims `dims`; `r` is the reduction. */
function normalise(x: born.Tensor, op: Op, dims: number[]): { out: born.Tensor; r: born.Tensor } {
  const e = x.exp();
  const r = op === 'sum' ? e.sum({ dim: dims, keepdim: true }) : x.amax(dims, true);
  return { out: op === 'sum' ? e.div(r) : x.sub(r).mul(2), r };
}

/** The float64 reference of normalise over the trailing `q` dims. */
function reference(x: Float32Array, shape: number[], op: Op, q: number): Float64Array {
  const row = shape.slice(shape.length - q).reduce((a, b) => a * b, 1);
  const out = new Float64Array(x.length);
  for (let r0 = 0; r0 < x.length; r0 += row) {
    let acc = op === 'sum' ? 0 : -Infinity;
    for (let j = 0; j < row; j++) acc = op === 'sum' ? acc + Math.exp(x[r0 + j]!) : Math.max(acc, x[r0 + j]!);
    for (let j = 0; j < row; j++) out[r0 + j] = op === 'sum' ? Math.exp(x[r0 + j]!) / acc : (x[r0 + j]! - acc) * 2;
  }
  return out;
}

describe('spread reductions', () => {
  const cases: [number[], number][] = [[[7], 1], [[4, 9], 1], [[3, 1, 5], 1], [[2, 3, 4], 2], [[2, 1, 3, 1], 2], [[3000, 33], 1], [[1, 6], 1]];
  for (const [shape, q] of cases) {
    for (const op of ['sum', 'max'] as const) {
      test(`${op} over the last ${q} dim(s) of ${JSON.stringify(shape)}: one spread reduction, the unfused values`, async () => {
        const x = born.randn(shape, { seed: shape.length * 7 + q });
        const xs = await x.data();
        const dims = Array.from({ length: q }, (_, j) => shape.length - q + j);
        const fused = normalise(x, op, dims).out;
        const plan = born.explain(fused).kernels;
        expect(plan).toHaveLength(1);
        expect(plan[0]!.name).toMatch(/^RS_/);
        const ks = await kernelsRun(() => fused.data());
        expect(ks).toHaveLength(1);
        const got = await fused.data();
        // The unfused plan: the reduction realised into a buffer first, then the divide. The row
        // kernel keeps the reduction in double where the buffer rounds it to float32: a sum may
        // differ in the last bit; a max never does.
        const split = normalise(x, op, dims);
        await born.realize(split.r);
        const want = await split.out.data();
        const ulps = op === 'max' ? 0 : 2 ** -22;
        want.forEach((v, i) => expect(Math.abs(got[i]! - v), `element ${i}`).toBeLessThanOrEqual(ulps * Math.abs(v)));
        const ref = reference(xs, shape, op, q);
        ref.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
      });
    }
  }

  test('a reduction over a leading dim is not a spread reduction (its rows are not contiguous) and stays correct', async () => {
    const x = born.randn([5, 6], { seed: 3 });
    const xs = await x.data();
    const y = x.exp().div(x.exp().sum({ dim: 0, keepdim: true }));
    expect(born.explain(y).kernels.some((k) => k.name.startsWith('RS_'))).toBe(false);
    const got = await y.data();
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let r = 0; r < 5; r++) s += Math.exp(xs[r * 6 + c]!);
      for (let r = 0; r < 5; r++) expect(got[r * 6 + c]!).toBeCloseTo(Math.exp(xs[r * 6 + c]!) / s, 6);
    }
  });

  test('a reduction the user also asked for is written, and the chain reads it (no spread reduction)', async () => {
    const x = born.randn([4, 8], { seed: 4 });
    const s = x.exp().sum({ dim: -1, keepdim: true });
    const y = x.exp().div(s);
    const plan = born.explain(y, s).kernels;
    expect(plan.some((k) => k.name.startsWith('RS_'))).toBe(false);
    await born.realize(y, s);
    const [sv, yv] = [await s.data(), await y.data()];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 8; c++) expect(yv[r * 8 + c]! * sv[r]!).toBeCloseTo(Math.exp((await x.data())[r * 8 + c]!), 5);
  });

  test('softmax and layer norm gradients through spread reductions match finite differences (float64)', async () => {
    const x = born.randn([3, 5], { seed: 9, dtype: 'float64' });
    const w = born.randn([3, 5], { seed: 10, dtype: 'float64' });
    const f = (t: born.Tensor): born.Tensor => t.softmax({ dim: -1 }).mul(w).sum().add(
      t.sub(t.mean({ dim: -1, keepdim: true })).div(t.var({ dim: -1, keepdim: true }).add(1e-5).sqrt()).mul(w).sum());
    const [g] = born.grad(f(x), [x]);
    const gv = await g!.data();
    const xs = Float64Array.from(await x.data());
    const h = 1e-6;
    for (let i = 0; i < xs.length; i++) {
      const at = (d: number): born.Tensor => { const v = Float64Array.from(xs); v[i]! += d; return born.tensor(v, { shape: [3, 5] }); };
      const fd = ((await f(at(h)).item()) - (await f(at(-h)).item())) / (2 * h);
      expect(gv[i]!).toBeCloseTo(fd, 5);
    }
  });
});

describe('two reductions meeting in one epilogue', () => {
  // a.sum / b.sum read back broadcast: the first reduction spreads into the product's kernel and
  // takes the divide with it, so the second must not end its own epilogue chain at that divide.
  test('a spread reduction and a second reduction divided by it plan and compute', async () => {
    const a = born.rand([4, 5], { seed: 1 }), b = born.rand([4, 5], { seed: 2 }), c = born.rand([4, 5], { seed: 3 });
    const out = a.sum(1, true).div(b.sum(1, true)).mul(c);
    const [av, bv, cv, got] = await Promise.all([a.data(), b.data(), c.data(), out.data()]);
    for (let i = 0; i < 4; i++) {
      let sa = 0, sb = 0;
      for (let j = 0; j < 5; j++) { sa += av[i * 5 + j]!; sb += bv[i * 5 + j]!; }
      for (let j = 0; j < 5; j++) expect(got[i * 5 + j]).toBeCloseTo((sa / sb) * cv[i * 5 + j]!, 5);
    }
  });
});
