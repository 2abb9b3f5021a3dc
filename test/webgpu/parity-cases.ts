/**
 * The table of parity cases: every op of the public Tensor API, its functional forms and nn's
 * functional layer, on small shared shapes (so that pipelines are few and compile once).
 */
import * as born from '../../src/index.js';
import type { DType } from '../../src/graph/dtype.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { type Case, type Family, type Input, bool, f, i32, idx, of, pos, prob, unit, vals } from './parity.js';

const F = born.nn.functional;
const c = (family: Family, name: string, inputs: Input[], fn: Case['fn'], extra: Partial<Case> = {}): Case => ({ family, name, inputs, fn, ...extra });
const noGrad = { grad: false } as const;
const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1.5, -2.5, 3.7, -1e30, 1e-40, 100.5, -128.5, 255.9, 40000.7];
/** SPECIAL less the subnormal, which the software adapter flushes to zero in transcendentals. */
const SPECIAL_NORMAL = SPECIAL.filter((x) => x !== 1e-40);
const INT64_RANGE = 'int64 is computed on its low word (storage.ts): out of range and NaN give 0, not the most negative int64';

const elementwise: Case[] = [
  c('elementwise', 'add', [f(4, 6), f(4, 6)], (a, b) => a.add(b)),
  c('elementwise', 'add broadcast', [f(4, 6), f(6)], (a, b) => a.add(b)),
  c('elementwise', 'sub scalar', [f(4, 6)], (a) => a.sub(1.25).mul(3)),
  c('elementwise', 'mul', [f(4, 6), f(4, 6)], (a, b) => a.mul(b)),
  c('elementwise', 'div', [f(4, 6), pos(4, 6)], (a, b) => a.div(b)),
  c('elementwise', 'maximum/minimum', [f(4, 6), f(4, 6)], (a, b) => [a.maximum(b), a.minimum(b), born.maximum(a, 0.5)]),
  c('elementwise', 'neg abs sign', [f(4, 6)], (a) => [a.neg(), a.abs(), a.sign()]),
  c('elementwise', 'reciprocal', [pos(4, 6)], (a) => a.reciprocal()),
  c('elementwise', 'sqrt', [pos(4, 6)], (a) => a.sqrt()),
  c('elementwise', 'rsqrt', [pos(4, 6)], (a) => a.rsqrt(), { tol: 1e-4 }),
  c('elementwise', 'square', [f(4, 6)], (a) => a.square()),
  c('elementwise', 'floor ceil trunc round', [of('float32', 'big', 4, 6)], (a) => [a.floor(), a.ceil(), a.trunc(), a.round(), a.round({ decimals: 1 })], noGrad),
  c('elementwise', 'remainder fmod', [of('float32', 'big', 4, 6), pos(4, 6)], (a, b) => [a.remainder(b), a.fmod(b), a.remainder(-3)]),
  c('elementwise', 'clamp', [f(4, 6)], (a) => [a.clamp(-0.5, 0.75), a.clamp({ min: 0 }), born.clamp(a, undefined, 1)]),
  c('elementwise', 'clamp tensor bounds', [f(4, 6), f(4, 6)], (a, lo) => a.clamp(lo, lo.add(1))),
  c('elementwise', 'relu', [f(4, 6)], (a) => a.relu()),
  c('elementwise', 'relu nan', [vals([NaN, -1, 2, -0, Infinity, -Infinity])], (a) => [a.relu(), a.maximum(0), a.clamp(0, 1)], noGrad),
  c('elementwise', 'hardtanh relu6', [of('float32', 'big', 4, 6)], (a) => [a.hardtanh(), F.relu6(a), a.hardtanh({ minVal: -2, maxVal: 3 })]),
  c('elementwise', 'hardswish hardsigmoid', [of('float32', 'big', 4, 6)], (a) => [a.div(20).hardswish(), a.div(20).hardsigmoid()]),
  c('elementwise', 'leakyRelu', [f(4, 6)], (a) => [a.leakyRelu(), a.leakyRelu(0.2)]),
  c('elementwise', 'lerp', [f(4, 6), f(4, 6), prob(4, 6)], (a, b, w) => [a.lerp(b, w), a.lerp(b, 0.3)]),
  c('elementwise', 'where', [bool(4, 6), f(4, 6), f(4, 6)], (m, a, b) => [born.where(m as Tensor<'bool'>, a, b), a.where(m as Tensor<'bool'>, 2)]),
  c('elementwise', 'maskedFill', [f(4, 6), bool(4, 6)], (a, m) => a.maskedFill(m as Tensor<'bool'>, -1)),
  c('elementwise', 'pow float exponent', [pos(4, 6), f(4, 6)], (a, b) => a.pow(b), { tol: 1e-4 }),
  c('elementwise', 'pow negative base', [f(4, 6)], (a) => [a.pow(2), a.pow(3), a.pow(-1), a.pow(0.5)], { tol: 1e-4 }),
  c('elementwise', 'in place ops', [f(4, 6), f(4, 6)], (a, b) => a.clone().add_(b, { alpha: 2 }).mul_(b).clamp_(-1, 1).sub_(0.5).div_(3),
    // In-place ops cut the history (Tensor.assign): nothing to differentiate.
    noGrad),
  c('elementwise', 'allowUnused gradient', [f(4, 6), f(4, 6)], (a) => a.mul(2), { gradTol: 0 }),
  c('elementwise', 'fill_ zero_', [f(4, 6)], (a) => [a.clone().fill_(2.5), a.clone().zero_()], noGrad),
  c('elementwise', 'sliceAssign_ copy_', [f(4, 6), f(4, 2)], (a, b) => [a.clone().sliceAssign_(1, 3, b), a.clone().copy_(b.sum(1, true))], noGrad),
  c('elementwise', 'max/min of two tensors, detach, clone', [f(4, 6), f(4, 6)], (a, b) => [a.max(b), a.min(b), a.detach().mul(b), a.clone().add(1)]),
  c('elementwise', 'sliceAssign_ at a runtime position', [f(4, 6), f(4, 1)], (a, b) => [1, 4].map((p) => a.clone().sliceAssign_(1, born.scalar(p, { dtype: 'int32' }), b)), noGrad),
  c('elementwise', 'long fused chain', [f(4, 6), f(6)], (a, b) => a.mul(b).add(1).sub(b.mul(0.5)).div(b.abs().add(1)).relu().mul(2).neg().add(a)),
];

