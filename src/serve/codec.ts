/**
 * Request bodies into host arrays checked against a model's declared inputs, and outputs back into
 * bodies: JSON (`{"inputs": {name: nested array}}` or, for one input, `{"inputs": nested array}`),
 * .npy (application/x-npy) and raw little-endian bytes (application/octet-stream with the dtype
 * and shape in the X-Born-Dtype / X-Born-Shape headers). Every problem is a BadRequest naming it.
 */
import { isDType, isInt, itemBytes, newArray, publicData, storageFrom, type DType, type StorageFor } from '../graph/dtype.js';
import { LITTLE_ENDIAN, swapBytes } from '../io/bytes.js';
import { NpyError, readNpy, writeNpy, type NpyArray } from '../io/npy.js';
import { JsonTensor } from './json-tensors.js';
import type { Servable, TensorSpec } from './servable.js';

/** A client mistake: answered with its status (400 unless said) and the message. */
export class BadRequest extends Error {
  override name = 'BadRequest';
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

export const NPY_TYPE = 'application/x-npy';
export const RAW_TYPE = 'application/octet-stream';
export const DTYPE_HEADER = 'x-born-dtype';
export const SHAPE_HEADER = 'x-born-shape';
/** Which output a binary answer holds (default: the first); the answer names it in the same header. */
export const OUTPUT_HEADER = 'x-born-output';

export const fmtShape = (s: TensorSpec['shape']): string => (s === null ? 'any shape' : `[${s.map((d) => d ?? '?').join(', ')}]`);
export const fmtSpec = (s: TensorSpec): string => `'${s.name}' (${s.dtype} ${fmtShape(s.shape)})`;

/** Checks an array against its spec: dtype, rank, and every fixed dim (the batch dim too when the model fixes it). */
export function check(spec: TensorSpec, a: NpyArray): void {
  if (a.dtype !== spec.dtype) throw new BadRequest(`input '${spec.name}' must be ${spec.dtype}, got ${a.dtype}`);
  const want = spec.shape;
  if (want === null) return;
  if (a.shape.length !== want.length) {
    throw new BadRequest(`input '${spec.name}' must have ${want.length} dimensions ${fmtShape(want)}, got shape [${a.shape.join(', ')}]`);
  }
  want.forEach((d, i) => {
    if (d !== null && a.shape[i] !== d) throw new BadRequest(`input '${spec.name}' must have shape ${fmtShape(want)}, got [${a.shape.join(', ')}] (dim ${i} is ${a.shape[i]}, not ${d})`);
  });
  if (want.length > 0 && a.shape[0] === 0) throw new BadRequest(`input '${spec.name}' has an empty batch (dim 0 is 0)`);
}

/** The shape of a nested array, read along its first entries (flatten() checks the rest). */
function shapeOf(name: string, value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    // Deeper nesting is no tensor a model takes, and would run the walk below out of stack.
    if (shape.length === MAX_RANK) throw new BadRequest(`input '${name}': nested more than ${MAX_RANK} levels deep`);
    shape.push(v.length);
  }
  return shape;
}

/** Leaf k of an input, checked as its dtype takes it (numbers for floats, integers in range for ints, booleans or 0/1 for bool), as a number. */
function leafCheck(spec: TensorSpec): (x: unknown, k: number) => number {
  const { name, dtype: d } = spec;
  const [lo, hi] = isInt(d) ? INT_RANGE[d]! : [-Infinity, Infinity];
  const integral = isInt(d), bool = d === 'bool';
  const bad = (x: unknown, k: number, what: string): never => { throw new BadRequest(`input '${name}' (${d}): value ${k} ${what}, got ${JSON.stringify(x)}`); };
  return (x, k) => {
    if (bool) return x === true || x === 1 ? 1 : x === false || x === 0 ? 0 : bad(x, k, 'must be true, false, 0 or 1');
    if (typeof x !== 'number') return bad(x, k, 'must be a number');
    if (integral && (!Number.isInteger(x) || x < lo || x > hi)) bad(x, k, `must be an integer in ${lo}..${hi}`);
    return x;
  };
}

/**
 * The leaves of a rectangular nested array as the spec's dtype would take them, in row-major
 * order, each checked as it is read (numbers for floats, integers in range for ints, booleans or
 * 0/1 for bool): one pass, no array of boxed leaves in between.
 */
