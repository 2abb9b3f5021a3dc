/**
 * DFT, STFT, MelWeightMatrix, Det and TfIdfVectorizer beyond the backend data: numpy goldens made
 * by fixtures/gen_signal_ops.py run as backend cases; DFT over every mode (opset 17 and 20) against
 * a naive O(n^2) float64 DFT; Det against cofactor expansion; the gradients of DFT (in the signal),
 * STFT (in the window) and Det by central finite differences of those references; the errors.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import { encodeModel, type AttributeProto, type NodeProto, type TensorProto } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';
import { listCases, runCase } from './backend.js';

const cases = listCases(fileURLToPath(new URL('./fixtures/signal-ops', import.meta.url)));
describe('onnx signal, Det and TfIdfVectorizer against numpy', () => {
  it('has its fixtures', () => expect(cases.length).toBe(13));
  for (const c of cases) it(c.name, async () => { await runCase(c); });
});

const FLOAT = 1, INT64 = 7;
const int = (name: string, i: number): AttributeProto => ({ name, type: 2, i });
/** A one-node model: inputs named by `ins` ('' = left out), the ones in `consts` as initializers. */
function model(op: string, ins: string[], attrs: AttributeProto[], opset: number, consts: TensorProto[] = []): Uint8Array {
  const node: NodeProto = { op_type: op, input: ins, output: ['y'], name: `${op}_0`, attribute: attrs };
  const given = new Set(consts.map((c) => c.name));
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: opset }],
    graph: {
      name: op, node: [node], initializer: consts,
      input: ins.filter((n) => n && !given.has(n)).map((name) => ({ name, type: { tensor_type: { elem_type: name === 'x' ? FLOAT : INT64 } } })),
      output: [{ name: 'y', type: { tensor_type: { elem_type: FLOAT } } }],
    },
  });
}
const i64 = (name: string, v: number): TensorProto => writeTensorProto({ dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(v)]) }, name);

/** A deterministic pseudo-random float in [-1, 1). */
const rnd = (seed: number) => () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 1073741824 - 1; };
const values = (n: number, seed: number): number[] => Array.from({ length: n }, rnd(seed));
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface DftOpts { axis: number; n: number; inverse: boolean; onesided: boolean }
/** The naive transform of x (shape [..., c]) along `axis` in float64, written from the definition. */
function naiveDft(x: readonly number[], shape: readonly number[], o: DftOpts): { y: number[]; shape: number[] } {
  const c = shape[shape.length - 1]!, len = shape[o.axis]!;
  const outer = numel(shape.slice(0, o.axis)), inner = numel(shape.slice(o.axis + 1, -1));
  const irfft = o.inverse && o.onesided;
  const bins = irfft ? o.n : o.onesided ? Math.floor(o.n / 2) + 1 : o.n, outC = irfft ? 1 : 2;
  const y: number[] = new Array(outer * bins * inner * outC).fill(0);
  const at = (b: number, m: number, i: number, ch: number) => (c === 1 && ch === 1 ? 0 : x[((b * len + m) * inner + i) * c + ch]!);
  for (let b = 0; b < outer; b++) {
    for (let i = 0; i < inner; i++) {
      // The signal as complex numbers, zero-padded or cut to n; for IRFFT the full spectrum
      // from the half one by conjugate symmetry.
      const re = new Array<number>(o.n).fill(0), im = new Array<number>(o.n).fill(0);
      const given = irfft ? Math.floor(o.n / 2) + 1 : o.n;
      for (let m = 0; m < Math.min(len, given); m++) { re[m] = at(b, m, i, 0); im[m] = at(b, m, i, 1); }
      if (irfft) for (let k = given; k < o.n; k++) { re[k] = re[o.n - k]!; im[k] = -im[o.n - k]!; }
      for (let k = 0; k < bins; k++) {
        let sr = 0, si = 0;
        for (let m = 0; m < o.n; m++) {
          const t = ((o.inverse ? 2 : -2) * Math.PI * k * m) / o.n;
          sr += re[m]! * Math.cos(t) - im[m]! * Math.sin(t);
          si += re[m]! * Math.sin(t) + im[m]! * Math.cos(t);
        }
        const s = o.inverse ? 1 / o.n : 1, base = ((b * bins + k) * inner + i) * outC;
        y[base] = sr * s;
        if (outC === 2) y[base + 1] = si * s;
      }
    }
  }
  const outShape = [...shape.slice(0, -1), outC];
  outShape[o.axis] = bins;
  return { y, shape: outShape };
}