const transcendental: Case[] = [
  ...(['exp', 'tanh', 'sin', 'cos', 'erf', 'atan', 'sinh', 'cosh', 'expm1', 'sigmoid', 'silu', 'selu', 'mish', 'logSigmoid'] as const)
    .map((op) => c('transcendental', op, [f(4, 6)], (a) => (a[op] as () => Tensor).call(a))),
  ...(['log', 'log1p', 'log2', 'log10'] as const).map((op) => c('transcendental', op, [pos(4, 6)], (a) => (a[op] as () => Tensor).call(a))),
  c('transcendental', 'tan', [unit(4, 6)], (a) => a.tan()),
  c('transcendental', 'asin acos', [unit(4, 6)], (a) => [a.asin(), a.acos()]),
  c('transcendental', 'atan2', [f(4, 6), f(4, 6)], (a, b) => a.atan2(b)),
  c('transcendental', 'gelu', [f(4, 6)], (a) => [a.gelu(), a.gelu('tanh')]),
  c('transcendental', 'softplus', [of('float32', 'big', 4, 6)], (a) => [a.div(10).softplus(), a.div(10).softplus({ beta: 2, threshold: 3 })]),
  c('transcendental', 'elu celu', [f(4, 6)], (a) => [a.elu(), a.celu(0.5), a.elu({ alpha: 2 })]),
  c('transcendental', 'prelu', [f(2, 3, 4), f(3)], (a, w) => F.prelu(a, w)),
  c('transcendental', 'special values', [vals(SPECIAL_NORMAL)], (a) => [a.exp(), a.log(), a.sqrt(), a.tanh(), a.sigmoid(), a.erf(), a.atan(), a.reciprocal()], noGrad),
  c('transcendental', 'subnormal input', [vals([1e-40, -1e-40, 1e-39, 5e-45])], (a) => [a.sqrt(), a.mul(1e30), a.abs(), a.exp()], noGrad),
  c('transcendental', 'log of a subnormal', [vals([1e-40, 1e-39, 5e-45])], (a) => a.log(), { ...noGrad, known: 'lavapipe flushes subnormal f32 inputs of log to zero-ish (log(1e-40) = -88.02, not -92.10)' }),
];

/** Exact widening of every dtype that a small integer value survives: one kernel holds many casts. */
const wide = (t: Tensor): Tensor => t.to('float32');
/** Values every dtype holds: small integers (uint8 non-negative), fractions for the float types. */
const genOf = (dt: DType, ...shape: number[]): Input =>
  of(dt, dt === 'bool' ? 'bool' : dt === 'uint8' ? { index: 200 } : dt.startsWith('float') || dt === 'bfloat16' ? 'big' : 'int', ...shape);
