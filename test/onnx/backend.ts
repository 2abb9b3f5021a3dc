/**
 * The ONNX backend test models Debian ships (libonnx-testdata): listing them, running one data set
 * through born.onnx, and comparing with ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7;
 * integers and bools exact; NaN equals NaN). Sequence and optional values are SequenceProto /
 * OptionalProto files (onnx-data.proto), read as the model declares them and compared element-wise.
 * Shared by backend.test.ts and update-skip-list.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as born from '../../src/index.js';
import { decodeOptional, decodeSequence, decodeTensor, type SequenceProto, type TensorProto } from '../../src/onnx/proto.js';
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

type Data = born.Tensor | born.Tensor[] | null;

/** A TensorProto; ONNX 1.12's bfloat16 data sets store the bits as uint16, read as the model declares. */
const tensorOf = (p: TensorProto, what: string, declared?: string): born.Tensor => {
  if (p.data_type === 4 && declared === 'bfloat16') p.data_type = 16;
  const h = readTensorProto(p, { what });
  return fromStorage(h.data, h.shape, h.dtype);
};
const sequenceOf = (p: SequenceProto, what: string, declared?: string): born.Tensor[] => {
  if ((p.elem_type ?? 1) !== 1) throw new Error(`${what}: a sequence of element type ${p.elem_type} (Born reads sequences of tensors)`);
  return (p.tensor_values ?? []).map((t, i) => tensorOf(t, `${what}[${i}]`, declared));
};

/** A .pb file holding a value of the declared kind (a tensor when the model does not say). */
function readPb(file: string, spec?: born.OnnxValueSpec): Data {
  const bytes = readFileSync(file);
  switch (spec?.kind ?? 'tensor') {
    case 'tensor': return tensorOf(decodeTensor(bytes, file), file, spec?.dtype);
    case 'sequence': return sequenceOf(decodeSequence(bytes, file), file, spec?.dtype);
    default: {
      const o = decodeOptional(bytes, file);
      if (o.tensor_value) return tensorOf(o.tensor_value, file, spec?.dtype);
      if (o.sequence_value) return sequenceOf(o.sequence_value, file, spec?.dtype);
      return null;
    }
  }
}

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
    const inputs = pbFiles(dir, 'input_').map((f, i) => readPb(f, model.inputs[i]));
    const expected = pbFiles(dir, 'output_').map((f, i) => readPb(f, model.outputs[i]));
    if (inputs.length !== model.inputNames.length) throw new Error(`${s}: ${inputs.length} input files for ${model.inputNames.length} inputs`);
    const out = await model.run<Data>(Object.fromEntries(model.inputNames.map((n, i) => [n, inputs[i]!])));
    // Pairs of (got, expected) tensors, checked for dtype and shape before anything runs.
    const pairs: [string, born.Tensor, born.Tensor][] = [];
    for (const [i, e] of expected.entries()) {
      const name = model.outputNames[i]!;
      pairs.push(...match(`${s} output ${JSON.stringify(name)}`, out[name]!, e));
    }
    for (const [what, got, want] of pairs) compare(what, got, want);
    await Promise.all(pairs.map(([, got]) => got.data()));
    for (const [what, got, want] of pairs) await compareValues(what, got, want);
  }
}

/** An output against its expected value: the same kind and length, then tensor by tensor. */
function match(what: string, got: Data, want: Data): [string, born.Tensor, born.Tensor][] {
  const kind = (d: Data): string => (d === null ? 'empty' : Array.isArray(d) ? `a sequence of ${d.length}` : 'a tensor');
  if (kind(got) !== kind(want)) throw new Error(`${what}: ${kind(got)}, expected ${kind(want)}`);
  if (got === null || want === null) return [];
  if (Array.isArray(got) && Array.isArray(want)) return got.map((g, i) => [`${what}[${i}]`, g, want[i]!]);
  return [[what, got as born.Tensor, want as born.Tensor]];
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
