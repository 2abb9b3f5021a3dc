/**
 * The JS printer of per-row kernels (kernel/ir.ts RowSpec): scans and stable argsorts over the
 * last dim. A thread owns whole rows [start, end): it reads a row's inputs into a scratch array
 * (the fused source expression, evaluated once per element), then scans or sorts it and writes
 * the output row contiguously. Nothing is shared between rows, so any split is exact.
 */
import type { DType } from '../../graph/dtype.js';
import { numel } from '../../graph/shape.js';
import type { Kernel } from '../../kernel/ir.js';
import { castJs } from './codegen.js';
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
 * The comparison of two row positions p, q (their values in `row`; `b` names the kernel's
 * buffers): NaN above everything, then the position, which makes the sort stable.
 */
function comparator(descending: boolean): string {
  const [lo, hi] = descending ? ['1', '-1'] : ['-1', '1'];
  return [
    '(p, q) => {',
    'const x = row[p], y = row[q];',
    `if (x < y) return ${lo};`,
    `if (x > y) return ${hi};`,
    'const nx = x !== x, ny = y !== y;',
    `if (nx !== ny) return nx ? ${hi} : ${lo};`,
    'return p - q;',
    '}',
  ].join(' ');
}

/** Rows up to this long sort as packed keys: a 32-bit order key times 2^21 plus the position is exact in a double. */
const PACK_LIMIT = 1 << 21;
/** Dtypes whose values map to a 32-bit order key (every value is exact as a float32 or an int32). */
const packable = (d: DType): boolean => d !== 'float64' && d !== 'int64';

/**
 * A stable sort without a comparator: each element becomes key · 2^21 + position, where the key
 * orders values as the comparator does (float32 bits made monotone; -0 as 0; every NaN above
 * +Infinity; integers offset by 2^31), so the native numeric sort of a Float64Array sorts by
 * value, then position. Descending flips the key, not the position, so it stays stable.
 */
function packedSort(d: DType, n: number, descending: boolean): string[] {
  const float = d === 'float32' || d === 'float16' || d === 'bfloat16';
  const key = float
    ? 'x !== x ? 4294967295 : (f32[0] = x + 0, u32[0] >= 2147483648 ? 4294967295 - u32[0] : u32[0] + 2147483648)'
    : 'x + 2147483648';
  return [
    `for (let j = 0; j < ${n}; j++) {`,
    'const x = row[j];',
    `const key = ${key};`,
    `row[j] = ${descending ? '(4294967295 - key)' : 'key'} * ${PACK_LIMIT} + j;`,
    '}',
    'row.sort();',
    `for (let j = 0; j < ${n}; j++) out[r * ${n} + j] = row[j] % ${PACK_LIMIT};`,
  ];
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
  // Rounded to its dtype first: a fused float32 source is held in float64, but PyTorch scans and
  // sorts the stored float32 values (and ties must be ties here too).
  const src = k.value.dtype;
  const v = castJs(p.print(k.value), src, src);
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
    const descending = spec.op === 'argsortDescending';
    const packed = packable(src) && n <= PACK_LIMIT;
    lines.push(
      `const row = new Float64Array(${n});`,
      ...(packed
        ? ['const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);']
        : [`const ix = new Array(${n});`, `const cmp = ${comparator(descending)};`]),
      'for (let r = start; r < end; r++) {',
      ...unravel,
      ...readRow,
      ...(packed ? packedSort(src, n, descending) : [
        `for (let j = 0; j < ${n}; j++) ix[j] = j;`,
        'ix.sort(cmp);',
        `for (let j = 0; j < ${n}; j++) out[r * ${n} + j] = ix[j];`,
      ]),
      '}',
    );
  }
  return { body: lines.join('\n'), units: rows };
}