const close = (got: ArrayLike<number>, want: readonly number[], tol = 1e-4) => {
  expect(got.length).toBe(want.length);
  let worst = 0;
  want.forEach((w, i) => { worst = Math.max(worst, Math.abs(got[i]! - w) / (1 + Math.abs(w))); });
  expect(worst).toBeLessThan(tol);
};

/** Runs a DFT model on x with dft_length (and, from opset 20, axis) given as initializers. */
async function runDft(x: born.Tensor, o: DftOpts & { opset: number; givenN: boolean }): Promise<born.Tensor> {
  const consts = o.givenN ? [i64('n', o.n)] : [];
  const attrs = [int('inverse', +o.inverse), int('onesided', +o.onesided)];
  if (o.opset >= 20) consts.push(i64('axis', o.axis - x.ndim)); // negative on purpose
  else attrs.push(int('axis', o.axis));
  const m = await born.onnx.load(model('DFT', ['x', o.givenN ? 'n' : '', o.opset >= 20 ? 'axis' : ''], attrs, o.opset, consts));
  return (await m.run({ x })).y!;
}

describe('onnx DFT against a naive float64 DFT', () => {
  const combos: [string, number[], DftOpts, boolean][] = [
    ['complex forward, axis 1', [2, 6, 3, 2], { axis: 1, n: 6, inverse: false, onesided: false }, false],
    ['complex forward, axis 2, padded to 8', [2, 3, 5, 2], { axis: 2, n: 8, inverse: false, onesided: false }, true],
    ['real forward onesided (RFFT), odd length', [3, 7, 1], { axis: 1, n: 7, inverse: false, onesided: true }, false],
    ['real forward onesided, cut to 4', [2, 9, 1], { axis: 1, n: 4, inverse: false, onesided: true }, true],
    ['real inverse', [2, 5, 1], { axis: 1, n: 5, inverse: true, onesided: false }, false],
    ['complex inverse on axis 0', [4, 3, 2], { axis: 0, n: 4, inverse: true, onesided: false }, false],
    ['IRFFT, even length from 4 bins', [2, 4, 2], { axis: 1, n: 6, inverse: true, onesided: true }, false],
    ['IRFFT, odd length 9 from 3 bins (padded)', [2, 3, 2], { axis: 1, n: 9, inverse: true, onesided: true }, true],
  ];
  for (const opset of [17, 20]) {
    for (const [name, shape, o, givenN] of combos) {
      it(`opset ${opset}: ${name}`, async () => {
        const xs = values(numel(shape), shape.length * 7 + o.n);
        const y = await runDft(born.tensor(new Float32Array(xs), { shape }), { ...o, opset, givenN });
        const want = naiveDft(xs, shape, o);
        expect(y.shape).toEqual(want.shape);
        close(await y.data() as Float32Array, want.y);
      });
    }
  }

  it('is differentiable in the signal: d sum(y * r) / dx by central differences of the naive DFT', async () => {
    const shape = [2, 5, 2], o: DftOpts = { axis: 1, n: 7, inverse: false, onesided: false };
    const xs = values(numel(shape), 3);
    const x = born.tensor(new Float32Array(xs), { shape });
    const y = await runDft(x, { ...o, opset: 17, givenN: true });
    const r = values(numel(y.shape), 5);
    const [g] = born.grad(y.mul(born.tensor(new Float32Array(r), { shape: [...y.shape] })).sum(), [x]);
    const loss = (v: number[]) => naiveDft(v, shape, o).y.reduce((a, yi, i) => a + yi * r[i]!, 0);
    const h = 1e-4;
    const fd = xs.map((_, i) => { const p = [...xs], m = [...xs]; p[i]! += h; m[i]! -= h; return (loss(p) - loss(m)) / (2 * h); });
    close(await g!.data() as Float32Array, fd, 1e-3);
  });

  it('refuses what the spec rules out', async () => {
    const cx = born.tensor(new Float32Array(12), { shape: [1, 6, 2] }), rx = born.tensor(new Float32Array(6), { shape: [1, 6, 1] });
    await expect(runDft(cx, { axis: 1, n: 6, inverse: false, onesided: true, opset: 17, givenN: false })).rejects.toThrow(/RFFT.*real signal/);
    await expect(runDft(rx, { axis: 1, n: 6, inverse: true, onesided: true, opset: 17, givenN: false })).rejects.toThrow(/IRFFT.*complex/);
    await expect(runDft(rx, { axis: 2, n: 6, inverse: false, onesided: false, opset: 17, givenN: false })).rejects.toThrow(/axis 2 is out of range/);
    await expect(runDft(rx, { axis: 1, n: 0, inverse: false, onesided: false, opset: 17, givenN: true })).rejects.toThrow(/dft_length must be a positive integer/);
  });
});