const INT_DTYPES: DType[] = ['int32', 'int8', 'uint8', 'int16', 'int64', 'bool'];
const intBool: Case[] = [
  c('int/bool', 'compare float', [f(4, 6), f(4, 6)], (a, b) => [a.eq(b), a.ne(b), a.lt(b), a.le(b), a.gt(b), a.ge(b), a.lt(0), born.eq(a, a)]),
  c('int/bool', 'isnan isinf isfinite', [vals(SPECIAL)], (a) => [a.isnan(), a.isinf(), a.isfinite()]),
  c('int/bool', 'logical', [bool(4, 6), bool(4, 6), f(4, 6)], (a, b, x) => [a.logicalAnd(b), a.logicalOr(b), a.logicalXor(b), a.logicalNot(), x.logicalAnd(a)]),
  c('int/bool', 'bitwise int32', [i32(4, 6), i32(4, 6)], (a, b) => [a.bitwiseAnd(b), a.bitwiseOr(b), a.bitwiseXor(b), a.bitwiseNot(), a.bitwiseAnd(7)]),
  c('int/bool', 'int32 arithmetic', [i32(4, 6), i32(4, 6)], (a, b) => [a.add(b), a.sub(b), a.mul(b), a.neg(), a.abs(), a.sign(), a.maximum(b), a.square(), a.add(3)]),
  c('int/bool', 'int32 remainder fmod (by 0 too)', [i32(4, 6), of('int32', 'small', 4, 6)], (a, b) => [a.remainder(b), a.fmod(b), a.remainder(3), a.fmod(-4)]),
  c('int/bool', 'int32 div to float', [i32(4, 6), of('int32', 'small', 4, 6)], (a, b) => a.div(b.add(5))),
  c('int/bool', 'int32 wraps', [vals([2147483647, -2147483648, 65536, -65536, 123456789], 'int32')], (a) => [a.add(1), a.mul(a), a.neg(), a.abs()]),
  c('int/bool', 'isclose allclose equal', [f(4, 6), f(4, 6)], (a, b) => [a.isclose(b, 0.5, 0.1), a.isclose(a.add(1e-7))]),
  c('int/bool', 'allclose', [f(4, 6)], (a) => a.allclose(a.mul(1.0000001))),
  c('int/bool', 'equal', [i32(4, 6)], (a) => a.equal(a.add(0))),
  // Per dtype: the elementwise ops in one kernel (each result widened exactly), reductions and a scan.
  ...INT_DTYPES.map((dt) => c('int/bool', `${dt} ops`, [genOf(dt, 4, 6), genOf(dt, 4, 6)],
    (a, b) => [born.stack([...(dt === 'bool' ? [a.logicalAnd(b), a.logicalOr(b)] : [a.add(b), a.mul(b), a.sub(b)]), a.maximum(b), a.minimum(b), a.eq(b), a.lt(b),
      a.where(b.ne(0), b)].map(wide)), a.sum(), a.sum(1), a.amax(0), a.argmax(1)])),
  ...INT_DTYPES.map((dt) => c('scan/sort', `${dt} cumsum`, [genOf(dt, 4, 6)], (a) => a.cumsum(1))),
  // Structural kernels (sort, gather, scatter, movement) over every dtype they take.
  ...(['float16', 'bfloat16', ...INT_DTYPES] as DType[]).map((dt) => c('index/scatter', `${dt} sort gather scatterAdd movement`, [genOf(dt, 4, 6), idx(6, 4, 3)],
    (a, i) => [a.sort({ dim: 1, stable: true }).values, a.sort({ dim: 1, stable: true }).indices, a.gather(1, i), a.indexSelect(1, i.flatten()),
      ...(dt === 'bool' ? [] : [a.scatterAdd(1, i, a.slice(1, 0, 3))]), born.cat([a, a.flip(0)], 1), a.T.contiguous(), a.pad([1, 1])], noGrad)),
  ...(['int8', 'uint8', 'int16'] as const).map((dt) => c('int/bool', `${dt} wraps`, [of('int32', 'big', 4, 6)],
    (a) => { const x = a.to(dt); return [x.add(x), x.mul(x), x.sub(120)]; })),
  ...(['float16', 'bfloat16'] as const).map((dt) => c('int/bool', `${dt} arithmetic`, [f(4, 6), f(4, 6)],
    (a, b) => { const x = a.to(dt), y = b.to(dt); return [x.add(y), x.mul(y), x.div(y.abs().add(1)), x.exp(), x.sum(1), x.amax(0), x.tanh(), x.relu()]; }, { tol: dt === 'float16' ? 2e-3 : 1e-2 })),
];

