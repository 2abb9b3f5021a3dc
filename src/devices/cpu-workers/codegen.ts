/**
 * The JS printer of the kernel IR. A kernel becomes the source of a function (b, start, end)
 * over a range of output elements (or matmul work units), compiled once per thread.
 */
import { isFloat, type DType } from '../../graph/dtype.js';
import { ops, reduceIdentity, type OpDef, type ReduceOp } from '../../graph/ops.js';
import { contiguousStrides, numel } from '../../graph/shape.js';
import { extraOutputSlot, type Index, type Kernel, type Scalar, type Valid } from '../../kernel/ir.js';
import { quantMatmulSource, quantMatmulUnits } from './matmul/quant.js';
import { matmulSource, matmulWorkUnits } from './matmul.js';
import { loadJs, num, storeJs } from './js-values.js';
import { jsPrelude } from './prelude.js';
import { ERR, indexCheckJs, scatter } from './scatter.js';
import { rowKernel } from './row.js';
import { windowKernel } from './conv/window.js';
import { printWindowSimd } from './conv/window-simd.js';
import { winogradSource } from './conv/winograd.js';
import { attentionKernel } from './attention.js';
import { printSimd, simdEpilogueOf, simdPrologueOf, type SimdEpilogue } from './simd/index.js';
import { columnBlocks, rowSum } from './reduce-print.js';

export interface JsKernel {
  readonly source: string;
  /** The `total` of the range the function is called over. */
  readonly units: number;
}

/** `err` names the kernel's error record (see ERROR_RECORD_LENGTH in kernel/ir.ts), for checked index reads. */
function printIndex(i: Index, scalar: (s: Scalar) => string, err = ERR): string {
  const p = (j: Index): string => printIndex(j, scalar, err);
  switch (i.k) {
    case 'var': return i.name;
    case 'num': return String(i.n);
    case 'add': return `(${p(i.a)} + ${p(i.b)})`;
    case 'mul': return `(${p(i.a)} * ${i.n})`;
    case 'div': return `((${p(i.a)} / ${i.n}) | 0)`;
    case 'mod': return `(${p(i.a)} % ${i.n})`;
    case 'val': return i.bound ? `ix_(${scalar(i.v)}, ${i.bound.hi}, ${i.bound.check + 1}, ${err})` : `(${scalar(i.v)} | 0)`;
  }
}

/**
 * A value of dtype `from` converted to `to`, with PyTorch's rules: floats round (half types to
 * nearest even), float to integer truncates (out of range as x86 gives PyTorch 1.13: the most
 * negative int32/int64, int16/int8 wrap the int32 result, uint8 the int64 one), integer narrowing
 * wraps, bool is x != 0 (NaN is true).
 */
export function castJs(x: string, from: DType, to: DType): string {
  switch (to) {
    case 'float32': return `Math.fround(${x})`;
    case 'float64': return x;
    case 'float16': return `rh(${x})`;
    case 'bfloat16': return `rbf(${x})`;
    case 'bool': return `(${x} !== 0 ? 1 : 0)`;
    default: break;
  }
  if (isFloat(from)) {
    switch (to) {
      case 'int64': return `f2i64(${x})`;
      case 'int32': return `f2i32(${x})`;
      case 'int16': return `((f2i32(${x}) << 16) >> 16)`;
      case 'int8': return `((f2i32(${x}) << 24) >> 24)`;
      case 'uint8': return `(Math.abs(${x}) < 9223372036854775808 ? ${x} & 255 : 0)`;
    }
  }
  return wrapJs(x, to);
}

/** An integer-valued number wrapped to an integer dtype (int64 is exact only to 2^53). */
function wrapJs(x: string, to: DType): string {
  switch (to) {
    case 'int32': return `(${x} | 0)`;
    case 'int16': return `((${x} << 16) >> 16)`;
    case 'int8': return `((${x} << 24) >> 24)`;
    case 'uint8': return `(${x} & 255)`;
    default: return x;
  }
}