describe('onnx STFT', () => {
  it('is differentiable in the window (central differences of a naive framed DFT)', async () => {
    const total = 20, len = 8, step = 4, sig = values(total, 11), win = values(len, 13);
    const m = await born.onnx.load(model('STFT', ['s', 'step', 'x'], [], 17, [
      writeTensorProto({ dtype: 'float32', shape: [1, total, 1], data: new Float32Array(sig) }, 's'), i64('step', step)]));
    const w = born.tensor(new Float32Array(win));
    const { y } = await m.run({ x: w });
    const frames = 1 + Math.floor((total - len) / step);
    expect(y!.shape).toEqual([1, frames, len / 2 + 1, 2]);
    const r = values(numel(y!.shape), 17);
    const [g] = born.grad(y!.mul(born.tensor(new Float32Array(r), { shape: [...y!.shape] })).sum(), [w]);
    const loss = (wv: number[]) => {
      let acc = 0;
      for (let f = 0; f < frames; f++) {
        const frame = Array.from({ length: len }, (_, j) => sig[f * step + j]! * wv[j]!);
        naiveDft(frame, [1, len, 1], { axis: 1, n: len, inverse: false, onesided: true }).y.forEach((v, i) => { acc += v * r[f * (len / 2 + 1) * 2 + i]!; });
      }
      return acc;
    };
    const h = 1e-4;
    const fd = win.map((_, i) => { const p = [...win], q = [...win]; p[i]! += h; q[i]! -= h; return (loss(p) - loss(q)) / (2 * h); });
    close(await g!.data() as Float32Array, fd, 1e-3);
  });

  it('says when the window and frame_length disagree', async () => {
    const m = await born.onnx.load(model('STFT', ['s', 'step', 'x', 'len'], [], 17, [
      writeTensorProto({ dtype: 'float32', shape: [1, 16, 1], data: new Float32Array(16) }, 's'), i64('step', 4), i64('len', 6)]));
    await expect(m.run({ x: born.ones([8]) })).rejects.toThrow(/window has 8 samples but frame_length is 6/);
  });
});

/** The determinant by cofactor expansion along the first row, in float64. */
function cofactorDet(a: readonly number[], n: number): number {
  if (n === 1) return a[0]!;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const minor: number[] = [];
    for (let r = 1; r < n; r++) for (let c = 0; c < n; c++) if (c !== j) minor.push(a[r * n + c]!);
    s += (j % 2 ? -1 : 1) * a[j]! * cofactorDet(minor, n - 1);
  }
  return s;
}