const CAST_DTYPES: DType[] = ['float32', 'int32', 'bool', 'uint8', 'int8', 'int16', 'float16', 'bfloat16', 'int64'];
const casts: Case[] = [
  // Stored in each dtype (the store of every layout).
  ...CAST_DTYPES.map((to) => c('cast', `float32 specials -> ${to}`, [vals(SPECIAL)], (a) => a.to(to), { ...noGrad, ...(to === 'int64' ? { known: INT64_RANGE } : {}) })),
  c('cast', 'float32 specials in range -> int64', [vals(SPECIAL.filter((x) => Math.abs(x) < 2 ** 31))], (a) => a.to('int64'), noGrad),
  // Loaded from each dtype, cast to every dtype in one kernel.
  ...CAST_DTYPES.map((from) => c('cast', `${from} -> every dtype`, [genOf(from, 24)],
    (x) => [x.add(x.to('bool')).to(from), born.stack(CAST_DTYPES.map((to) => wide(x.to(to))))], noGrad)),
  c('cast', 'float32 big -> narrow ints', [vals([300.7, -300.7, 70000.2, -70000.2, 3e9, -3e9, 2147483520, 127.9])], (a) => [a.to('int8'), a.to('uint8'), a.to('int16'), a.to('int32')], noGrad),
];

const reductions: Case[] = [
  c('reduction', 'sum', [f(4, 6)], (a) => [a.sum(), a.sum(1), a.sum(0, true), born.sum(a, [0, 1])]),
  c('reduction', 'sum 3-d dims', [f(3, 4, 5)], (a) => [a.sum([0, 2]), a.sum(1, { keepdim: true }), a.mean(2)]),
  c('reduction', 'mean', [f(4, 6)], (a) => [a.mean(), a.mean(1), a.mean(0, true)]),
  c('reduction', 'max min with indices', [f(4, 6)], (a) => [a.max(1).values, a.max(1).indices, a.min(0).values, a.min(0).indices, a.max(), a.min()]),
  c('reduction', 'amax amin', [f(4, 6)], (a) => [a.amax(), a.amax(1), a.amin(0)]),
  c('reduction', 'argmax argmin', [f(4, 6)], (a) => [a.argmax(), a.argmax(1), a.argmin(0, true)], noGrad),
  c('reduction', 'var std', [f(4, 6)], (a) => [a.var(), a.var(1), a.std(0), born.var(a, 1, false)]),
  c('reduction', 'logsumexp', [f(4, 6)], (a) => [a.logsumexp(1), a.logsumexp()], { tol: 1e-4 }),
  c('reduction', 'softmax logSoftmax', [f(4, 6)], (a) => [a.softmax(), a.softmax(0), a.logSoftmax(1)], { tol: 1e-4 }),
  c('reduction', 'prod', [of('float32', 'prob', 4, 6)], (a) => [a.prod(), a.prod(1), a.mul(2).prod(0, true)], { tol: 1e-4 }),
  c('reduction', 'norm', [f(4, 6)], (a) => [a.norm(), a.norm(1, 1), a.norm(Infinity), a.norm({ p: 3, dim: 0 })], { tol: 1e-4 }),
  c('reduction', 'all any', [bool(4, 6), f(4, 6)], (m, a) => [m.all(), m.any(1), a.gt(-1.9).all(0), a.gt(1.99).any()], noGrad),
  c('reduction', 'int32 reductions', [i32(4, 6)], (a) => [a.sum(), a.sum(0), a.prod(1), a.amax(), a.amin(1), a.argmax(1), a.max(0).values, a.min(1).indices]),
  c('reduction', 'nan propagates', [vals([1, NaN, 3, -2, 5, 0], 'float32', [2, 3])], (a) => [a.amax(1), a.amin(0), a.sum(1), a.max(1).indices, a.argmin(1)], noGrad),
  c('reduction', 'long sum 8192', [f(8192)], (a) => [a.sum(), a.mean(), a.amax(), a.square().sum().sqrt()], { tol: 1e-3 }),
  c('reduction', 'long rows 4x2048', [f(4, 2048)], (a) => [a.sum(1), a.softmax(1), a.var(1), a.logsumexp(1)], { tol: 1e-3 }),
  c('reduction', 'trace', [f(5, 5)], (a) => a.trace()),
];