/** The kernel function's parameter holding its runtime scalars (see Kernel.params). */
const RUNTIME_ARGS = '$rt';

/**
 * The result of an op of dtype `d`, brought to what `d` holds, so a fused chain gives what
 * PyTorch's op-by-op kernels give: integers wrap, half types round. float32 chains stay in
 * double until the store (one rounding, as before).
 */
function narrowJs(x: string, d: DType): string {
  switch (d) {
    case 'float16': return `rh(${x})`;
    case 'bfloat16': return `rbf(${x})`;
    case 'int32': case 'int16': case 'int8': case 'uint8': return wrapJs(x, d);
    default: return x;
  }
}

const INT_BITS: Partial<Record<DType, number>> = { int32: 32, int16: 16, int8: 8, uint8: 8 };

/** Ops whose result is always one of their (already narrowed) inputs or a bool. */
const NO_OVERFLOW: ReadonlySet<string> = new Set(['maximum', 'minimum', 'relu', 'floor', 'eq', 'ne', 'lt', 'le', 'not', 'where', 'sign']);

/**
 * Prints scalars of one loop level. In statement mode every node becomes a `const`, so shared
 * subexpressions (gelu reads its input twice) are computed once; in inline mode (matmul
 * epilogues, which must be one expression) the tree is printed as is.
 */
export class ScalarPrinter {
  readonly lines: string[] = [];
  private readonly names = new Map<Scalar, string>();
  private counter = 0;
  private readonly draws = new Map<string, string>();

  constructor(
    private readonly inline: boolean, private readonly buf: (input: number) => string, private readonly prefix = 't',
    private readonly err = ERR,
  ) {}

  print(s: Scalar): string {
    if (this.inline) return this.expr(s);
    let name = this.names.get(s);
    if (name) return name;
    const e = this.expr(s);
    if (s.k === 'const' || s.k === 'acc') return e;
    name = `${this.prefix}${this.counter++}`;
    this.lines.push(`const ${name} = ${e};`);
    this.names.set(s, name);
    return name;
  }

  /**
   * An int64 value as the BigInt it is stored as, where it is only moved (a load, possibly
   * masked): copies and views of int64 stay exact beyond 2^53. Null where it is computed on.
   */
  raw64(s: Scalar): string | null {
    if (s.dtype !== 'int64') return null;
    if (s.k === 'load') return `${this.buf(s.input)}[${this.idx(s.index)}]`;
    if (s.k === 'masked') {
      const arg = this.raw64(s.arg);
      if (arg === null) return null;
      const cond = this.inside(s.valid);
      return `((${cond}) ? ${arg} : 0n)`;
    }
    return null;
  }

  /** The condition that every bound of a padding mask holds. */
  private inside(valid: Valid): string {
    return valid.map((v) => { const a = this.idx(v.a); return `${a} >= ${v.lo} && ${a} < ${v.hi}`; }).join(' && ');
  }

  private idx(i: Index): string {
    return printIndex(i, (s) => this.print(s), this.err);
  }

