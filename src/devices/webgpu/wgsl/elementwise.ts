/**
 * Elementwise kernels in WGSL: one invocation per element of the loop, writing contiguously or,
 * for a store kernel, at `outIndex`; a multi-output kernel computes every value (and every
 * target index) before its first write, so stores that read their targets see the old contents.
 */
import { numel } from '../../../graph/shape.js';
import { extraOutputSlot, type Index, type Kernel, type Scalar } from '../../../kernel/ir.js';
import type { DType } from '../../../graph/dtype.js';
import { assemble, dispatch, entryHeader, frame, indent, unravel } from './frame.js';
import type { WgslOptions, WgslProgram } from './program.js';
import { WgslScalarPrinter } from './scalar.js';
import { castWgsl, storeStmt } from './storage-wgsl.js';

export const ELEMENTWISE_WORKGROUP = 64;
/**
 * Elements each invocation computes in loops of at least PER_INVOCATION_FROM elements: a
 * software adapter pays per workgroup (an optimizer update of 400k elements took a quarter less
 * CPU at 4 an invocation), and a GPU still gets thousands of workgroups. Smaller loops keep one
 * an invocation (and the shorter shader).
 */
const PER_INVOCATION = 4;
const PER_INVOCATION_FROM = 1 << 16;

/** A value of `v`'s dtype as the compute value of `dtype` (the output's), where they differ. */
export function asDtype(x: string, v: Scalar, dtype: DType): string {
  return v.dtype === dtype ? x : castWgsl(x, v.dtype, dtype);
}

export function printElementwise(k: Kernel, o: WgslOptions): WgslProgram {
  const f = frame(k, o);
  const p = new WgslScalarPrinter({ buf: f.buf, err: f.err, ...(f.params ? { params: f.params } : {}) });
  const outs: { slot: number; dtype: DType; value: Scalar; outIndex: Index | null }[] = [
    { slot: 0, dtype: k.out.dtype, value: k.value, outIndex: k.outIndex },
    ...(k.extraOutputs ?? []).map((e, j) => ({ slot: extraOutputSlot(k, j), dtype: e.dtype, value: e.value, outIndex: e.outIndex })),
  ];
  // Every value and target index is printed (into p.lines) before any store statement.
  const writes = outs.map((w) => {
    const v = asDtype(p.print(w.value), w.value, w.dtype);
    const at = w.outIndex ? p.index(w.outIndex) : 'i';
    return { ...w, v, at };
  });
  const n = numel(k.loop);
  const per = n >= PER_INVOCATION_FROM ? PER_INVOCATION : 1;
  const groups = Math.ceil(n / (ELEMENTWISE_WORKGROUP * per));
  const element = [
    ...unravel(k.loop, 'i'),
    ...p.lines,
    ...writes.map((w) => storeStmt(f.buf(w.slot), w.at, w.dtype, w.v)),
  ];
  // Each invocation takes `per` elements a workgroup apart, so every step stays coalesced.
  const body = [
    entryHeader(ELEMENTWISE_WORKGROUP),
    ...(per === 1
      ? [`  let i: i32 = wg * ${ELEMENTWISE_WORKGROUP} + lid;`, `  if (i >= ${n}) { return; }`, ...indent(element)]
      : [
        `  for (var j_: i32 = 0; j_ < ${per}; j_ = j_ + 1) {`,
        `    let i: i32 = (wg * ${per} + j_) * ${ELEMENTWISE_WORKGROUP} + lid;`,
        `    if (i >= ${n}) { break; }`,
        ...indent(element, '    '),
        '  }',
      ]),
    '}',
  ].join('\n');
  return assemble(f, { body, workgroups: dispatch(groups, o), indexCheck: p.usesIndexCheck });
}
