/**
 * An eager, obviously-correct reference for Born's tensor ops.
 *
 * Plain loops over a Float64Array; every op returns a fresh copy (views are
 * copies here). Semantics follow PyTorch, with Born's decisions: int32 in
 * place of int64, float32 as the default float. Each op's result is coerced
 * to its dtype (Math.fround for float32, truncation for int32), so a single
 * float32 +, -, *, / matches a correctly rounded float32 kernel exactly.
 *
 * Deliberately independent of src/: this file must never import Born.
 */

export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export type Shape = readonly number[];
export type Nested = number | boolean | Nested[];

// ---------------------------------------------------------------- shapes

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous array of `shape`. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: Shape): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + idx[i]!;
  return flat;
}

/** Normalises a possibly negative dim against `ndim` (Python style). */
export function normDim(d: number, ndim: number): number {
  const r = d < 0 ? d + ndim : d;
  if (!Number.isInteger(r) || r < 0 || r >= ndim) {
    throw new RangeError(`reference: dim ${d} out of range for ndim ${ndim}`);
  }
  return r;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy/PyTorch broadcasting of any number of shapes. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = ndim - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new Error(`reference: cannot broadcast [${shapes.map((x) => x.join(', ')).join('] with [')}]`);
      }
    }
  }
  return out;
}

