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
  const groups = Math.ceil(n / ELEMENTWISE_WORKGROUP);
  const body = [
    entryHeader(ELEMENTWISE_WORKGROUP),
    `  let i: i32 = wg * ${ELEMENTWISE_WORKGROUP} + lid;`,
    `  if (i >= ${n}) { return; }`,
    ...indent(unravel(k.loop, 'i')),
    ...indent(p.lines),
    ...indent(writes.map((w) => storeStmt(f.buf(w.slot), w.at, w.dtype, w.v))),
    '}',
  ].join('\n');
  return assemble(f, { body, workgroups: dispatch(groups, o), indexCheck: p.usesIndexCheck });
}
