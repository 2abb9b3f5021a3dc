/** Creating tensors: from data, filled, ranges, and counter-based random numbers. */
import {
  castNumber, dtypeList, isDType, isFloat, itemBytes, storageCtor, storageFrom,
  type DType, type StorageFor,
} from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { LazyNode, type DeviceName } from '../graph/node.js';
import { checkShape, normAxis, numel, type Shape } from '../graph/shape.js';
import { attach, Buffer } from '../scheduler/buffers.js';
import { engine } from '../scheduler/engine.js';
import { cast, full as fullOf, node, onDevice, rounded, view } from './make.js';
import type { BufferUse } from '../devices/device.js';
import { Tensor } from './tensor.js';
import { where } from './elementwise.js';
import { describeArg, isPlainObject, options, shapeThenOptions } from './args.js';

export interface CreateOptions<D extends DType = DType> { dtype?: D; device?: DeviceName }
export interface RandomOptions<D extends DType = DType> extends CreateOptions<D> { seed?: number }
export type NestedArray = number | boolean | readonly NestedArray[];
export type NestedBool = boolean | readonly NestedBool[];

/** The dtype a typed array stands for: its element type (Uint8Array is uint8, as in PyTorch). */
export type DTypeOfArray<A> =
  A extends Float32Array ? 'float32' : A extends Float64Array ? 'float64' : A extends BigInt64Array ? 'int64'
    : A extends Int32Array ? 'int32' : A extends Int16Array ? 'int16' : A extends Int8Array ? 'int8'
      : A extends Uint8Array ? 'uint8' : never;
