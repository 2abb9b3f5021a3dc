/**
 * The pieces of a LLaMA-style decoder: grouped-query attention with rotary embeddings, the
 * SwiGLU feed-forward, and the pre-norm block that joins them with RMSNorm and residuals.
 * Field names follow Meta's / llama2.c's model.py (attention.wq, feed_forward.w1, attention_norm,
 * ffn_norm), so state dicts exported from it load unchanged.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { int, options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { project, scaledDotProductAttention } from './attention.js';
import { Linear } from './layers.js';
import type { QuantizedLinear } from '../quant/linear.js';
import { Module } from './module.js';
import { RMSNorm } from './norm.js';
import { RotaryEmbedding, type RotaryEmbeddingOptions } from './rope.js';

/**
 * A projection of the LLaMA blocks: a float Linear, or a QuantizedLinear whose weight stays packed
 * (a quantised GGUF file's); the forwards read `.weight` and `.bias` through project(), which takes
 * either. Loaders put QuantizedLinears in place of the Linears the constructors make.
 */
export type Projection = Linear | QuantizedLinear;

/** The float weight of a projection (loaders that write float weights into a model call this). */
export function floatWeight(p: Projection, what: string): Tensor {
  if (!(p instanceof Linear)) throw new TypeError(`${what}: the projection holds a packed ${p.weight.format} weight, not a float one`);
  return p.weight;
}

/**
 * Repeats each of the kv heads nRep times along dim 1, as llama2.c's repeat_kv: head h of the
 * result is kv head ⌊h / nRep⌋. Shapes: [B, Hkv, T, D] → [B, Hkv·nRep, T, D]. This materialises
 * the repeated heads; GroupedQueryAttention itself does not call it.
 */
export function repeatKv(x: Tensor, nRep: number): Tensor {
  int('repeatKv', 'nRep', nRep);
  if (x.ndim !== 4 || nRep < 1) throw new ShapeError(`repeatKv: expected x [B, Hkv, T, D] and nRep ≥ 1, got ${fmt(x.shape)} and ${nRep}`);
  if (nRep === 1) return x;
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return x.unsqueeze(2).expand([b, h, nRep, t, d]).reshape([b, h * nRep, t, d]);
}

export interface GroupedQueryAttentionOptions extends RotaryEmbeddingOptions {
  /** Key/value heads (default numHeads: multi-head; 1: multi-query); must divide numHeads. */
  numKvHeads?: number;
  /** Positions the rotary tables cover (default 2048). */
  maxPositions?: number;
  /** Biases on the q, k and v projections (Qwen2; default false, as LLaMA). */
  qkvBias?: boolean;
}

/**
 * What a key/value cache gives one attention layer (born.llm's KvCache implements it, as Hugging
 * Face's Cache.update): it takes the new keys and values [B, Hkv, T, hd], records their write
 * into the cache, and returns what the queries attend over — keys and values [B, Hkv, S, hd], a
 * bool mask [B, 1, T, S], true where a query may attend, and optionally kvLength (a 0-d int32
 * tensor: keys from kvLength on are not read at all, scaledDotProductAttention's option).
 */
export interface LayerKvCache {
  update(k: Tensor, v: Tensor): { keys: Tensor; values: Tensor; mask: Tensor; kvLength?: Tensor };
}

export interface AttentionForwardOptions {
  /** First position of the tokens (a number, default 0) or an int32 tensor of positions, [T] or [B, T]. */
  positions?: number | Tensor;
  /** Attend over a key/value cache (which also supplies the mask) instead of causally over x alone. */
  cache?: LayerKvCache;
}

/**
 * Causal self-attention with rotary embeddings and numKvHeads ≤ numHeads key/value heads
 * (grouped-query; numKvHeads = 1 is multi-query). No biases, as LLaMA (q/k/v biases with qkvBias, as Qwen2).
 * Shapes: x [B, T, dim] → [B, T, dim]. wq [H·hd, dim], wk and wv [Hkv·hd, dim], wo [dim, H·hd].
 * Query heads h·rep .. h·rep+rep-1 share kv head h (as llama2.c's repeat_kv), read in place by
 * scaledDotProductAttention's grouped-query form: the kv heads are neither repeated nor copied.
 */
export class GroupedQueryAttention extends Module<[x: Tensor, opts?: AttentionForwardOptions], Tensor> {
  wq: Projection;
  wk: Projection;
  wv: Projection;
  wo: Projection;
  readonly rotary: RotaryEmbedding;
  readonly numKvHeads: number;
  readonly headDim: number;

  constructor(readonly dim: number, readonly numHeads: number, opts: GroupedQueryAttentionOptions = {}) {
    super();
    const op = 'GroupedQueryAttention';
    const o = options<GroupedQueryAttentionOptions>(op, opts, ['numKvHeads', 'maxPositions', 'ropeTheta', 'scalingFactor', 'pairing', 'qkvBias']);
    int(op, 'dim', dim);
    int(op, 'numHeads', numHeads);
    this.numKvHeads = o.numKvHeads === undefined ? numHeads : int(op, 'numKvHeads', o.numKvHeads);
    if (dim < 1 || numHeads < 1 || dim % numHeads !== 0 || this.numKvHeads < 1 || numHeads % this.numKvHeads !== 0) {
      throw new ShapeError(`${op}(${dim}, ${numHeads}, numKvHeads ${this.numKvHeads}): dim must be a multiple of numHeads, and numHeads a multiple of numKvHeads`);
    }
    this.headDim = dim / numHeads;
    const kv = this.numKvHeads * this.headDim;
    const bias = o.qkvBias ?? false;
    this.wq = new Linear(dim, dim, { bias });
    this.wk = new Linear(dim, kv, { bias });
    this.wv = new Linear(dim, kv, { bias });
    this.wo = new Linear(dim, dim, { bias: false });
    this.rotary = new RotaryEmbedding(this.headDim, o.maxPositions ?? 2048, { ropeTheta: o.ropeTheta, scalingFactor: o.scalingFactor, pairing: o.pairing });
  }

