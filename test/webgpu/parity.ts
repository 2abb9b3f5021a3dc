/**
 * The parity harness of issue 10: a case is an op applied to inputs; it is built once with the
 * inputs on the CPU and once with the same inputs moved to WebGPU, and the outputs must agree
 * (exactly for integer, bool and index results, within a tolerance stated per op family for
 * float32). A case whose kernel has no WGSL printer yet is skipped, naming the printer, so the
 * suite re-enables itself when the printer lands.
 */
import { afterAll, expect, it, type TestContext } from 'vitest';
import * as born from '../../src/index.js';
import type { DType } from '../../src/graph/dtype.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Relative tolerances (float32 results), scaled by max(1, the largest |value| of the CPU output). */
export const TOL = {
  exact: 0,
  arith: 1e-5,
  transc: 1e-4,
  reduce: 1e-5,
  long: 1e-3,
  matmul: 1e-4,
  grad: 1e-4,
  train: 1e-4,
} as const;
export type Family = 'elementwise' | 'transcendental' | 'int/bool' | 'cast' | 'reduction' | 'scan/sort' | 'movement' | 'index/scatter'
  | 'matmul' | 'window' | 'nn' | 'loss' | 'random' | 'creation';

/** How an input's values are made: deterministic from the case name, so both devices see the same. */
export type Gen = 'real' | 'pos' | 'unit' | 'int' | 'small' | 'bool' | 'prob' | 'big' | { index: number } | readonly number[];
export interface Input { readonly shape: readonly number[]; readonly dtype: DType; readonly gen: Gen }
export const f = (...shape: number[]): Input => ({ shape, dtype: 'float32', gen: 'real' });
export const pos = (...shape: number[]): Input => ({ shape, dtype: 'float32', gen: 'pos' });
export const unit = (...shape: number[]): Input => ({ shape, dtype: 'float32', gen: 'unit' });
export const prob = (...shape: number[]): Input => ({ shape, dtype: 'float32', gen: 'prob' });
export const i32 = (...shape: number[]): Input => ({ shape, dtype: 'int32', gen: 'int' });
export const bool = (...shape: number[]): Input => ({ shape, dtype: 'bool', gen: 'bool' });
/** Indices in [0, n). */
export const idx = (n: number, ...shape: number[]): Input => ({ shape, dtype: 'int32', gen: { index: n } });
export const of = (dtype: DType, gen: Gen, ...shape: number[]): Input => ({ shape, dtype, gen });
export const vals = (values: readonly number[], dtype: DType = 'float32', shape: readonly number[] = [values.length]): Input => ({ shape, dtype, gen: values });

export type Out = Tensor | readonly Tensor[] | { values: Tensor; indices: Tensor } | Promise<boolean>;
export interface Case {
  readonly name: string;
  readonly family: Family;
  readonly inputs: readonly Input[];
  readonly fn: (...xs: Tensor[]) => Out;
  /** Float tolerance (default by family). */
  readonly tol?: number;
  /** Float outputs must match bit for bit (their Uint32Array / Uint16Array views), not only by value. */
  readonly bits?: true;
  /** Differentiate with respect to these inputs (default: every float input) — `false`: no gradient case. */
  readonly grad?: false | readonly number[];
  /** Gradient tolerance (default TOL.grad, or the case's own if larger). */
  readonly gradTol?: number;
  /** The op takes no device: the WebGPU run makes 'webgpu' the default device. */
  readonly onDefault?: true;
  /**
   * A known difference (why, and where it comes from): the case runs as `it.fails`, so it turns
   * red the day it is fixed, and the entry is removed then.
   */
  readonly known?: string;
  /** A known difference of the gradient case only. */
  readonly gradKnown?: string;
}

const DEFAULT_TOL: Record<Family, number> = {
  elementwise: TOL.arith, transcendental: TOL.transc, 'int/bool': 0, cast: 0, reduction: TOL.reduce, 'scan/sort': TOL.reduce, movement: 0,
  'index/scatter': TOL.arith, matmul: TOL.matmul, window: TOL.matmul, nn: TOL.transc, loss: TOL.transc, random: 0, creation: 0,
};
export const tolOf = (c: Case): number => c.tol ?? DEFAULT_TOL[c.family];