export type SupportedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** Fails at the call, in the caller's stack, for a dtype name Born does not have. */
export function checkDType(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype) ?? String(dtype)} (valid dtypes: ${dtypeList()})`);
  return dtype;
}
const dtypeOr = <D extends DType>(op: string, d: D | undefined, fallback: DType): D =>
  (d === undefined ? fallback : checkDType(op, d)) as D;

const CREATE_KEYS = ['dtype', 'device'] as const;
const RANDOM_KEYS = ['dtype', 'device', 'seed'] as const;
/** A creation function's options object, unknown keys and devices refused at the call. */
function createOptions<O extends CreateOptions>(op: string, opts: unknown, keys: readonly string[] = CREATE_KEYS): O {
  const o = options<O>(op, opts, keys as (keyof O & string)[]);
  checkDevice(op, o.device);
  if ('seed' in o && o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isFinite(o.seed))) {
    throw new TypeError(`${op}: seed must be a number, got ${describeArg(o.seed)}`);
  }
  return o;
}
function checkDevice(op: string, device: unknown): void {
  if (device !== undefined && device !== 'cpu' && device !== 'webgpu') throw new TypeError(`${op}: unknown device ${describeArg(device)} (valid: cpu, webgpu)`);
}

/** `t`, computed on `device` when one was asked for (its own nodes hold no storage, so they just run there). */
function placed(t: Tensor, device: DeviceName | undefined): Tensor {
  if (device === undefined || t.node.device === device) return t;
  return t.node.device === null ? onDevice(t, device) : t.to(device);
}

/** A shape as a list or as integers, then an optional options object: `zeros([2, 3])`, `zeros(2, 3, { dtype })`. */
type SizesThen<O> = [shape: Shape, opts?: O] | [...sizes: number[], opts: O] | number[];

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

const dtypeOfArray = (a: ArrayBufferView): DType | null =>
  a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof BigInt64Array ? 'int64'
    : a instanceof Int32Array ? 'int32' : a instanceof Int16Array ? 'int16' : a instanceof Int8Array ? 'int8'
      : a instanceof Uint8Array && !(a instanceof Uint8ClampedArray) ? 'uint8' : null;

/**
 * A realised tensor holding a copy of `storage`, which must be dtype's storage array (half types
 * as bits); `use` tells the device what the buffer is for (Device.alloc).
 */
export function fromStorage<D extends DType>(storage: StorageFor[D], shape: Shape, dtype: D, on?: DeviceName, use?: BufferUse): Tensor<D> {
  const device = engine.device(on);
  if (!device.dtypes.has(dtype)) {
    throw new DTypeError(`tensor: dtype ${dtype} is not supported on device '${device.name}' (it takes ${[...device.dtypes].join(', ')}); keep it on the CPU`);
  }
  const n = numel(shape);
  if (!(storage instanceof storageCtor[dtype]) || storage.length < n) throw new DTypeError(`internal: ${dtype} storage must be a ${storageCtor[dtype].name} of ${n} elements`);
  const buf = new Buffer(device, device.alloc(dtype, n, use));
  device.write(buf.buf, storage.subarray(0, n));
  const ln = new LazyNode({ kind: 'buffer' }, [], [...shape], dtype, device.name);
  attach(ln, buf);
  buf.release(); // the node's reference is the only one
  return new Tensor<D>(ln);
}

/** A realised tensor of `values` (numbers, or bigints for int64) converted to dtype as `to` converts. */
export function fromArray<D extends DType>(values: ArrayLike<number | bigint>, shape: Shape, dtype: D, on?: DeviceName): Tensor<D> {
  const direct = values instanceof storageCtor[dtype] && dtype !== 'float16' && dtype !== 'bfloat16' && dtype !== 'bool';
  return fromStorage(direct ? values as StorageFor[D] : storageFrom(dtype, values), shape, dtype, on);
}

type ArrayOptions<D extends DType> = CreateOptions<D> & { shape?: readonly number[] };
/**
 * A tensor from nested arrays or a typed array. A typed array gives its own dtype
 * (Float32Array float32, Float64Array float64, BigInt64Array int64, Int32Array int32, Int16Array
 * int16, Int8Array int8, Uint8Array uint8); nested numbers are float32 and nested booleans bool.
 * `dtype` converts the values as `to(dtype)` does.
 */
export function tensor<A extends SupportedArray>(data: A, opts?: ArrayOptions<never> & { dtype?: undefined }): Tensor<DTypeOfArray<A>>;
export function tensor<D extends DType>(data: NestedArray | ArrayBufferView, opts: ArrayOptions<D> & { dtype: D }): Tensor<D>;
export function tensor(data: NestedBool, opts?: ArrayOptions<never> & { dtype?: undefined }): Tensor<'bool'>;
export function tensor(data: NestedArray, opts?: ArrayOptions<never> & { dtype?: undefined }): Tensor<'float32'>;
export function tensor(data: NestedArray | SupportedArray, opts?: ArrayOptions<DType>): Tensor;
export function tensor(data: NestedArray | ArrayBufferView, opts0: ArrayOptions<DType> = {}): Tensor {
  const opts = options<ArrayOptions<DType>>('tensor', opts0, ['dtype', 'device', 'shape']);
  if (opts.dtype !== undefined) checkDType('tensor', opts.dtype);
  checkDevice('tensor', opts.device);
  if (!ArrayBuffer.isView(data) && !isNested(data)) {
    throw new TypeError(`tensor: expected a number, a boolean, a nested array of them or a typed array, got ${describeArg(data)}`);
  }
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfArray(data);
    const dtype = opts.dtype ?? own;
    if (!dtype || !own) {
      throw new DTypeError(`tensor: unsupported array type ${data.constructor.name} (use Float32Array, Float64Array, BigInt64Array, ` +
        `Int32Array, Int16Array, Int8Array or Uint8Array, or a plain array with { dtype } (valid dtypes: ${dtypeList()}))`);
    }
    const src = data as unknown as ArrayLike<number | bigint>;
    const shape = checkShape('tensor', opts.shape ?? [src.length]);
    if (numel(shape) !== src.length) throw new ShapeError(`tensor: ${src.length} values do not fill shape ${fmt(shape)} (${numel(shape)} elements)`);
    return fromArray(src, shape, dtype, opts.device);
  }
  const shape = inferShape(data);
  const flat: number[] = [];
  flattenInto(data, shape, 0, flat);
  const dtype = opts.dtype ?? (typeof (Array.isArray(data) ? flat.length && firstLeaf(data) : data) === 'boolean' ? 'bool' : 'float32');
  const out = opts.shape ? checkShape('tensor', opts.shape) : shape;
  if (numel(out) !== flat.length) throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmt(out)}`);
  return fromArray(flat, out, dtype, opts.device);
}

