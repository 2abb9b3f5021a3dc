/**
 * PyTorch's positional call forms for the spatial functions: `conv1d(x, w, b, 2, 1)`,
 * `pad(x, [1, 1], 'reflect')`, `maxPool1d(x, 3, 2)` read the same as the options forms
 * (`conv1d(x, w, b, { stride: 2, padding: 1 })`). A trailing options object may follow the
 * positional arguments; naming one option both ways is a TypeError.
 */
import { isPlainObject, options } from '../tensor/args.js';

/**
 * The options of `op` from `args` (what follows the fixed arguments): positional values in the
 * order of `names`, then an optional options object holding any of `names`.
 */
export function spatialArgs<T extends object>(op: string, args: readonly unknown[], names: readonly (keyof T & string)[]): T {
  const last = args[args.length - 1];
  const hasOpts = args.length > 0 && (isPlainObject(last) || last === undefined);
  const given = hasOpts ? args.slice(0, -1) : args;
  if (given.length > names.length) throw new TypeError(`${op}: expected at most ${names.length} positional arguments after the inputs (${names.join(', ')}), got ${given.length}`);
  const o = { ...options<T>(op, hasOpts ? last : undefined, names) } as Record<string, unknown>;
  given.forEach((v, i) => {
    const name = names[i]!;
    if (v === undefined) return;
    if (o[name] !== undefined) throw new TypeError(`${op}: ${name} given both positionally and in the options object`);
    o[name] = v;
  });
  return o as T;
}
