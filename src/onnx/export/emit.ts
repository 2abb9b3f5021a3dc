/**
 * One ONNX form per node kind of Born's primitive graph (graph/node.ts). Each view node is its
 * movement applied to its source (tensor/make.ts builds its tracker from exactly that), so the
 * movement alone gives the ONNX op. Elementwise ops come from the table in elementwise.ts.
 */
import type { DType } from '../../graph/dtype.js';
import type { LazyNode, NodeArg } from '../../graph/node.js';
import type { ReduceOp, RowOp } from '../../graph/ops.js';
import type { Movement } from '../../graph/view.js';
import type { GraphBuilder } from './builder.js';
import { emitAttention } from './attention.js';
import { emitConv, matchConv } from './conv.js';
import { castTo, computeType, ELEMENTWISE } from './elementwise.js';
import { ExportError } from './errors.js';
import { emitWindow } from './window.js';

const SUPPORTED = 'constants, iota, runtime scalars, every view (reshape, permute, expand, slice, flip, pad), ' +
  'elementwise ops, casts, reductions, matmul, gather, scatterAdd, cumsum, cumprod, argsort, fused attention (as MatMul and Softmax), and the im2col, maxPool and avgPool windows';

function refuse(n: LazyNode, why: string): never {
  const a = n.arg;
  const what = 'op' in a ? `${a.kind} ${String(a.op)}` : a.kind;
  throw new ExportError(`onnx.save: cannot export a ${what} node (shape [${n.shape.join(', ')}], ${n.dtype}): ${why}. Born exports ${SUPPORTED}`);
}

/** A tensor of `shape` filled with `value`: a 0-d constant, expanded. */
function filled(b: GraphBuilder, value: number, dtype: DType, shape: readonly number[]): string {
  const s = b.scalar(value, dtype);
  return shape.length ? b.op('Expand', [s, b.int64s(shape)]) : s;
}

function movement(b: GraphBuilder, x: string, m: Movement, src: LazyNode): string {
  switch (m.op) {
    case 'reshape': return b.op('Reshape', [x, b.int64s(m.shape)], m.shape.includes(0) ? { allowzero: 1 } : {});
    case 'permute': return b.op('Transpose', [x], { perm: m.order });
    case 'expand': return b.op('Expand', [x, b.int64s(m.shape)]);
    case 'slice': return b.op('Slice', [x, b.int64s([m.start]), b.int64s([m.end]), b.int64s([m.dim]), b.int64s([m.step])]);
    case 'flip': {
      if (!m.dims.length) return x;
      const k = m.dims.length;
      return b.op('Slice', [x, b.int64s(new Array<number>(k).fill(-1)), b.int64s(new Array<number>(k).fill(-(2 ** 63))), b.int64s(m.dims), b.int64s(new Array<number>(k).fill(-1))]);
    }
    case 'pad': {
      const r = src.shape.length;
      const pads = new Array<number>(2 * r).fill(0);
      for (const [d, before, after] of m.pads) { pads[d]! += before; pads[r + d]! += after; }
      return b.op('Pad', [x, b.int64s(pads)], { mode: 'constant' });
    }
  }
}

const REDUCE: Record<ReduceOp, string> = { sum: 'ReduceSum', max: 'ReduceMax', min: 'ReduceMin', prod: 'ReduceProd' };

function reduce(b: GraphBuilder, x: string, op: ReduceOp, axes: readonly number[], dtype: DType): string {
  if (!axes.length) return x;
  const c = computeType(dtype);
  const xc = castTo(b, x, dtype, c);
  // Axes became an input of ReduceSum at opset 13 and of the others at 18.
  const r = op === 'sum' || b.opset >= 18
    ? b.op(REDUCE[op], [xc, b.int64s(axes)], { keepdims: 1 })
    : b.op(REDUCE[op], [xc], { axes, keepdims: 1 });
  return castTo(b, r, c, dtype);
}