/** A small deterministic generator (mulberry32) seeded from a string. */
function rng(key: string): () => number {
  let s = 0;
  for (let i = 0; i < key.length; i++) s = Math.imul(s ^ key.charCodeAt(i), 0x9e3779b1) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function values(input: Input, key: string): number[] {
  const n = input.shape.reduce((a, b) => a * b, 1);
  const g = input.gen;
  if (Array.isArray(g)) return [...g];
  const r = rng(key);
  const one = (): number => {
    const u = r();
    if (typeof g === 'object') return Math.floor(u * (g as { index: number }).index);
    switch (g) {
      case 'real': return Math.fround(u * 4 - 2);
      case 'pos': return Math.fround(0.1 + u * 2.9);
      case 'unit': return Math.fround(u * 1.8 - 0.9);
      case 'prob': return Math.fround(0.05 + u * 0.9);
      case 'big': return Math.fround(u * 200 - 100);
      case 'int': return Math.floor(u * 21) - 10;
      case 'small': return Math.floor(u * 5) - 2;
      case 'bool': return u < 0.5 ? 1 : 0;
    }
    return 0;
  };
  return Array.from({ length: n }, one);
}

export function makeInputs(c: { name: string; inputs: readonly Input[] }): Tensor[] {
  return c.inputs.map((input, i) => {
    const v = values(input, `${c.name}#${i}`);
    return input.dtype === 'int64' ? born.tensor(BigInt64Array.from(v, (x) => BigInt(x))).reshape([...input.shape])
      : born.tensor(v, { dtype: input.dtype }).reshape([...input.shape]);
  });
}

export const toGpu = (xs: readonly Tensor[]): Tensor[] => xs.map((x) => x.to('webgpu'));

export function outputs(o: Exclude<Out, Promise<boolean>>): Tensor[] {
  if (Array.isArray(o)) return [...o] as Tensor[];
  if ('node' in o) return [o as Tensor];
  const vi = o as { values: Tensor; indices: Tensor };
  return [vi.values, vi.indices];
}

/**
 * A matmul pipeline (wgsl/matmul.ts's register tiles) takes 17-26 s to compile on lavapipe even
 * for a 4x16x8 product (measured at the merge of the matmul printer), so cases that plan a matmul
 * kernel run only with BORN_PARITY_MATMUL=1; otherwise they skip saying so.
 */
const RUN_MATMUL = process.env.BORN_PARITY_MATMUL === '1';
export class SlowCase extends Error {}
/** Skips (SlowCase) a case whose CPU plan has a matmul kernel, unless BORN_PARITY_MATMUL=1. */
export function gateMatmul(cpu: readonly Tensor[]): void {
  if (RUN_MATMUL) return;
  const mm = born.explain(...cpu).kernels.filter((k) => k.name.startsWith('MM'));
  if (mm.length) throw new SlowCase(`plans ${mm.length} matmul kernel(s) (${mm[0]!.name}): WGSL matmul pipelines compile in ~20 s each on lavapipe; BORN_PARITY_MATMUL=1 runs it`);
}

/** Thrown when a kernel of the graph has no WGSL printer yet: the message names the printer. */
export const MISSING = /cannot run on WebGPU yet \((.*)\); compute it/;

export type Arr = ArrayLike<number | bigint>;
async function read(ts: readonly Tensor[]): Promise<Arr[]> {
  await born.realize(...ts);
  return Promise.all(ts.map((t) => t.data() as Promise<Arr>));
}

/** Where got and want differ: NaN matches NaN, infinities and integers exactly, floats within tol · max(1, max |want|). */
export function mismatches(got: Arr, want: Arr, tol: number): number[] {
  let scale = 1;
  for (let i = 0; i < want.length; i++) { const w = Number(want[i]); if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w)); }
  const bad: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (typeof w === 'bigint' || tol === 0) { if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) bad.push(i); continue; }
    const gn = Number(g), wn = Number(w);
    if (Number.isNaN(wn) ? Number.isNaN(gn) : !Number.isFinite(wn) ? gn === wn : Math.abs(gn - wn) <= tol * scale) continue;
    bad.push(i);
  }
  return bad;
}

