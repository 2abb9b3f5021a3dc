/**
 * A LLaMA-architecture decoder-only transformer (Meta's / llama2.c's model.py): token embedding,
 * pre-norm decoder layers with grouped-query attention, RoPE and SwiGLU, a final RMSNorm and a
 * classifier (optionally the embedding, transposed).
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { project } from '../nn/attention.js';
import { Embedding, Linear } from '../nn/layers.js';
import { LlamaDecoderLayer, type LayerKvCache, type Projection } from '../nn/llama.js';
import type { QuantizedWeight } from '../quant/weight.js';
import { Module } from '../nn/module.js';
import { RMSNorm } from '../nn/norm.js';
import type { RopePairing } from '../nn/rope.js';

export interface LlamaConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  /** The longest sequence (the rotary tables cover this many positions). */
  maxSeqLen: number;
  /** The classifier is the token embedding (tied weights). */
  sharedClassifier: boolean;
  /** RMSNorm eps (LLaMA: 1e-5). */
  normEps?: number;
  ropeTheta?: number;
  /** Linear RoPE position scaling (default 1). */
  ropeScalingFactor?: number;
  /** RoPE pairing: 'interleaved' (LLaMA / llama2.c, the default) or 'half' (NeoX / Hugging Face). */
  ropePairing?: RopePairing;
  /** Biases on the attention's q, k and v projections (Qwen2). */
  qkvBias?: boolean;
}

/** A cache for every layer (born.llm's KvCache). */
export interface ModelKvCache {
  layer(index: number): LayerKvCache;
}

export interface LlamaForwardOptions {
  /** First position of the tokens (a number, default 0) or an int32 tensor of positions, [T] or [B, T]. */
  positions?: number | Tensor;
  /** Attend over (and write into) a key/value cache. */
  cache?: ModelKvCache;
  /** Logits for the last token only: [B, 1, vocabSize] (the classifier skips the other rows). */
  lastOnly?: boolean;
}

/**
 * Shapes: forward(ids int32 [B, T], { positions, cache, lastOnly }) → logits [B, T, vocabSize].
 * State-dict keys as model.py's: tok_embeddings.weight, layers.0.attention.wq.weight, …,
 * norm.weight, output.weight (absent when the classifier is the embedding).
 */
export class LlamaModel extends Module<[ids: Tensor, opts?: LlamaForwardOptions], Tensor> {
  readonly tokEmbeddings: Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: RMSNorm;
  output?: Projection;

  constructor(readonly config: LlamaConfig) {
    super();
    const c = config;
    this.tokEmbeddings = new Embedding(c.vocabSize, c.dim);
    this.layers = Array.from({ length: c.nLayers }, () => new LlamaDecoderLayer(c.dim, c.nHeads, c.hiddenDim, {
      numKvHeads: c.nKvHeads, maxPositions: c.maxSeqLen, normEps: c.normEps, ropeTheta: c.ropeTheta,
      scalingFactor: c.ropeScalingFactor, pairing: c.ropePairing, qkvBias: c.qkvBias,
    }));
    this.norm = new RMSNorm(c.dim, { eps: c.normEps ?? 1e-5 });
    if (!c.sharedClassifier) this.output = new Linear(c.dim, c.vocabSize, { bias: false });
  }

  /** The classifier's [vocabSize, dim] weight (the embedding's when shared). */
  get classifier(): Tensor | QuantizedWeight { return this.output?.weight ?? this.tokEmbeddings.weight; }

  forward(ids: Tensor, opts: LlamaForwardOptions = {}): Tensor {
    if (ids.ndim !== 2 || (ids.dtype !== 'int32' && ids.dtype !== 'int64')) {
      throw new ShapeError(`LlamaModel: expected token ids as an int32 tensor [B, T], got ${ids.dtype} ${fmt(ids.shape)}`);
    }
    const t = ids.shape[1]!;
    if (t < 1 || t > this.config.maxSeqLen) throw new RangeError(`LlamaModel: ${t} tokens; the model takes 1..${this.config.maxSeqLen} (maxSeqLen)`);
    let h = this.tokEmbeddings.forward(ids);
    const { cache, positions, lastOnly } = options<LlamaForwardOptions>('LlamaModel', opts, ['positions', 'cache', 'lastOnly']);
    this.layers.forEach((layer, i) => { h = layer.forward(h, { positions, cache: cache?.layer(i) }); });
    if (lastOnly) h = h.narrow(1, t - 1, 1);
    return project(this.norm.forward(h), this.classifier);
  }
}
