/**
 * nn.functional forms of the basic layers (PyTorch's F.dropout, F.linear, F.embedding,
 * F.layer_norm) and of normalize, cosineSimilarity and oneHot: stateless, every tensor passed in.
 */
import { ShapeError, DTypeError, fmt } from '../graph/errors.js';
import { isFloat } from '../graph/dtype.js';
import { full, rand } from '../tensor/creation.js';
import { indexSelect, oneHot as oneHotImpl } from '../tensor/linalg.js';
import { int, isPlainObject, options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';

export interface DropoutOptions { p?: number; training?: boolean }

/**
 * Zeroes each element with probability p (default 0.5) and scales the rest by 1/(1-p); the
 * identity when `training` is false. `training` defaults to true, as in PyTorch's F.dropout
 * (pass `{ training: this.training }` inside a module). Positional as PyTorch: dropout(x, 0.2, false).
 */
export function dropout(x: Tensor, opts?: DropoutOptions | number, training?: boolean): Tensor {
  const o = isPlainObject(opts) ? options<DropoutOptions>('dropout', opts, ['p', 'training']) : { p: opts as number | undefined, training };
  const { p = 0.5, training: train = true } = o;
  if (typeof train !== 'boolean') throw new TypeError(`dropout: training must be true or false, got ${typeof train}`);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${String(p)}`);
  if (!train || p === 0) return x;
  if (p === 1) return x.mul(full(x.shape, 0));
  return x.mul(rand(x.shape).ge(p).to(x.dtype)).mul(1 / (1 - p));
}

/** y = x Wᵀ + b. Shapes: x [..., in], weight [out, in], bias [out] (optional) → [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new ShapeError(`linear: input ${fmt(x.shape)} and weight ${fmt(weight.shape)} do not fit (input [..., in], weight [out, in])`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) throw new ShapeError(`linear: bias ${fmt(bias.shape)} should be [${weight.shape[0]}] for weight ${fmt(weight.shape)}`);
  const y = x.matmul(weight.T);
  return bias ? y.add(bias) : y;
}

/** Rows of `weight` [num, dim] at int32 indices of any shape → [...idx.shape, dim]. */
export function embedding(idx: Tensor, weight: Tensor): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be a [numEmbeddings, embeddingDim] table, got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, idx.flatten(), 'embedding').reshape([...idx.shape, weight.shape[1]!]);
}

/**
 * Normalises over the trailing `normalizedShape` dims (biased variance), then scales by weight
 * and shifts by bias (both optional, of shape normalizedShape).
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.ndim - shape.length);
  if (shape.length > x.ndim || tail.some((d, i) => d !== shape[i])) throw new ShapeError(`layerNorm: input of shape ${fmt(x.shape)} should end in normalizedShape ${fmt(shape)}`);
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i]))) throw new ShapeError(`layerNorm: ${name} ${fmt(t.shape)} should have normalizedShape ${fmt(shape)}`);
  }
  const dim = shape.map((_, i) => x.ndim - shape.length + i);
  const centered = x.sub(x.mean({ dim, keepdim: true }));
  let y = centered.mul(centered.pow(2).mean({ dim, keepdim: true }).add(eps).rsqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/** The p-norm along `dim`, kept as a size-1 dim. */
function pnorm(op: string, x: Tensor, p: number, dim: number): Tensor {
  if (p === 2) return x.pow(2).sum({ dim, keepdim: true }).sqrt();
  if (p === 1) return x.abs().sum({ dim, keepdim: true });
  if (p === Infinity) return x.abs().amax(dim, true);
  if (!(p > 0)) throw new RangeError(`${op}: p must be a positive number or Infinity, got ${p}`);
  return x.abs().pow(p).sum({ dim, keepdim: true }).pow(1 / p);
}

const floatInput = (op: string, x: Tensor): void => {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expected a floating-point tensor, got ${x.dtype}`);
};

export interface NormalizeOptions { p?: number; dim?: number; eps?: number }

/**
 * x / max(‖x‖ₚ, eps) along `dim` (defaults p 2, dim 1, eps 1e-12), as PyTorch's F.normalize:
 * normalize(x, { p, dim, eps }) or positionally normalize(x, p, dim, eps).
 */
export function normalize(x: Tensor, opts?: NormalizeOptions | number, dim?: number, eps?: number): Tensor {
  const o = isPlainObject(opts) ? options<NormalizeOptions>('normalize', opts, ['p', 'dim', 'eps']) : { p: opts as number | undefined, dim, eps };
  const { p = 2, dim: d = 1, eps: e = 1e-12 } = o;
  if (typeof p !== 'number') throw new TypeError(`normalize: p must be a number, got ${typeof p}`);
  if (typeof e !== 'number') throw new TypeError(`normalize: eps must be a number, got ${typeof e}`);
  floatInput('normalize', x);
  return x.div(pnorm('normalize', x, p, int('normalize', 'dim', d)).clamp({ min: e }));
}

export interface CosineSimilarityOptions { dim?: number; eps?: number }

/**
 * Cosine of the angle between a and b along `dim` (default 1; a and b broadcast):
 * a·b / max(‖a‖·‖b‖, eps), eps default 1e-8. The dim is reduced away. Options or positional:
 * cosineSimilarity(a, b, { dim: -1 }) or cosineSimilarity(a, b, -1).
 */
export function cosineSimilarity(a: Tensor, b: Tensor, opts?: CosineSimilarityOptions | number, eps?: number): Tensor {
  const o = isPlainObject(opts) ? options<CosineSimilarityOptions>('cosineSimilarity', opts, ['dim', 'eps']) : { dim: opts as number | undefined, eps };
  const { dim = 1, eps: e = 1e-8 } = o;
  if (typeof e !== 'number') throw new TypeError(`cosineSimilarity: eps must be a number, got ${typeof e}`);
  floatInput('cosineSimilarity', a);
  floatInput('cosineSimilarity', b);
  const d = int('cosineSimilarity', 'dim', dim);
  const dot = a.mul(b).sum({ dim: d });
  const na = a.pow(2).sum({ dim: d }), nb = b.pow(2).sum({ dim: d });
  return dot.div(na.mul(nb).sqrt().clamp({ min: e }));
}

/**
 * [..., numClasses] with a 1 at each label (PyTorch's F.one_hot); labels int32 or int64 in
 * [0, numClasses). The result is int32 (PyTorch's is int64; Born keeps index results int32).
 * numClasses is required: inferring it would need to read the labels.
 */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  return oneHotImpl(labels, numClasses);
}
