/**
 * Loop forms of reduction kernels that keep the memory walk and the floating-point pipeline busy:
 * a column reduction streams blocks of contiguous outputs row by row (several rows per pass over
 * the block), and a row sum keeps independent accumulators. codegen.ts dispatches to them and
 * falls back to its plain forms where they do not apply (null).
 */
import { reduceIdentity, type ReduceOp } from '../../graph/ops.js';
import type { Kernel, Scalar } from '../../kernel/ir.js';
import { num, storeJs } from './js-values.js';
import { combineInto, outAt, ScalarPrinter, unravelOutput } from './codegen.js';

/**
 * Outputs a column block holds: 4 KiB of float32 per input row, so each pass reads whole pages;
 * measured here against 256 and 512 (the accumulators stay in L1 either way).
 */
export const COLUMN_BLOCK_WIDTH = 1024;
/** Below this many outputs along the loop's last dim the block would be too narrow to stream. */
export const MIN_BLOCK_WIDTH = 16;
/** Consecutive terms of the innermost reduced dim handled per pass (column blocks and row sums). */
export const UNROLL = 8;

/** One printed term of the reduction at r{j} + t: its statements and its value. */
interface Term { readonly lines: readonly string[]; readonly v: string }

/**
 * The term of `value` at offset `t` of reduced dim `j`: printed with its own names (prefix
 * t{t}_), and reading r{j}_{t} (declared by the caller as r{j} + t) where it reads r{j}.
 */
function term(value: Scalar, j: number, t: number): Term {
  const p = new ScalarPrinter(false, (i) => `b${i}`, `t${t}_`);
  const v = p.print(value);
  if (t === 0) return { lines: p.lines, v };
  // Loop variables are the only identifiers of the form r<digits> in printed code.
  const re = new RegExp(`\\br${j}\\b`, 'g');
  const at = `r${j}_${t}`;
  return { lines: p.lines.map((l) => l.replace(re, at)), v: v.replace(re, at) };
}

const offsets = (j: number, n: number): string[] =>
  Array.from({ length: n - 1 }, (_, t) => `const r${j}_${t + 1} = r${j} + ${t + 1};`);

/** Non-unit reduced dims as [size, index]; the last is the innermost loop. */
const reducedLoops = (k: Kernel): (readonly [number, number])[] =>
  k.reduce!.dims.map((d, j) => [d, j] as const).filter(([d]) => d !== 1);

/**
 * A column reduction (Kernel.reduce.inner false) over blocks of up to COLUMN_BLOCK_WIDTH outputs
 * adjacent along the loop's last dim: the other output coordinates are unravelled once per
 * block, the reduced coordinates loop outside, and the innermost loop walks the block, so its
 * loads are contiguous and its index needs no division. UNROLL rows are combined per pass into
 * each accumulator, in row order, so every output combines its terms in exactly the order of the
 * plain forms (identical results for every op, NaN and signed zeros included).
 */
export function columnBlocks(k: Kernel): string | null {
  const red = k.reduce!;
  const dims = k.loop.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const loops = reducedLoops(k);
  if (!dims.length || !loops.length || k.loop.length === 0) return null;
  const [lastD, lastI] = dims[dims.length - 1]!;
  if (lastD < MIN_BLOCK_WIDTH) return null;
  const [ud, uj] = loops[loops.length - 1]!;
  if (ud === 0) return null;
  const u = Math.min(UNROLL, ud);
  const ol = `o${lastI}`;
  const outer = new ScalarPrinter(false, (i) => `b${i}`, 'e');
  const result = outer.print(k.value);
  const at = outAt(k, outer);
  const pass = (terms: readonly Term[]): string[] => [
    'for (let c = 0; c < w; c++) {',
    `const ${ol} = ${ol}_ + c;`,
    ...terms.flatMap((t) => t.lines),
    'let a = accs[c];',
    ...terms.map((t) => combineInto(red.op, 'a', t.v, red.value.dtype)),
    'accs[c] = a;',
    '}',
  ];
  const unrolled = Array.from({ length: u }, (_, t) => term(red.value, uj, t));
  const single = u === 1 ? unrolled : [term(red.value, uj, 0)];
  return [
    `const accs = new Float64Array(${Math.min(COLUMN_BLOCK_WIDTH, lastD)});`,
    'for (let i0 = start; i0 < end;) {',
    ...unravelOutput(k.loop, 'i0', false),
    `const w = Math.min(end - i0, ${lastD} - ${ol}, ${COLUMN_BLOCK_WIDTH});`,
    `const ${ol}_ = ${ol};`,
    `accs.fill(${num(reduceIdentity[red.op])}, 0, w);`,
    ...loops.slice(0, -1).map(([d, j]) => `for (let r${j} = 0; r${j} < ${d}; r${j}++) {`),
    `let r${uj} = 0;`,
    `for (; r${uj} + ${u} <= ${ud}; r${uj} += ${u}) {`,
    ...offsets(uj, u),
    ...pass(unrolled),
    '}',
    `for (; r${uj} < ${ud}; r${uj}++) {`,
    ...pass(single),
    '}',
    ...loops.slice(0, -1).map(() => '}'),
    'for (let c = 0; c < w; c++) {',
    `const ${ol} = ${ol}_ + c;`,
    'const i = i0 + c;',
    'const acc = accs[c];',
    ...outer.lines,
    `out[${at}] = ${storeJs(k.out.dtype, result)};`,
    '}',
    'i0 += w;',
    '}',
  ].join('\n');
}

