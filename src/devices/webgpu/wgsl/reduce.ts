/**
 * Reduction kernels in WGSL (Kernel.reduce: sum, prod, max, min over r0..r{q-1}, then the
 * epilogue `value` reading `acc`). Three forms:
 * - one invocation per output, looping over the reduced coordinates: many outputs, or short
 *   reductions (a column sum walks neighbouring outputs in neighbouring invocations, so reads
 *   stay coalesced);
 * - one workgroup per output: few outputs over long reductions; invocations stride over the
 *   reduced elements, then combine their partials in a tree in workgroup memory;
 * - spread reductions (softmax, layer norm: Kernel.reduce.spread): one invocation per row over many
 *   short rows, else one workgroup per row whose tree result every invocation reads to write its
 *   share of the row.
 * - two passes for a few outputs over very long reductions (twoPass).
 * Float sums accumulate in f32 (the CPU device in float64; the tolerance of a float32 result).
 */
import type { DType } from '../../../graph/dtype.js';
import type { ReduceOp } from '../../../graph/ops.js';
import { numel } from '../../../graph/shape.js';
import { partsOf, type ExprRef, type Kernel } from '../../../kernel/ir.js';
import { asDtype } from './elementwise.js';
import { assemble, dispatch, entryHeader, frame, indent, unravel, type Frame } from './frame.js';
import type { WgslOptions, WgslProgram } from './program.js';
import { WgslScalarPrinter } from './scalar.js';
import { computeType, storeStmt, type WgslType } from './storage-wgsl.js';

/**
 * When a reduction takes a workgroup per output (or per spread row): long reductions over fewer
 * outputs than fill a GPU with invocations of their own, or moderate ones over very few outputs
 * (an invocation each would leave the GPU idle while each loops alone). A column reduction
 * (`inner` false: a bias gradient summing a batch) has its neighbouring outputs' terms side by
 * side, so an invocation per output reads coalesced words; there a tree pays only for few outputs
 * or very long columns. On a software adapter each workgroup costs its barriers per invocation:
 * the MLP's bias gradients (256-row columns, 512 and 256 outputs) took ten times longer as trees.
 */
export function useTree(R: number, outputs: number, inner = true): boolean {
  if (!inner) return (R >= 32 && outputs < 64) || (R >= 4096 && outputs < 32768);
  return (R >= 256 && outputs < 32768) || (R >= 32 && outputs < 2048);
}

const PER_OUTPUT_WORKGROUP = 64;

/** The dtype `acc` has in the epilogue: the reduction's result dtype. */
function accDtype(k: Kernel): DType {
  let found: DType | null = null;
  const walk = (e: ExprRef): void => {
    if (found) return;
    if ('scalar' in e && e.scalar.k === 'acc') { found = e.scalar.dtype; return; }
    const { scalars, indices } = partsOf(e);
    scalars.forEach((s) => walk({ scalar: s }));
    indices.forEach((i) => walk({ index: i }));
  };
  walk({ scalar: k.value });
  return found ?? k.reduce!.value.dtype;
}

function identity(op: ReduceOp, t: WgslType): string {
  switch (op) {
    case 'sum': return t === 'f32' ? '0.0f' : t === 'i32' ? '0i' : '0u';
    case 'prod': return t === 'f32' ? '1.0f' : t === 'i32' ? '1i' : '1u';
    case 'max': return t === 'f32' ? '(-inf_())' : t === 'i32' ? 'bitcast<i32>(0x80000000u)' : '0u';
    case 'min': return t === 'f32' ? 'inf_()' : t === 'i32' ? '2147483647i' : '1u';
  }
}

/** a combined with b; for max/min a NaN on either side wins (max_ / min_ in prelude.ts). */
function combine(op: ReduceOp, t: WgslType, a: string, b: string): string {
  switch (op) {
    case 'sum': return `(${a} + ${b})`;
    case 'prod': return `(${a} * ${b})`;
    case 'max': return t === 'f32' ? `max_(${b}, ${a})` : `max(${a}, ${b})`;
    case 'min': return t === 'f32' ? `min_(${b}, ${a})` : `min(${a}, ${b})`;
  }
}