  forward(x: Tensor, opts: AttentionForwardOptions = {}): Tensor {
    const op = 'GroupedQueryAttention';
    const o = options<AttentionForwardOptions>(op, opts, ['positions', 'cache']);
    if (x.ndim !== 3 || x.shape[2] !== this.dim) throw new ShapeError(`${op}(${this.dim}, ${this.numHeads}): expected x [B, T, ${this.dim}], got ${fmt(x.shape)}`);
    const [b, t] = x.shape as [number, number, number];
    const h = this.numHeads, hkv = this.numKvHeads, hd = this.headDim, rep = h / hkv;
    // [B, T, heads·hd] → [B, heads, T, hd]; the projections are 2-D matmuls (see project()).
    const heads = (y: Tensor, n: number): Tensor => y.reshape([b, t, n, hd]).permute([0, 2, 1, 3]);
    const q = this.rotary.forward(heads(project(x, this.wq.weight, this.wq.bias), h), o.positions);
    const k = this.rotary.forward(heads(project(x, this.wk.weight, this.wk.bias), hkv), o.positions);
    const v = heads(project(x, this.wv.weight, this.wv.bias), hkv);
    // Grouped-query attention: query head h reads kv head ⌊h / rep⌋ in place (enableGqa), so the
    // kv heads are neither repeated nor copied.
    const gqa = { enableGqa: rep > 1 };
    let att: Tensor; // [B, H, T, hd]
    if (o.cache) {
      const { keys, values, mask, kvLength } = o.cache.update(k, v); // mask [B, 1, T, S] broadcasts over the heads
      att = scaledDotProductAttention(q, keys, values, { attnMask: mask, kvLength: kvLength ?? null, ...gqa });
    } else {
      att = scaledDotProductAttention(q, k, v, { isCausal: t > 1, ...gqa });
    }
    return project(att.permute([0, 2, 1, 3]).reshape([b, t, h * hd]), this.wo.weight);
  }

  override extraRepr(): string { return `dim=${this.dim}, num_heads=${this.numHeads}, num_kv_heads=${this.numKvHeads}`; }
}

/**
 * The SwiGLU feed-forward of LLaMA: w2(silu(w1 x) · w3 x), no biases.
 * Shapes: x [..., dim] → [..., dim]; w1 and w3 [hidden, dim], w2 [dim, hidden].
 */
export class SwiGLU extends Module {
  w1: Projection;
  w2: Projection;
  w3: Projection;
  constructor(readonly dim: number, readonly hiddenDim: number) {
    super();
    this.w1 = new Linear(dim, hiddenDim, { bias: false });
    this.w2 = new Linear(hiddenDim, dim, { bias: false });
    this.w3 = new Linear(dim, hiddenDim, { bias: false });
  }
  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.dim) throw new ShapeError(`SwiGLU(${this.dim}, ${this.hiddenDim}): input of shape ${fmt(x.shape)} should end in ${this.dim}`);
    return project(project(x, this.w1.weight).silu().mul(project(x, this.w3.weight)), this.w2.weight);
  }
  override extraRepr(): string { return `dim=${this.dim}, hidden_dim=${this.hiddenDim}`; }
}

export interface LlamaDecoderLayerOptions extends GroupedQueryAttentionOptions {
  /** RMSNorm's eps (default 1e-5, LLaMA's). */
  normEps?: number;
}

/**
 * A pre-norm decoder block: h = x + attention(attention_norm(x)); out = h + feed_forward(ffn_norm(h)).
 * Shapes: x [B, T, dim] → [B, T, dim].
 */
export class LlamaDecoderLayer extends Module<[x: Tensor, opts?: AttentionForwardOptions], Tensor> {
  readonly attention: GroupedQueryAttention;
  readonly feedForward: SwiGLU;
  readonly attentionNorm: RMSNorm;
  readonly ffnNorm: RMSNorm;
  constructor(dim: number, numHeads: number, hiddenDim: number, opts: LlamaDecoderLayerOptions = {}) {
    super();
    const { normEps, ...attn } = options<LlamaDecoderLayerOptions>('LlamaDecoderLayer', opts, ['numKvHeads', 'maxPositions', 'ropeTheta', 'scalingFactor', 'pairing', 'qkvBias', 'normEps']);
    this.attention = new GroupedQueryAttention(dim, numHeads, attn);
    this.feedForward = new SwiGLU(dim, hiddenDim);
    this.attentionNorm = new RMSNorm(dim, { eps: normEps ?? 1e-5 });
    this.ffnNorm = new RMSNorm(dim, { eps: normEps ?? 1e-5 });
  }
  forward(x: Tensor, opts: AttentionForwardOptions = {}): Tensor {
    const h = x.add(this.attention.forward(this.attentionNorm.forward(x), opts));
    return h.add(this.feedForward.forward(this.ffnNorm.forward(h)));
  }
}