function flatten(spec: TensorSpec, value: unknown, shape: readonly number[]): Float32Array | Float64Array {
  const { name, dtype: d } = spec;
  // float32 leaves go straight into their array (its store rounds as Float32Array.from would).
  const n = shape.reduce((a, m) => a * m, 1);
  const out = d === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const plain = d === 'float32' || d === 'float64';
  const check = leafCheck(spec);
  let k = 0;
  const leaf = (x: unknown): number => check(x, k);
  // The index path is spelled out only for an error: building it per leaf would cost more than the walk.
  const at: number[] = [];
  const where = (dim: number): string => `${name}${at.slice(0, dim).map((i) => `[${i}]`).join('')}`;
  const walk = (v: unknown, dim: number): void => {
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new BadRequest(`input '${name}': ragged nested array: ${where(dim)} ${Array.isArray(v) ? `has ${v.length} entries, expected ${shape[dim]}` : 'is not a list'} (shape so far [${shape.slice(0, dim + 1).join(', ')}])`);
    }
    if (dim === shape.length - 1 && plain) {
      // The innermost lists of a float input, the bulk of a body: numbers copied in a tight loop;
      // anything else falls to the checked path below, which names it.
      let i = 0;
      for (; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x !== 'number') break;
        out[k++] = x;
      }
      if (i === v.length) return;
      at[dim] = i;
      throw leafError(v[i], dim);
    }
    for (let i = 0; i < v.length; i++) {
      at[dim] = i;
      if (dim < shape.length - 1) { walk(v[i], dim + 1); continue; }
      const x: unknown = v[i];
      if (Array.isArray(x)) throw leafError(x, dim);
      out[k] = leaf(x);
      k++;
    }
  };
  /** The error for leaf x at index path `at` (through dim): a list where numbers belong, or a bad value. */
  const leafError = (x: unknown, dim: number): BadRequest => {
    if (Array.isArray(x)) return new BadRequest(`input '${name}': ragged nested array: ${where(dim + 1)} is a list, where its siblings hold numbers`);
    try {
      leaf(x);
    } catch (e) {
      if (e instanceof BadRequest) return e;
      throw e;
    }
    return new BadRequest(`input '${name}': value ${k} is not a number`);
  };
  if (shape.length === 0) out[0] = leaf(value);
  else walk(value, 0);
  return out;
}

const MAX_RANK = 32;

const INT_RANGE: Record<string, [number, number]> = {
  int64: [-(2 ** 53), 2 ** 53], int32: [-(2 ** 31), 2 ** 31 - 1], int16: [-32768, 32767], int8: [-128, 127], uint8: [0, 255],
};

/** A JSON nested array (or one read by json-tensors.ts) as the spec's dtype. */
function fromJson(spec: TensorSpec, value: unknown): NpyArray {
  const d = spec.dtype;
  let shape: number[], numbers: Float32Array | Float64Array;
  if (value instanceof JsonTensor) {
    shape = [...value.shape];
    if (d === 'float32') numbers = new Float32Array(value.data);
    else {
      numbers = value.data;
      if (d !== 'float64') {
        const check = leafCheck(spec);
        for (let k = 0; k < numbers.length; k++) check(numbers[k], k);
      }
    }
  } else {
    shape = shapeOf(spec.name, value);
    numbers = flatten(spec, value, shape);
  }
  // float32 and float64 arrive in their arrays; the other dtypes cast one by one.
  const data = d === 'float32' || d === 'float64' ? numbers : storageFrom(d, numbers as Float64Array);
  const a = { dtype: d, shape, data };
  check(spec, a);
  return a;
}

/** The inputs of a JSON body, by name; every declared input present, nothing else. */
export function decodeJson(model: Servable, body: unknown): Record<string, NpyArray> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('inputs' in body)) {
    throw new BadRequest(`the JSON body must be an object with "inputs" (the model's inputs: ${model.inputs.map(fmtSpec).join(', ')})`);
  }
  const inputs = (body as { inputs: unknown }).inputs;
  if (Array.isArray(inputs) || inputs instanceof JsonTensor || typeof inputs !== 'object' || inputs === null) {
    if (model.inputs.length !== 1) throw new BadRequest(`"inputs" must be an object by input name: the model has ${model.inputs.length} inputs (${model.inputs.map(fmtSpec).join(', ')})`);
    return { [model.inputs[0]!.name]: fromJson(model.inputs[0]!, inputs) };
  }
  const given = inputs as Record<string, unknown>;
  const extra = Object.keys(given).filter((k) => !model.inputs.some((s) => s.name === k));
  if (extra.length) throw new BadRequest(`the model has no input ${extra.map((k) => `'${k}'`).join(', ')} (its inputs: ${model.inputs.map(fmtSpec).join(', ')})`);
  const out: Record<string, NpyArray> = {};
  for (const spec of model.inputs) {
    if (!(spec.name in given)) throw new BadRequest(`missing input ${fmtSpec(spec)}`);
    out[spec.name] = fromJson(spec, given[spec.name]);
  }
  return out;
}