interface Parts {
  readonly f: Frame;
  readonly op: ReduceOp;
  /** The accumulator's compute type. */
  readonly t: WgslType;
  readonly dims: readonly number[];
  /** Statements adding the term at the current r-coordinates into `acc`. */
  readonly term: string[];
  /** Statements of the epilogue (reading `acc`), and the value to store. */
  readonly outer: WgslScalarPrinter;
  readonly result: string;
  readonly checks: () => boolean;
}

function parts(k: Kernel, o: WgslOptions): Parts {
  const red = k.reduce!;
  const f = frame(k, o);
  const opts = { buf: f.buf, err: f.err, ...(f.params ? { params: f.params } : {}) };
  const inner = new WgslScalarPrinter({ ...opts, prefix: 't' });
  const t = computeType(accDtype(k));
  let v = inner.print(red.value);
  const vt = computeType(red.value.dtype);
  if (vt !== t) v = `${t}(${v})`;
  const outer = new WgslScalarPrinter({ ...opts, prefix: 'e' });
  const result = asDtype(outer.print(k.value), k.value, k.out.dtype);
  const term = [...inner.lines, `acc = ${combine(red.op, t, 'acc', v)};`];
  return { f, op: red.op, t, dims: red.dims, term, outer, result, checks: () => inner.usesIndexCheck || outer.usesIndexCheck };
}

/** Nested loops over the reduced coordinates around `body`. */
function loops(dims: readonly number[], body: readonly string[]): string[] {
  const open = dims.map((d, j) => `for (var r${j}: i32 = 0; r${j} < ${d}; r${j} = r${j} + 1) {`);
  return [...open, ...indent(body), ...dims.map(() => '}')];
}

/** Invocations of a workgroup stride over the reduced elements, then combine partials in a tree. */
function treeReduce(p: Parts, size: number): string[] {
  const R = numel(p.dims);
  return [
    `var acc: ${p.t} = ${identity(p.op, p.t)};`,
    ...strideTerms(p, 'lid', `${R}`, size),
    ...treeCombine(p, size),
  ];
}

/** Adds into `acc` the terms j = from, from + size, ... below `end`. */
function strideTerms(p: Parts, from: string, end: string, size: number): string[] {
  return [
    `for (var j: i32 = ${from}; j < ${end}; j = j + ${size}) {`,
    ...indent([...unravel(p.dims, 'j', 'r', 'qr_'), ...p.term]),
    '}',
  ];
}

/** Every invocation's `acc` combined in a tree in workgroup memory, in a fixed order; left in `acc`. */
function treeCombine(p: Parts, size: number): string[] {
  return [
    'part_[lid] = acc;',
    'workgroupBarrier();',
    `for (var s: i32 = ${size / 2}; s > 0; s = s / 2) {`,
    `  if (lid < s) { part_[lid] = ${combine(p.op, p.t, 'part_[lid]', 'part_[lid + s]')}; }`,
    '  workgroupBarrier();',
    '}',
    'acc = part_[0];',
  ];
}

/**
 * Reductions of at least this many elements per output, over at most TWO_PASS_OUTPUTS outputs,
 * split each output over several workgroups (two passes): one workgroup per output leaves all
 * but one core idle. Below 2^18 a full reduction on lavapipe costs about one round trip (1-3 ms)
 * either way; the figure is a conservative one, as timings on a loaded 2-core machine could not
 * place the crossover more precisely.
 */
export const TWO_PASS_MIN = 1 << 18;
const TWO_PASS_OUTPUTS = 64;