const scanSort: Case[] = [
  c('scan/sort', 'cumsum cumprod', [f(4, 6)], (a) => [a.cumsum(1), a.cumsum(0), a.div(2).cumprod(1)], { tol: 1e-4 }),
  c('scan/sort', 'cumsum int32', [i32(4, 6)], (a) => [a.cumsum(1), a.cumprod({ dim: 0 })]),
  c('scan/sort', 'sort', [f(4, 6)], (a) => [a.sort().values, a.sort().indices, a.sort(0, true).values, a.sort(0, true).indices]),
  c('scan/sort', 'argsort', [f(4, 6)], (a) => [a.argsort(), a.argsort(0, { descending: true })], noGrad),
  c('scan/sort', 'sort stable ties', [of('int32', 'small', 4, 6)], (a) => [a.sort({ dim: 1, stable: true }).indices, a.argsort({ dim: 0, stable: true, descending: true })]),
  c('scan/sort', 'topk', [f(4, 6)], (a) => [a.topk(3).values, a.topk(3).indices, a.topk(2, 0, false).values, a.topk(2, 0, false).indices]),
];

const movement: Case[] = [
  c('movement', 'reshape flatten squeeze', [f(2, 1, 12)], (a) => [a.reshape(4, 6).add(0), a.flatten().add(0), a.squeeze(1).add(0), a.unsqueeze(0).add(0), a.view([3, 8]).mul(1)]),
  c('movement', 'permute transpose T', [f(2, 3, 4)], (a) => [a.permute(2, 0, 1).contiguous(), a.transpose(0, 2).add(1), a.reshape(6, 4).T.mul(2)]),
  c('movement', 'slice narrow', [f(6, 8)], (a) => [a.slice(1, 1, 7, 2).add(0), a.narrow(0, 2, 3).mul(1), a.slice(0, -3).neg()]),
  c('movement', 'flip roll', [f(4, 6)], (a) => [a.flip(0, 1).add(0), a.roll(2, 1).mul(1), a.roll({ shifts: [1, -2], dims: [0, 1] }).neg()]),
  c('movement', 'expand repeat tile', [f(3, 1)], (a) => [a.expand(3, 4).add(0), a.repeat(2, 3).mul(1), a.tile([2]).neg(), a.expandAs(born.zeros([2, 3, 5])).add(1)]),
  c('movement', 'pad constant', [f(3, 4)], (a) => [a.pad([1, 2]), a.pad([1, 1, 2, 0], 3.5)]),
  c('movement', 'chunk split', [f(6, 4)], (a) => [...a.chunk(3).map((x) => x.mul(1)), ...a.split([1, 3], 1).map((x) => x.add(0))]),
  c('movement', 'cat stack', [f(2, 3), f(4, 3)], (a, b) => [born.cat([a, b]), born.cat([a, b.slice(0, 0, 2)], 1), born.stack([a, b.slice(0, 1, 3)], 1)]),
  c('movement', 'movedim', [f(2, 3, 4)], (a) => a.movedim(0, 2).contiguous()),
  c('movement', 'triu tril', [f(5, 6)], (a) => [a.triu(), a.tril(-1), a.triu({ diagonal: 2 })]),
  c('movement', 'diag', [f(5, 5), f(4)], (a, v) => [a.diag(), a.diag(1), v.diag(), v.diag(-1)]),
  c('movement', 'meshgrid', [f(3), f(4)], (a, b) => born.meshgrid(a, b).map((t) => t.add(0))),
  c('movement', 'int32 movement', [i32(4, 6)], (a) => [a.T.contiguous(), a.flip(1).add(0), a.pad([1, 1]), born.cat([a, a], 1)]),
];

const indexScatter: Case[] = [
  c('index/scatter', 'gather', [f(4, 6), idx(6, 4, 3)], (a, i) => a.gather(1, i)),
  c('index/scatter', 'gather dim 0', [f(4, 6), idx(4, 2, 6)], (a, i) => born.gather(a, 0, i)),
  c('index/scatter', 'indexSelect', [f(4, 6), idx(4, 5)], (a, i) => [a.indexSelect(0, i), a.indexSelect(1, i)]),
  c('index/scatter', 'scatterAdd', [f(4, 6), idx(6, 4, 3), f(4, 3)], (a, i, s) => a.scatterAdd(1, i, s)),
  c('index/scatter', 'indexAdd', [f(4, 6), idx(4, 5), f(5, 6)], (a, i, s) => [a.indexAdd(0, i, s), a.indexAdd(0, i, s, { alpha: 2 })]),
  c('index/scatter', 'scatter', [f(4, 6), vals([0, 2, 4, 1, 3, 5, 5, 0, 2, 3, 4, 1], 'int32', [4, 3]), f(4, 3)], (a, i, s) => [a.scatter(1, i, s), a.scatter(1, i, 7)]),
  c('index/scatter', 'oneHot', [idx(5, 7)], (i) => [born.oneHot(i, 5), F.oneHot(i, 6)]),
  c('index/scatter', 'embedding', [idx(10, 2, 3), f(10, 4)], (i, w) => F.embedding(i, w), { grad: [1] }),
  c('index/scatter', 'int32 gather', [i32(4, 6), idx(6, 4, 2)], (a, i) => [a.gather(1, i), a.indexSelect(1, i.flatten())]),
];