export function canBroadcast(...shapes: Shape[]): boolean {
  try {
    broadcastShapes(...shapes);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- dtypes

const dtypeRank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** Stores `v` as a value of `dtype` would hold it. */
export function coerce(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'float64':
      return v;
    case 'int32':
      // Truncation toward zero, wrapping like a C cast of an in-range value.
      return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case 'bool':
      return v !== 0 ? 1 : 0; // NaN !== 0, so NaN -> true as in torch
  }
}

export function promoteTypes(a: DType, b: DType): DType {
  return dtypeRank[a] >= dtypeRank[b] ? a : b;
}

/** The dtype a JS number takes next to a tensor of dtype `t` (torch's "wrapped scalar" rule). */
export function scalarResultType(t: DType, v: number): DType {
  if (isFloat(t)) return t;
  return Number.isInteger(v) ? 'int32' : 'float32';
}

export type Operand = NDArray | number;

/** Result dtype of a binary op between operands, before op-specific adjustments. */
export function resultType(a: Operand, b: Operand): DType {
  if (typeof a === 'number' && typeof b === 'number') {
    return Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
  }
  if (typeof a === 'number') return scalarResultType((b as NDArray).dtype, a);
  if (typeof b === 'number') return scalarResultType(a.dtype, b);
  // torch.result_type: a 0-d tensor next to one with dims only counts where it raises the
  // category (bool < integer < float).
  const cat = (d: DType): number => (d === 'bool' ? 0 : isFloat(d) ? 2 : 1);
  if (a.shape.length === 0 && b.shape.length > 0 && cat(a.dtype) <= cat(b.dtype)) return b.dtype;
  if (b.shape.length === 0 && a.shape.length > 0 && cat(b.dtype) <= cat(a.dtype)) return a.dtype;
  return promoteTypes(a.dtype, b.dtype);
}

// ---------------------------------------------------------------- the array

export class NDArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  readonly dtype: DType;

  constructor(data: ArrayLike<number>, shape: Shape, dtype: DType = 'float32') {
    if (data.length !== numel(shape)) {
      throw new Error(`reference: ${data.length} values for shape [${shape.join(', ')}]`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.data = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) this.data[i] = coerce(data[i]!, dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  at(idx: readonly number[]): number {
    return this.data[ravel(idx, this.shape)]!;
  }

  /** The values in the typed array Born's data() returns for this dtype. */
  typed(): Float32Array | Float64Array | Int32Array | Uint8Array {
    switch (this.dtype) {
      case 'float32':
        return Float32Array.from(this.data);
      case 'float64':
        return Float64Array.from(this.data);
      case 'int32':
        return Int32Array.from(this.data);
      case 'bool':
        return Uint8Array.from(this.data);
    }
  }

  tolist(): Nested {
    const conv = (v: number): number | boolean => (this.dtype === 'bool' ? v !== 0 : v);
    if (this.ndim === 0) return conv(this.data[0]!);
    const build = (dim: number, offset: number): Nested[] => {
      const n = this.shape[dim]!;
      const stride = numel(this.shape.slice(dim + 1));
      const out: Nested[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.ndim - 1 ? conv(this.data[offset + i]!) : build(dim + 1, offset + i * stride));
      }
      return out;
    };
    return build(0, 0);
  }

  /** Builds from nested arrays (rectangular) or a single number (0-d). */
  static from(nested: Nested, dtype: DType = 'float32'): NDArray {
    const shape: number[] = [];
    let probe: Nested = nested;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (probe.length === 0) break;
      probe = probe[0]!;
    }
    const flat: number[] = [];
    const walk = (x: Nested, dim: number): void => {
      if (Array.isArray(x)) {
        if (dim >= shape.length || x.length !== shape[dim]) throw new Error('reference: ragged nested array');
        for (const y of x) walk(y, dim + 1);
      } else {
        if (dim !== shape.length) throw new Error('reference: ragged nested array');
        flat.push(typeof x === 'boolean' ? (x ? 1 : 0) : x);
      }
    };
    walk(nested, 0);
    return new NDArray(flat, shape, dtype);
  }

  static scalar(v: number, dtype: DType = 'float32'): NDArray {
    return new NDArray([v], [], dtype);
  }
}

function build(shape: Shape, dtype: DType, f: (idx: number[], flat: number) => number): NDArray {
  const n = numel(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(unravel(i, shape), i);
  return new NDArray(out, shape, dtype);
}

/** Reads `a` at an index of the broadcast shape `outShape`. */
function broadcastRead(a: NDArray, outIdx: readonly number[], outShape: Shape): number {
  const off = outShape.length - a.ndim;
  let flat = 0;
  for (let i = 0; i < a.ndim; i++) {
    const d = a.shape[i]!;
    flat = flat * d + (d === 1 ? 0 : outIdx[off + i]!);
  }
  return a.data[flat]!;
}

function asArray(x: Operand, dtype: DType): NDArray {
  return typeof x === 'number' ? new NDArray([x], [], dtype) : x;
}

// ---------------------------------------------------------------- elementwise

export function mapUnary(a: NDArray, f: (x: number) => number, dtype: DType = a.dtype): NDArray {
  const out = new Float64Array(a.size);
  for (let i = 0; i < a.size; i++) out[i] = f(a.data[i]!);
  return new NDArray(out, a.shape, dtype);
}

/** Elementwise `f` with broadcasting; tensor values are read exactly as stored (already coerced). */
export function zipWith(
  a: Operand,
  b: Operand,
  f: (x: number, y: number) => number,
  dtype: DType,
  computeType: DType = dtype,
): NDArray {
  // A JS number is converted to the type the op computes in (torch's wrapped-scalar rule).
  const A = asArray(a, computeType);
  const B = asArray(b, computeType);
  const shape = broadcastShapes(A.shape, B.shape);
  return build(shape, dtype, (idx) => f(broadcastRead(A, idx, shape), broadcastRead(B, idx, shape)));
}

function arithType(a: Operand, b: Operand): DType {
  const t = resultType(a, b);
  return t === 'bool' ? 'int32' : t;
}

function floatOf(d: DType): DType {
  return isFloat(d) ? d : 'float32';
}

export const add = (a: Operand, b: Operand): NDArray => zipWith(a, b, (x, y) => x + y, arithType(a, b));
export const sub = (a: Operand, b: Operand): NDArray => zipWith(a, b, (x, y) => x - y, arithType(a, b));
export const mul = (a: Operand, b: Operand): NDArray => {
  const t = arithType(a, b);
  // int32 products wrap (two's complement) exactly, as torch's; a double product past 2^53 would not.
  return zipWith(a, b, t === 'int32' ? (x, y) => Math.imul(x, y) : (x, y) => x * y, t);
};
/** True division: integer inputs give float32. */
export const div = (a: Operand, b: Operand): NDArray => zipWith(a, b, (x, y) => x / y, floatOf(resultType(a, b)));
export const pow = (a: Operand, b: Operand): NDArray => zipWith(a, b, (x, y) => Math.pow(x, y), arithType(a, b));

function nanMax(x: number, y: number): number {
  return Number.isNaN(x) || Number.isNaN(y) ? NaN : x >= y ? x : y;
}
function nanMin(x: number, y: number): number {
  return Number.isNaN(x) || Number.isNaN(y) ? NaN : x <= y ? x : y;
}

export const maximum = (a: Operand, b: Operand): NDArray => zipWith(a, b, nanMax, resultType(a, b));
export const minimum = (a: Operand, b: Operand): NDArray => zipWith(a, b, nanMin, resultType(a, b));
const compare = (f: (x: number, y: number) => boolean) => (a: Operand, b: Operand): NDArray =>
  zipWith(a, b, (x, y) => (f(x, y) ? 1 : 0), 'bool', resultType(a, b));
export const eq = compare((x, y) => x === y);
export const lt = compare((x, y) => x < y);
export const gt = compare((x, y) => x > y);

export function where(cond: NDArray, a: Operand, b: Operand): NDArray {
  const dtype = resultType(a, b);
  const A = asArray(a, dtype);
  const B = asArray(b, dtype);
  const shape = broadcastShapes(cond.shape, A.shape, B.shape);
  return build(shape, dtype, (idx) =>
    broadcastRead(cond, idx, shape) !== 0 ? broadcastRead(A, idx, shape) : broadcastRead(B, idx, shape),
  );
}

export const neg = (a: NDArray): NDArray => mapUnary(a, (x) => -x);
export const abs = (a: NDArray): NDArray => mapUnary(a, (x) => Math.abs(x));
export const relu = (a: NDArray): NDArray => mapUnary(a, (x) => (Number.isNaN(x) ? NaN : x > 0 ? x : 0));

const floatUnary = (f: (x: number) => number) => (a: NDArray): NDArray => mapUnary(a, f, floatOf(a.dtype));

export const exp = floatUnary(Math.exp);
export const log = floatUnary(Math.log);
export const sqrt = floatUnary(Math.sqrt);
export const rsqrt = floatUnary((x) => 1 / Math.sqrt(x));
export const sin = floatUnary(Math.sin);
export const cos = floatUnary(Math.cos);
export const tanh = floatUnary(Math.tanh);

export function sigmoidScalar(x: number): number {
  // Written in the form that cannot overflow for either sign.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
export const sigmoid = floatUnary(sigmoidScalar);
export const silu = floatUnary((x) => x * sigmoidScalar(x));

/** softplus with torch's defaults: beta 1, threshold 20 (linear above it). */
export function softplusScalar(x: number, beta = 1, threshold = 20): number {
  if (x * beta > threshold) return x;
  return Math.log1p(Math.exp(beta * x)) / beta;
}
export const softplus = floatUnary((x) => softplusScalar(x));

/**
 * erf to ~1e-15 absolute: for |x| < 2.5 the all-positive series
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * beyond it 1 - erfc(x) with erfc's continued fraction (evaluated bottom-up).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf(-x);
  if (x === 0) return 0;
  if (x < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  }
  return 1 - erfc(x);
}

/** erfc for x >= 2.5 by the continued fraction erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
export function erfc(x: number): number {
  if (x < 2.5) return 1 - erf(x);
  if (!Number.isFinite(x)) return 0;
  let f = x;
  for (let k = 300; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export function geluScalar(x: number, approximate: 'none' | 'tanh' = 'none'): number {
  if (approximate === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    return 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}
export function gelu(a: NDArray, opts: { approximate?: 'none' | 'tanh' } = {}): NDArray {
  return mapUnary(a, (x) => geluScalar(x, opts.approximate ?? 'none'), floatOf(a.dtype));
}

export function clamp(a: NDArray, opts: { min?: number; max?: number }): NDArray {
  let dtype = a.dtype;
  if (opts.min !== undefined) dtype = promoteTypes(dtype, scalarResultType(a.dtype, opts.min));
  if (opts.max !== undefined) dtype = promoteTypes(dtype, scalarResultType(a.dtype, opts.max));
  return mapUnary(
    a,
    (x) => {
      if (Number.isNaN(x)) return NaN;
      let r = x;
      if (opts.min !== undefined) r = Math.max(r, opts.min);
      if (opts.max !== undefined) r = Math.min(r, opts.max);
      return r;
    },
    dtype,
  );
}

export function cast(a: NDArray, dtype: DType): NDArray {
  return new NDArray(a.data, a.shape, dtype);
}

// ---------------------------------------------------------------- reductions

export interface ReduceOpts {
  dim?: number | readonly number[];
  keepdim?: boolean;
}

function reduceDims(a: NDArray, dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined) return a.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : [...dim];
  // torch lets a 0-d tensor be reduced over dim 0 / -1.
  const nd = Math.max(a.ndim, 1);
  const dims = list.map((d) => normDim(d, nd)).filter((d) => d < a.ndim || a.ndim === 0);
  if (new Set(dims).size !== dims.length) throw new Error('reference: repeated dim');
  return a.ndim === 0 ? [] : dims.sort((x, y) => x - y);
}

/**
 * Generic reduction: for each output position, collects the reduced values
 * (in row-major order of the reduced dims) and folds them with `f`.
 */
export function reduce(
  a: NDArray,
  opts: ReduceOpts,
  f: (values: number[]) => number,
  dtype: DType,
): NDArray {
  const dims = reduceDims(a, opts.dim);
  const keep = opts.keepdim ?? false;
  const isReduced = a.shape.map((_, i) => dims.includes(i));
  const outShapeKeep = a.shape.map((d, i) => (isReduced[i] ? 1 : d));
  const outShape = keep ? outShapeKeep : a.shape.filter((_, i) => !isReduced[i]);
  const redShape = dims.map((d) => a.shape[d]!);
  const nRed = numel(redShape);
  const out = new Float64Array(numel(outShape));
  for (let o = 0; o < out.length; o++) {
    const base = unravel(o, outShapeKeep);
    const vals = new Array<number>(nRed);
    for (let r = 0; r < nRed; r++) {
      const ridx = unravel(r, redShape);
      const idx = base.slice();
      dims.forEach((d, k) => (idx[d] = ridx[k]!));
      vals[r] = a.at(idx);
    }
    out[o] = f(vals);
  }
  return new NDArray(out, outShape, dtype);
}

function kahanSum(vs: number[]): number {
  let s = 0;
  let c = 0;
  for (const v of vs) {
    const y = v - c;
    const t = s + y;
    c = t - s - y;
    s = t;
  }
  return s;
}

export function sum(a: NDArray, opts: ReduceOpts = {}): NDArray {
  const dtype = isFloat(a.dtype) ? a.dtype : 'int32';
  return reduce(a, opts, kahanSum, dtype);
}

export function mean(a: NDArray, opts: ReduceOpts = {}): NDArray {
  return reduce(a, opts, (vs) => kahanSum(vs) / vs.length, floatOf(a.dtype));
}

export function max(a: NDArray, opts: ReduceOpts = {}): NDArray {
  return reduce(a, opts, (vs) => vs.reduce(nanMax, -Infinity), a.dtype);
}

export function min(a: NDArray, opts: ReduceOpts = {}): NDArray {
  return reduce(a, opts, (vs) => vs.reduce(nanMin, Infinity), a.dtype);
}

/** argmax: the first index of the maximum (NaN counts as the maximum, as in torch); int32. */
export function argmax(a: NDArray, opts: { dim?: number; keepdim?: boolean } = {}): NDArray {
  const pick = (vs: number[]): number => {
    let best = 0;
    for (let i = 1; i < vs.length; i++) {
      const b = vs[best]!;
      const v = vs[i]!;
      if (Number.isNaN(b)) break;
      if (Number.isNaN(v) || v > b) best = i;
    }
    return best;
  };
  if (opts.dim === undefined) {
    const flat = new NDArray(a.data, [a.size], a.dtype);
    const r = reduce(flat, { dim: 0 }, pick, 'int32');
    return opts.keepdim ? reshape(r, a.shape.map(() => 1)) : r;
  }
  return reduce(a, { dim: opts.dim, keepdim: opts.keepdim }, pick, 'int32');
}

export function argmin(a: NDArray, opts: { dim?: number; keepdim?: boolean } = {}): NDArray {
  return argmax(neg(a), opts);
}

export interface VarOpts extends ReduceOpts {
  correction?: number;
}

function variance(vs: number[], correction: number): number {
  const m = kahanSum(vs) / vs.length;
  return kahanSum(vs.map((v) => (v - m) * (v - m))) / Math.max(0, vs.length - correction);
}

export function variance_(a: NDArray, opts: VarOpts = {}): NDArray {
  const c = opts.correction ?? 1;
  return reduce(a, opts, (vs) => variance(vs, c), floatOf(a.dtype));
}
export { variance_ as var };

export function std(a: NDArray, opts: VarOpts = {}): NDArray {
  const c = opts.correction ?? 1;
  return reduce(a, opts, (vs) => Math.sqrt(variance(vs, c)), floatOf(a.dtype));
}

function lse(vs: number[]): number {
  const m = vs.reduce(nanMax, -Infinity);
  if (Number.isNaN(m)) return NaN;
  if (!Number.isFinite(m)) return m === -Infinity ? -Infinity : Infinity;
  return m + Math.log(kahanSum(vs.map((v) => Math.exp(v - m))));
}

export function logsumexp(a: NDArray, opts: ReduceOpts = {}): NDArray {
  return reduce(a, opts, lse, floatOf(a.dtype));
}

/** Applies `f` to every 1-D lane along `dim` (same shape out). */
function alongDim(a: NDArray, dim: number, f: (lane: number[]) => number[], dtype: DType): NDArray {
  const nd = Math.max(a.ndim, 1);
  const d = normDim(dim, nd);
  if (a.ndim === 0) return new NDArray(f([a.data[0]!]), [], dtype);
  const n = a.shape[d]!;
  const outerShape = a.shape.map((s, i) => (i === d ? 1 : s));
  const out = new Float64Array(a.size);
  const strides = stridesOf(a.shape);
  for (let o = 0; o < numel(outerShape); o++) {
    const base = ravel(unravel(o, outerShape), a.shape);
    const lane: number[] = [];
    for (let i = 0; i < n; i++) lane.push(a.data[base + i * strides[d]!]!);
    const r = f(lane);
    for (let i = 0; i < n; i++) out[base + i * strides[d]!] = r[i]!;
  }
  return new NDArray(out, a.shape, dtype);
}

export function softmax(a: NDArray, opts: { dim: number }): NDArray {
  return alongDim(
    a,
    opts.dim,
    (lane) => {
      const m = lane.reduce(nanMax, -Infinity);
      const e = lane.map((v) => Math.exp(v - m));
      const s = kahanSum(e);
      return e.map((v) => v / s);
    },
    floatOf(a.dtype),
  );
}

export function logSoftmax(a: NDArray, opts: { dim: number }): NDArray {
  return alongDim(
    a,
    opts.dim,
    (lane) => {
      const l = lse(lane);
      return lane.map((v) => v - l);
    },
    floatOf(a.dtype),
  );
}

// ---------------------------------------------------------------- movement (as copies)

export function reshape(a: NDArray, shape: readonly number[]): NDArray {
  const neg1 = shape.filter((d) => d === -1).length;
  if (neg1 > 1) throw new Error('reference: more than one -1 in reshape');
  let s = [...shape];
  if (neg1 === 1) {
    const known = numel(shape.filter((d) => d !== -1));
    if (known === 0 || a.size % known !== 0) throw new Error('reference: bad reshape');
    s = shape.map((d) => (d === -1 ? a.size / known : d));
  }
  if (numel(s) !== a.size) throw new Error(`reference: cannot reshape [${a.shape.join(', ')}] to [${s.join(', ')}]`);
  return new NDArray(a.data, s, a.dtype);
}

export function flatten(a: NDArray, startDim = 0, endDim = -1): NDArray {
  if (a.ndim === 0) return reshape(a, [1]);
  const s = normDim(startDim, a.ndim);
  const e = normDim(endDim, a.ndim);
  if (s > e) throw new Error('reference: flatten startDim > endDim');
  const shape = [...a.shape.slice(0, s), numel(a.shape.slice(s, e + 1)), ...a.shape.slice(e + 1)];
  return reshape(a, shape);
}

export function permute(a: NDArray, dims: readonly number[]): NDArray {
  if (dims.length !== a.ndim) throw new Error('reference: permute needs one entry per dim');
  const p = dims.map((d) => normDim(d, a.ndim));
  if (new Set(p).size !== p.length) throw new Error('reference: repeated dim in permute');
  const shape = p.map((d) => a.shape[d]!);
  return build(shape, a.dtype, (idx) => {
    const src = new Array<number>(a.ndim);
    p.forEach((d, i) => (src[d] = idx[i]!));
    return a.at(src);
  });
}

export function transpose(a: NDArray, d0: number, d1: number): NDArray {
  if (a.ndim === 0) return a;
  const p = a.shape.map((_, i) => i);
  const x = normDim(d0, a.ndim);
  const y = normDim(d1, a.ndim);
  [p[x], p[y]] = [p[y]!, p[x]!];
  return permute(a, p);
}

/** `.T`: reverses all dims. */
export function T(a: NDArray): NDArray {
  return permute(a, a.shape.map((_, i) => a.ndim - 1 - i));
}

export function expand(a: NDArray, shape: readonly number[]): NDArray {
  const lead = shape.length - a.ndim;
  if (lead < 0) throw new Error('reference: expand to fewer dims');
  const target = shape.map((d, i) => {
    if (i < lead) {
      if (d < 0) throw new Error('reference: -1 in a new leading dim');
      return d;
    }
    const own = a.shape[i - lead]!;
    if (d === -1) return own;
    if (own !== 1 && own !== d) throw new Error('reference: bad expand');
    return d;
  });
  return build(target, a.dtype, (idx) => broadcastRead(a, idx, target));
}

export function squeeze(a: NDArray, dim?: number): NDArray {
  if (dim === undefined) return reshape(a, a.shape.filter((d) => d !== 1));
  if (a.ndim === 0) return a;
  const d = normDim(dim, a.ndim);
  if (a.shape[d] !== 1) return a;
  return reshape(a, a.shape.filter((_, i) => i !== d));
}

export function unsqueeze(a: NDArray, dim: number): NDArray {
  const d = normDim(dim, a.ndim + 1);
  const s = [...a.shape];
  s.splice(d, 0, 1);
  return reshape(a, s);
}

/** Python slice bounds for a positive step. */
export function sliceBounds(n: number, start: number, end: number | undefined, step: number): [number, number, number] {
  if (!(step > 0) || !Number.isInteger(step)) throw new Error('reference: slice step must be a positive integer');
  const clampIdx = (i: number): number => (i < 0 ? Math.max(0, i + n) : Math.min(i, n));
  const s = clampIdx(start);
  const e = end === undefined ? n : clampIdx(end);
  const len = e > s ? Math.ceil((e - s) / step) : 0;
  return [s, step, len];
}

export function slice(a: NDArray, dim: number, start: number, end?: number, step = 1): NDArray {
  const d = normDim(dim, a.ndim);
  const [s, st, len] = sliceBounds(a.shape[d]!, start, end, step);
  const shape = a.shape.map((x, i) => (i === d ? len : x));
  return build(shape, a.dtype, (idx) => {
    const src = idx.slice();
    src[d] = s + idx[d]! * st;
    return a.at(src);
  });
}

export function narrow(a: NDArray, dim: number, start: number, length: number): NDArray {
  const d = normDim(dim, a.ndim);
  const n = a.shape[d]!;
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) throw new Error('reference: narrow out of range');
  return slice(a, d, s, s + length);
}

/** torch.nn.functional.pad (constant mode): pads = [lastLeft, lastRight, prevLeft, prevRight, ...]; negative crops. */
export function pad(a: NDArray, pads: readonly number[], opts: { value?: number } = {}): NDArray {
  if (pads.length % 2 !== 0 || pads.length / 2 > a.ndim) throw new Error('reference: bad pad');
  const value = opts.value ?? 0;
  const before = a.shape.map(() => 0);
  const after = a.shape.map(() => 0);
  for (let k = 0; k < pads.length / 2; k++) {
    const d = a.ndim - 1 - k;
    before[d] = pads[2 * k]!;
    after[d] = pads[2 * k + 1]!;
  }
  const shape = a.shape.map((n, i) => n + before[i]! + after[i]!);
  if (shape.some((n) => n < 0)) throw new Error('reference: pad crops below zero');
  return build(shape, a.dtype, (idx) => {
    const src = idx.map((i, d) => i - before[d]!);
    if (src.some((i, d) => i < 0 || i >= a.shape[d]!)) return value;
    return a.at(src);
  });
}

export function flip(a: NDArray, dims: readonly number[]): NDArray {
  const ds = dims.map((d) => normDim(d, a.ndim));
  return build(a.shape, a.dtype, (idx) => a.at(idx.map((i, d) => (ds.includes(d) ? a.shape[d]! - 1 - i : i))));
}

export function cat(arrays: readonly NDArray[], opts: { dim?: number } = {}): NDArray {
  if (arrays.length === 0) throw new Error('reference: cat of nothing');
  const first = arrays[0]!;
  const d = normDim(opts.dim ?? 0, first.ndim);
  for (const x of arrays) {
    if (x.ndim !== first.ndim || x.shape.some((n, i) => i !== d && n !== first.shape[i])) {
      throw new Error('reference: cat shapes differ');
    }
  }
  let dtype = first.dtype;
  for (const x of arrays) dtype = promoteTypes(dtype, x.dtype);
  const offsets: number[] = [];
  let total = 0;
  for (const x of arrays) {
    offsets.push(total);
    total += x.shape[d]!;
  }
  const shape = first.shape.map((n, i) => (i === d ? total : n));
  return build(shape, dtype, (idx) => {
    let k = arrays.length - 1;
    while (offsets[k]! > idx[d]!) k--;
    const src = idx.slice();
    src[d] = idx[d]! - offsets[k]!;
    return arrays[k]!.at(src);
  });
}

export function stack(arrays: readonly NDArray[], opts: { dim?: number } = {}): NDArray {
  if (arrays.length === 0) throw new Error('reference: stack of nothing');
  const first = arrays[0]!;
  for (const x of arrays) if (!sameShape(x.shape, first.shape)) throw new Error('reference: stack shapes differ');
  const d = normDim(opts.dim ?? 0, first.ndim + 1);
  return cat(
    arrays.map((x) => unsqueeze(x, d)),
    { dim: d },
  );
}

/** torch.split: an int gives equal pieces (the last may be smaller); a list gives those sizes. */
export function split(a: NDArray, sizeOrSections: number | readonly number[], opts: { dim?: number } = {}): NDArray[] {
  const d = normDim(opts.dim ?? 0, a.ndim);
  const n = a.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
    if (n === 0) sizes = [0];
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((x, y) => x + y, 0) !== n) throw new Error('reference: split sizes do not sum to the dim');
  }
  const out: NDArray[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(slice(a, d, start, start + s));
    start += s;
  }
  return out;
}