  private expr(s: Scalar): string {
    switch (s.k) {
      case 'load': return loadJs(`${this.buf(s.input)}[${this.idx(s.index)}]`, s.dtype);
      case 'const': return num(s.value);
      case 'acc': return 'acc';
      case 'rand': {
        const seed = typeof s.seed === 'number' ? String(s.seed) : this.print(s.seed);
        const normal = s.dist === 'normal';
        if (this.inline) return `${normal ? 'normalw' : 'philox'}(${seed}, ${s.word}, ${this.idx(s.index)})`;
        // One Philox evaluation serves both words at the same counter.
        const key = `${s.dist ?? ''}${seed}|${this.idx(s.index)}`;
        let pair = this.draws.get(key);
        if (!pair) {
          pair = `${this.prefix}p${this.draws.size}_`;
          this.lines.push(normal
            ? `const ${pair}0 = normal2(${seed}, ${this.idx(s.index)}); const ${pair}1 = pn1;`
            : `const ${pair}0 = philox2(${seed}, ${this.idx(s.index)}); const ${pair}1 = ph1;`);
          this.draws.set(key, pair);
        }
        return `${pair}${s.word}`;
      }
      case 'iota': return this.idx(s.index);
      case 'param': return `${RUNTIME_ARGS}[${s.slot}]`;
      case 'masked': {
        const cond = this.inside(s.valid);
        return `((${cond}) ? ${this.print(s.arg)} : 0)`;
      }
      case 'cast': {
        // int64 narrowing wraps the exact BigInt, not its nearest double.
        const raw = INT_BITS[s.dtype] !== undefined ? this.raw64(s.arg) : null;
        if (raw !== null) return `Number(BigInt.as${s.dtype === 'uint8' ? 'Uint' : 'Int'}N(${INT_BITS[s.dtype]}, ${raw}))`;
        return castJs(this.print(s.arg), s.arg.dtype, s.dtype);
      }
      case 'op': {
        const def: OpDef = ops[s.op];
        const args = s.args.map((a) => this.print(a));
        const inDtype = s.args[s.args.length - 1]!.dtype;
        const narrow = (e: string): string => (NO_OVERFLOW.has(s.op) ? e : narrowJs(e, s.dtype));
        switch (def.arity) {
          case 1: return narrow(def.js(args[0]!, inDtype));
          case 2: return narrow(def.js(args[0]!, args[1]!, inDtype));
          case 3: return def.js(args[0]!, args[1]!, args[2]!, inDtype);
        }
      }
    }
  }
}

/** Statements that set o{i} for every non-unit loop dim from the flat index `i`. */
export function unravelOutput(loop: readonly number[], flat: string, innerLet: boolean): string[] {
  const dims = loop.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const lines = [`let t_ = ${flat};`];
  for (let j = dims.length - 1; j >= 0; j--) {
    const [d, i] = dims[j]!;
    const decl = innerLet && j === dims.length - 1 ? 'let' : 'const';
    if (j === 0) lines.push(`${decl} o${i} = t_;`);
    else lines.push(`${decl} o${i} = t_ % ${d}; t_ = (t_ - o${i}) / ${d};`);
  }
  return lines;
}

/** Where output element i (at loop coordinates o0, o1, …) is written: contiguous, or a store's index. */
export function outAt(k: Kernel, p: ScalarPrinter): string {
  return k.outIndex ? printIndex(k.outIndex, (s) => p.print(s)) : 'i';
}

function elementwise(k: Kernel): string {
  const p = new ScalarPrinter(false, (i) => `b${i}`);
  const raw = p.raw64(k.value);
  const v = raw ?? p.print(k.value);
  const at = outAt(k, p);
  const body = k.extraOutputs?.length ? multiOutputBody(k, p, `out[${at}]`, raw ?? storeJs(k.out.dtype, v))
    : [...p.lines, `out[${at}] = ${raw ?? storeJs(k.out.dtype, v)};`];
  const dims = k.loop.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  if (dims.length === 0) return `for (let i = start; i < end; i++) {\n${body.join('\n')}\n}`;
  const [lastD, lastI] = dims[dims.length - 1]!;
  return [
    'for (let i = start; i < end;) {',
    ...unravelOutput(k.loop, 'i', true),
    `const stop = Math.min(end, i + ${lastD} - o${lastI});`,
    `for (; i < stop; i++, o${lastI}++) {`,
    ...body,
    '}',
    '}',
  ].join('\n');
}

/**
 * The per-element body of a multi-output kernel (Kernel.extraOutputs): every value, and every
 * element to store, is computed before the first write, so stores that read each other's
 * targets (at the element they write) all see the old contents.
 */