/** Scans and argsorts over the last dim. */
function row(b: GraphBuilder, n: LazyNode, x: string, op: RowOp): string {
  const src = n.srcs[0]!;
  const last = src.shape.length - 1;
  const len = src.shape[last]!;
  const c = computeType(src.dtype);
  const xc = castTo(b, x, src.dtype, c);
  switch (op) {
    case 'cumsum': return castTo(b, b.op('CumSum', [xc, b.scalar(last, 'int64')]), c, n.dtype);
    case 'cumprod': {
      // ONNX has no product scan: the running product, one Mul per element, in Born's order.
      if (len > 1024) refuse(n, `a cumprod over ${len} elements (the export unrolls it; at most 1024)`);
      if (len <= 1) return x;
      const parts: string[] = [];
      let acc = '';
      for (let k = 0; k < len; k++) {
        const s = b.op('Slice', [xc, b.int64s([k]), b.int64s([k + 1]), b.int64s([last])]);
        acc = k === 0 ? s : b.op('Mul', [acc, s]);
        parts.push(acc);
      }
      return castTo(b, b.op('Concat', parts, { axis: last }), c, n.dtype);
    }
    case 'argsort': case 'argsortDescending': {
      // TopK breaks ties by the lower index, which is the stable order both ways.
      const [, idx] = b.node('TopK', [xc, b.int64s([len])], { axis: last, largest: op === 'argsort' ? 0 : 1, sorted: 1 }, 2);
      return castTo(b, idx!, 'int64', n.dtype);
    }
  }
}

function indexInput(b: GraphBuilder, n: LazyNode, x: string): string {
  return n.dtype === 'int32' || n.dtype === 'int64' ? x : castTo(b, x, n.dtype, 'int64');
}

/** The ONNX value of node `n`, given the values of its sources (conv.ts's `sources`). */
export function emitNode(b: GraphBuilder, n: LazyNode, xs: readonly string[]): string {
  const a: NodeArg = n.arg;
  switch (a.kind) {
    case 'const': return filled(b, a.value, n.dtype, n.shape);
    // A runtime scalar's value at the traced call, baked in.
    case 'param': return filled(b, a.value, n.dtype, n.shape);
    case 'iota': {
      const count = n.shape.reduce((p, d) => p * d, 1);
      const limit = b.op('Squeeze', [b.int64s([count]), b.int64s([0])]);
      const r = b.op('Range', [b.scalar(0, 'int64'), limit, b.scalar(1, 'int64')]);
      return b.op('Reshape', [castTo(b, r, 'int64', n.dtype), b.int64s(n.shape)]);
    }
    case 'view': return movement(b, xs[0]!, a.movement, n.srcs[0]!);
    case 'elementwise': {
      const srcs = n.srcs;
      const ins = a.op === 'where' ? [castTo(b, xs[0]!, srcs[0]!.dtype, 'bool'), xs[1]!, xs[2]!] : xs;
      return ELEMENTWISE[a.op](b, ins, { inDtype: srcs[srcs.length - 1]!.dtype, outDtype: n.dtype });
    }
    case 'cast': return castTo(b, xs[0]!, n.srcs[0]!.dtype, n.dtype);
    case 'reduce': return reduce(b, xs[0]!, a.op, a.axes, n.dtype);
    case 'matmul': {
      const conv = matchConv(n);
      if (conv) return emitConv(b, n, conv, xs[0]!, xs[1]!);
      const c = computeType(n.dtype);
      const [l, r] = n.srcs as [LazyNode, LazyNode];
      return castTo(b, b.op('MatMul', [castTo(b, xs[0]!, l.dtype, c), castTo(b, xs[1]!, r.dtype, c)]), c, n.dtype);
    }
    case 'gather': return b.op('GatherElements', [xs[0]!, indexInput(b, n.srcs[1]!, xs[1]!)], { axis: a.axis });
    case 'scatterAdd': {
      const [base, index, src] = n.srcs as [LazyNode, LazyNode, LazyNode];
      let upd = xs[2]!;
      if (index.shape.some((d, i) => d !== src.shape[i])) {
        const r = index.shape.length;
        upd = b.op('Slice', [upd, b.int64s(new Array<number>(r).fill(0)), b.int64s(index.shape), b.int64s(index.shape.map((_, i) => i))]);
      }
      const c = computeType(n.dtype);
      const out = b.op('ScatterElements', [castTo(b, xs[0]!, base.dtype, c), indexInput(b, index, xs[1]!), castTo(b, upd, src.dtype, c)], { axis: a.axis, reduction: 'add' });
      return castTo(b, out, c, n.dtype);
    }
    case 'row': return row(b, n, xs[0]!, a.op);
    case 'window': return emitWindow(b, n, xs, a.op, a.geom, (why) => refuse(n, why));
    case 'rand': return refuse(n, 'random numbers have no fixed ONNX form (dropout records none in eval mode; draw random inputs outside the exported function)');
    case 'store': return refuse(n, 'an in-place write is not part of a forward pass');
    case 'transfer': return refuse(n, 'a copy between devices; move the model and inputs to one device first');
    case 'buffer': return refuse(n, 'a buffer node without storage');
    case 'attention': return emitAttention(b, n, xs, emitNode);
    case 'dequant': return refuse(n, 'ggml-quantised weights have no ONNX form here (dequantise them to float first)');
  }
}
