// Every primitive the export maps, each model run in onnxruntime-node and born.onnx.load against
// Born (tolerance in export-harness.ts): every elementwise op of graph/ops.ts (the test fails
// when ops.ts gains one the model does not reach), every reduction, every movement (slice with a
// step, flip, pad, expand, permute, reshape), gather / scatterAdd, scans and argsort, casts,
// integer and bool inputs, pools, iota.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { LazyNode } from '../../src/graph/node.js';
import { ops } from '../../src/graph/ops.js';
import { trace, type Exportable } from '../../src/onnx/export/trace.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { im2col } from '../../src/tensor/window.js';
import { checkExport, onnxCheck } from './export-harness.js';

born.manualSeed(3);
const f32 = (shape: number[], lo = -2, hi = 2): Tensor => born.rand(shape).mul(hi - lo).add(lo);
const i32 = (shape: number[], lo: number, hi: number): Tensor => born.randint(lo, hi, shape).to('int32');

/** The primitive kinds and ops a traced model reaches. */
function reached(model: Exportable, inputs: Tensor[]): Set<string> {
  const t = trace(model, inputs);
  return new Set(t.order.map((n: LazyNode) => ('op' in n.arg ? `${n.arg.kind}:${String(n.arg.op)}` : n.arg.kind)));
}

// Float operands in (0.1, 0.9) for the inverse trig and logs, mixed-sign ones for the rest.
const x = f32([3, 4], 0.1, 0.9), y = f32([3, 4]).add(0.05), i = i32([3, 4], -20, 20), j = i32([3, 4], 1, 7);
const p = f32([3, 4]).gt(0), q = f32([3, 4]).gt(0.5);

const floats = (a: Tensor, b: Tensor) => ({
  neg: b.neg(), abs: b.abs(), sign: b.sign(), recip: b.reciprocal(), exp: b.exp(), log: a.log(), log1p: a.log1p(), sqrt: a.sqrt(),
  sin: b.sin(), cos: b.cos(), tanh: b.tanh(), erf: b.erf(), relu: b.relu(), floor: b.mul(3).floor(), not: b.gt(0).logicalNot(),
  add: a.add(b), sub: a.sub(b), mul: a.mul(b), div: a.div(b), pow: a.pow(b), maximum: a.maximum(b), minimum: a.minimum(b),
  eq: a.eq(b.abs().mul(0).add(a)), ne: a.ne(b), lt: a.lt(b), le: a.le(b), where: born.where(b.gt(0), a, b),
  tan: b.tan(), asin: a.asin(), acos: a.acos(), atan: b.atan(), sinh: b.sinh(), cosh: b.cosh(), log2: a.log2(), log10: a.log10(),
  expm1: b.expm1(), atan2: b.atan2(a.sub(0.5)), round: b.mul(3).round(), ceil: b.mul(3).ceil(), trunc: b.mul(3).trunc(),
  remainder: b.mul(5).remainder(a.sub(0.5)), fmod: b.mul(5).fmod(a.sub(0.5)),
});
const ints = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) => ({
  iadd: a.add(b), imul: a.mul(b), idiv: a.div(b), irem: a.remainder(b), ifmod: a.fmod(b), imax: a.maximum(b), iabs: a.abs(), ineg: a.neg(),
  isign: a.sign(), irelu: a.relu(), ilt: a.lt(b), inot: a.logicalNot(), ifloor: a.floor(),
  band: c.bitwiseAnd(d), bor: c.bitwiseOr(d), bxor: c.bitwiseXor(d), bnot: c.bitwiseNot(),
});

describe('elementwise', () => {
  test('every op of graph/ops.ts on floats (opset 17)', async () => {
    const f = (a: Tensor, b: Tensor) => floats(a, b);
    const seen = reached(f, [x, y]);
    const bitwise = ['bitand', 'bitor', 'bitxor', 'bitnot'];
    for (const op of Object.keys(ops)) if (!bitwise.includes(op)) expect(seen.has(`elementwise:${op}`), op).toBe(true);
    onnxCheck(await checkExport(f, [x, y]));
  });

  test('integer and bool inputs; bitwise ops on integers need opset 18, on bool they are logical', async () => {
    const f = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) => ints(a, b, c, d);
    const seen = reached(f, [i, j, p, q]);
    for (const op of ['bitand', 'bitor', 'bitxor', 'bitnot']) expect(seen.has(`elementwise:${op}`), op).toBe(true);
    await checkExport(f, [i, j, p, q]);
    const g = (a: Tensor, b: Tensor) => ({ and: a.bitwiseAnd(b), or: a.bitwiseOr(b), xor: a.bitwiseXor(b), not: a.bitwiseNot() });
    await expect(born.onnx.toBytes(g, [i, j])).rejects.toThrow(/needs ONNX opset 18 or newer .*pass \{ opset: 18 \}/);
    // Re-imported too: born.onnx.load runs opset 18's Bitwise* ops.
    const bytes = await checkExport(g, [i, j], { opset: 18 });
    expect(decodeModel(bytes).opset_import![0]!.version).toBe(18);
  });

  test('float64, int64, int16, uint8 and float16 operands', async () => {
    const f = (a: Tensor, b: Tensor, c: Tensor, h: Tensor) => {
      const half = h.to('float16'), bf = h.to('bfloat16');
      return {
        d: a.mul(a).add(1).log(), l: b.mul(3).add(b).sum(1), s: c.add(c), u: c.to('uint8').add(7),
        h: half.mul(half).add(1).exp().to('float32'), bf: bf.mul(bf).sub(bf).to('float32'),
        i8: c.to('int8').mul(9), sel: born.where(b.gt(0), c, c.neg()), bsel: born.where(h.gt(0), h.gt(1), h.lt(-1)),
      };
    };
    await checkExport(f, [y.to('float64'), i.to('int64'), i.to('int16'), y]);
  });
});

