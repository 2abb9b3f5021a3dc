/**
 * Attention: nn.functional.scaledDotProductAttention (PyTorch 2's semantics) and
 * nn.MultiheadAttention with PyTorch's parameter names and layouts (in_proj_weight, in_proj_bias,
 * out_proj.weight, …), so PyTorch weights load unchanged.
 */
import { ShapeError, DTypeError, fmt } from '../graph/errors.js';
import { isFloat } from '../graph/dtype.js';
import { iotaAlong, rand, randn, zeros } from '../tensor/creation.js';
import { where } from '../tensor/elementwise.js';
import { cat } from '../tensor/join.js';
import { flag, int, options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniformParam } from './init.js';
import { Linear } from './layers.js';
import { QuantizedWeight, quantLinear } from '../quant/weight.js';
import { Module, parameter } from './module.js';

/** Zeroes elements with probability p and scales the rest by 1/(1-p) (PyTorch's dropout); p = 0 is the identity. @internal */
export function dropoutOf(x: Tensor, p: number): Tensor {
  if (p === 0) return x;
  if (p === 1) return x.mul(0);
  return x.mul(rand(x.shape).ge(p).to(x.dtype)).mul(1 / (1 - p));
}

/**
 * x Wᵀ + b over the last dim as one 2-D matmul: a batched matmul of a 3-D input would first copy W
 * once per batch element (the broadcast operand is materialised), and the bias fuses as an epilogue.
 * @internal
 */
export function project(x: Tensor, w: Tensor | QuantizedWeight, b?: Tensor): Tensor {
  // A packed weight (a quantised checkpoint's nn.QuantizedLinear) takes the packed matmul.
  if (w instanceof QuantizedWeight) return quantLinear(x, w, b);
  const y = x.reshape([-1, x.shape[x.ndim - 1]!]).matmul(w.T);
  return (b ? y.add(b) : y).reshape([...x.shape.slice(0, -1), w.shape[0]!]);
}