function onlyInput(model: Servable, what: string): TensorSpec {
  if (model.inputs.length !== 1) throw new BadRequest(`a ${what} body holds one array, but the model has ${model.inputs.length} inputs (${model.inputs.map(fmtSpec).join(', ')}); send JSON`);
  return model.inputs[0]!;
}

export function decodeNpy(model: Servable, body: Buffer): Record<string, NpyArray> {
  const spec = onlyInput(model, NPY_TYPE);
  let a: NpyArray;
  try {
    a = readNpy(body, { source: 'the request body' });
  } catch (e) {
    if (e instanceof NpyError) throw new BadRequest(e.message);
    throw e;
  }
  check(spec, a);
  return { [spec.name]: a };
}

/** "2,3" or "[2, 3]": non-negative integers. */
function parseShape(text: string): number[] {
  const inner = text.trim().replace(/^\[(.*)\]$/, '$1').trim();
  const dims = inner === '' ? [] : inner.split(',').map((s) => s.trim());
  if (!dims.every((s) => /^\d{1,9}$/.test(s))) throw new BadRequest(`${SHAPE_HEADER} must list non-negative integers separated by commas (e.g. 1,1,28,28), got '${text}'`);
  return dims.map(Number);
}

export function decodeRaw(model: Servable, body: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, NpyArray> {
  const spec = onlyInput(model, RAW_TYPE);
  const dtype = headers[DTYPE_HEADER], shapeText = headers[SHAPE_HEADER];
  if (typeof dtype !== 'string' || typeof shapeText !== 'string') {
    throw new BadRequest(`a ${RAW_TYPE} body needs the ${DTYPE_HEADER} and ${SHAPE_HEADER} headers (e.g. ${spec.dtype} and ${fmtShape(spec.shape).replace(/\?/g, '1')})`);
  }
  if (!isDType(dtype)) throw new BadRequest(`${DTYPE_HEADER} '${dtype}' is not a dtype (float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool)`);
  const shape = parseShape(shapeText);
  const count = shape.reduce((a, d) => a * d, 1);
  if (count * itemBytes[dtype] !== body.length) {
    throw new BadRequest(`${SHAPE_HEADER} [${shape.join(', ')}] of ${dtype} needs ${count * itemBytes[dtype]} bytes, the body has ${body.length}`);
  }
  // A fresh, aligned copy: Node's body buffers may sit at any offset of a shared pool.
  const bytes = new Uint8Array(body.length);
  bytes.set(body);
  if (!LITTLE_ENDIAN) swapBytes(bytes, itemBytes[dtype]);
  const data = newArray(dtype, count);
  new Uint8Array(data.buffer).set(bytes);
  if (dtype === 'bool' && (data as Uint8Array).some((b) => b > 1)) throw new BadRequest('a bool body holds bytes 0 and 1 only');
  const a = { dtype, shape, data };
  check(spec, a);
  return { [spec.name]: a };
}

/** Inputs merged along dim 0 must agree on it. */
export function checkBatch(model: Servable, inputs: Readonly<Record<string, NpyArray>>): void {
  if (!model.batched) return;
  const rows = new Set(Object.values(inputs).map((a) => a.shape[0]));
  if (rows.size > 1) throw new BadRequest(`the inputs disagree on the batch size (dim 0): ${Object.entries(inputs).map(([k, a]) => `'${k}' has ${a.shape[0]}`).join(', ')}`);
}

/** A nested array of an output (int64 as numbers, half types widened). */
export function toNested(a: NpyArray): unknown {
  const values = publicData(a.dtype, a.data as StorageFor[DType]);
  const isBool = a.dtype === 'bool';
  const build = (dim: number, off: number): unknown => {
    if (dim === a.shape.length) { const v = values[off]!; return isBool ? v !== 0 : Number(v); }
    const stride = a.shape.slice(dim + 1).reduce((x, d) => x * d, 1);
    return Array.from({ length: a.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
  };
  return build(0, 0);
}

/** Which output a binary answer holds. */
export function pickOutput(model: Servable, header: string | string[] | undefined): string {
  if (header === undefined) return model.outputs[0]!.name;
  if (typeof header !== 'string' || !model.outputs.some((o) => o.name === header)) {
    throw new BadRequest(`${OUTPUT_HEADER}: the model has no output '${String(header)}' (its outputs: ${model.outputs.map((o) => `'${o.name}'`).join(', ')})`);
  }
  return header;
}

export function encodeNpy(a: NpyArray): Buffer {
  const b = writeNpy(a);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function encodeRaw(a: NpyArray): Buffer {
  const bytes = Buffer.from(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  if (!LITTLE_ENDIAN) swapBytes(bytes, itemBytes[a.dtype]);
  return bytes;
}
