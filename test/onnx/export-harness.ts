// Shared by the export tests: export a model, run the file in onnxruntime-node (the independent
// reference) and in born.onnx.load, and compare both with Born's own forward pass. Float
// tolerance: |ort - born| <= 1e-4 + 1e-4·|born| (Born's fused kernels keep intermediates in
// float64, onnxruntime rounds every op to float32); integer and bool outputs must be equal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { SaveOptions } from '../../src/onnx/export/save.js';
import type { Exportable } from '../../src/onnx/export/trace.js';

export const ATOL = 1e-4, RTOL = 1e-4;

type OrtType = 'float32' | 'float64' | 'int32' | 'int64' | 'int16' | 'int8' | 'uint8' | 'bool';
const ORT_TYPE: Record<string, OrtType> = { float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool' };

export async function ortTensor(t: Tensor): Promise<ort.Tensor> {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`no onnxruntime type for ${t.dtype}`);
  const data = await t.data();
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data as Uint8Array) : data as never, [...t.shape]);
}

/** Born's outputs of `model` on `inputs`, flattened as the export flattens them. */
export function bornForward(model: Exportable, inputs: readonly Tensor[]): Tensor[] {
  const r = born.noGrad(() => (model instanceof born.nn.Module ? (model.eval(), (model.forward as (...x: Tensor[]) => unknown)(...inputs)) : model(...inputs)));
  const out: Tensor[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof born.Tensor) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(r);
  return out;
}

/** Max |a - b| over the allowed |a - b| bound; <= 1 passes. Exact for integers and bool. */
export function expectClose(got: ArrayLike<number | bigint>, want: ArrayLike<number | bigint>, what: string, exact = false): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]!), w = Number(want[i]!);
    if (Number.isNaN(w)) { expect(Number.isNaN(g), `${what}[${i}]: NaN`).toBe(true); continue; }
    if (exact || !Number.isFinite(w)) { expect(g, `${what}[${i}]`).toBe(w); continue; }
    if (Math.abs(g - w) > ATOL + RTOL * Math.abs(w)) expect(g, `${what}[${i}] (want ${w})`).toBe(w);
  }
}

export const isExact = (dtype: string): boolean => !dtype.startsWith('float') && dtype !== 'bfloat16';

export interface CheckOptions extends SaveOptions {
  /** Other inputs to run the same file on (a dynamic batch), compared with Born on them too. */
  readonly more?: readonly (readonly Tensor[])[];
  /** Skip born.onnx.load of the file (an op it does not import). */
  readonly noReimport?: boolean;
}

/** Exports `model` on `inputs`, runs the file in onnxruntime and born.onnx.load, compares with Born. Returns the bytes. */
export async function checkExport(model: Exportable, inputs: readonly Tensor[], opts: CheckOptions = {}): Promise<Uint8Array> {
  const bytes = await born.onnx.toBytes(model, inputs, opts);
  const session = await ort.InferenceSession.create(bytes);
  for (const xs of [inputs, ...(opts.more ?? [])]) {
    const want = bornForward(model, xs);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [i, name] of session.inputNames.entries()) feeds[name] = await ortTensor(xs[i]!);
    const got = await session.run(feeds);
    expect(session.outputNames.length).toBe(want.length);
    for (const [i, name] of session.outputNames.entries()) {
      const w = want[i]!;
      const g = got[name]!;
      expect([...g.dims], `${name}: shape`).toEqual([...w.shape]);
      expectClose(g.data as ArrayLike<number>, await w.data(), `onnxruntime ${name}`, isExact(w.dtype));
    }
    if (opts.noReimport) continue;
    const m = await born.onnx.load(bytes);
    const inFeeds: Record<string, Tensor> = {};
    m.inputNames.forEach((name, i) => { inFeeds[name] = xs[i]!; });
    const back = await m.run(inFeeds);
    for (const [i, name] of m.outputNames.entries()) {
      expectClose(await back[name]!.data(), await want[i]!.data(), `born.onnx.load ${name}`, isExact(want[i]!.dtype));
    }
  }
  return bytes;
}

/** onnx.checker.check_model(full_check) on `bytes` with /usr/bin/python3's onnx; false when onnx is not installed. */
export function onnxCheck(bytes: Uint8Array): boolean {
  try {
    // onnx.checker, not onnx: libonnx-testdata alone leaves an importable, empty `onnx` namespace.
    execFileSync('/usr/bin/python3', ['-c', 'import onnx.checker'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  const dir = mkdtempSync(join(tmpdir(), 'born-export-'));
  try {
    const file = join(dir, 'm.onnx');
    writeFileSync(file, bytes);
    execFileSync('/usr/bin/python3', ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: 'pipe' });
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