/** A dropout probability option, checked. @internal */
export function probability(op: string, name: string, p: unknown): number {
  if (p === undefined) return 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${op}: ${name} must be a number in [0, 1], got ${String(p)}`);
  return p;
}

/**
 * Applies a mask to attention scores: a bool mask puts -inf where it is `maskedWhen` (true for
 * MultiheadAttention's masks, false for scaledDotProductAttention's), a float mask is added.
 */
function applyMask(op: string, name: string, scores: Tensor, mask: Tensor, maskedWhen: boolean): Tensor {
  if (mask.dtype === 'bool') return where(maskedWhen ? mask : mask.logicalNot(), -Infinity, scores);
  if (!isFloat(mask.dtype)) throw new DTypeError(`${op}: ${name} must be a bool or floating-point tensor, got ${mask.dtype} of shape ${fmt(mask.shape)}`);
  return scores.add(mask);
}

/** [L, S] bool, true above the diagonal: the keys a causal mask hides from each query (PyTorch's tril, top-left aligned). @internal */
export function causalMask(l: number, s: number): Tensor<'bool'> {
  return iotaAlong([l, s], 0).lt(iotaAlong([l, s], 1));
}

export interface SDPAOptions {
  /** Bool: true where a query may attend (PyTorch 2's convention); float: added to the scores. Broadcasts to [..., L, S]. */
  attnMask?: Tensor | null;
  /** Dropout probability on the attention weights; applied whenever it is above 0, as in PyTorch. */
  dropoutP?: number;
  /** Hide the keys after each query (query i sees keys 0..i); cannot be combined with attnMask. */
  isCausal?: boolean;
  /** Multiplies q kᵀ; default 1/√E. */
  scale?: number | null;
}

/**
 * softmax(q kᵀ · scale + mask) v, as PyTorch 2's torch.nn.functional.scaled_dot_product_attention.
 * Shapes: q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev] (leading dims broadcast).
 * Example: `F.scaledDotProductAttention(q, k, v, { isCausal: true })`.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: SDPAOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  const o = options<SDPAOptions>(op, opts, ['attnMask', 'dropoutP', 'isCausal', 'scale']);
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2 || q.shape[q.ndim - 1] !== k.shape[k.ndim - 1] || k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) {
    throw new ShapeError(`${op}: expected q [..., L, E], k [..., S, E] and v [..., S, Ev], got ${fmt(q.shape)}, ${fmt(k.shape)} and ${fmt(v.shape)}`);
  }
  const isCausal = flag(op, 'isCausal', o.isCausal) ?? false;
  if (isCausal && o.attnMask) throw new TypeError(`${op}: give attnMask or isCausal, not both (PyTorch refuses both too)`);
  if (o.scale !== undefined && o.scale !== null && typeof o.scale !== 'number') throw new TypeError(`${op}: scale must be a number, got ${typeof o.scale}`);
  const p = probability(op, 'dropoutP', o.dropoutP);
  const scale = o.scale ?? 1 / Math.sqrt(q.shape[q.ndim - 1]!);
  let scores = q.matmul(k.transpose(-2, -1)).mul(scale);
  if (isCausal) scores = applyMask(op, 'the causal mask', scores, causalMask(q.shape[q.ndim - 2]!, k.shape[k.ndim - 2]!), true);
  if (o.attnMask) scores = applyMask(op, 'attnMask', scores, o.attnMask, false);
  return dropoutOf(scores.softmax({ dim: -1 }), p).matmul(v);
}

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights while training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Learnt bias_k, bias_v appended to the keys and values along the sequence (default false). */
  addBiasKv?: boolean;
  /** A zero key and value appended along the sequence (default false). */
  addZeroAttn?: boolean;
  /** Feature sizes of key and value (default embedDim); when either differs, q/k/v_proj_weight replace in_proj_weight. */
  kdim?: number;
  vdim?: number;
  /** Inputs and output are [N, L, E] instead of [L, N, E] (default false). */
  batchFirst?: boolean;
}

export interface MultiheadAttentionForwardOptions {
  /** [N, S] (or [S] unbatched): bool true where a key is padding and ignored, or float added. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** [L, S] or [N·numHeads, L, S]: bool true where attention is not allowed, or float added. */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true): [N, L, S], else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /** attnMask is a causal mask; without an attnMask, the causal mask is made (PyTorch requires one). */
  isCausal?: boolean;
}

const FORWARD_KEYS = ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights', 'isCausal'] as const;
const CTOR_KEYS = ['dropout', 'bias', 'addBiasKv', 'addZeroAttn', 'kdim', 'vdim', 'batchFirst'] as const;


/**
 * Multi-head attention as torch.nn.MultiheadAttention: project q, k, v, attend per head, project
 * out. Shapes (batchFirst false): query [L, N, E], key [S, N, kdim], value [S, N, vdim] →
 * [attnOutput [L, N, E], attnWeights [N, L, S] | null]; unbatched [L, E] inputs give [L, E] and
 * [L, S]. Init as PyTorch: in_proj xavier_uniform, biases 0, bias_k / bias_v xavier_normal.
 */
export class MultiheadAttention extends Module<[query: Tensor, key: Tensor, value: Tensor, opts?: MultiheadAttentionForwardOptions], [Tensor, Tensor | null]> {
  readonly inProjWeight?: Tensor; // [3E, E] when kdim = vdim = E
  readonly qProjWeight?: Tensor;  // [E, E], otherwise
  readonly kProjWeight?: Tensor;  // [E, kdim]
  readonly vProjWeight?: Tensor;  // [E, vdim]
  readonly inProjBias?: Tensor;   // [3E]
  readonly biasK?: Tensor;        // [1, 1, E]
  readonly biasV?: Tensor;        // [1, 1, E]
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly addZeroAttn: boolean;
  readonly kdim: number;
  readonly vdim: number;

  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    const op = 'MultiheadAttention';
    const o = options<MultiheadAttentionOptions>(op, opts, CTOR_KEYS);
    int(op, 'embedDim', embedDim);
    int(op, 'numHeads', numHeads);
    if (embedDim < 1 || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new ShapeError(`${op}(${embedDim}, ${numHeads}): embedDim must be a positive multiple of numHeads`);
    }
    this.headDim = embedDim / numHeads;
    this.dropout = probability(op, 'dropout', o.dropout);
    this.batchFirst = flag(op, 'batchFirst', o.batchFirst) ?? false;
    this.addZeroAttn = flag(op, 'addZeroAttn', o.addZeroAttn) ?? false;
    this.kdim = o.kdim === undefined ? embedDim : int(op, 'kdim', o.kdim);
    this.vdim = o.vdim === undefined ? embedDim : int(op, 'vdim', o.vdim);
    const e = embedDim;
    const xavier = (rows: number, cols: number): Tensor => uniformParam([rows, cols], Math.sqrt(6 / (rows + cols)));
    if (this.kdim === e && this.vdim === e) {
      this.inProjWeight = xavier(3 * e, e);
    } else {
      this.qProjWeight = xavier(e, e);
      this.kProjWeight = xavier(e, this.kdim);
      this.vProjWeight = xavier(e, this.vdim);
    }
    const bias = flag(op, 'bias', o.bias) ?? true;
    if (bias) this.inProjBias = parameter(zeros([3 * e]));
    if (flag(op, 'addBiasKv', o.addBiasKv)) {
      // xavier_normal_ of a [1, 1, E] tensor: fan_in = fan_out = E.
      this.biasK = parameter(randn([1, 1, e]).mul(Math.sqrt(1 / e)));
      this.biasV = parameter(randn([1, 1, e]).mul(Math.sqrt(1 / e)));
    }
    this.outProj = new Linear(e, e, { bias });
    this.outProj.bias?.assign(zeros([e]));
  }

  /**
   * Returns [attnOutput, attnWeights] (weights null when needWeights is false), as PyTorch's tuple.
   * Example: `const [y, w] = mha.forward(x, x, x, { keyPaddingMask })`.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention';
    const o = options<MultiheadAttentionForwardOptions>(op, opts, FORWARD_KEYS);
    const e = this.embedDim, h = this.numHeads, hd = this.headDim;
    const batched = query.ndim === 3;
    const seqDims = this.batchFirst ? '[N, L, E]' : '[L, N, E]';
    const okShape = (t: Tensor, feat: number): boolean => t.ndim === query.ndim && t.shape[t.ndim - 1] === feat;
    if (!(query.ndim === 2 || batched) || !okShape(query, e) || !okShape(key, this.kdim) || !okShape(value, this.vdim)) {
      throw new ShapeError(`${op}(${e}, ${h}): expected query ${seqDims} (or [L, E] unbatched) ending in ${e}, key ending in ${this.kdim} and value ending in ${this.vdim}, all of the same rank; got ${fmt(query.shape)}, ${fmt(key.shape)} and ${fmt(value.shape)}`);
    }
    // The projections work in the caller's layout (no transposed copies); unbatched inputs become
    // [L, 1, E]. seqDim / batchDim say where the sequence and the batch are.
    const bf = batched && this.batchFirst;
    const seqDim = bf ? 1 : 0, batchDim = bf ? 0 : 1;
    const as3 = (t: Tensor): Tensor => (batched ? t : t.unsqueeze(1));
    const q0 = as3(query), k0 = as3(key), v0 = as3(value);
    const n = q0.shape[batchDim]!, l = q0.shape[seqDim]!;
    if (k0.shape[batchDim] !== n || v0.shape[batchDim] !== n || k0.shape[seqDim] !== v0.shape[seqDim]) {
      throw new ShapeError(`${op}: key ${fmt(key.shape)} and value ${fmt(value.shape)} must have the same batch and sequence sizes, and the batch of query ${fmt(query.shape)}`);
    }
    const b = this.inProjBias;
    const part = (t: Tensor | undefined, i: number): Tensor | undefined => t?.narrow(0, i * e, e);
    let q: Tensor, k: Tensor, v: Tensor;
    if (this.inProjWeight && query === key && key === value) {
      // Self-attention: one matmul for q, k and v, as PyTorch does.
      const qkv = project(q0, this.inProjWeight, b);
      [q, k, v] = [0, 1, 2].map((i) => qkv.narrow(-1, i * e, e)) as [Tensor, Tensor, Tensor];
    } else {
      const w = this.inProjWeight;
      q = project(q0, w ? w.narrow(0, 0, e) : this.qProjWeight!, part(b, 0));
      k = project(k0, w ? w.narrow(0, e, e) : this.kProjWeight!, part(b, 1));
      v = project(v0, w ? w.narrow(0, 2 * e, e) : this.vProjWeight!, part(b, 2));
    }
    let attnMask = o.attnMask ?? null;
    let padMask = o.keyPaddingMask ?? null;
    const s0 = k.shape[seqDim]!;
    // isCausal is PyTorch's hint that attnMask is causal; without an attnMask, the mask is made
    // (over the real keys, before bias_k or a zero key is appended).
    if (!attnMask && flag(op, 'isCausal', o.isCausal)) attnMask = causalMask(l, s0);
    if (attnMask) {
      const ok = attnMask.ndim === 2 ? attnMask.shape[0] === l && attnMask.shape[1] === s0
        : attnMask.ndim === 3 && attnMask.shape[0] === n * h && attnMask.shape[1] === l && attnMask.shape[2] === s0;
      if (!ok) throw new ShapeError(`${op}: attnMask should be [L, S] = ${fmt([l, s0])} or [N·numHeads, L, S] = ${fmt([n * h, l, s0])}, got ${fmt(attnMask.shape)}`);
      attnMask = attnMask.ndim === 3 ? attnMask.reshape([n, h, l, s0]) : attnMask;
    }
    if (padMask) {
      const want = batched ? [n, s0] : [s0];
      if (padMask.ndim !== want.length || padMask.shape.some((d, i) => d !== want[i])) {
        throw new ShapeError(`${op}: keyPaddingMask should be ${batched ? '[N, S]' : '[S]'} = ${fmt(want)}, got ${fmt(padMask.shape)}`);
      }
      padMask = padMask.reshape([n, 1, 1, s0]);
    }
    // Appended key positions (bias_k, a zero key) are never masked: the masks get a column of
    // zeros (false) for each, as PyTorch pads them.
    const extend = (): void => {
      if (attnMask) attnMask = attnMask.pad([0, 1]);
      if (padMask) padMask = padMask.pad([0, 1]);
    };
    const append = (t: Tensor, step: Tensor): Tensor => cat([t, step.reshape([1, 1, e]).expand(bf ? [n, 1, e] : [1, n, e])], seqDim);
    if (this.biasK && this.biasV) {
      k = append(k, this.biasK);
      v = append(v, this.biasV);
      extend();
    }
    if (this.addZeroAttn) {
      k = append(k, zeros([1, 1, e], { dtype: k.dtype }));
      v = append(v, zeros([1, 1, e], { dtype: v.dtype }));
      extend();
    }
    const s = k.shape[seqDim]!;
    // [N, H, len, hd] from either layout.
    const heads = (t: Tensor, len: number): Tensor => (bf ? t.reshape([n, len, h, hd]).permute([0, 2, 1, 3])
      : t.reshape([len, n, h, hd]).permute([1, 2, 0, 3]));
    let scores = heads(q, l).matmul(heads(k, s).transpose(-2, -1)).mul(1 / Math.sqrt(hd)); // [N, H, L, S]
    if (attnMask) scores = applyMask(op, 'attnMask', scores, attnMask, true);
    if (padMask) scores = applyMask(op, 'keyPaddingMask', scores, padMask, true);
    let weights = scores.softmax({ dim: -1 });
    if (this.training) weights = dropoutOf(weights, this.dropout);
    const perHead = weights.matmul(heads(v, s)); // [N, H, L, hd]
    const attended = bf ? perHead.permute([0, 2, 1, 3]).reshape([n, l, e]) : perHead.permute([2, 0, 1, 3]).reshape([l, n, e]);
    const y = project(attended, this.outProj.weight, this.outProj.bias);
    const out = batched ? y : y.squeeze(1);
    if (!(flag(op, 'needWeights', o.needWeights) ?? true)) return [out, null];
    const w = (flag(op, 'averageAttnWeights', o.averageAttnWeights) ?? true) ? weights.mean({ dim: 1 }) : weights;
    return [out, batched ? w : w.squeeze(0)];
  }
}
