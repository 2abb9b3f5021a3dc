/**
 * Command-line flags of `born train` and `born eval`: parsing (node:util parseArgs) and the checks
 * that run before any work, so a bad value fails at once, naming the flag, instead of after the
 * data has loaded (or, for a learning rate, never, training on NaN).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags every command takes. */
export const HELP_FLAGS = {
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const satisfies Options;

type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: typeof HELP_FLAGS & O; strict: true; allowPositionals: false }>>;

/** parseArgs in strict mode, with its errors (unknown flag, missing value) as UsageErrors. */
export function parse<O extends Options>(command: string, argv: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: argv, options: { ...HELP_FLAGS, ...options }, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError(`born ${command}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A flag's value as a number; NaN when absent or blank (Number('') would be 0). */
const numberOf = (s: string | undefined): number => (s === undefined || s.trim() === '' ? NaN : Number(s));

/** An integer flag, at least `min`. */
export function intFlag(command: string, name: string, s: string | undefined, min: number): number {
  const v = numberOf(s);
  if (!Number.isSafeInteger(v) || v < min) {
    throw new UsageError(`born ${command}: --${name} must be an integer >= ${min}, got '${s ?? ''}'`);
  }
  return v;
}

/** A finite number flag, greater than 0. */
export function positiveFlag(command: string, name: string, s: string | undefined): number {
  const v = numberOf(s);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`born ${command}: --${name} must be a number > 0, got '${s ?? ''}'`);
  return v;
}