const isNested = (d: unknown): boolean =>
  typeof d === 'number' || typeof d === 'boolean' || (Array.isArray(d) && d.every(isNested));

function firstLeaf(d: NestedArray): NestedArray {
  let cur = d;
  while (Array.isArray(cur)) cur = (cur as readonly NestedArray[])[0]!;
  return cur;
}

/** A shape and the options after it, read as PyTorch's `zeros(2, 3)` and `zeros([2, 3])`. */
function sized<O extends CreateOptions>(op: string, args: readonly unknown[], keys: readonly string[] = CREATE_KEYS): [number[], O] {
  // Numbers that are no sizes (-1, 1.5) are a ShapeError naming the shape, as for a list.
  const nums = Array.isArray(args[0]) ? args[0] as unknown[] : args.filter((a) => !isPlainObject(a));
  if (nums.every((d) => typeof d === 'number')) checkShape(op, nums as number[]);
  const [shape, opts] = shapeThenOptions<O>(op, args);
  return [checkShape(op, shape), createOptions<O>(op, opts, keys)];
}

/** Zeros of a shape given as a list or as integers: `zeros([2, 3])`, `zeros(2, 3, { dtype: 'int32' })`. */
export function zeros<D extends DType = 'float32'>(...args: SizesThen<CreateOptions<D>>): Tensor<D> {
  const [shape, opts] = sized<CreateOptions<D>>('zeros', args);
  return placed(fullOf(shape, 0, dtypeOr('zeros', opts.dtype, 'float32')), opts.device) as Tensor<D>;
}
/** Ones of a shape given as a list or as integers: `ones([2, 3])`, `ones(2, 3)`. */
export function ones<D extends DType = 'float32'>(...args: SizesThen<CreateOptions<D>>): Tensor<D> {
  const [shape, opts] = sized<CreateOptions<D>>('ones', args);
  return placed(fullOf(shape, 1, dtypeOr('ones', opts.dtype, 'float32')), opts.device) as Tensor<D>;
}
/** `value` everywhere in a shape given as a list, as torch.full: `full([2, 3], 7)`; a boolean value gives bool. */
export function full<D extends DType = 'float32'>(shape: Shape, value: number | boolean, opts: CreateOptions<D> = {}): Tensor<D> {
  if (!Array.isArray(shape)) throw new TypeError(`full: expected the shape as a list of integers (full([2, 3], value)), got ${describeArg(shape)}`);
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`full: the fill value must be a number or a boolean, got ${describeArg(value)}`);
  const o = createOptions<CreateOptions<D>>('full', opts);
  const dtype = dtypeOr('full', o.dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  return placed(fullOf(checkShape('full', shape), Number(value), dtype), opts.device) as Tensor<D>;
}

/**
 * A 0-d runtime scalar: its value is an argument of the kernels that read it, not part of their
 * source, so a new value each call (a learning rate, a temperature, a position) reuses the
 * compiled kernels and plan: `logits.div(born.scalar(t))`. Literals (`x.div(0.7)`) stay baked in.
 */
