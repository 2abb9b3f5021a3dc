/**
 * The wasm module and JS driver of a SIMD column reduction (plan in column-plan.ts).
 *
 * The driver walks its outputs in strips of up to `stride` adjacent columns. For each strip it
 * sets the accumulators to the identity, copies `rowsPerCall` rows of the strip at a time into
 * the thread's wasm memory (one subarray copy per row and operand) and calls f(n, rows), which
 * for every four columns loads the accumulators, combines the staged rows into them in row
 * order and stores them back; the epilogue then runs in JS per output. A sum accumulates its
 * float32 terms in float64 (two f64x2 per four columns), in row order, as the JS column form
 * does, so a plain column sum gives the JS path's result exactly; max and min keep float32 with
 * the JS rule (`v > acc || v !== v`: NaN wins, ties keep the earlier term).
 */
import { reduceIdentity } from '../../../graph/ops.js';
import type { Kernel } from '../../../kernel/ir.js';
import { oneFunctionModule, uleb } from '../matmul/wasm-asm.js';
import { num } from '../js-values.js';
import { I32, Op, VecBuilder, type V } from './builder.js';
import type { ColumnPlan } from './column-plan.js';
import { emitOp } from './math.js';
import { affineJs, epilogueJs, scalarWrites, simdKernelSource, unravel } from './source.js';

/** Byte offsets in the thread's wasm memory. */
export interface ColumnLayout {
  readonly scalars: number;
  /** Staged rows of vec operand k from vec + k·slot bytes, row r at r·stride floats. */
  readonly vec: number;
  readonly slot: number;
  /** The strip's accumulators: float64 for a sum, float32 for max and min. */
  readonly acc: number;
  readonly bytes: number;
}

export function columnLayout(plan: ColumnPlan): ColumnLayout {
  const vec = Math.ceil((plan.scalars.length * 4) / 16) * 16;
  const slot = plan.rowsPerCall * plan.stride * 4;
  const acc = vec + plan.vecs.length * slot;
  return { scalars: 0, vec, slot, acc, bytes: acc + plan.stride * (plan.op === 'sum' ? 8 : 4) };
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out; }
    out.push(byte | 0x80);
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  uleb(n, out);
  return out;
}

/** A v128 load or store at the address on the stack plus `offset`. */
const mem = (op: number, offset: number): number[] => [0xfd, ...leb(op), 4, ...leb(offset)];

/** Params 0 = n (columns), 1 = rows (then the staged rows' byte length); i32 locals 2..5. */
const N = 0, ROWS = 1, P = 2, END = 3, Q = 4, QE = 5;