function multiOutputBody(k: Kernel, p: ScalarPrinter, mainAt: string, main: string): string[] {
  const writes = [[mainAt, main] as const, ...k.extraOutputs!.map((e, j) => {
    const raw = p.raw64(e.value);
    const v = raw ?? storeJs(e.dtype, p.print(e.value));
    return [`x${j}[${e.outIndex ? printIndex(e.outIndex, (s) => p.print(s)) : 'i'}]`, v] as const;
  })];
  const held = writes.map(([, v], j) => { p.lines.push(`const w${j}_ = ${v};`); return `w${j}_`; });
  return [...p.lines, ...writes.map(([at], j) => `${at} = ${held[j]!};`)];
}

/** Outputs a column reduction advances together: their inputs are adjacent in memory. */
const COLUMN_BLOCK = 256;

export function combineInto(op: ReduceOp, slot: string, v: string, d: DType): string {
  switch (op) {
    case 'sum': return `${slot} += ${v};`;
    // Integer products wrap as PyTorch's do (int32 exactly; wider ones are exact to 2^53).
    case 'prod': return d === 'int32' ? `${slot} = Math.imul(${slot}, ${v});` : `${slot} *= ${v};`;
    case 'max': return `if (${v} > ${slot} || ${v} !== ${v}) ${slot} = ${v};`;
    case 'min': return `if (${v} < ${slot} || ${v} !== ${v}) ${slot} = ${v};`;
  }
}

/** The printed pieces of a reduction: its per-term value (inner loop) and its epilogue. */
function reductionParts(k: Kernel) {
  const red = k.reduce!;
  const inner = new ScalarPrinter(false, (i) => `b${i}`);
  const v = inner.print(red.value);
  const outer = new ScalarPrinter(false, (i) => `b${i}`, 'e');
  const result = outer.print(k.value);
  const at = outAt(k, outer);
  const loops = red.dims.map((d, j) => [d, j] as const).filter(([d]) => d !== 1);
  return { red, inner, v, outer, result, loops, at };
}

/**
 * A reduction over outer dims (x.sum({ dim: 0 })): loop over the reduced coordinates outside and a
 * block of outputs inside, so memory is read in order. Each output still accumulates its terms
 * in the same order as the row form, so results are identical.
 */
function columnReduction(k: Kernel): string {
  const { red, inner, v, outer, result, loops, at } = reductionParts(k);
  return [
    `const accs = new Float64Array(${COLUMN_BLOCK});`,
    `for (let i0 = start; i0 < end; i0 += ${COLUMN_BLOCK}) {`,
    `const i1 = Math.min(end, i0 + ${COLUMN_BLOCK});`,
    `accs.fill(${num(reduceIdentity[red.op])});`,
    ...loops.map(([d, j]) => `for (let r${j} = 0; r${j} < ${d}; r${j}++) {`),
    'for (let i = i0; i < i1; i++) {',
    ...unravelOutput(k.loop, 'i', false),
    ...inner.lines,
    combineInto(red.op, 'accs[i - i0]', v, red.value.dtype),
    '}',
    ...loops.map(() => '}'),
    'for (let i = i0; i < i1; i++) {',
    ...unravelOutput(k.loop, 'i', false),
    'const acc = accs[i - i0];',
    ...outer.lines,
    `out[${at}] = ${storeJs(k.out.dtype, result)};`,
    '}',
    '}',
  ].join('\n');
}

function reduction(k: Kernel): string {
  const { red, inner, v, outer, result, loops, at } = reductionParts(k);
  return [
    'for (let i = start; i < end; i++) {',
    ...unravelOutput(k.loop, 'i', false),
    `let acc = ${num(reduceIdentity[red.op])};`,
    ...loops.map(([d, j]) => `for (let r${j} = 0; r${j} < ${d}; r${j}++) {`),
    ...inner.lines,
    combineInto(red.op, 'acc', v, red.value.dtype),
    ...loops.map(() => '}'),
    ...outer.lines,
    `out[${at}] = ${storeJs(k.out.dtype, result)};`,
    '}',
  ].join('\n');
}