export function scalar(value: number | boolean, opts: { dtype?: DType } = {}): Tensor {
  const dtype = dtypeOr('scalar', opts.dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  if (typeof value !== 'boolean' && typeof value !== 'number') {
    throw new DTypeError(`scalar: expected a number or boolean, got ${typeof value}`);
  }
  return node({ kind: 'param', value: castNumber(Number(value), dtype) }, [], [], dtype);
}

/** 0, 1, …, n-1. */
export const iota = <D extends DType = 'int32'>(n: number, dtype: D = 'int32' as D): Tensor<D> => node({ kind: 'iota' }, [], [n], dtype) as Tensor<D>;

/** The coordinate along `dim` at every position of `shape` (int32), without storing it. */
export function iotaAlong(shape: Shape, dim: number): Tensor<'int32'> {
  const d = normAxis('iota', dim, shape.length, shape);
  const line = iota(shape[d]!);
  const ones = shape.map((s, i) => (i === d ? s : 1));
  return view(view(line, { op: 'reshape', shape: ones }), { op: 'expand', shape }) as Tensor<'int32'>;
}

/** A float32 constant split in two, hi + lo ≈ x to ~48 bits, so float32 arithmetic keeps x's accuracy. */
function split(x: number): [number, number] {
  const hi = Math.fround(x);
  return [hi, Math.fround(x - hi)];
}

/**
 * start, start + step, … below end. Integers count in their dtype; floats in float32 nodes (float64
 * only for a float64 result), with step and start each split in two float32 parts, so the values
 * are start + i * step correctly rounded (PyTorch computes them in double) on any device.
 */
export function arange<D extends DType = DType>(end: number, opts?: CreateOptions<D>): Tensor<D>;
export function arange<D extends DType = DType>(start: number, end: number, opts?: CreateOptions<D>): Tensor<D>;
export function arange<D extends DType = DType>(start: number, end: number | undefined, step?: number, opts?: CreateOptions<D>): Tensor<D>;
export function arange<D extends DType = DType>(...args: unknown[]): Tensor<D> {
  const last = args[args.length - 1];
  const opts = createOptions<CreateOptions<D>>('arange', isPlainObject(last) ? last : undefined);
  const nums = isPlainObject(last) ? args.slice(0, -1) : args;
  if (nums.length < 1 || nums.length > 3 || nums.some((v) => v !== undefined && typeof v !== 'number')) {
    throw new TypeError(`arange: expected (end), (start, end) or (start, end, step) as numbers, then optional { dtype }, got ${args.map(describeArg).join(', ')}`);
  }
  const [startOrEnd, end, step = 1] = nums as [number, number | undefined, number | undefined];
  const [start, stop] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step)) throw new ShapeError(`arange: invalid range start=${start} end=${stop} step=${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = dtypeOr('arange', opts.dtype, [start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  if (!isFloat(dtype) && [start, step].every(Number.isInteger)) {
    const wide = dtype === 'int64' ? 'int64' : 'int32';
    return placed(cast(iota(n, wide).mul(step).add(start), dtype), opts.device) as Tensor<D>;
  }
  if (dtype === 'float64') return placed(iota(n, 'float64').mul(step).add(start), opts.device) as Tensor<D>;
  const i = iota(n, 'float32');
  const [sh, sl] = split(step), [ah, al] = split(start);
  return placed(cast(i.mul(sh).add(i.mul(sl).add(al).add(ah)), dtype), opts.device) as Tensor<D>;
}

/**
 * `steps` values from start to end, both exact: the first half counts up from start, the second
 * down from end, as PyTorch does; float32 results come from float32 nodes only.
 */
export function linspace<D extends DType = 'float32'>(start: number, end: number, steps: number, opts0: CreateOptions<D> = {}): Tensor<D> {
  if (typeof start !== 'number' || typeof end !== 'number') throw new TypeError(`linspace: start and end must be numbers, got ${describeArg(start)}, ${describeArg(end)}`);
  const opts = createOptions<CreateOptions<D>>('linspace', opts0);
  if (!Number.isInteger(steps) || steps < 0) throw new ShapeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = dtypeOr('linspace', opts.dtype, 'float32');
  const w = dtype === 'float64' ? 'float64' : 'float32';
  const [a, b] = [castNumber(start, w), castNumber(end, w)];
  const step = steps > 1 ? (b - a) / (steps - 1) : 0;
  const i = iota(steps, w);
  const back = rounded(i.neg().add(steps - 1));
  let up: Tensor, down: Tensor;
  if (w === 'float64') {
    up = i.mul(step).add(a);
    down = back.mul(-step).add(b);
  } else {
    // The step in two float32 parts, so float32 arithmetic keeps its accuracy.
    const [sh, sl] = split(step);
    up = i.mul(sh).add(i.mul(sl).add(a));
    down = back.mul(-sh).add(back.mul(-sl).add(b));
  }
  return placed(cast(where(i.lt(steps === 1 ? 1 : Math.floor(steps / 2)), up, down), dtype), opts.device) as Tensor<D>;
}

export function eye<D extends DType = 'float32'>(n: number, opts?: CreateOptions<D>): Tensor<D>;
export function eye<D extends DType = 'float32'>(n: number, m?: number, opts?: CreateOptions<D>): Tensor<D>;
export function eye<D extends DType = 'float32'>(n: number, mOrOpts?: number | CreateOptions<D>, opts0?: CreateOptions<D>): Tensor<D> {
  const m = isPlainObject(mOrOpts) ? n : (mOrOpts as number | undefined) ?? n;
  const opts = createOptions<CreateOptions<D>>('eye', isPlainObject(mOrOpts) ? mOrOpts : opts0);
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(m) || m < 0) throw new TypeError(`eye: sizes must be non-negative integers, got ${describeArg(n)}, ${describeArg(m)}`);
  return placed(iotaAlong([n, m], 0).eq(iotaAlong([n, m], 1)).to(dtypeOr('eye', opts.dtype, 'float32')), opts.device) as Tensor<D>;
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

/** Philox draws at the element index: uniform words, or (dist 'normal') kernel/normal.ts's standard normal. */
function draw(shape: Shape, key: Key, word: 0 | 1, dist?: 'normal'): Tensor<'float32'> {
  const d = dist ? { dist } : {};
  return typeof key === 'number'
    ? node({ kind: 'rand', seed: key, word, ...d }, [], checkShape('rand', shape), 'float32') as Tensor<'float32'>
    : node({ kind: 'rand', seed: null, word, ...d }, [key], checkShape('rand', shape), 'float32') as Tensor<'float32'>;
}
const uniform = (shape: Shape, key: Key, word: 0 | 1): Tensor<'float32'> => draw(shape, key, word);

/** Uniform in [0, 1), shape as a list or as integers: `rand([2, 3], { seed: 1 })`, `rand(2, 3)`. */
export function rand<D extends DType = 'float32'>(...args: SizesThen<RandomOptions<D>>): Tensor<D> {
  const [shape, opts] = sized<RandomOptions<D>>('rand', args, RANDOM_KEYS);
  return placed(cast(uniform(shape, keyFor(opts.seed), 0), dtypeOr('rand', opts.dtype, 'float32')), opts.device) as Tensor<D>;
}

/**
 * Standard normal, shape as a list or as integers: `randn([2, 3])`, `randn(2, 3, { seed: 1 })`.
 * Box–Muller over the two words of one Philox draw per element, in integer arithmetic
 * (kernel/normal.ts), so every device gives the same float32 bits for a seed; other dtypes are
 * cast from that float32 sample (float64 too: it holds the float32 value exactly).
 */
export function randn<D extends DType = 'float32'>(...args: SizesThen<RandomOptions<D>>): Tensor<D> {
  const [shape, opts] = sized<RandomOptions<D>>('randn', args, RANDOM_KEYS);
  const key = keyFor(opts.seed);
  const dtype = dtypeOr('randn', opts.dtype, 'float32');
  // Behind a (no-op) rounding node, as before the draw was one node: a realised randn is then a
  // computed tensor whose sources realisation drops, so reading it once disposed is an error
  // (realize.ts checkLeaves) rather than a silent recomputation.
  return placed(cast(rounded(draw(shape, key, 0, 'normal')), dtype), opts.device) as Tensor<D>;
}

/**
 * Integers uniform in [low, high) (low 0 when left out, as torch.randint(high, size)):
 * `randint(0, 10, [4], { seed: 1 })`, `randint(10, [2, 3])`.
 */
export function randint<D extends DType = 'int32'>(high: number, shape: Shape, opts?: RandomOptions<D>): Tensor<D>;
export function randint<D extends DType = 'int32'>(low: number, high: number, shape: Shape, opts?: RandomOptions<D>): Tensor<D>;
export function randint<D extends DType = 'int32'>(...args: unknown[]): Tensor<D> {
  const [low, high, shape, opts0] = (Array.isArray(args[1]) ? [0, ...args] : args) as [number, number, Shape, RandomOptions<D> | undefined];
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new ShapeError(`randint: need integers low < high, got ${low}, ${high}`);
  if (!Array.isArray(shape)) throw new TypeError(`randint: expected the shape as a list of integers (randint(low, high, [2, 3])), got ${describeArg(shape)}`);
  const opts = createOptions<RandomOptions<D>>('randint', opts0, RANDOM_KEYS);
  const dtype = dtypeOr('randint', opts.dtype, 'int32');
  return placed(uniform(shape, keyFor(opts.seed), 0).mul(high - low).floor().add(low).to(dtype), opts.device) as Tensor<D>;
}