/** How many workgroups share each output in the first pass (0: one pass). */
export function twoPassChunks(R: number, outputs: number, size: number): number {
  if (R < TWO_PASS_MIN || outputs > TWO_PASS_OUTPUTS) return 0;
  // Fat chunks (at least 256 terms an invocation): a software adapter pays for every workgroup's
  // barriers, and a GPU is full long before 256 workgroups an output.
  return Math.max(2, Math.min(size, Math.ceil(R / (size * 256)), Math.ceil(1024 / outputs)));
}

/**
 * A reduction in two passes over one shader (the override `pass_` selects the pass, so both
 * pipelines bind the same buffers): pass 0 gives each of G workgroups per output a contiguous
 * chunk of the reduced elements and writes its tree result to scratch[output · G + chunk]; pass 1
 * gives each output a workgroup that combines its G partials in a tree, in chunk order, then runs
 * the epilogue. No atomics: the same inputs always sum in the same order.
 */
function twoPass(k: Kernel, o: WgslOptions, p: Parts, size: number, G: number, nOut: number, where: string): WgslProgram {
  const R = numel(p.dims);
  const L = Math.ceil(R / G);
  const scratchBinding = p.f.slots.length + (p.f.uniformWords > 0 ? 1 : 0);
  const body = [
    entryHeader(size),
    '  if (pass_ == 0u) {',
    `    if (wg >= ${nOut * G}) { return; }`,
    `    let i: i32 = wg / ${G};`,
    `    let c: i32 = wg % ${G};`,
    ...indent(unravel(k.loop, 'i'), '    '),
    `    var acc: ${p.t} = ${identity(p.op, p.t)};`,
    ...indent(strideTerms(p, `c * ${L} + lid`, `min(${R}, (c + 1) * ${L})`, size), '    '),
    ...indent(treeCombine(p, size), '    '),
    '    if (lid == 0) { s_[wg] = acc; }',
    '  } else {',
    `    if (wg >= ${nOut}) { return; }`,
    '    let i: i32 = wg;',
    ...indent(unravel(k.loop, 'i'), '    '),
    `    var acc: ${p.t} = ${identity(p.op, p.t)};`,
    `    if (lid < ${G}) { acc = s_[i * ${G} + lid]; }`,
    ...indent(treeCombine(p, size), '    '),
    '    if (lid == 0) {',
    ...indent([...p.outer.lines, storeStmt(p.f.buf(0), where, k.out.dtype, p.result)], '      '),
    '    }',
    '  }',
    '}',
  ].join('\n');
  const globals = [
    'override pass_: u32 = 0u;',
    `@group(0) @binding(${scratchBinding}) var<storage, read_write> s_: array<${p.t}>;`,
    `var<workgroup> part_: array<${p.t}, ${size}>;`,
  ];
  const first = dispatch(nOut * G, o);
  const prog = assemble(p.f, { globals, body, workgroups: first, indexCheck: p.checks() });
  return {
    ...prog,
    passes: [{ entry: prog.entry, workgroups: first, constants: { pass_: 0 } }, { entry: prog.entry, workgroups: dispatch(nOut, o), constants: { pass_: 1 } }],
    scratch: [nOut * G * 4],
  };
}

/** A power of two from 32 to 256 near the reduction's length, within what the device allows. */
const treeSize = (o: WgslOptions, R: number): number =>
  Math.min(256, 2 ** Math.ceil(Math.log2(Math.max(32, R))), 2 ** Math.floor(Math.log2(o.maxInvocationsPerWorkgroup)));