function functionBody(plan: ColumnPlan, layout: ColumnLayout, relaxed: boolean): number[] {
  const b = new VecBuilder(2, 4, relaxed);
  const varying = plan.nodes.map(() => false);
  plan.nodes.forEach((node, i) => {
    varying[i] = node.k === 'vec' || (node.k === 'op' && node.args.some((a) => varying[a]));
  });
  const fixed: (V | undefined)[] = [];
  /** The term of the row `row` bytes past the address in `at`: loads and ops that vary are emitted anew per row. */
  const term = (at: number, row: number): V => {
    const vals: V[] = [];
    plan.nodes.forEach((node, i) => {
      const emit = (): V => {
        switch (node.k) {
          case 'vec': return b.get(at).raw(...mem(Op.load, layout.vec + node.slot * layout.slot + row)).put();
          case 'splat': return b.raw(0x41, 0).simd(Op.load32Splat).raw(2, ...leb(layout.scalars + node.slot * 4)).put();
          case 'const': return b.f32(node.value);
          case 'op': return emitOp(b, node.op, node.args.map((a) => vals[a]!));
        }
      };
      vals.push(varying[i] ? emit() : (fixed[i] ??= b.hoisted(emit)));
    });
    return vals[plan.root]!;
  };
  // Accumulator locals; their values are loaded per four columns, not here.
  const zero = b.bits(0);
  const accs = b.hoisted(() => (plan.op === 'sum' ? [b.bin(Op.or, zero, zero), b.bin(Op.or, zero, zero)] : [b.bin(Op.or, zero, zero)]));
  const addF64 = (t: V): void => {
    b.get(accs[0]!).get(t).simd(Op.f64PromoteLow).simd(Op.f64Add).set(accs[0]!);
    b.get(accs[1]!).get(t).get(t).raw(0xfd, Op.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)
      .simd(Op.f64PromoteLow).simd(Op.f64Add).set(accs[1]!);
  };
  const pick = (t: V): void => {
    const a = accs[0]!;
    const m = b.bin(Op.or, b.bin(plan.op === 'max' ? Op.f32Gt : Op.f32Lt, t, a), b.bin(Op.f32Ne, t, t));
    b.get(t).get(a).get(m).simd(Op.bitselect).set(a);
  };
  const pairwise = (ts: readonly V[]): V => {
    if (ts.length === 1) return ts[0]!;
    const h = ts.length >> 1;
    return b.add(pairwise(ts.slice(0, h)), pairwise(ts.slice(h)));
  };
  const stride4 = plan.stride * 4;
  const R = plan.rowsPerCall;
  // A full call (rows = rowsPerCall): every staged row at a constant offset from the column, so
  // the rows loop is unrolled. A sum adds them pairwise in float32 first (one rounding level per
  // halving, well inside float32's tolerance) and then into the float64 accumulators.
  const rows = Array.from({ length: R }, (_, r) => term(P, r * stride4));
  if (plan.op === 'sum') addF64(pairwise(rows));
  else rows.forEach(pick);
  const unrolled = b.loop.splice(0);
  // A partial call: one row at a time, in row order.
  const t = term(Q, 0);
  if (plan.op === 'sum') addF64(t);
  else pick(t);
  const rolled = b.loop.splice(0);

  // The accumulators of columns p..p+3 sit at acc + 2p (float64) or acc + p (float32).
  const accAddr = plan.op === 'sum' ? [0x20, P, 0x41, 1, 0x74] : [0x20, P];
  const columns = (inner: number[]): number[] => [
    0x41, 0, 0x21, P,
    0x02, 0x40, 0x03, 0x40,
    0x20, P, 0x20, END, 0x4e, 0x0d, 1, // p >= end: br_if 1
    ...accs.flatMap((a, j) => [...accAddr, ...mem(Op.load, layout.acc + 16 * j), 0x21, ...leb(a)]),
    ...inner,
    ...accs.flatMap((a, j) => [...accAddr, 0x20, ...leb(a), ...mem(Op.store, layout.acc + 16 * j)]),
    0x20, P, 0x41, 16, 0x6a, 0x21, P, 0x0c, 0, 0x0b, 0x0b,
  ];
  const tail: number[] = [...b.pre];
  tail.push(0x20, N, 0x41, 2, 0x74, 0x21, END); // end = n << 2
  tail.push(0x20, ROWS, 0x41, ...sleb(R), 0x46, 0x04, 0x40); // if rows == R
  tail.push(...columns(unrolled));
  tail.push(0x05);
  tail.push(0x20, ROWS, 0x41, ...sleb(stride4), 0x6c, 0x21, ROWS); // rows *= stride bytes
  tail.push(...columns([
    0x20, P, 0x21, Q, 0x20, P, 0x20, ROWS, 0x6a, 0x21, QE,
    0x02, 0x40, 0x03, 0x40,
    0x20, Q, 0x20, QE, 0x4e, 0x0d, 1, // q >= qe: br_if 1
    ...rolled,
    0x20, Q, 0x41, ...sleb(stride4), 0x6a, 0x21, Q, 0x0c, 0, 0x0b, 0x0b,
  ]));
  tail.push(0x0b);
  return b.body(tail);
}

/** The module's bytes; imports its memory as e.m, exports f(n, rows). */
export function columnModule(plan: ColumnPlan, relaxed: boolean): Uint8Array {
  return oneFunctionModule([2, I32, I32, 0], functionBody(plan, columnLayout(plan), relaxed));
}

/** The kernel's source: an expression evaluating to its KernelFn. */
export function columnSource(k: Kernel, plan: ColumnPlan, bytes: Uint8Array): string {
  const layout = columnLayout(plan);
  const [width, col] = plan.outer[plan.outer.length - 1]!;
  const A = plan.op === 'sum' ? 'D' : 'F';
  const accAt = layout.acc / (plan.op === 'sum' ? 8 : 4);
  const { params, splats } = scalarWrites(plan.scalars, layout.scalars);
  const copies = plan.vecs.map((v, slot) =>
    `{ const s = ${affineJs(v.base)} + ${col}; F.set(b${v.input}.subarray(s, s + w), ${(layout.vec + slot * layout.slot) / 4} + k * ${plan.stride}); }`);
  const loop = [
    'for (let i0 = start; i0 < end;) {',
    ...unravel(plan.outer, 'i0'),
    `const w = Math.min(end - i0, ${width} - ${col}, ${plan.stride});`,
    ...splats,
    `${A}.fill(${num(reduceIdentity[plan.op])}, ${accAt}, ${accAt} + w);`,
    'let k = 0;',
    ...plan.rows.map(([d, v]) => `for (let ${v} = 0; ${v} < ${d}; ${v}++) {`),
    ...copies,
    `if (++k === ${plan.rowsPerCall}) { f(w, k); k = 0; }`,
    ...plan.rows.map(() => '}'),
    'if (k !== 0) f(w, k);',
    `for (let c = 0; c < w; c++) { const acc = ${A}[${accAt} + c]; out[i0 + c] = ${epilogueJs(k.value)}; }`,
    'i0 += w;',
    '}',
  ];
  return simdKernelSource(k, bytes, layout.bytes, [...params, ...loop], plan.op === 'sum');
}
