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
  v === null ? 'null' : Array.isArray(v) ? `an array (${JSON.stringify(v)})` : typeof v === 'object'
    ? `a ${(v as object).constructor?.name ?? 'object'}` : `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;

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

/** One dim or a list of dims, or undefined (all). */
export function dims(op: string, v: unknown): Dims | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return int(op, 'dim', v);
  if (Array.isArray(v)) return v.map((d) => int(op, 'dim', d));
  throw new TypeError(`${op}: dim must be an integer or a list of integers, got ${describe(v)}`);
}

/**
 * A reduction's arguments: `()`, `(dim)`, `(dim, keepdim)`, `([dims], keepdim)` or
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
  return { dim: dims(op, a), keepdim: flag(op, 'keepdim', keepdim) } as ReduceOptions & X;
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
 * A shape followed by an optional options object, as creation functions take it:
 * `zeros([2, 3], opts)` or `zeros(2, 3, opts)`.
 */
export function shapeThenOptions<O>(op: string, args: readonly unknown[]): [number[], O | undefined] {
  const last = args[args.length - 1];
  const hasOpts = args.length > 0 && isPlainObject(last);
  return [shapeArgs(op, hasOpts ? args.slice(0, -1) : args), hasOpts ? last as O : undefined];
}

export { describe as describeArg };