/** torch.chunk: pieces of ceil(n / chunks); may return fewer than `chunks` pieces. */
export function chunk(a: NDArray, chunks: number, opts: { dim?: number } = {}): NDArray[] {
  const d = normDim(opts.dim ?? 0, a.ndim);
  const n = a.shape[d]!;
  const size = Math.ceil(n / chunks);
  return split(a, Math.max(size, 1), { dim: d });
}

// ---------------------------------------------------------------- contraction, gather

/** torch.matmul, naive, with its 1-D promotion rules and batch broadcasting. */
export function matmul(a: NDArray, b: NDArray): NDArray {
  if (a.ndim === 0 || b.ndim === 0) throw new Error('reference: matmul of a 0-d array');
  const dtype = promoteTypes(a.dtype, b.dtype);
  const A = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const B = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const m = A.shape[A.ndim - 2]!;
  const k = A.shape[A.ndim - 1]!;
  const k2 = B.shape[B.ndim - 2]!;
  const n = B.shape[B.ndim - 1]!;
  if (k !== k2) throw new Error('reference: matmul inner dims differ');
  const batch = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2));
  const Ab = expand(A, [...batch, m, k]);
  const Bb = expand(B, [...batch, k, n]);
  const nb = numel(batch);
  const out = new Float64Array(nb * m * n);
  for (let p = 0; p < nb; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += Ab.data[p * m * k + i * k + q]! * Bb.data[p * k * n + q * n + j]!;
        out[p * m * n + i * n + j] = s;
      }
    }
  }
  let shape = [...batch, m, n];
  if (a.ndim === 1) shape = shape.filter((_, i) => i !== shape.length - 2);
  if (b.ndim === 1) shape = shape.slice(0, -1);
  return new NDArray(out, shape, dtype);
}

