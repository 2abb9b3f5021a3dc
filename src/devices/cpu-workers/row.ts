/**
 * The JS printer of per-row kernels (kernel/ir.ts RowSpec): scans and stable argsorts over the
 * last dim. A thread owns whole rows [start, end): it reads a row's inputs into a scratch array
 * (the fused source expression, evaluated once per element), then scans or sorts it and writes
 * the output row contiguously. Nothing is shared between rows, so any split is exact.
 */
import type { DType } from '../../graph/dtype.js';
import { numel } from '../../graph/shape.js';
import type { Kernel } from '../../kernel/ir.js';
import { storeJs } from './js-values.js';
import type { Printer } from './scatter.js';

/** `acc <op>= v` for a scan of dtype `d`: integers wrap as PyTorch's do, floats accumulate in float64. */
function step(op: 'cumsum' | 'cumprod', d: DType, v: string): string {
  if (d === 'int32') return op === 'cumsum' ? `acc = (acc + ${v}) | 0;` : `acc = Math.imul(acc, ${v});`;
  const sym = op === 'cumsum' ? '+' : '*';
  switch (d) {
    case 'int16': return `acc = ((acc ${sym} ${v}) << 16) >> 16;`;
    case 'int8': return `acc = ((acc ${sym} ${v}) << 24) >> 24;`;
    case 'uint8': case 'bool': return `acc = (acc ${sym} ${v}) & 255;`;
    default: return `acc = acc ${sym} ${v};`;
  }
}

/**
 * The comparison of two row positions a, b (values in `row`): NaN above everything, then the
 * position, which makes the sort stable.
 */
function comparator(descending: boolean): string {
  const [lo, hi] = descending ? ['1', '-1'] : ['-1', '1'];
  return [
    '(a, b) => {',
    'const x = row[a], y = row[b];',
    `if (x < y) return ${lo};`,
    `if (x > y) return ${hi};`,
    'const nx = x !== x, ny = y !== y;',
    `if (nx !== ny) return nx ? ${hi} : ${lo};`,
    'return a - b;',
    '}',
  ].join(' ');
}

/** The body of `function (b, start, end)` over rows [start, end), and the row count. */
export function rowKernel(k: Kernel, printer: (prefix: string) => Printer): { body: string; units: number } {
  const spec = k.row;
  if (!spec) throw new Error(`internal: kernel ${k.name} is not a per-row kernel`);
  const shape = k.loop;
  const last = shape.length - 1;
  const n = spec.n;
  const rows = n === 0 ? 0 : numel(shape) / n;
  const p = printer('e');
  const v = p.print(k.value);
  // The outer coordinates o0..o{last-1} of row `r`, row-major; size-1 dims print as 0 already.
  const unravel: string[] = ['let t_ = r;'];
  for (let i = last - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    unravel.push(`const o${i} = t_ % ${shape[i]}; t_ = (t_ - o${i}) / ${shape[i]};`);
  }
  const ol = `o${last}`;
  const readRow = [
    `for (let ${ol} = 0; ${ol} < ${n}; ${ol}++) {`,
    ...p.lines,
    `row[${ol}] = ${v};`,
    '}',
  ];
  const lines: string[] = [];
  const d = k.out.dtype;
  if (spec.op === 'cumsum' || spec.op === 'cumprod') {
    lines.push(
      `const row = new Float64Array(${n});`,
      'for (let r = start; r < end; r++) {',
      ...unravel,
      ...readRow,
      `let acc = ${spec.op === 'cumsum' ? 0 : 1};`,
      `for (let j = 0; j < ${n}; j++) {`,
      step(spec.op, d, 'row[j]'),
      `out[r * ${n} + j] = ${storeJs(d, 'acc')};`,
      '}',
      '}',
    );
  } else {
    lines.push(
      `const row = new Float64Array(${n});`,
      `const ix = new Array(${n});`,
      `const cmp = ${comparator(spec.op === 'argsortDescending')};`,
      'for (let r = start; r < end; r++) {',
      ...unravel,
      ...readRow,
      `for (let j = 0; j < ${n}; j++) ix[j] = j;`,
      'ix.sort(cmp);',
      `for (let j = 0; j < ${n}; j++) out[r * ${n} + j] = ix[j];`,
      '}',
    );
  }
  return { body: lines.join('\n'), units: rows };
}