/**
 * A spread reduction (Kernel.reduce.spread): each unit is a row; its reduction runs once, then every
 * element of the row is written from it. Rows are the loop's leading dims, contiguous in `out`.
 */
function spreadReduction(k: Kernel): string {
  const { red, inner, v, outer, result, loops } = reductionParts(k);
  const lead = k.loop.length - red.dims.length;
  const rowLoops = k.loop.map((d, i) => [d, i] as const).slice(lead).filter(([d]) => d !== 1);
  return [
    'for (let row = start; row < end; row++) {',
    ...unravelOutput(k.loop.slice(0, lead), 'row', false),
    `let acc = ${num(reduceIdentity[red.op])};`,
    ...loops.map(([d, j]) => `for (let r${j} = 0; r${j} < ${d}; r${j}++) {`),
    ...inner.lines,
    combineInto(red.op, 'acc', v, red.value.dtype),
    ...loops.map(() => '}'),
    `let i = row * ${numel(red.dims)};`,
    ...rowLoops.map(([d, i]) => `for (let o${i} = 0; o${i} < ${d}; o${i}++) {`),
    ...outer.lines,
    `out[i++] = ${storeJs(k.out.dtype, result)};`,
    ...rowLoops.map(() => '}'),
    '}',
  ].join('\n');
}

/** How many units a kernel's function is called over: output elements, rows of a spread reduction. */
function unitsOf(k: Kernel): number {
  // Window kernels, JS or SIMD, split by whole NCHW planes (conv/window.ts).
  if (k.window) return k.window.N * k.window.C;
  if (!k.reduce?.spread) return numel(k.loop);
  const row = numel(k.reduce.dims);
  return row === 0 ? 0 : numel(k.loop) / row;
}

function matmul(k: Kernel): JsKernel {
  const mm = k.matmul!;
  if (k.outIndex) throw new Error(`internal: matmul kernel ${k.name} with an output index (the scheduler stores through a copy)`);
  // The CPU folds only the im2col of a forward 3x3 convolution, into B (conv/winograd.ts winogradFold).
  if (mm.a.window) throw new Error(`internal: matmul kernel ${k.name} reads its A operand through a window on the CPU`);
  // The epilogue sees only the flat output index `o`; rebuild the coordinates from it.
  const cs = contiguousStrides(k.loop);
  const coords = new Map<string, string>(k.loop.map((d, i) => [`o${i}`, i === 0 ? `((o / ${cs[i]}) | 0)` : `(((o / ${cs[i]}) | 0) % ${d})`]));
  // Where the loop ends in [M, N], the template names the row and column ($om, $on): no division per element.
  const L = k.loop.length;
  if (L >= 1 && k.loop[L - 1] === mm.N && numel(k.loop) === mm.batch * mm.M * mm.N) {
    coords.set(`o${L - 1}`, '$on');
    if (L >= 2 && k.loop[L - 2] === mm.M) coords.set(`o${L - 2}`, '$om');
  }
  const p = new ScalarPrinter(true, (i) => `b[${i}]`, 't', `b[${k.inputs.length + 1}]`);
  let expr = p.print(k.value);
  expr = storeJs(k.out.dtype, expr.replace(/\bo(\d+)\b/g, (m) => coords.get(m) ?? m));
  const isIdentity = k.value.k === 'acc';
  const withPrologue = mm.a.prologue !== undefined || mm.b.prologue !== undefined;
  const spec = {
    batch: mm.batch, M: mm.M, N: mm.N, K: mm.K,
    a: { offset: mm.a.offset, sBatch: mm.a.sBatch, sRow: mm.a.sRow, sCol: mm.a.sCol, ...prologueOf(k, mm.a.prologue, p), ...(mm.a.quant ? { quant: mm.a.quant } : {}) },
    b: { offset: mm.b.offset, sBatch: mm.b.sBatch, sRow: mm.b.sRow, sCol: mm.b.sCol, ...prologueOf(k, mm.b.prologue, p), ...(mm.b.quant ? { quant: mm.b.quant } : {}) },
    dtype: k.out.dtype === 'float64' ? 'float64' as const : 'float32' as const,
    ...(isIdentity ? {} : { epilogue: { expr, ...simdEpilogue(k) } }),
    // The epilogue's and the prologues' helpers.
    ...(withPrologue || !isIdentity ? { helpers: preludeFor(k) } : {}),
  };
  if (mm.a.input !== 1 || mm.b.input !== 2) {
    // The matmul template reads A from b[1] and B from b[2]; remap slots so it can.
    throw new Error(`internal: matmul operands in slots ${mm.a.input}, ${mm.b.input}`);
  }
  if (mm.b.window) return winogradSource(spec, mm.b.window);
  if (spec.a.quant || spec.b.quant) return { source: quantMatmulSource(spec, isIdentity ? 'acc' : expr, preludeFor(k)), units: quantMatmulUnits(spec) };
  return { source: matmulSource(spec), units: matmulWorkUnits(spec) };
}

