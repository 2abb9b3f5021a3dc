/**
 * The wasm module of one SIMD kernel: a single exported function `f(n)` over the n elements the
 * driver has placed in memory (layout in SimdLayout). A map kernel writes n results; a sum kernel
 * returns the float64 sum of its n terms, accumulated in two f64x2 accumulators (the JS path sums
 * float32 terms in a float64 too). Lanes past n in the last vector are computed and ignored
 * (map) or masked to 0 (sum).
 */
import { oneFunctionModule, uleb } from '../matmul/wasm-asm.js';
import { F64, I32, Op, VecBuilder, type V } from './builder.js';
import { emitOp } from './math.js';
import type { SimdPlan } from './plan.js';

/**
 * Elements per block: each input run and the output block of a call (32 KiB each, so a block of
 * a few operands stays in L2). Copying SharedArrayBuffer views into wasm memory costs ~0.3 µs a
 * call here: 2,048-element copies ran at ~1.7 ns an element, 8,192-element ones at ~0.6.
 */
export const BLOCK = 8192;

/** Byte offsets in the thread's wasm memory. */
export interface SimdLayout {
  /** Splat values, one float32 each, from this byte. */
  readonly scalars: number;
  /** Run k of plan.vecs at vec + k·BLOCK·4 bytes; the output block after the last. */
  readonly vec: number;
  readonly out: number;
  readonly bytes: number;
}

/** From byte `base` (16-byte aligned): 0 for a kernel of its own, past the scratch for a matmul's epilogue. */
export function layoutOf(plan: SimdPlan, base = 0): SimdLayout {
  const vec = base + Math.ceil((plan.scalars.length * 4) / 16) * 16;
  const out = vec + plan.vecs.length * BLOCK * 4;
  return { scalars: base, vec, out, bytes: out + (plan.kind === 'map' ? BLOCK * 4 : 0) };
}

function memarg(b: VecBuilder, op: number, align: number, offset: number): void {
  b.simd(op);
  const bytes: number[] = [];
  uleb(align, bytes);
  uleb(offset, bytes);
  b.raw(...bytes);
}

/** Locals: param 0 = n; i32 locals 1 = byte position, 2 = byte end. */
const N = 0, P = 1, END = 2;

function functionBody(plan: SimdPlan, layout: SimdLayout, relaxed: boolean): number[] {
  const b = new VecBuilder(1, 2, relaxed);
  const vals: V[] = [];
  // Operands the loop does not change are computed once, before it.
  const varying = plan.nodes.map(() => false);
  plan.nodes.forEach((node, i) => {
    varying[i] = node.k === 'vec' || (node.k === 'op' && node.args.some((a) => varying[a]));
  });
  plan.nodes.forEach((node, i) => {
    const emit = (): V => {
      switch (node.k) {
        case 'vec':
          b.get(P);
          memarg(b, Op.load, 4, layout.vec + node.slot * BLOCK * 4);
          return setNew(b);
        case 'splat':
          b.raw(0x41, 0);
          memarg(b, Op.load32Splat, 2, layout.scalars + node.slot * 4);
          return setNew(b);
        case 'const': return b.f32(node.value);
        case 'op': return emitOp(b, node.op, node.args.map((a) => vals[a]!));
      }
    };
    vals.push(varying[i] ? emit() : b.hoisted(emit));
  });
  const root = vals[plan.root]!;
  let acc0: V | null = null, acc1: V | null = null, lanes: V | null = null, nv: V | null = null;
  if (plan.kind === 'sum') {
    [acc0, acc1, lanes, nv] = b.hoisted(() => {
      const zero = b.bits(0);
      const a0 = b.bin(Op.or, zero, zero), a1 = b.bin(Op.or, zero, zero);
      b.simd(Op.const);
      for (const l of [0, 1, 2, 3]) b.raw(l, 0, 0, 0);
      const ln = setNew(b);
      b.get(N).simd(Op.i32Splat);
      return [a0, a1, ln, setNew(b)] as const;
    });
    // Lanes at or past n add nothing.
    const term = b.bin(Op.and, root, b.bin(Op.i32LtS, lanes, nv));
    b.get(acc0).get(term).simd(Op.f64PromoteLow).simd(Op.f64Add).set(acc0);
    b.get(acc1).get(term).get(term).raw(0xfd, Op.shuffle, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)
      .simd(Op.f64PromoteLow).simd(Op.f64Add).set(acc1);
    b.get(lanes).get(b.bits(4)).simd(Op.i32Add).set(lanes);
  } else {
    b.get(P).get(root);
    memarg(b, Op.store, 4, layout.out);
  }
  const tail: number[] = [...b.pre];
  // end = n * 4; for (p = 0; p < end; p += 16) loop
  tail.push(0x20, N, 0x41, 2, 0x74, 0x21, END); // local.get n; i32.const 2; i32.shl; local.set end
  tail.push(0x41, 0, 0x21, P);
  tail.push(0x02, 0x40, 0x03, 0x40);
  tail.push(0x20, P, 0x20, END, 0x4e, 0x0d, 1); // p >= end (signed): br_if 1
  tail.push(...b.loop);
  tail.push(0x20, P, 0x41, 16, 0x6a, 0x21, P, 0x0c, 0, 0x0b, 0x0b);
  if (plan.kind === 'sum') {
    // (acc0 + acc1) lane 0 + lane 1
    const a0 = lebOf(acc0!), a1 = lebOf(acc1!);
    tail.push(0x20, ...a0, 0x20, ...a1, 0xfd, ...lebOf(Op.f64Add), 0x21, ...a0);
    tail.push(0x20, ...a0, 0xfd, Op.f64ExtractLane, 0, 0x20, ...a0, 0xfd, Op.f64ExtractLane, 1, 0xa0);
  }
  return b.body(tail);
}

const setNew = (b: VecBuilder): V => b.put();

function lebOf(n: number): number[] {
  const out: number[] = [];
  uleb(n, out);
  return out;
}

/** The module's bytes; imports its memory as e.m, exports f. */
export function simdModule(plan: SimdPlan, layout: SimdLayout, relaxed: boolean): Uint8Array {
  return oneFunctionModule([1, I32, ...(plan.kind === 'sum' ? [1, F64] : [0])], functionBody(plan, layout, relaxed));
}