/** torch.gather: out[i][j][k] = a[index[i][j][k]][j][k] for dim 0, etc. */
export function gather(a: NDArray, dim: number, index: NDArray): NDArray {
  const d = normDim(dim, Math.max(a.ndim, 1));
  if (index.ndim !== a.ndim) throw new Error('reference: gather index rank differs');
  for (let i = 0; i < a.ndim; i++) {
    if (i !== d && index.shape[i]! > a.shape[i]!) throw new Error('reference: gather index too large');
  }
  return build(index.shape, a.dtype, (idx, flat) => {
    const src = idx.slice();
    const j = index.data[flat]!;
    if (a.ndim === 0) return a.data[0]!;
    const n = a.shape[d]!;
    if (j < -n || j >= n) throw new Error('reference: gather index out of range');
    src[d] = j < 0 ? j + n : j;
    return a.at(src);
  });
}

export function indexSelect(a: NDArray, dim: number, index: NDArray): NDArray {
  const d = normDim(dim, a.ndim);
  if (index.ndim > 1) throw new Error('reference: indexSelect index must be 1-D');
  const n = a.shape[d]!;
  const shape = a.shape.map((s, i) => (i === d ? index.size : s));
  return build(shape, a.dtype, (idx) => {
    const src = idx.slice();
    const j = index.data[idx[d]!]!;
    if (j < 0 || j >= n) throw new Error('reference: index out of range');
    src[d] = j;
    return a.at(src);
  });
}

