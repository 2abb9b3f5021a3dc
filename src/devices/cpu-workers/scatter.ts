/**
 * The JS printer of scatter-add kernels (kernel/ir.ts ScatterSpec), and of the index checks every
 * kernel with data-dependent index reads carries.
 *
 * A scatter kernel runs over ranges of destination rows (the output's dim `axis`): a range first
 * writes the base into the rows it owns, then scans the whole index in row-major order and adds
 * only the values whose target row it owns. No two threads write the same element, and each
 * element receives its terms in the index's order, so a sum is the same for any number of
 * threads. Scanning costs every range one read of the index; the target is evaluated at the
 * outermost loop level its coordinates allow (an embedding's index once per token, not once per
 * token and feature), so the scan is O(tokens) per range and the adds O(tokens x dim) overall.
 */
import { contiguousStrides, numel } from '../../graph/shape.js';
import { partsOf, type ExprRef, type Kernel, type Scalar } from '../../kernel/ir.js';
import { loadJs, num, storeJs } from './js-values.js';

/** The name a kernel's error record is bound to. */
export const ERR = 'err_';

/**
 * Source of the index-check helpers, added to kernels that check indices. An undefined value is
 * an index read outside its buffer under a padding mask, whose value is never used: no error.
 * The compare-exchange lets only the first violating thread write the value.
 */
export const indexCheckJs = String.raw`
function bad_(v, id, err) {
  if (v === undefined || Atomics.compareExchange(err, 0, 0, id) !== 0) return;
  err[1] = v < -2147483648 ? -2147483648 : v > 2147483647 ? 2147483647 : Number(v);
}
function ix_(v, hi, id, err) {
  if (v >= 0 && v < hi) return Number(v) | 0;
  bad_(v, id, err);
  return 0;
}
`;

/** What the scatter printer needs of codegen's scalar printer (statement mode). */
export interface Printer {
  readonly lines: string[];
  print(s: Scalar): string;
}

/** The loop variables a scalar reads. */
export function scalarVars(s: Scalar): Set<string> {
  const out = new Set<string>();
  const walk = (e: ExprRef): void => {
    if ('index' in e && e.index.k === 'var') out.add(e.index.name);
    const { scalars, indices } = partsOf(e);
    for (const x of scalars) walk({ scalar: x });
    for (const x of indices) walk({ index: x });
  };
  walk({ scalar: s });
  return out;
}


/** The body of `function (b, start, end)` over destination rows [start, end), and its row count. */
export function scatter(k: Kernel, printer: (prefix: string) => Printer): { body: string; units: number } {
  const sc = k.scatter;
  if (!sc) throw new Error(`internal: kernel ${k.name} is not a scatter`);
  const shape = k.loop, axis = sc.axis;
  const rows = shape[axis]!;
  const strides = contiguousStrides(shape);
  const inner = numel(shape.slice(axis + 1));
  const lines: string[] = [];

  // 1. The base, over the owned rows.
  if (k.value.k === 'const' && numel(shape.slice(0, axis)) === 1) {
    lines.push(`out.fill(${storeJs(k.out.dtype, num(k.value.value))}, start * ${inner}, end * ${inner});`);
  } else {
    const base = printer('e');
    const v = base.print(k.value);
    shape.forEach((d, i) => lines.push(i === axis
      ? `for (let o${i} = start; o${i} < end; o${i}++) {`
      : `for (let o${i} = 0; o${i} < ${d}; o${i}++) {`));
    const flat = shape.map((_, i) => `o${i} * ${strides[i]}`).join(' + ') || '0';
    lines.push(...base.lines, `out[${flat}] = ${storeJs(k.out.dtype, v)};`, ...shape.map(() => '}'));
  }

  // 2. The scan: loops over the index's non-unit dims, the target hoisted to the outermost level
  // where all its coordinates are bound.
  const loops = sc.space.flatMap((d, i) => (d === 1 ? [] : [i]));
  const used = scalarVars(sc.target);
  let level = 0; // the number of loops opened before the target is computed
  loops.forEach((d, j) => { if (used.has(`s${d}`)) level = j + 1; });
  const target = printer('x');
  const t = target.print(sc.target);
  const added = printer('v');
  const v = added.print(sc.src);
  const skip = level === 0 ? 'break scan;' : 'continue;';
  const atTarget = [
    ...target.lines,
    `const tt = ${t};`,
    `if (!(tt >= 0 && tt < ${rows})) { bad_(tt, ${sc.check + 1}, ${ERR}); ${skip} }`,
    `if (tt < start || tt >= end) ${skip}`,
  ];
  const dest = shape.map((_, i) => (i === axis ? `tt * ${strides[i]}` : sc.space[i] === 1 ? '' : `s${i} * ${strides[i]}`))
    .filter((e) => e !== '').join(' + ');
  lines.push('scan: {');
  if (level === 0) lines.push(...atTarget);
  loops.forEach((d, j) => {
    lines.push(`for (let s${d} = 0; s${d} < ${sc.space[d]}; s${d}++) {`);
    if (j + 1 === level) lines.push(...atTarget);
  });
  // Through the dtype's storage (half types are bits, int64 a BigInt), as every other kernel stores.
  const dt = k.out.dtype;
  const add = dt === 'float32' || dt === 'float64' || dt === 'int32'
    ? `out[${dest}] += ${v};`
    : `{ const d_ = ${dest}; out[d_] = ${storeJs(dt, `${loadJs('out[d_]', dt)} + ${v}`)}; }`;
  lines.push(...added.lines, add, ...loops.map(() => '}'), '}');
  return { body: lines.join('\n'), units: rows };
}