const matmul: Case[] = [
  c('matmul', 'matmul 2-d', [f(5, 7), f(7, 3)], (a, b) => a.matmul(b)),
  c('matmul', 'matmul batched broadcast', [f(2, 5, 7), f(7, 3)], (a, b) => born.matmul(a, b)),
  c('matmul', 'matmul vector', [f(7), f(7, 3), f(5, 7)], (v, b, a) => [v.matmul(b), a.matmul(v), v.dot(v)]),
  c('matmul', 'mm bmm', [f(2, 5, 7), f(2, 7, 3)], (a, b) => [a.bmm(b), a.reshape(10, 7).mm(b.reshape(14, 3).slice(0, 0, 7))]),
  c('matmul', 'outer', [f(5), f(3)], (a, b) => a.outer(b)),
  c('matmul', 'einsum', [f(2, 5, 7), f(2, 7, 3)], (a, b) => [born.einsum('bij,bjk->bik', a, b), born.einsum('bij->ji', a), born.einsum('bij,bjk->', a, b)]),
  c('matmul', 'transposed operands', [f(7, 5), f(3, 7)], (a, b) => a.T.matmul(b.T)),
  c('matmul', 'matmul epilogue', [f(5, 7), f(7, 3), f(3)], (a, b, bias) => a.matmul(b).add(bias).relu().mul(2)),
  c('matmul', 'linear', [f(4, 7), f(3, 7), f(3)], (x, w, b) => [F.linear(x, w, b), F.linear(x, w)]),
  c('matmul', 'int32 matmul', [of('int32', 'small', 4, 5), of('int32', 'small', 5, 3)], (a, b) => a.matmul(b)),
];

const x4 = (): Input => f(2, 3, 6, 6);
const window: Case[] = [
  c('window', 'conv2d', [x4(), f(4, 3, 3, 3), f(4)], (x, w, b) => [F.conv2d(x, w, b), F.conv2d(x, w, null, { stride: 2, padding: 1 })]),
  c('window', 'conv2d groups dilation', [f(2, 4, 6, 6), f(4, 2, 3, 3)], (x, w) => F.conv2d(x, w, null, { groups: 2, dilation: 2, padding: 1 })),
  c('window', 'conv1d', [f(2, 3, 9), f(4, 3, 3), f(4)], (x, w, b) => [F.conv1d(x, w, b), F.conv1d(x, w, null, { stride: 2, padding: 1 })]),
  c('window', 'convTranspose2d', [f(2, 3, 4, 4), f(3, 2, 3, 3), f(2)], (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1 })),
  c('window', 'convTranspose1d', [f(2, 3, 5), f(3, 2, 3)], (x, w) => F.convTranspose1d(x, w, null, { stride: 2 })),
  c('window', 'maxPool2d avgPool2d', [x4()], (x) => [F.maxPool2d(x, 2), F.avgPool2d(x, 3, { stride: 1, padding: 1 }), F.maxPool2d(x, 3, { stride: 2, padding: 1 })]),
  c('window', 'adaptiveAvgPool2d', [x4()], (x) => [F.adaptiveAvgPool2d(x, 4), F.adaptiveAvgPool2d(x, 1)]),
  c('window', 'adaptiveMaxPool2d', [x4()], (x) => F.adaptiveMaxPool2d(x, [3, 2])),
  c('window', 'maxPool1d', [f(2, 3, 9)], (x) => F.maxPool1d(x, 2)),
  c('window', 'avgPool1d', [f(2, 3, 9)], (x) => F.avgPool1d(x, 3, { stride: 2, padding: 1 })),
  c('window', 'adaptiveAvgPool1d', [f(2, 3, 9)], (x) => F.adaptiveAvgPool1d(x, 4)),
  c('window', 'interpolate nearest', [f(2, 3, 4, 4)], (x) => F.interpolate(x, { scaleFactor: 2 })),
  c('window', 'interpolate bilinear', [f(2, 3, 4, 4)], (x) => [F.interpolate(x, { size: [6, 5], mode: 'bilinear' }),
    F.interpolate(x, { size: [7, 7], mode: 'bilinear', alignCorners: true })]),
  c('window', 'pad modes', [f(2, 3, 4, 4)], (x) => [F.pad(x, [1, 2, 2, 1], { mode: 'reflect' }), F.pad(x, [1, 1, 1, 1], 'replicate'), F.pad(x, [2, 0, 1, 1], 'circular')]),
];