/**
 * torch.scatter_add: a copy of `a` with out[..index[i]..] += src[i] along dim, visiting index in
 * row-major order and rounding to the dtype after every add (as a float32 accumulator does).
 */
export function scatterAdd(a: NDArray, dim: number, index: NDArray, src: NDArray): NDArray {
  const d = normDim(dim, a.ndim);
  if (index.ndim !== a.ndim || src.ndim !== a.ndim) throw new Error('reference: scatterAdd ranks differ');
  const out = Float64Array.from(a.data);
  const n = a.shape[d]!;
  for (let flat = 0; flat < index.size; flat++) {
    const idx = unravel(flat, index.shape);
    const j = index.data[flat]!;
    if (j < 0 || j >= n) throw new Error('reference: scatterAdd index out of range');
    const at = idx.slice();
    at[d] = j;
    const o = ravel(at, a.shape);
    out[o] = coerce(out[o]! + src.at(idx), a.dtype);
  }
  return new NDArray(out, a.shape, a.dtype);
}

/** torch.index_add: out[..index[i]..] += alpha * source[..i..] along dim. */
export function indexAdd(a: NDArray, dim: number, index: NDArray, source: NDArray, alpha = 1): NDArray {
  const d = normDim(dim, a.ndim);
  const idx = new NDArray(Array.from({ length: source.size }, (_, f) => index.data[unravel(f, source.shape)[d]!]!), source.shape, 'int32');
  const scaled = new NDArray(Array.from(source.data, (v) => v * alpha), source.shape, source.dtype);
  return scatterAdd(a, d, idx, scaled);
}

