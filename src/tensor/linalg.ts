/** Contraction and indexing: matmul with torch.matmul's rules, gather, indexSelect, scatterAdd, indexAdd, oneHot. */
import { isFloat, promote, type DType } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { broadcastShapes, normAxis } from '../graph/shape.js';
import { cast, node } from './make.js';
import { expand, reshape, squeeze, unsqueeze } from './movement.js';
import { Tensor } from './tensor.js';
import { iota } from './creation.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both operands need at least 1 dim, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const dtype = promote(a.dtype, b.dtype);
  if (dtype === 'bool') throw new DTypeError(`matmul: expected numeric operands, got ${a.dtype} and ${b.dtype}`);
  // Half types multiply in float32 and round once, as PyTorch's CPU kernels accumulate.
  if (dtype === 'float16' || dtype === 'bfloat16') return cast(matmul(cast(a, 'float32'), cast(b, 'float32')), dtype);
  let x: Tensor = cast(a, dtype), y: Tensor = cast(b, dtype);
  const vecA = x.ndim === 1, vecB = y.ndim === 1;
  if (vecA) x = unsqueeze(x, 0);
  if (vecB) y = unsqueeze(y, 1);
  const K = x.shape[x.ndim - 1]!;
  if (y.shape[y.ndim - 2] !== K) {
    throw new ShapeError(`matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: inner dims differ (${K} vs ${y.shape[y.ndim - 2]}); ` +
      `the last dim of the first operand must equal the second-to-last of the second`);
  }
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2));
  } catch {
    throw new ShapeError(`matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: batch dims ${fmt(x.shape.slice(0, -2))} and ${fmt(y.shape.slice(0, -2))} do not broadcast (sizes must match or one must be 1)`);
  }
  const M = x.shape[x.ndim - 2]!, N = y.shape[y.ndim - 1]!;
  x = expand(x, [...batch, M, K]);
  y = expand(y, [...batch, K, N]);
  // Integers: products summed in their own dtype (wrapping as PyTorch's do), one fused reduction
  // over K with no float64 anywhere, so every device computes the same thing.
  let out: Tensor = isFloat(dtype) ? node({ kind: 'matmul' }, [x, y], [...batch, M, N], dtype)
    : unsqueeze(x, -1).mul(unsqueeze(y, -3)).sum({ dim: -2 });
  if (vecA) out = squeeze(out, -2);
  if (vecB) out = squeeze(out, -1);
  return out;
}

/** Indices may be int64 (PyTorch's and ONNX's index dtype) or int32. */
const isIndexDType = (d: DType): boolean => d === 'int64' || d === 'int32';

/**
 * out[i][j] = x[index[i][j]][j] (dim 0). An index outside [0, x.shape[dim]) rejects the result's
 * data() with an IndexError naming `op` (callers built on gather pass their own name).
 */
export function gather(x: Tensor, dim: number, index: Tensor, op = 'gather'): Tensor {
  const d = normAxis(op, dim, x.ndim, x.shape);
  if (!isIndexDType(index.dtype)) throw new DTypeError(`${op}: index must be int64 or int32, got ${index.dtype}`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]!)) {
    throw new ShapeError(`${op}: index of shape ${fmt(index.shape)} does not fit input ${fmt(x.shape)} along dim ${dim} ` +
      `(same number of dims, and index sizes <= input sizes except along dim)`);
  }
  return node({ kind: 'gather', axis: d, op }, [x, index], index.shape, x.dtype);
}

/** The 1-D `index` viewed along dim `d` of `shape` (size 1 elsewhere) and expanded to it: no copy. */
function alongDim(index: Tensor, d: number, shape: readonly number[]): Tensor {
  return expand(reshape(index, shape.map((s, i) => (i === d ? s : 1))), shape);
}

export function indexSelect(x: Tensor, dim: number, index: Tensor, op = 'indexSelect'): Tensor {
  const d = normAxis(op, dim, x.ndim, x.shape);
  if (!isIndexDType(index.dtype)) throw new DTypeError(`${op}: index must be int64 or int32, got ${index.dtype}`);
  if (index.ndim !== 1) {
    throw new ShapeError(`${op}: index must be a 1-D integer tensor, got ${index.dtype} of shape ${fmt(index.shape)}`);
  }
  const shape = x.shape.map((s, i) => (i === d ? index.shape[0]! : s));
  return gather(x, d, alongDim(index, d, shape), op);
}

/**
 * torch.scatter_add: a copy of x with out[index[i][j]][j] += src[i][j] (dim 0; likewise for
 * other dims), adding where indices repeat. index and src have x's number of dims; index fits
 * inside src everywhere and inside x off `dim`. Work is O(index + x), whatever x.shape[dim].
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor, op = 'scatterAdd'): Tensor {
  const d = normAxis(op, dim, x.ndim, x.shape);
  if (!isIndexDType(index.dtype)) throw new DTypeError(`${op}: index must be int64 or int32, got ${index.dtype}`);
  if (x.dtype === 'bool') throw new DTypeError(`${op}: cannot add into a bool tensor of shape ${fmt(x.shape)}`);
  if (src.dtype !== x.dtype) {
    throw new DTypeError(`${op}: src must have the dtype of the tensor it adds into, got ${src.dtype} and ${x.dtype} (convert with .to('${x.dtype}'))`);
  }
  if (index.ndim !== x.ndim || src.ndim !== x.ndim ||
      index.shape.some((s, i) => s > src.shape[i]! || (i !== d && s > x.shape[i]!))) {
    throw new ShapeError(`${op}: index ${fmt(index.shape)} and src ${fmt(src.shape)} do not fit input ${fmt(x.shape)} along dim ${dim} ` +
      `(same number of dims; index sizes <= src sizes, and <= input sizes except along dim)`);
  }
  return node({ kind: 'scatterAdd', axis: d, op }, [x, index, src], x.shape, x.dtype);
}

/**
 * torch.index_add: a copy of x with out[index[i]] += alpha * source[i] along `dim`. index is 1-D
 * int32 with one entry per slice of source along dim; source has x's shape off dim.
 */
export function indexAdd(x: Tensor, dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor {
  const op = 'indexAdd';
  const d = normAxis(op, dim, x.ndim, x.shape);
  if (!isIndexDType(index.dtype) || index.ndim !== 1) {
    throw new DTypeError(`${op}: index must be a 1-D int64 or int32 tensor, got ${index.dtype} of shape ${fmt(index.shape)}`);
  }
  if (source.ndim !== x.ndim || source.shape[d] !== index.shape[0] || source.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new ShapeError(`${op}: source ${fmt(source.shape)} does not fit input ${fmt(x.shape)} and index ${fmt(index.shape)} along dim ${dim} ` +
      `(source must have the input's shape except along dim, where its size is the index's length)`);
  }
  const src = alpha === 1 ? source : source.mul(alpha);
  return scatterAdd(x, d, alongDim(index, d, source.shape), src, op);
}

export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (!isIndexDType(labels.dtype)) throw new DTypeError(`oneHot: labels must be int64 or int32, got ${labels.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new ShapeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  return unsqueeze(labels, -1).eq(iota(numClasses)).to('int32');
}
