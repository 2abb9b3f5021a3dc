/** Creating tensors: from data, filled, ranges, and counter-based random numbers. */
import { coerce, itemBytes, newArray, type DType, type TypedArray } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { LazyNode } from '../graph/node.js';
import { checkShape, normAxis, numel, type Shape } from '../graph/shape.js';
import { attach, Buffer } from '../scheduler/buffers.js';
import { engine } from '../scheduler/engine.js';
import { cast, full as fullOf, node, view } from './make.js';
import { Tensor } from './tensor.js';

export interface CreateOptions { dtype?: DType; device?: 'cpu' }
export interface RandomOptions extends CreateOptions { seed?: number }
export type NestedArray = number | boolean | readonly NestedArray[];

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = (cur as readonly NestedArray[])[0] as NestedArray;
    if (cur === undefined) break;
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: readonly number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean') throw new ShapeError(`tensor: ragged nested array: expected a number at depth ${depth} for shape ${fmt(shape)}`);
    out.push(Number(data));
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new ShapeError(`tensor: ragged nested array: expected ${shape[depth]} entries at depth ${depth} for shape ${fmt(shape)}`);
  }
  for (const d of data as readonly NestedArray[]) flattenInto(d, shape, depth + 1, out);
}

const dtypeOfArray = (a: TypedArray | ArrayBufferView): DType | null =>
  a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : a instanceof Uint8Array ? 'bool' : null;

/** A realised tensor holding a copy of `values`. */
export function fromArray(values: TypedArray, shape: Shape, dtype: DType): Tensor {
  const device = engine.device();
  const n = numel(shape);
  const buf = new Buffer(device, device.alloc(n * itemBytes[dtype]));
  const typed = values.constructor === newArray(dtype, 0).constructor ? values : (() => { const a = newArray(dtype, n); a.set(values); return a; })();
  device.write(buf.buf, typed.subarray(0, n));
  const ln = new LazyNode({ kind: 'buffer' }, [], [...shape], dtype);
  attach(ln, buf);
  buf.release(); // the node's reference is the only one
  return new Tensor(ln);
}

export function tensor(data: NestedArray | ArrayBufferView, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const dtype = opts.dtype ?? dtypeOfArray(src);
    if (!dtype) throw new DTypeError(`tensor: unsupported array type ${src.constructor.name} (use Float32Array, Float64Array, Int32Array or Uint8Array)`);
    const shape = checkShape('tensor', opts.shape ?? [src.length]);
    if (numel(shape) !== src.length) throw new ShapeError(`tensor: ${src.length} values do not fill shape ${fmt(shape)} (${numel(shape)} elements)`);
    return fromArray(src, shape, dtype);
  }
  const shape = inferShape(data);
  const flat: number[] = [];
  flattenInto(data, shape, 0, flat);
  const dtype = opts.dtype ?? (typeof (Array.isArray(data) ? flat.length && firstLeaf(data) : data) === 'boolean' ? 'bool' : 'float32');
  const out = opts.shape ? checkShape('tensor', opts.shape) : shape;
  if (numel(out) !== flat.length) throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmt(out)}`);
  const arr = newArray(dtype, flat.length);
  arr.set(flat);
  return fromArray(arr, out, dtype);
}

function firstLeaf(d: NestedArray): NestedArray {
  let cur = d;
  while (Array.isArray(cur)) cur = (cur as readonly NestedArray[])[0]!;
  return cur;
}

export const zeros = (shape: Shape, opts: CreateOptions = {}): Tensor => fullOf(checkShape('zeros', shape), 0, opts.dtype ?? 'float32');
export const ones = (shape: Shape, opts: CreateOptions = {}): Tensor => fullOf(checkShape('ones', shape), 1, opts.dtype ?? 'float32');
export function full(shape: Shape, value: number | boolean, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return fullOf(checkShape('full', shape), Number(value), dtype);
}

/**
 * A 0-d runtime scalar: its value is an argument of the kernels that read it, not part of their
 * source, so a new value each call (a learning rate, a temperature, a position) reuses the
 * compiled kernels and plan: `logits.div(born.scalar(t))`. Literals (`x.div(0.7)`) stay baked in.
 */
export function scalar(value: number | boolean, opts: { dtype?: DType } = {}): Tensor {
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  if (typeof value !== 'boolean' && typeof value !== 'number') {
    throw new DTypeError(`scalar: expected a number or boolean, got ${typeof value}`);
  }
  return node({ kind: 'param', value: coerce(Number(value), dtype) }, [], [], dtype);
}

/** 0, 1, …, n-1. */
export const iota = (n: number, dtype: DType = 'int32'): Tensor => node({ kind: 'iota' }, [], [n], dtype);

/** The coordinate along `dim` at every position of `shape` (int32), without storing it. */
export function iotaAlong(shape: Shape, dim: number): Tensor {
  const d = normAxis('iota', dim, shape.length, shape);
  const line = iota(shape[d]!);
  const ones = shape.map((s, i) => (i === d ? s : 1));
  return view(view(line, { op: 'reshape', shape: ones }), { op: 'expand', shape });
}

export function arange(startOrEnd: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [start, stop] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(stop)) throw new ShapeError(`arange: invalid range start=${start} end=${stop} step=${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = opts.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  return iota(n, dtype === 'int32' ? 'int32' : 'float64').mul(step).add(start).to(dtype);
}

export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ShapeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const stepSize = steps > 1 ? (end - start) / (steps - 1) : 0;
  return iota(steps, 'float64').mul(stepSize).add(start).to(opts.dtype ?? 'float32');
}

export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  return iotaAlong([n, m], 0).eq(iotaAlong([n, m], 1)).to(opts.dtype ?? 'float32');
}

// Unseeded random ops draw keys from one global stream, so manualSeed(n) makes a whole program repeatable.
let globalSeed = 0x5eed;
let draws = 0;
export function manualSeed(seed: number): void {
  globalSeed = mixSeed(seed);
  draws = 0;
}
function mixSeed(seed: number): number {
  let h = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
/**
 * The Philox key of a draw: a seed given by the user is a constant of the kernel; the global
 * stream's keys change with every call, so they travel as a runtime scalar (no buffer) and the
 * compiled kernel (and plan) is the same from one draw to the next.
 */
type Key = number | Tensor;
const keyFor = (seed: number | undefined): Key =>
  seed === undefined ? scalar(mixSeed(globalSeed + 0x9e3779b9 * ++draws) | 0, { dtype: 'int32' }) : mixSeed(seed);

function uniform(shape: Shape, key: Key, word: 0 | 1): Tensor {
  return typeof key === 'number'
    ? node({ kind: 'rand', seed: key, word }, [], checkShape('rand', shape), 'float32')
    : node({ kind: 'rand', seed: null, word }, [key], checkShape('rand', shape), 'float32');
}

export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  return cast(uniform(shape, keyFor(opts.seed), 0), opts.dtype ?? 'float32');
}

/** Box–Muller over the two words of one Philox draw per element. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const key = keyFor(opts.seed);
  // In float64 and rounded once at the end, so a fused consumer sees the very value a
  // materialised randn would hold.
  const u1 = cast(uniform(shape, key, 0), 'float64'), u2 = cast(uniform(shape, key, 1), 'float64');
  const r = u1.neg().add(1).log().mul(-2).sqrt();
  return cast(r.mul(u2.mul(2 * Math.PI).cos()), opts.dtype ?? 'float32');
}

export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new ShapeError(`randint: need integers low < high, got ${low}, ${high}`);
  return uniform(shape, keyFor(opts.seed), 0).mul(high - low).floor().add(low).to(opts.dtype ?? 'int32');
}

