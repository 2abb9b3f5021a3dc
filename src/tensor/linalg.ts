/** Contraction and indexing: matmul with torch.matmul's rules, gather, indexSelect, oneHot. */
import { isFloat, promote } from '../graph/dtype.js';
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
  // Integer products are exact in float64 up to 2^53, which covers every int32 dot product we meet.
  if (!isFloat(dtype)) return cast(matmul(cast(a, 'float64'), cast(b, 'float64')), dtype);
  let x = cast(a, dtype), y = cast(b, dtype);
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
  let out = node({ kind: 'matmul' }, [x, y], [...batch, M, N], dtype);
  if (vecA) out = squeeze(out, -2);
  if (vecB) out = squeeze(out, -1);
  return out;
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normAxis('gather', dim, x.ndim, x.shape);
  if (index.dtype !== 'int32') throw new DTypeError(`gather: index must be int32, got ${index.dtype}`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]!)) {
    throw new ShapeError(`gather: index of shape ${fmt(index.shape)} does not fit input ${fmt(x.shape)} along dim ${dim} ` +
      `(same number of dims, and index sizes <= input sizes except along dim)`);
  }
  return node({ kind: 'gather', axis: d }, [x, index], index.shape, x.dtype);
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normAxis('indexSelect', dim, x.ndim, x.shape);
  if (index.dtype !== 'int32') throw new DTypeError(`indexSelect: index must be int32, got ${index.dtype}`);
  if (index.ndim !== 1) {
    throw new ShapeError(`indexSelect: index must be a 1-D int32 tensor, got ${index.dtype} of shape ${fmt(index.shape)}`);
  }
  const shape = x.shape.map((s, i) => (i === d ? index.shape[0]! : s));
  const idx = expand(reshape(index, x.shape.map((_, i) => (i === d ? index.shape[0]! : 1))), shape);
  return gather(x, d, idx);
}

export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (labels.dtype !== 'int32') throw new DTypeError(`oneHot: labels must be int32, got ${labels.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new ShapeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  return unsqueeze(labels, -1).eq(iota(numClasses)).to('int32');
}