export function printReduce(k: Kernel, o: WgslOptions): WgslProgram {
  if (k.reduce!.spread) return spread(k, o);
  const p = parts(k, o);
  const R = numel(p.dims);
  const nOut = numel(k.loop);
  const at = (): string => (k.outIndex ? p.outer.index(k.outIndex) : 'i');
  const chunks = twoPassChunks(R, nOut, treeSize(o, R));
  if (chunks > 0) return twoPass(k, o, p, treeSize(o, R), chunks, nOut, at());
  if (useTree(R, nOut, k.reduce!.inner)) {
    const size = treeSize(o, R);
    const tree = treeReduce(p, size);
    const where = at();
    const body = [
      entryHeader(size),
      `  if (wg >= ${nOut}) { return; }`,
      '  let i: i32 = wg;',
      ...indent(unravel(k.loop, 'i')),
      ...indent(tree),
      '  if (lid == 0) {',
      ...indent([...p.outer.lines, storeStmt(p.f.buf(0), where, k.out.dtype, p.result)], '    '),
      '  }',
      '}',
    ].join('\n');
    return assemble(p.f, { globals: [`var<workgroup> part_: array<${p.t}, ${size}>;`], body, workgroups: dispatch(nOut, o), indexCheck: p.checks() });
  }
  const where = at();
  const body = [
    entryHeader(PER_OUTPUT_WORKGROUP),
    `  let i: i32 = wg * ${PER_OUTPUT_WORKGROUP} + lid;`,
    `  if (i >= ${nOut}) { return; }`,
    ...indent(unravel(k.loop, 'i')),
    `  var acc: ${p.t} = ${identity(p.op, p.t)};`,
    ...indent(loops(p.dims, p.term)),
    ...indent(p.outer.lines),
    `  ${storeStmt(p.f.buf(0), where, k.out.dtype, p.result)}`,
    '}',
  ].join('\n');
  return assemble(p.f, { body, workgroups: dispatch(Math.ceil(nOut / PER_OUTPUT_WORKGROUP), o), indexCheck: p.checks() });
}

/**
 * A spread reduction: rows are the loop's leading dims, each row's elements (its trailing dims,
 * the reduced ones) contiguous in the output.
 */
function spread(k: Kernel, o: WgslOptions): WgslProgram {
  if (k.outIndex) throw new Error(`internal: spread reduction ${k.name} with an output index`);
  const p = parts(k, o);
  const R = numel(p.dims);
  const lead = k.loop.length - p.dims.length;
  const rows = R === 0 ? 0 : numel(k.loop) / R;
  const rowDims = k.loop.slice(lead);
  const write = (e: string): string[] => [
    ...unravel(rowDims, e, 'o', 'qe_', lead),
    ...p.outer.lines,
    storeStmt(p.f.buf(0), `row * ${R} + ${e}`, k.out.dtype, p.result),
  ];
  if (useTree(R, rows)) {
    const size = treeSize(o, R);
    const body = [
      entryHeader(size),
      `  if (wg >= ${rows}) { return; }`,
      '  let row: i32 = wg;',
      ...indent(unravel(k.loop.slice(0, lead), 'row')),
      ...indent(treeReduce(p, size)),
      `  for (var e: i32 = lid; e < ${R}; e = e + ${size}) {`,
      ...indent(write('e'), '    '),
      '  }',
      '}',
    ].join('\n');
    return assemble(p.f, { globals: [`var<workgroup> part_: array<${p.t}, ${size}>;`], body, workgroups: dispatch(rows, o), indexCheck: p.checks() });
  }
  const body = [
    entryHeader(PER_OUTPUT_WORKGROUP),
    `  let row: i32 = wg * ${PER_OUTPUT_WORKGROUP} + lid;`,
    `  if (row >= ${rows}) { return; }`,
    ...indent(unravel(k.loop.slice(0, lead), 'row')),
    `  var acc: ${p.t} = ${identity(p.op, p.t)};`,
    ...indent(loops(p.dims, p.term)),
    `  for (var e: i32 = 0; e < ${R}; e = e + 1) {`,
    ...indent(write('e'), '    '),
    '  }',
    '}',
  ].join('\n');
  return assemble(p.f, { body, workgroups: dispatch(Math.ceil(rows / PER_OUTPUT_WORKGROUP), o), indexCheck: p.checks() });
}
