/**
 * PyTorch's call forms, read once: positional (`x.sum(1, true)`, `x.reshape(3, 2)`,
 * `born.cat(ts, 1)`) and a trailing options object (`x.sum({ dim: 1, keepdim: true })`).
 * Plain JavaScript callers get no type checking, so a misspelt option (`{ axis: 1 }`) or an
 * argument of the wrong type is a TypeError at the call, as in PyTorch, never a silent default.
 */
import { fmt } from '../graph/errors.js';

export type Dims = number | readonly number[];
export interface ReduceOptions { dim?: Dims; keepdim?: boolean }

const describe = (v: unknown): string =>
  v === null || v === undefined ? String(v) : typeof v === 'function' ? 'a function' : Array.isArray(v) ? `an array (${JSON.stringify(v)})` : typeof v === 'object'
    ? article((v as object).constructor?.name ?? 'object') : `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
const article = (name: string): string => `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** `opts` as an options object holding only `keys` (undefined is {}); anything else is a TypeError naming the op. */
export function options<T extends object>(op: string, opts: unknown, keys: readonly (keyof T & string)[]): T {
  if (opts === undefined) return {} as T;
  if (!isPlainObject(opts)) throw new TypeError(`${op}: expected an options object { ${keys.join(', ')} }, got ${describe(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!(keys as readonly string[]).includes(k)) {
      throw new TypeError(`${op}: unknown option '${k}' (valid options: ${keys.join(', ') || 'none'})`);
    }
  }
  return opts as T;
}

/** An integer argument (a dim, a count, a size). */
export function int(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${op}: ${name} must be an integer, got ${describe(v)}`);
  return v;
}

/** An optional boolean flag (keepdim, …). */
export function flag(op: string, name: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new TypeError(`${op}: ${name} must be true or false, got ${describe(v)}`);
}

/** An optional integer argument (a start, an end, a step). */
export function optInt(op: string, name: string, v: unknown): number | undefined {
  return v === undefined ? undefined : int(op, name, v);
}

/** An optional finite number argument (beta, a fill value, …). */
export function num(op: string, name: string, v: unknown): number | undefined {
  if (v === undefined || (typeof v === 'number' && !Number.isNaN(v))) return v;
  throw new TypeError(`${op}: ${name} must be a number, got ${describe(v)}`);
}

/** An optional string argument that must be one of `allowed` (approximate: 'none' | 'tanh', …). */
export function choice<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined || (allowed as readonly unknown[]).includes(v)) return v as T | undefined;
  throw new TypeError(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
}

/**
 * Arguments given positionally or as one options object: `f(a, b)` or `f({ a, b })` (PyTorch's
 * keyword arguments). `names` are the positions' option names, in order.
 */
export function positionalOrOptions<T extends object>(op: string, args: readonly unknown[], names: readonly (keyof T & string)[]): Partial<T> {
  if (args.length === 1 && isPlainObject(args[0])) return options<Partial<T>>(op, args[0], names);
  if (args.length > names.length) throw new TypeError(`${op}: expected at most ${names.length} arguments (${names.join(', ')}), got ${args.length}`);
  const o: Record<string, unknown> = {};
  args.forEach((a, i) => { if (a !== undefined) o[names[i]!] = a; });
  return o as Partial<T>;
}

/** One dim or a list of dims, or undefined (all). */
export function dims(op: string, v: unknown): Dims | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return int(op, 'dim', v);
  if (Array.isArray(v)) return v.map((d) => int(op, 'dim', d));
  throw new TypeError(`${op}: dim must be an integer or a list of integers, got ${describe(v)}`);
}

/**
 * A reduction's arguments: `()`, `(dim)`, `(dim, keepdim)`, `([dims], keepdim)`,
 * `(dim, { keepdim, …extra })` (PyTorch's `sum(1, keepdim=True)`) or
 * `({ dim, keepdim, …extra })`. `extra` names further options the op takes (correction, …),
 * returned as given.
 */
export function reduceArgs<X extends object = object>(
  op: string, a: unknown, keepdim?: unknown, extra: readonly (keyof X & string)[] = [],
): ReduceOptions & X {
  if (isPlainObject(a)) {
    if (keepdim !== undefined) throw new TypeError(`${op}: pass keepdim inside the options object or positionally, not both`);
    const o = options<ReduceOptions & X>(op, a, ['dim', 'keepdim', ...extra]);
    return { ...o, dim: dims(op, o.dim), keepdim: flag(op, 'keepdim', o.keepdim) };
  }
  if (isPlainObject(keepdim)) {
    if (a === undefined) throw new TypeError(`${op}: with options after the dim, give the dim too (or put dim in the options)`);
    const o = options<ReduceOptions & X>(op, keepdim, ['keepdim', ...extra]);
    return { ...o, dim: dims(op, a), keepdim: flag(op, 'keepdim', o.keepdim) };
  }
  return { dim: dims(op, a), keepdim: flag(op, 'keepdim', keepdim) } as ReduceOptions & X;
}

