/**
 * Random sampling with the counter-based Philox generator that rand uses (the same seed gives the
 * same numbers on every device and thread count): randperm, multinomial, bernoulli. An order is a
 * stable argsort of random keys (O(n log n) per row, a per-row kernel).
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { options, int, flag, describeArg } from './args.js';
import { checkDType, rand } from './creation.js';
import { cast, node } from './make.js';
import { argsort } from './sort.js';
import { Tensor } from './tensor.js';

export interface SampleOptions { seed?: number }

/**
 * A key per element from both 24-bit words of one Philox draw: w0 + w1·2⁻²⁴ holds 48 random bits
 * exactly in float64, so ties are vanishingly rare (and broken by index: the sort is stable).
 */
function randomKeys(shape: readonly number[], seed: number | undefined): Tensor {
  const w0 = rand([...shape], seed === undefined ? {} : { seed });
  const a = w0.node.arg;
  if (a.kind !== 'rand') throw new Error('internal: rand did not return a Philox node');
  const w1 = node({ kind: 'rand', seed: a.seed, word: 1 }, w0.node.srcs.map((s) => new Tensor(s)), shape, 'float32');
  return w0.to('float64').add(w1.to('float64').mul(2 ** -24));
}

function intDType(op: string, d: unknown): DType {
  if (d === undefined) return 'int32';
  return checkDType(op, d);
}

/**
 * A random permutation of 0..n-1 (torch.randperm), int32 unless `{ dtype }` (PyTorch's default is
 * int64): `born.randperm(10, { seed: 1 })`, the order that sorts n random keys.
 */
export function randperm(n: number, opts?: SampleOptions & { dtype?: DType }): Tensor {
  const o = options<SampleOptions & { dtype?: DType }>('randperm', opts, ['seed', 'dtype']);
  if (int('randperm', 'n', n) < 0) throw new ShapeError(`randperm: n must be >= 0, got ${n}`);
  const dtype = intDType('randperm', o.dtype);
  return cast(argsort(randomKeys([n], o.seed)), dtype);
}

/**
 * Draws `numSamples` category indices from each row of non-negative weights `probs` ([k] or
 * [rows, k]; they need not sum to 1), as torch.multinomial; int32 indices of shape [numSamples]
 * or [rows, numSamples]. With `{ replacement: true }` each draw inverts the cumulative weights;
 * without (the default) the draws are the order of an exponential race, which is sampling one
 * by one without putting back. Categories of weight 0 are drawn only when nothing else is left.
 */
export function multinomial(probs: Tensor, numSamples: number, opts?: SampleOptions & { replacement?: boolean }): Tensor<'int32'> {
  const op = 'multinomial';
  if (!(probs instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor of weights, got ${describeArg(probs)}`);
  const o = options<SampleOptions & { replacement?: boolean }>(op, opts, ['seed', 'replacement']);
  const replacement = flag(op, 'replacement', o.replacement) ?? false;
  if (!isFloat(probs.dtype)) throw new DTypeError(`${op}: the weights must be a floating-point tensor, got ${probs.dtype} (convert with .to('float32'))`);
  if (probs.ndim !== 1 && probs.ndim !== 2) throw new ShapeError(`${op}: the weights must be 1-D or 2-D ([categories] or [rows, categories]), got shape ${fmt(probs.shape)}`);
  const k = probs.shape[probs.ndim - 1]!;
  const s = int(op, 'numSamples', numSamples);
  if (s < 1) throw new ShapeError(`${op}: numSamples must be >= 1, got ${s}`);
  if (k < 1) throw new ShapeError(`${op}: there must be at least one category, got shape ${fmt(probs.shape)}`);
  if (!replacement && s > k) {
    throw new ShapeError(`${op}: cannot draw ${s} samples without replacement from ${k} categories (use { replacement: true } or at most ${k})`);
  }
  const rows = probs.ndim === 2 ? probs.shape[0]! : 1;
  const p = probs.reshape([rows, k]).to('float64');
  let out: Tensor;
  if (replacement) {
    const cdf = p.cumsum(-1);                                              // [rows, k]
    const total = cdf.slice(1, k - 1, k);                                  // [rows, 1]
    const u = rand([rows, s], o.seed === undefined ? {} : { seed: o.seed }).to('float64').mul(total); // [rows, s]
    // The first category whose cumulative weight exceeds the draw: count those that do not.
    const idx = cdf.unsqueeze(1).le(u.unsqueeze(-1)).to('int32').sum({ dim: -1 });
    out = idx.minimum(k - 1);
  } else {
    // Exponential race: e = -log(u) / p; the smallest e arrives first (weight 0: never, +inf).
    // The categories in order of arrival: the first s of a stable argsort of the arrival times.
    const e = randomKeys([rows, k], o.seed).neg().add(1).log().neg().div(p);
    out = argsort(e).slice(1, 0, s);
  }
  out = out.to('int32');
  return (probs.ndim === 1 ? out.reshape([s]) : out) as Tensor<'int32'>;
}

/**
 * 1 with probability p, else 0, elementwise (torch.bernoulli): the result has p's shape and
 * dtype. `born.bernoulli(born.fullLike(x, 0.5), { seed: 1 })`.
 */
export function bernoulli<D extends DType>(p: Tensor<D>, opts?: SampleOptions): Tensor<D> {
  if (!(p instanceof Tensor)) throw new TypeError(`bernoulli: expected a Tensor of probabilities, got ${describeArg(p)}`);
  const o = options<SampleOptions>('bernoulli', opts, ['seed']);
  if (!isFloat(p.dtype)) throw new DTypeError(`bernoulli: the probabilities must be a floating-point tensor, got ${p.dtype} (convert with .to('float32'))`);
  const u = rand([...p.shape], o.seed === undefined ? {} : { seed: o.seed });
  return u.lt(p).to(p.dtype) as Tensor<D>;
}