describe('onnx Det against cofactor expansion', () => {
  const detModel = (consts: TensorProto[] = []) => born.onnx.load(model('Det', ['x'], [], 11, consts));
  for (const n of [1, 2, 3, 4]) {
    it(`batched [2, 3, ${n}, ${n}]`, async () => {
      const xs = values(6 * n * n, 100 + n);
      const { y } = await (await detModel()).run({ x: born.tensor(new Float32Array(xs), { shape: [2, 3, n, n] }) });
      expect(y!.shape).toEqual([2, 3]);
      close(await y!.data() as Float32Array, Array.from({ length: 6 }, (_, b) => cofactorDet(xs.slice(b * n * n, (b + 1) * n * n), n)), 1e-5);
    });
  }

  it('a Constant matrix is factorised on the host in float64', async () => {
    // Entries whose float32 LU rounds (to -1.000244): float64 gets the exact integer determinant.
    const value = writeTensorProto({ dtype: 'float32', shape: [2, 2], data: new Float32Array([4097, 4096, 4096, 4095]) });
    const m = await born.onnx.load(encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 11 }],
      graph: {
        name: 'det_of_constant', input: [], output: [{ name: 'y', type: { tensor_type: { elem_type: FLOAT } } }],
        node: [{ op_type: 'Constant', input: [], output: ['a'], name: 'c', attribute: [{ name: 'value', type: 4, t: value }] },
          { op_type: 'Det', input: ['a'], output: ['y'], name: 'det' }],
      },
    }));
    const { y } = await m.run({});
    expect(await y!.item()).toBe(-1);
  });

  it('is differentiable: the gradient is det(A) A^-T, by central differences of the cofactor determinant', async () => {
    const n = 3, xs = values(2 * n * n, 7);
    const x = born.tensor(new Float32Array(xs), { shape: [2, n, n] });
    const { y } = await (await detModel()).run({ x });
    const [g] = born.grad(y!.sum(), [x]);
    const h = 1e-5;
    const fd = xs.map((_, i) => {
      const b = Math.floor(i / (n * n)), p = xs.slice(b * n * n, (b + 1) * n * n), q = [...p];
      p[i % (n * n)]! += h; q[i % (n * n)]! -= h;
      return (cofactorDet(p, n) - cofactorDet(q, n)) / (2 * h);
    });
    close(await g!.data() as Float32Array, fd, 1e-3);
  });

  it('refuses non-square input', async () => {
    await expect((await detModel()).run({ x: born.ones([2, 3]) })).rejects.toThrow(/square matrices, got \[2, 3\]/);
  });
});

describe('onnx TfIdfVectorizer errors', () => {
  const tfidf = (attrs: AttributeProto[]) => born.onnx.load(model('TfIdfVectorizer', ['ids'], [
    int('min_gram_length', 1), int('max_gram_length', 1), int('max_skip_count', 0), { name: 'mode', type: 3, s: new TextEncoder().encode('TF') },
    { name: 'ngram_counts', type: 7, ints: [0] }, { name: 'ngram_indexes', type: 7, ints: [0] }, ...attrs], 9));
  it('string pools are not supported', async () => {
    const m = await tfidf([{ name: 'pool_strings', type: 8, strings: [new TextEncoder().encode('a')] }]);
    await expect(m.run({ ids: born.tensor(new BigInt64Array([1n])) })).rejects.toThrow(/string n-grams are not supported/);
  });
  it('counts 1-grams of int64 ids', async () => {
    const m = await tfidf([{ name: 'pool_int64s', type: 7, ints: [5] }]);
    const { y } = await m.run({ ids: born.tensor(new BigInt64Array([5n, 1n, 5n])) });
    expect(await y!.tolist()).toEqual([2]);
  });
  it('takes [C] or [N, C] only', async () => {
    const m = await tfidf([{ name: 'pool_int64s', type: 7, ints: [5] }]);
    await expect(m.run({ ids: born.tensor(new BigInt64Array(8), { shape: [2, 2, 2] }) })).rejects.toThrow(/X must be \[C\] or \[N, C\]/);
  });
});
