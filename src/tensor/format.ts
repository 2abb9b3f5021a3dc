/**
 * Printing tensors the way PyTorch does (torch/_tensor_str.py with its default print options):
 * precision 4, fixed or scientific notation chosen from the range of the finite non-zero values,
 * integer-valued floats as `1.`, more than 1000 elements summarised with `...` and 3 edge items
 * per dim, lines wrapped at 80 columns. `format` computes the tensor; `inspect` (console.log)
 * never does: inspection is synchronous, so it shows values only of a tensor already computed.
 */
import type { InspectOptions } from 'node:util';
import { fromBfloat16Bits, fromFloat16Bits, isFloat, type DType } from '../graph/dtype.js';
import { numel } from '../graph/shape.js';
import type { Buffer } from '../scheduler/buffers.js';
import type { Tensor } from './tensor.js';

/** PyTorch's default print options (torch.set_printoptions(profile='default')). */
export const PRINT_OPTIONS = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 } as const;

/** Element i (row-major) of the values being printed. */
type Get = (i: number) => number | bigint | boolean;

// ---- number formatting with Python's rounding ----

/**
 * Python's '{:.pf}' / '{:.pe}' round the exact binary value half to even; JavaScript's toFixed /
 * toExponential round an exact tie away from zero. The two differ only on exact ties (0.03125 at
 * 4 digits), which a longer expansion shows as a 5 followed by zeros.
 */
function tieToEven(x: number, p: number, sci: boolean): string | null {
  const long = sci ? Math.abs(x).toExponential(p + 25) : Math.abs(x).toFixed(p + 25);
  const mantissa = sci ? long.slice(0, long.indexOf('e')) : long;
  if (!/50{24}$/.test(mantissa)) return null;
  const kept = mantissa.slice(0, mantissa.length - 25);
  if (Number(kept.replace('.', '').slice(-1)) % 2 !== 0) return null; // odd: rounding up (JS's way) is to even
  const body = kept.endsWith('.') ? kept.slice(0, -1) : kept;
  return (x < 0 || Object.is(x, -0) ? '-' : '') + body + (sci ? long.slice(long.indexOf('e')) : '');
}

const nonFinite = (x: number): string | null =>
  Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : null;

/** Python's '{:.pf}'.format(x). */
export function pyFixed(x: number, p: number): string {
  const nf = nonFinite(x);
  if (nf) return nf;
  const s = tieToEven(x, p, false) ?? x.toFixed(p);
  return Object.is(x, -0) && !s.startsWith('-') ? '-' + s : s;
}

/** Python's '{:.pe}'.format(x): exponent with a sign and at least two digits. */
export function pyExp(x: number, p: number): string {
  const nf = nonFinite(x);
  if (nf) return nf;
  const s = tieToEven(x, p, true) ?? (Object.is(x, -0) ? '-' : '') + x.toExponential(p);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

// ---- torch's _Formatter ----

class Formatter {
  intMode = true;
  sciMode = false;
  width = 1;

  /** `values` are the elements that get printed (the summarised edges of a large tensor). */
  constructor(readonly floating: boolean, values: readonly (number | bigint | boolean)[]) {
    const p = PRINT_OPTIONS.precision;
    if (!floating) {
      for (const v of values) this.width = Math.max(this.width, scalarText(v).length);
      return;
    }
    const nz = (values as number[]).filter((v) => Number.isFinite(v) && v !== 0);
    if (nz.length === 0) return;
    let min = Infinity, max = 0;
    for (const v of nz) { const a = Math.abs(v); if (a < min) min = a; if (a > max) max = a; }
    this.intMode = nz.every((v) => v === Math.ceil(v));
    if (max / min > 1000 || max > 1e8 || (!this.intMode && min < 1e-4)) {
      this.sciMode = true;
      for (const v of nz) this.width = Math.max(this.width, pyExp(v, p).length);
    } else if (this.intMode) {
      for (const v of nz) this.width = Math.max(this.width, pyFixed(v, 0).length + 1);
    } else {
      for (const v of nz) this.width = Math.max(this.width, pyFixed(v, p).length);
    }
  }

  format(v: number | bigint | boolean): string {
    let s: string;
    if (!this.floating) s = scalarText(v);
    else {
      const x = v as number;
      if (this.sciMode) s = pyExp(x, PRINT_OPTIONS.precision);
      else if (this.intMode) s = pyFixed(x, 0) + (Number.isFinite(x) ? '.' : '');
      else s = pyFixed(x, PRINT_OPTIONS.precision);
    }
    return ' '.repeat(Math.max(0, this.width - s.length)) + s;
  }
}

const scalarText = (v: number | bigint | boolean): string =>
  typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);

// ---- layout (torch's _tensor_str_with_formatter, _vector_str, get_summarized_data) ----

const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
};