describe('reductions, matmul, scans, sorts', () => {
  test('sum, max, min, prod over axes, keepdim and not; mean, var; argmax; matmul batched', async () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => ({
      sum: a.sum(1), max: a.amax([0, 2]), min: a.amin(2, true), prod: a.prod(0), mean: a.mean(), var: a.var(1),
      argmax: a.argmax(2), isum: c.sum(0), bmm: a.matmul(b), mm: a.reshape([6, 4]).mm(b.reshape([8, 5]).slice(0, 0, 4)),
    });
    onnxCheck(await checkExport(f, [f32([2, 3, 4]), f32([2, 4, 5]), i32([3, 2], -5, 5)]));
  });

  test('opsets 18 and 21: reductions take their axes as an input; the IR version follows the opset', async () => {
    const f = (a: Tensor) => ({ max: a.amax(1), min: a.amin([0, 1], true), prod: a.prod(1), sum: a.sum(0), mean: a.mean(1) });
    for (const [opset, ir] of [[18, 8], [21, 10]] as const) {
      const bytes = await checkExport(f, [f32([3, 4])], { opset, noReimport: opset > 18 });
      expect(decodeModel(bytes).ir_version).toBe(ir);
    }
  });

  test('cumsum, cumprod over a dim, argsort both ways, sort, topk', async () => {
    const f = (a: Tensor) => ({
      cs: a.cumsum(0), cp: a.cumprod(1), as: a.argsort(1), asd: a.argsort(0, true), srt: a.sort(1).values, tk: a.topk(2, 1).indices,
    });
    await checkExport(f, [f32([4, 5])], { noReimport: false });
  });

  test('argsort is stable on ties both ways', async () => {
    const t = born.tensor([[1, 0, 1, 0, 1, 2, 2, 0]]);
    await checkExport((a: Tensor) => ({ up: a.argsort(1), down: a.argsort(1, true) }), [t]);
  });
});

describe('movement, indexing, casts', () => {
  test('reshape, permute, expand, slice with a step, flip, pad, cat, split, roll', async () => {
    const f = (a: Tensor) => ({
      r: a.reshape([4, 6]), p: a.permute([2, 0, 1]), e: a.slice(1, 0, 1).expand([2, 5, 4]), s: a.slice(2, 1, 4, 2),
      fl: a.flip(0, 2), pad: a.pad([1, 2, 0, 1]), c: born.cat([a, a.mul(2)], 1), sp: a.split(1, 2)[1]!, roll: a.roll(1, 2),
      t: a.transpose(0, 1).reshape([3, 8]),
    });
    onnxCheck(await checkExport(f, [f32([2, 3, 4])]));
  });

  test('gather, indexSelect, embedding, scatterAdd, indexAdd, maskedFill with integer inputs', async () => {
    const f = (a: Tensor, idx: Tensor, rows: Tensor) => ({
      g: a.gather(1, idx), sel: a.indexSelect(0, rows), sa: born.zeros([3, 4]).scatterAdd(1, idx, a.slice(1, 0, 3)),
      ia: a.indexAdd(0, rows, a.slice(0, 0, 2).mul(10)), mf: a.maskedFill(a.gt(0), 0),
    });
    await checkExport(f, [f32([3, 4]), i32([3, 2], 0, 4).to('int64'), born.tensor([2, 0]).to('int64')]);
  });

  test('casts between float, integer and bool; iota (arange) in the graph', async () => {
    const f = (a: Tensor) => ({
      toInt: a.mul(4).to('int32'), toBool: a.to('bool'), back: a.gt(0).to('float32'), i64: a.mul(3).to('int64').add(1),
      ar: born.arange(12).reshape([3, 4]).to('float32').add(a),
    });
    await checkExport(f, [f32([3, 4])]);
  });
});

describe('windows', () => {
  test('conv2d with padding, stride, dilation and groups; max and average pools with padding', async () => {
    const w = f32([6, 2, 3, 3]), bias = f32([6]);
    const fn = born.nn.functional;
    const f = (a: Tensor) => ({
      conv: fn.conv2d(a, w, bias, { stride: 2, padding: 1, dilation: [1, 2], groups: 2 }),
      max: fn.maxPool2d(a, 3, { stride: 2, padding: 1 }), avg: fn.avgPool2d(a, 2, { stride: 1, padding: 1 }),
      adaptive: fn.adaptiveAvgPool2d(a, [3, 2]), conv1: fn.conv2d(a, w.slice(1, 0, 1).repeat([1, 4, 1, 1]).slice(2, 0, 1), null),
    });
    const bytes = await checkExport(f, [f32([2, 4, 7, 7])], { dynamicBatch: true, more: [[f32([3, 4, 7, 7])]] });
    onnxCheck(bytes);
    expect(decodeModel(bytes).graph!.node!.filter((n) => n.op_type === 'Conv').length).toBe(2); // the matmuls became Convs
  });

  test('im2col patches read other than by a convolution: the exact one-hot depthwise Conv', async () => {
    const geom = { H: 5, W: 6, Ho: 3, Wo: 2, kh: 2, kw: 3, sh: 2, sw: 2, ph: 1, pw: 0, dh: 1, dw: 1 };
    const f = (a: Tensor) => im2col(a, geom).mul(2);
    await checkExport(f, [f32([2, 3, 5, 6])], { dynamicBatch: true, more: [[f32([4, 3, 5, 6])]], noReimport: false });
  });
});