const nn: Case[] = [
  c('nn', 'layerNorm', [f(4, 6), f(6), f(6)], (x, w, b) => [F.layerNorm(x, 6, w, b), F.layerNorm(x, [6])]),
  c('nn', 'groupNorm', [f(2, 4, 3, 3), f(4), f(4)], (x, w, b) => F.groupNorm(x, 2, w, b)),
  c('nn', 'instanceNorm', [f(2, 3, 4, 4)], (x) => F.instanceNorm(x)),
  c('nn', 'normalize cosineSimilarity', [f(4, 6), f(4, 6)], (a, b) => [F.normalize(a), F.normalize(a, { p: 1, dim: 0 }), F.cosineSimilarity(a, b)]),
  c('nn', 'softmax modules', [f(4, 6)], (x) => [F.softmax(x, 1), F.logSoftmax(x, 0), born.nn.Softmax(1).forward(x)]),
  c('nn', 'scaledDotProductAttention', [f(2, 5, 4), f(2, 6, 4), f(2, 6, 3)], (q, k, v) => F.scaledDotProductAttention(q, k, v)),
  c('nn', 'attention causal', [f(2, 5, 4), f(2, 5, 4), f(2, 5, 3)], (q, k, v) => F.scaledDotProductAttention(q, k, v, { isCausal: true })),
];

/** A module made from one seed on the CPU and moved to the device of `x`: both devices get the same parameters. */
function mod<M extends born.nn.AnyModule>(x: Tensor, make: () => M): M {
  born.manualSeed(31);
  const m = make();
  m.to(x.device);
  return m;
}
const modules: Case[] = [
  c('nn', 'Linear Conv2d modules', [f(2, 3, 6, 6)], (x) => [mod(x, () => born.nn.Linear(6, 4)).forward(x), mod(x, () => born.nn.Conv2d(3, 2, 3)).forward(x)]),
  c('nn', 'BatchNorm2d training', [f(4, 3, 2, 2)], (x) => { const m = mod(x, () => born.nn.BatchNorm2d(3)); const y = m.forward(x); return [y, ...m.namedBuffers().map(([, b]) => b)]; }),
  c('nn', 'BatchNorm1d eval', [f(4, 3)], (x) => { const m = mod(x, () => born.nn.BatchNorm1d(3)); m.forward(x.mul(2)); m.eval(); return m.forward(x); }),
  c('nn', 'LayerNorm RMSNorm GroupNorm modules', [f(2, 4, 3)], (x) => [mod(x, () => born.nn.LayerNorm(3)).forward(x), mod(x, () => born.nn.RMSNorm([4, 3])).forward(x),
    mod(x, () => born.nn.GroupNorm(2, 4)).forward(x)]),
  c('nn', 'Embedding module', [idx(7, 2, 3)], (i) => mod(i, () => born.nn.Embedding(7, 4)).forward(i)),
  c('nn', 'PReLU ReLU6 modules', [f(2, 3, 4)], (x) => [mod(x, () => born.nn.PReLU()).forward(x), born.nn.ReLU6().forward(x)]),
  c('nn', 'RNN', [f(5, 2, 3)], (x) => { const [y, h] = mod(x, () => born.nn.RNN(3, 4)).forward(x); return [y, h]; }),
  c('nn', 'LSTM', [f(5, 2, 3)], (x) => { const [y, [h, c0]] = mod(x, () => born.nn.LSTM(3, 4)).forward(x); return [y, h, c0]; }),
  c('nn', 'GRU', [f(5, 2, 3)], (x) => { const [y, h] = mod(x, () => born.nn.GRU(3, 4)).forward(x); return [y, h]; }),
  c('nn', 'MultiheadAttention', [f(5, 2, 8)], (x) => { const [y, w] = mod(x, () => born.nn.MultiheadAttention(8, 2)).forward(x, x, x); return [y, w!]; }),
  c('nn', 'TransformerEncoderLayer', [f(5, 2, 8)], (x) => mod(x, () => born.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 })).forward(x)),
];