/** The indices printed along a dim of size n: all, or the edges when summarising. */
function shown(n: number, summarize: boolean): { head: number[]; tail: number[] } {
  const e = PRINT_OPTIONS.edgeitems;
  if (summarize && n > 2 * e) return { head: range(0, e), tail: range(n - e, n) };
  return { head: range(0, n), tail: [] };
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

/** The flat indices of every printed element, in order. */
function printedIndices(shape: readonly number[], summarize: boolean): number[] {
  const st = strides(shape);
  const out: number[] = [];
  const walk = (dim: number, off: number): void => {
    if (dim === shape.length) { out.push(off); return; }
    const { head, tail } = shown(shape[dim]!, summarize);
    for (const i of [...head, ...tail]) walk(dim + 1, off + i * st[dim]!);
  };
  walk(0, 0);
  return out;
}

function body(shape: readonly number[], get: Get, fmt: Formatter, indent: number, summarize: boolean): string {
  const st = strides(shape);
  const rec = (dim: number, off: number, ind: number): string => {
    const { head, tail } = shown(shape[dim]!, summarize);
    const rest = shape.length - dim;
    if (rest === 1) {
      const items = head.map((i) => fmt.format(get(off + i)));
      if (tail.length) items.push(' ...', ...tail.map((i) => fmt.format(get(off + i))));
      const perLine = Math.max(1, Math.floor((PRINT_OPTIONS.linewidth - ind) / (fmt.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(ind + 1)) + ']';
    }
    const parts = head.map((i) => rec(dim + 1, off + i * st[dim]!, ind + 1));
    if (tail.length) parts.push('...', ...tail.map((i) => rec(dim + 1, off + i * st[dim]!, ind + 1)));
    return '[' + parts.join(',' + '\n'.repeat(rest - 1) + ' '.repeat(ind + 1)) + ']';
  };
  return rec(0, 0, indent);
}

/** torch's _add_suffixes: `, suffix` on the last line while it fits in 80 columns. */
function withSuffixes(text: string, suffixes: readonly string[], indent: number): string {
  let out = text;
  let last = text.length - text.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (last + s.length + 2 > PRINT_OPTIONS.linewidth) {
      out += ',\n' + ' '.repeat(indent) + s;
      last = indent + s.length;
    } else {
      out += ', ' + s;
      last += s.length + 2;
    }
  }
  return out + ')';
}

/** What is printed about a tensor besides its values. */
export interface Described {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly requiresGrad: boolean;
}

/**
 * The text of torch's str(t) for the values `get` of a tensor described by `t` (dtype names
 * without `torch.`). With `full`, the suffixes name shape, dtype and device always (console.log).
 */
export function formatValues(t: Described, get: Get, full?: { device: string }): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const n = numel(t.shape);
  const suffixes: string[] = [];
  let text: string;
  // PyTorch names the dtype unless it is a default one (float32; and int64, bool when not
  // empty), and the size of an empty tensor unless it is 1-d.
  const showDType = n === 0 ? t.dtype !== 'float32' : !['float32', 'int64', 'bool'].includes(t.dtype);
  if (full) suffixes.push(`shape=[${t.shape.join(', ')}]`, `dtype=${t.dtype}`, `device=${full.device}`);
  if (n === 0) {
    if (!full && t.shape.length !== 1) suffixes.push(`size=(${t.shape.join(', ')})`);
    if (!full && showDType) suffixes.push(`dtype=${t.dtype}`);
    text = '[]';
  } else {
    if (!full && showDType) suffixes.push(`dtype=${t.dtype}`);
    const summarize = n > PRINT_OPTIONS.threshold;
    const f = new Formatter(isFloat(t.dtype), printedIndices(t.shape, summarize).map(get));
    text = t.shape.length === 0 ? f.format(get(0)) : body(t.shape, get, f, indent, summarize);
  }
  if (t.requiresGrad) suffixes.push('requires_grad=True');
  return withSuffixes(prefix + text, suffixes, indent);
}

/** An element getter over storage as the device holds it (half types as bits, bool as bytes). */
export function getter(dtype: DType, storage: ArrayLike<number | bigint>): Get {
  switch (dtype) {
    case 'float16': return (i) => fromFloat16Bits(storage[i] as number);
    case 'bfloat16': return (i) => fromBfloat16Bits(storage[i] as number);
    case 'bool': return (i) => storage[i] !== 0;
    default: return (i) => storage[i]!;
  }
}

/** Computes `t` and returns PyTorch's str() of it: `tensor([[1.0000, 2.0000], …])`. */
export async function format(t: Tensor): Promise<string> {
  const data = await t.data() as ArrayLike<number | bigint>;
  // data() has already widened half types to float32.
  const dtype = t.dtype === 'float16' || t.dtype === 'bfloat16' ? 'float32' : t.dtype;
  return formatValues(t, getter(dtype, data));
}

/**
 * What console.log / util.inspect show: for a computed tensor, its values as `format` prints them,
 * followed by shape, dtype and device; for a lazy one, that it is not computed yet. Never computes.
 */
export function inspect(t: Tensor, _depth?: number, _options?: InspectOptions): string {
  const head = `shape=[${t.shape.join(', ')}], dtype=${t.dtype}, device=${t.device}`;
  const node = t.node;
  if (node.disposed) return `Tensor(${head}, disposed)`;
  const buf = node.arg.kind === 'store' ? null : node.realized as Buffer | null;
  if (!buf) return `Tensor(${head}, not computed yet: await t.print() or t.data() computes it)`;
  if (buf.ready) return `Tensor(${head}, being computed: await t.print() or t.data() for the values)`;
  const storage = buf.dev.peek?.(buf.buf, t.dtype, numel(t.shape)) as ArrayLike<number | bigint> | undefined;
  if (!storage) return `Tensor(${head}, on ${buf.device}: await t.print() reads the values)`;
  const desc = { shape: t.shape, dtype: t.dtype, requiresGrad: t.requiresGrad };
  return formatValues(desc, getter(t.dtype, storage), { device: t.device });
}