/** An operand's prologue as JS, and as SIMD where it has that form. */
function prologueOf(k: Kernel, prologue: Scalar | undefined, p: ScalarPrinter): { prologue?: string; simd?: SimdEpilogue } {
  if (prologue === undefined) return {};
  const simd = simdPrologueOf(k, prologue);
  return { prologue: p.print(prologue), ...(simd ? { simd } : {}) };
}

/** The epilogue's SIMD form where it has one (quantised kernels print their own epilogue). */
function simdEpilogue(k: Kernel): { simd?: SimdEpilogue } {
  const simd = simdEpilogueOf(k);
  return simd ? { simd } : {};
}

const checksIndices = (k: Kernel): boolean => (k.indexChecks?.length ?? 0) > 0;
/** The helpers a kernel's source starts with: the index-check ones only where it checks indices. */
const preludeFor = (k: Kernel): string => (checksIndices(k) ? jsPrelude + indexCheckJs : jsPrelude);

export function printJs(k: Kernel): JsKernel {
  if (k.extraOutputs?.length && (k.matmul || k.reduce || k.scatter || k.row)) {
    throw new Error(`internal: kernel ${k.name} has extra outputs, which only elementwise kernels may have`);
  }
  if (k.matmul) return matmul(k);
  const simd = k.attention ? null : k.window ? printWindowSimd(k) : printSimd(k);
  if (simd !== null) return { source: simd, units: unitsOf(k) };
  const printer = (prefix: string): ScalarPrinter => new ScalarPrinter(false, (i) => `b${i}`, prefix);
  const sc: { body: string; units: number; scratch?: string } | null = k.scatter ? scatter(k, printer) : k.row ? rowKernel(k, printer)
    : k.window ? windowKernel(k, printer) : k.attention ? attentionKernel(k, printer) : null;
  const units = sc ? sc.units : unitsOf(k);
  const body = sc ? sc.body : !k.reduce ? elementwise(k) : k.reduce.spread ? spreadReduction(k) : k.reduce.inner ? (rowSum(k) ?? reduction(k)) : (columnBlocks(k) ?? columnReduction(k));
  const binds = ['const out = b[0];', ...k.inputs.map((_, i) => `const b${i + 1} = b[${i + 1}];`)];
  if (checksIndices(k)) binds.push(`const ${ERR} = b[${k.inputs.length + 1}];`);
  k.extraOutputs?.forEach((_, j) => binds.push(`const x${j} = b[${extraOutputSlot(k, j)}];`));
  const source = `(() => {\n${preludeFor(k)}\n${sc?.scratch ?? ''}\nreturn function ${k.name.replace(/\W/g, '_')}(b, start, end, ${RUNTIME_ARGS}) {\n${binds.join('\n')}\n${body}\n};\n})()`;
  return { source, units };
}