function describeBad(label: string, got: Arr, want: Arr, bad: number[]): string {
  return `${label}: ${bad.length} of ${want.length} differ: ` + bad.slice(0, 5).map((i) => `[${i}] webgpu ${got[i]} cpu ${want[i]}`).join('; ');
}

/** The raw bits of a float array (-0 and +0 differ, as do NaN payloads); other arrays as they are. */
function bitsOf(a: Arr): Arr {
  if (a instanceof Float32Array) return new Uint32Array(a.buffer, a.byteOffset, a.length);
  if (a instanceof Float64Array) return new BigUint64Array(a.buffer, a.byteOffset, a.length);
  return a;
}

/** Compares what the CPU and WebGPU computed, tensor by tensor (shape, dtype, values; with `bits`, float bits). */
export async function expectSame(label: string, cpu: readonly Tensor[], gpu: readonly Tensor[], tol: number, bits = false): Promise<void> {
  expect(gpu.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(gpu[i]!.device, `${label} output ${i} device`).toBe('webgpu');
    expect(gpu[i]!.shape, `${label} output ${i} shape`).toEqual(cpu[i]!.shape);
    expect(gpu[i]!.dtype, `${label} output ${i} dtype`).toBe(cpu[i]!.dtype);
  }
  const [want, got] = [await read(cpu), await read(gpu)];
  for (let i = 0; i < cpu.length; i++) {
    const t = cpu[i]!.dtype === 'float32' || cpu[i]!.dtype === 'float16' || cpu[i]!.dtype === 'bfloat16' ? tol : 0;
    const [g, w] = bits ? [bitsOf(got[i]!), bitsOf(want[i]!)] : [got[i]!, want[i]!];
    const bad = mismatches(g, w, bits ? 0 : t);
    expect(bad.length, describeBad(`${label} output ${i} (${cpu[i]!.dtype}, tol ${t})`, got[i]!, want[i]!, bad)).toBe(0);
  }
}

// ---- the tally printed after each file: passing / skipped / failing by op family ----
type Status = 'pass' | 'skip' | 'fail' | 'known';
const tally = new Map<string, Record<Status, number>>();
const notes: string[] = [];
function count(family: string, s: Status, note?: string): void {
  const t = tally.get(family) ?? { pass: 0, skip: 0, fail: 0, known: 0 };
  t[s]++;
  tally.set(family, t);
  if (note) notes.push(note);
}
export function printTally(title: string): void {
  afterAll(() => {
    const rows = [...tally].map(([fam, t]) => `  ${fam.padEnd(16)} pass ${t.pass}  skip ${t.skip}  fail ${t.fail}  known ${t.known}`);
    const gpu = born.engine.device('webgpu').stats();
    console.log(`${title} (${gpu.kernelCompiles} WGSL pipelines compiled)\n${rows.join('\n')}${notes.length ? `\n${notes.map((n) => `  - ${n}`).join('\n')}` : ''}`);
  });
}

/**
 * A test that runs `body` and classifies it: a kernel without a WGSL printer skips the test with
 * the printer's message, anything else fails it.
 */
/**
 * Per case: pipelines compile through LLVM on the software adapter, and a large kernel (a matmul's
 * register tiles) took up to a minute with the three parity files compiling side by side on a
 * loaded 2-core machine.
 */
const CASE_TIMEOUT_MS = 180_000;