export function oneHot(labels: NDArray, numClasses: number): NDArray {
  return build([...labels.shape, numClasses], 'int32', (idx) => {
    const l = labels.at(idx.slice(0, -1));
    return l === idx[idx.length - 1] ? 1 : 0;
  });
}

// ---------------------------------------------------------------- creation

export const zeros = (shape: Shape, dtype: DType = 'float32'): NDArray => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = 'float32'): NDArray => full(shape, 1, dtype);

export function full(shape: Shape, value: number, dtype: DType = 'float32'): NDArray {
  return new NDArray(new Float64Array(numel(shape)).fill(value), shape, dtype);
}

/** torch.arange: length ceil((end - start) / step); int32 if every argument is an integer. */
export function arange(start: number, end?: number, step = 1): NDArray {
  if (end === undefined) [start, end] = [0, start];
  const dtype: DType = [start, end, step].every(Number.isInteger) ? 'int32' : 'float32';
  const n = Math.max(0, Math.ceil((end - start) / step));
  return build([n], dtype, (_, i) => start + i * step);
}

/** torch.linspace: the first half counted from start, the second from end (as torch's CPU kernel). */
export function linspace(start: number, end: number, steps: number): NDArray {
  if (steps === 1) return new NDArray([start], [1]);
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  return build([steps], 'float32', (_, i) => (i < half ? start + step * i : end - step * (steps - 1 - i)));
}

export function eye(n: number, m = n, dtype: DType = 'float32'): NDArray {
  return build([n, m], dtype, ([i, j]) => (i === j ? 1 : 0));
}

// ---------------------------------------------------------------- test data

/** mulberry32: a tiny deterministic PRNG for test inputs (not Born's generator). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomOpts {
  dtype?: DType;
  lo?: number;
  hi?: number;
  /** Round values to multiples of 1/quantum, so that sums and products are exact in float32. */
  quantum?: number;
}

/** Deterministic test data: uniform in [lo, hi), integers for int32, 0/1 for bool. */
export function random(shape: Shape, seed: number, opts: RandomOpts = {}): NDArray {
  const dtype = opts.dtype ?? 'float32';
  const lo = opts.lo ?? -2;
  const hi = opts.hi ?? 2;
  const r = rng(seed);
  const n = numel(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (dtype === 'bool') out[i] = u < 0.5 ? 1 : 0;
    else if (dtype === 'int32') out[i] = Math.floor(lo + u * (hi - lo));
    else {
      const v = lo + u * (hi - lo);
      out[i] = opts.quantum ? Math.round(v * opts.quantum) / opts.quantum : v;
    }
  }
  return new NDArray(out, shape, dtype);
}
