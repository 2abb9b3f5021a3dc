/**
 * The ONNX backend test models Debian ships (libonnx-testdata): listing them, running one data set
 * through born.onnx, and comparing with ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7;
 * integers and bools exact; NaN equals NaN). Shared by backend.test.ts and update-skip-list.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as born from '../../src/index.js';
import { decodeTensor } from '../../src/onnx/proto.js';
import { readTensorProto } from '../../src/onnx/tensor-proto.js';
import { fromStorage } from '../../src/tensor/creation.js';

export const DATA_ROOT = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
export const RTOL = 1e-3;
export const ATOL = 1e-7;

export interface Case { readonly name: string; readonly dir: string }

/** Every model: "<suite>/<test>" (node/test_add, simple/test_gradient_of_add, …), sorted. */
export function listCases(root = DATA_ROOT): Case[] {
  if (!existsSync(root)) return [];
  const out: Case[] = [];
  for (const suite of readdirSync(root).sort()) {
    for (const t of readdirSync(join(root, suite)).sort()) {
      const dir = join(root, suite, t);
      if (existsSync(join(dir, 'model.onnx'))) out.push({ name: `${suite}/${t}`, dir });
    }
  }
  return out;
}

/** A .pb tensor; ONNX 1.12's bfloat16 data sets store the bits as uint16, read as the model declares. */
const readPb = (file: string, declared?: string): born.Tensor => {
  const p = decodeTensor(readFileSync(file), file);
  if (p.data_type === 4 && declared === 'bfloat16') p.data_type = 16;
  const h = readTensorProto(p, { what: file });
  return fromStorage(h.data, h.shape, h.dtype);
};

const pbFiles = (dir: string, prefix: string): string[] =>
  readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3))).map((f) => join(dir, f));

/** Runs every data set of a model on `device` (default: Born's default device); throws an Error saying what differs. */
export async function runCase(c: Case, device?: born.DeviceName): Promise<void> {
  const model = await born.onnx.load(join(c.dir, 'model.onnx'), device === undefined ? {} : { device });
  const sets = readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort();
  if (!sets.length) throw new Error('no test data sets');
  for (const s of sets) {
    const dir = join(c.dir, s);
    const inputs = pbFiles(dir, 'input_').map((f, i) => readPb(f, model.inputs[i]?.dtype));
    const expected = pbFiles(dir, 'output_').map((f, i) => readPb(f, model.outputs[i]?.dtype));
    if (inputs.length !== model.inputNames.length) throw new Error(`${s}: ${inputs.length} input files for ${model.inputNames.length} inputs`);
    const out = await model.run(Object.fromEntries(model.inputNames.map((n, i) => [n, inputs[i]!])));
    for (const [i, e] of expected.entries()) {
      const name = model.outputNames[i]!;
      compare(`${s} output ${JSON.stringify(name)}`, out[name]!, e);
    }
    await Promise.all(model.outputNames.map((n) => out[n]!.data()));
    for (const [i, e] of expected.entries()) await compareValues(`${s} output ${JSON.stringify(model.outputNames[i])}`, out[model.outputNames[i]!]!, e);
  }
}

function compare(what: string, got: born.Tensor, want: born.Tensor): void {
  if (got.dtype !== want.dtype) throw new Error(`${what}: dtype ${got.dtype}, expected ${want.dtype}`);
  if (got.shape.join() !== want.shape.join()) throw new Error(`${what}: shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
}

async function compareValues(what: string, got: born.Tensor, want: born.Tensor): Promise<void> {
  const g = await got.data() as ArrayLike<number | bigint>, w = await want.data() as ArrayLike<number | bigint>;
  const exact = !(want.dtype.startsWith('float') || want.dtype === 'bfloat16');
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!, b = w[i]!;
    if (exact) { if (a !== b) throw new Error(`${what}[${i}]: ${a}, expected ${b}`); continue; }
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= ATOL + RTOL * Math.abs(y))) throw new Error(`${what}[${i}]: ${x}, expected ${y} (rtol ${RTOL}, atol ${ATOL})`);
  }
}

/** The first line of an error, without the stack and the 'onnx: ' prefix, short enough for the skip list. */
export const reason = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0]!.replace(/^onnx: /, '').slice(0, 200);