/** Ops whose row form gains from independent accumulators; the others keep one, in order. */
const SPLIT_ACCUMULATORS: ReadonlySet<ReduceOp> = new Set(['sum']);

/**
 * Row sums whose term takes more statements than this (a fused gelu chain) keep one accumulator:
 * their adds do not wait on each other's latency anyway, and eight copies of the term measured
 * slower here (the gelu chain bench, about 1.4x).
 */
const CHEAP_TERM_LINES = 2;

/** The pairwise sum of accumulator names, as one expression. */
function pairwise(names: readonly string[]): string {
  if (names.length === 1) return names[0]!;
  const h = names.length >> 1;
  return `(${pairwise(names.slice(0, h))} + ${pairwise(names.slice(h))})`;
}

/**
 * A row sum (Kernel.reduce.inner) with UNROLL accumulators over its innermost reduced dim, so
 * consecutive adds do not wait on each other; they are added pairwise at the end. The order of
 * summation differs from one accumulator's by float64 rounding only (float32 sums accumulate
 * in float64 either way). Null for other ops, short innermost dims and costly terms.
 */
export function rowSum(k: Kernel): string | null {
  const red = k.reduce!;
  if (!SPLIT_ACCUMULATORS.has(red.op)) return null;
  const loops = reducedLoops(k);
  if (!loops.length) return null;
  const [ud, uj] = loops[loops.length - 1]!;
  if (ud < UNROLL) return null;
  const single = term(red.value, uj, 0);
  if (single.lines.length > CHEAP_TERM_LINES) return null;
  const outer = new ScalarPrinter(false, (i) => `b${i}`, 'e');
  const result = outer.print(k.value);
  const at = outAt(k, outer);
  const unrolled = Array.from({ length: UNROLL }, (_, t) => term(red.value, uj, t));
  const accs = unrolled.map((_, t) => `acc${t}`);
  return [
    'for (let i = start; i < end; i++) {',
    ...unravelOutput(k.loop, 'i', false),
    `let ${accs.map((a) => `${a} = 0`).join(', ')};`,
    ...loops.slice(0, -1).map(([d, j]) => `for (let r${j} = 0; r${j} < ${d}; r${j}++) {`),
    `let r${uj} = 0;`,
    `for (; r${uj} + ${UNROLL} <= ${ud}; r${uj} += ${UNROLL}) {`,
    ...offsets(uj, UNROLL),
    ...unrolled.flatMap((t) => t.lines),
    ...unrolled.map((t, i) => `acc${i} += ${t.v};`),
    '}',
    `for (; r${uj} < ${ud}; r${uj}++) {`,
    ...single.lines,
    `acc0 += ${single.v};`,
    '}',
    ...loops.slice(0, -1).map(() => '}'),
    `const acc = ${pairwise(accs)};`,
    ...outer.lines,
    `out[${at}] = ${storeJs(k.out.dtype, result)};`,
    '}',
  ].join('\n');
}