export function parityIt(name: string, family: string, body: () => Promise<void>, known?: string): void {
  if (known) {
    it.fails(`${name} [known failure: ${known}]`, async () => {
      try {
        await body();
      } catch (e) {
        count(family, 'known', `${name}: known failure (${known}): ${(e as Error).message.split('\n')[0]}`);
        throw e;
      }
    }, CASE_TIMEOUT_MS);
    return;
  }
  it(name, async (ctx: TestContext) => {
    try {
      await body();
      count(family, 'pass');
    } catch (e) {
      if (e instanceof SlowCase) {
        count(family, 'skip', `${name}: skipped, ${e.message}`);
        ctx.skip(e.message);
      }
      const m = MISSING.exec((e as Error).message);
      if (m) {
        count(family, 'skip', `${name}: skipped, ${m[1]}`);
        ctx.skip(`missing WGSL printer: ${m[1]}`);
      }
      count(family, 'fail', `${name}: ${(e as Error).message.split('\n')[0]}`);
      throw e;
    }
  }, CASE_TIMEOUT_MS);
}

/** Runs one case on both devices and compares. */
export async function runCase(c: Case): Promise<void> {
  const xs = makeInputs(c);
  born.manualSeed(1234);
  const cpuOut = c.fn(...xs);
  born.manualSeed(1234);
  if (c.onDefault) await born.setDefaultDevice('webgpu');
  let gpuOut: Out;
  try {
    gpuOut = c.fn(...toGpu(xs));
  } finally {
    if (c.onDefault) await born.setDefaultDevice('cpu');
  }
  if (cpuOut instanceof Promise) {
    expect(await (gpuOut as Promise<boolean>)).toBe(await cpuOut);
    return;
  }
  gateMatmul(outputs(cpuOut));
  await expectSame(c.name, outputs(cpuOut), outputs(gpuOut as Exclude<Out, Promise<boolean>>), tolOf(c), c.bits);
}

/** Fixed weights for the loss of a gradient case, so every output element matters differently. */
export function weightsLike(t: Tensor, key: string): Tensor {
  return born.tensor(values({ shape: t.shape, dtype: 'float32', gen: 'real' }, key), { device: t.device }).reshape([...t.shape]);
}

/** The float inputs of a case that its gradient is taken with respect to. */
export function gradInputs(c: Case): number[] {
  if (c.grad === false) return [];
  return c.grad ? [...c.grad] : c.inputs.flatMap((x, i) => (x.dtype === 'float32' ? [i] : []));
}

/** born.grad of Σ w · out over the case's float outputs, with respect to its float inputs, on one device. */
export function gradsOf(c: Case, xs: readonly Tensor[]): Tensor[] {
  const out = c.fn(...xs);
  if (out instanceof Promise) throw new Error(`${c.name}: no gradient of a boolean answer`);
  const floats = outputs(out).filter((t) => t.dtype === 'float32');
  let loss: Tensor | null = null;
  floats.forEach((t, i) => {
    const term = t.mul(weightsLike(t, `${c.name}/w${i}`)).sum();
    loss = loss ? loss.add(term) : term;
  });
  if (!loss) throw new Error(`${c.name}: no float output to differentiate`);
  return born.grad(loss, gradInputs(c).map((i) => xs[i]!), { allowUnused: true });
}

export async function runGradCase(c: Case): Promise<void> {
  const xs = makeInputs(c);
  born.manualSeed(1234);
  const cpu = gradsOf(c, xs);
  gateMatmul(cpu);
  born.manualSeed(1234);
  const gpu = gradsOf(c, toGpu(xs));
  // Gradients come back on the device of the inputs they are taken with respect to.
  await expectSame(`grad ${c.name}`, cpu, gpu, Math.max(c.gradTol ?? TOL.grad, tolOf(c)));
}

/** The kernel counts explain() plans for a graph on each device. */
export function kernelCounts(build: (device: 'cpu' | 'webgpu') => Tensor[]): { cpu: number; webgpu: number; devices: string[] } {
  const cpuOut = build('cpu');
  // explain() compiles WebGPU pipelines ahead, so a matmul graph is gated as a case is.
  gateMatmul(cpuOut);
  const cpu = born.explain(...cpuOut).kernels;
  const gpu = born.explain(...build('webgpu')).kernels;
  return { cpu: cpu.length, webgpu: gpu.length, devices: [...new Set(gpu.map((k) => k.device))] };
}