const T5 = (): Input => idx(5, 4);
const losses: Case[] = [
  c('loss', 'crossEntropy', [f(4, 5), T5()], (x, t) => [F.crossEntropy(x, t), F.crossEntropy(x, t, { reduction: 'none' }), F.crossEntropy(x, t, { labelSmoothing: 0.1 })]),
  c('loss', 'nllLoss', [f(4, 5), T5()], (x, t) => [F.nllLoss(x.logSoftmax(1), t), F.nllLoss(x, t, { reduction: 'sum' })]),
  c('loss', 'mse l1', [f(4, 5), f(4, 5)], (a, b) => [F.mseLoss(a, b), F.l1Loss(a, b), F.mseLoss(a, b, { reduction: 'none' })]),
  c('loss', 'smoothL1 huber', [f(4, 5), f(4, 5)], (a, b) => [F.smoothL1Loss(a, b), F.huberLoss(a, b, { delta: 0.5 }), F.smoothL1Loss(a, b, { beta: 2, reduction: 'sum' })]),
  c('loss', 'bce', [prob(4, 5), prob(4, 5), f(4, 5)], (p, t, x) => [F.binaryCrossEntropy(p, t), F.binaryCrossEntropyWithLogits(x, t)]),
  c('loss', 'klDiv', [f(4, 5), prob(4, 5)], (x, t) => [F.klDiv(x.logSoftmax(1), t, { reduction: 'batchmean' }), F.klDiv(x.logSoftmax(1), t.log(), { logTarget: true })]),
];

// The first input only names the device the case runs on.
const dev = f(1);
const on = (x: Tensor): { device: 'cpu' | 'webgpu' } => ({ device: x.device });
const random: Case[] = [
  c('random', 'rand randint', [dev], (d) => [born.rand([5, 7], { seed: 11, ...on(d) }), born.randint(-3, 9, [5, 7], { seed: 13, ...on(d) }), born.rand([3], { seed: 11, ...on(d) })]),
  c('random', 'global generator', [dev], (d) => { born.manualSeed(5); return [born.rand([64], on(d)), born.rand([4], on(d)), born.randint(100, [6], on(d))]; }),
  c('random', 'randLike', [f(3, 5)], (x) => born.randLike(x, { seed: 3 })),
  // Normal draws are computed in integer arithmetic (kernel/normal.ts): the same bits on both devices,
  // materialised, fused into a consumer, and cast to the half types.
  c('random', 'randn randnLike', [f(3, 5)], (x) => [born.randn([5, 7], { seed: 12, ...on(x) }), born.randnLike(x, { seed: 4 }),
    born.randn([3, 5], { seed: 77, ...on(x) }).mul(x), born.randn([4, 4], { seed: 5, dtype: 'float16', ...on(x) }), born.randn([9], { seed: 6, dtype: 'bfloat16', ...on(x) })],
  { bits: true }),
  c('random', 'dropout', [f(6, 8)], (x) => { born.manualSeed(9); return [F.dropout(x, 0.3), F.dropout(x, { p: 0.5 })]; }, { tol: 0 }),
  c('random', 'bernoulli', [prob(6, 8)], (p) => born.bernoulli(p, { seed: 21 })),
  c('random', 'randperm', [dev], () => [born.randperm(20, { seed: 7 }), born.randperm(6, { seed: 8, dtype: 'float32' })],
    { onDefault: true, known: 'randperm sorts float64 keys, which webgpu does not hold: it runs on the cpu even when webgpu is the default device' }),
  c('random', 'multinomial', [prob(3, 6)], (p) => [born.multinomial(p, 4, { seed: 2 }), born.multinomial(p, 3, { seed: 3, replacement: true })],
    { known: 'multinomial sorts float64 keys on the weights\' device: the WGSL printer refuses them ("webgpu: float64 has no WGSL type")' }),
];

const creation: Case[] = [
  c('creation', 'zeros ones full', [dev], (d) => [born.zeros([3, 4], on(d)), born.ones([2, 3], { dtype: 'int32', ...on(d) }), born.full([2, 2], 7.5, on(d)).add(0)]),
  c('creation', 'arange linspace eye', [dev], (d) => [born.arange(10, on(d)).add(0), born.arange(1, 4, 0.5, on(d)).mul(1), born.linspace(-1, 1, 9, on(d)).add(0), born.eye(3, 4, on(d)).add(0)]),
  c('creation', 'like', [f(3, 4)], (x) => [born.zerosLike(x).add(x), born.onesLike(x, { dtype: 'int32' }).add(1), born.fullLike(x, 2).mul(x)]),
];

export const CASES: readonly Case[] = [...elementwise, ...transcendental, ...intBool, ...casts, ...reductions, ...scanSort, ...movement, ...indexScatter,
  ...matmul, ...window, ...nn, ...modules, ...losses, ...random, ...creation];