/**
 * The arguments of a reduction over one dim that returns indices (argmax, max(dim), …):
 * `()`, `(dim)`, `(dim, keepdim)`, `(dim, { keepdim })` or `({ dim, keepdim })`. A list of dims
 * is a TypeError (PyTorch takes one dim here).
 */
export function oneDimArgs(op: string, a: unknown, keepdim?: unknown): { dim?: number; keepdim?: boolean } {
  const o = reduceArgs(op, a, keepdim);
  if (Array.isArray(o.dim)) throw new TypeError(`${op}: dim must be a single integer, got ${describe(o.dim)}`);
  return o as { dim?: number; keepdim?: boolean };
}

/** What var/std take besides dim and keepdim. */
export interface VarOptions extends ReduceOptions { correction?: number }

/**
 * var/std's arguments, PyTorch's forms: `()`, `(dim)`, `(dim, unbiased)`,
 * `(dim, unbiased, keepdim)`, `(dim, { correction, keepdim })`, `({ dim, correction, keepdim })`.
 * A positional boolean after the dim is PyTorch's `unbiased` (correction 1 or 0), not keepdim.
 */
export function varArgs(op: string, a: unknown, b?: unknown, c?: unknown): VarOptions {
  let o: VarOptions;
  if (typeof b === 'boolean' || (b === undefined && c !== undefined)) {
    if (isPlainObject(a)) throw new TypeError(`${op}: pass unbiased/keepdim inside the options object or positionally, not both`);
    o = { dim: dims(op, a), correction: b === false ? 0 : 1, keepdim: flag(op, 'keepdim', c) };
  } else {
    if (c !== undefined) throw new TypeError(`${op}: expected (dim, unbiased, keepdim) or (dim, { correction, keepdim }), got a third argument after ${describe(b)}`);
    if (b !== undefined && !isPlainObject(b)) {
      throw new TypeError(`${op}: after the dim, expected unbiased (true or false) or an options object { correction, keepdim }, got ${describe(b)}`);
    }
    o = reduceArgs<{ correction?: number }>(op, a, b, ['correction']);
  }
  if (o.correction !== undefined && (typeof o.correction !== 'number' || !Number.isFinite(o.correction))) {
    throw new TypeError(`${op}: correction must be a number, got ${describe(o.correction)}`);
  }
  return o;
}

/** A single dim given positionally or as `{ dim }`; `fallback` when absent. */
export function dimArg(op: string, a: unknown, fallback: number): number;
export function dimArg(op: string, a: unknown, fallback?: number): number | undefined;
export function dimArg(op: string, a: unknown, fallback?: number): number | undefined {
  const d = isPlainObject(a) ? options<{ dim?: number }>(op, a, ['dim']).dim : a;
  return d === undefined ? fallback : int(op, 'dim', d);
}

/** A shape given as a list (`reshape([3, 2])`) or as integers (`reshape(3, 2)`, `view(-1)`). */
export function shapeArgs(op: string, args: readonly unknown[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] as unknown[] : args;
  if (args.length === 0 || (args.length > 1 && args.some((a) => typeof a !== 'number'))) {
    throw new TypeError(`${op}: expected a shape as a list of integers or as integer arguments, got ${args.map(describe).join(', ') || 'nothing'}`);
  }
  return list.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d)) throw new TypeError(`${op}: sizes must be integers, got ${describe(d)} in ${fmt(list as number[])}`);
    return d;
  });
}

/**
 * A list of integers given as a list (`permute([1, 0])`, `flip([0])`) or as integer arguments
 * (`permute(1, 0)`, `flip(0)`); `name` is what they are (dims, sizes) for the error.
 */
export function intList(op: string, name: string, args: readonly unknown[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? args[0] as unknown[] : args;
  if (args.length > 1 && args.some((a) => typeof a !== 'number')) {
    throw new TypeError(`${op}: expected ${name} as a list of integers or as integer arguments, got ${args.map(describe).join(', ')}`);
  }
  return list.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new TypeError(`${op}: ${name} must be integers, got ${describe(d)}${args.length === 1 && Array.isArray(args[0]) ? ` in ${JSON.stringify(list)}` : ''}`);
    }
    return d;
  });
}

/**
 * A shape followed by an optional options object, as creation functions take it:
 * `zeros([2, 3], opts)` or `zeros(2, 3, opts)`.
 */
export function shapeThenOptions<O>(op: string, args: readonly unknown[]): [number[], O | undefined] {
  const last = args[args.length - 1];
  const hasOpts = args.length > 0 && isPlainObject(last);
  return [shapeArgs(op, hasOpts ? args.slice(0, -1) : args), hasOpts ? last as O : undefined];
}

export { describe as describeArg };
