/**
 * Transformer layers as torch.nn.TransformerEncoderLayer and TransformerDecoderLayer, with
 * PyTorch's submodule names (self_attn, multihead_attn, linear1, linear2, norm1…3, dropout…), so
 * PyTorch weights load unchanged.
 */
import { flag, int, options } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { MultiheadAttention, probability, project } from './attention.js';
import { Dropout, Linear } from './layers.js';
import { LayerNorm } from './norm.js';
import { Module } from './module.js';

export interface TransformerLayerOptions {
  /** Width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** The feed-forward activation: 'relu' (default), 'gelu' or a function. */
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  /** LayerNorm's eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs are [N, L, E] instead of [L, N, E] (default false). */
  batchFirst?: boolean;
  /** Pre-norm: normalise before attention and feed-forward instead of after the residual add (default false). */
  normFirst?: boolean;
}
const CTOR_KEYS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst'] as const;

export interface EncoderLayerForwardOptions {
  /** Self-attention mask, [L, L] or [N·nhead, L, L]: bool true where not allowed, or float added. */
  srcMask?: Tensor | null;
  /** Shape [N, L]; bool true at padding positions, or float added. */
  srcKeyPaddingMask?: Tensor | null;
  /** srcMask is causal; without a srcMask, the causal mask is made. */
  isCausal?: boolean;
}
export interface DecoderLayerForwardOptions {
  /** Self-attention mask [T, T] or [N·nhead, T, T]: bool true where not allowed, or float added. */
  tgtMask?: Tensor | null;
  /** Memory-attention mask [T, S] or [N·nhead, T, S]. */
  memoryMask?: Tensor | null;
  /** Shape [N, T]; bool true at padding positions of tgt, or float added. */
  tgtKeyPaddingMask?: Tensor | null;
  /** Shape [N, S]; bool true at padding positions of memory, or float added. */
  memoryKeyPaddingMask?: Tensor | null;
  /** tgtMask is causal; without a tgtMask, the causal mask is made. */
  tgtIsCausal?: boolean;
  /** memoryMask is causal; without a memoryMask, the causal mask is made. */
  memoryIsCausal?: boolean;
}

function activationOf(op: string, a: TransformerLayerOptions['activation']): (x: Tensor) => Tensor {
  if (a === undefined || a === 'relu') return (x) => x.relu();
  if (a === 'gelu') return (x) => x.gelu();
  if (typeof a === 'function') return a;
  throw new TypeError(`${op}: activation must be 'relu', 'gelu' or a function, got ${JSON.stringify(a)}`);
}

/** The parts both layers share: the feed-forward block and its options. */
abstract class TransformerLayer<I extends unknown[]> extends Module<I, Tensor> {
  readonly normFirst: boolean;
  protected readonly activation: (x: Tensor) => Tensor;
  readonly dimFeedforward: number;
  readonly layerNormEps: number;
  readonly batchFirst: boolean;
  protected readonly dropoutP: number;
  constructor(op: string, readonly dModel: number, readonly nhead: number, opts: TransformerLayerOptions) {
    super();
    const o = options<TransformerLayerOptions>(op, opts, CTOR_KEYS);
    int(op, 'dModel', dModel);
    int(op, 'nhead', nhead);
    this.normFirst = flag(op, 'normFirst', o.normFirst) ?? false;
    this.activation = activationOf(op, o.activation);
    this.dimFeedforward = o.dimFeedforward === undefined ? 2048 : int(op, 'dimFeedforward', o.dimFeedforward);
    this.dropoutP = o.dropout === undefined ? 0.1 : probability(op, 'dropout', o.dropout);
    this.layerNormEps = o.layerNormEps ?? 1e-5;
    this.batchFirst = flag(op, 'batchFirst', o.batchFirst) ?? false;
  }
  protected attention(): MultiheadAttention {
    return new MultiheadAttention(this.dModel, this.nhead, { dropout: this.dropoutP, batchFirst: this.batchFirst });
  }
  /** linear2(dropout(activation(linear1(x)))), then dropoutN (PyTorch's _ff_block). */
  protected feedForward(x: Tensor, linear1: Linear, dropout: Dropout, linear2: Linear, after: Dropout): Tensor {
    const hidden = dropout.forward(this.activation(project(x, linear1.weight, linear1.bias)));
    return after.forward(project(hidden, linear2.weight, linear2.bias));
  }
}

/**
 * Self-attention and a feed-forward block, each with a residual connection and LayerNorm
 * (post-norm by default, pre-norm with normFirst), as torch.nn.TransformerEncoderLayer.
 * Shapes: src [L, N, dModel] ([N, L, dModel] batchFirst, or [L, dModel]) → the same.
 * Example: `nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32 }).forward(src, { srcKeyPaddingMask })`.
 */
export class TransformerEncoderLayer extends TransformerLayer<[src: Tensor, opts?: EncoderLayerForwardOptions]> {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super('TransformerEncoderLayer', dModel, nhead, opts);
    const ff = this.dimFeedforward, p = this.dropoutP, eps = this.layerNormEps;
    this.selfAttn = this.attention();
    this.linear1 = new Linear(dModel, ff);
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel);
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
  }
  /** src → the same shape; masks as PyTorch's src_mask / src_key_padding_mask. */
  forward(src: Tensor, opts: EncoderLayerForwardOptions = {}): Tensor {
    const o = options<EncoderLayerForwardOptions>('TransformerEncoderLayer', opts, ['srcMask', 'srcKeyPaddingMask', 'isCausal']);
    const sa = (x: Tensor): Tensor => this.dropout1.forward(this.selfAttn.forward(x, x, x, {
      attnMask: o.srcMask, keyPaddingMask: o.srcKeyPaddingMask, needWeights: false, isCausal: o.isCausal,
    })[0]);
    const ff = (x: Tensor): Tensor => this.feedForward(x, this.linear1, this.dropout, this.linear2, this.dropout2);
    if (this.normFirst) {
      const x = src.add(sa(this.norm1.forward(src)));
      return x.add(ff(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(src.add(sa(src)));
    return this.norm2.forward(x.add(ff(x)));
  }
}

/**
 * Self-attention, attention over the encoder's memory, and a feed-forward block, each with a
 * residual connection and LayerNorm, as torch.nn.TransformerDecoderLayer.
 * Shapes: tgt [T, N, dModel], memory [S, N, dModel] ([N, ·, dModel] batchFirst) → [T, N, dModel].
 * Example: `nn.TransformerDecoderLayer(16, 4).forward(tgt, memory, { tgtIsCausal: true })`.
 */
export class TransformerDecoderLayer extends TransformerLayer<[tgt: Tensor, memory: Tensor, opts?: DecoderLayerForwardOptions]> {
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;
  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super('TransformerDecoderLayer', dModel, nhead, opts);
    const ff = this.dimFeedforward, p = this.dropoutP, eps = this.layerNormEps;
    this.selfAttn = this.attention();
    this.multiheadAttn = this.attention();
    this.linear1 = new Linear(dModel, ff);
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel);
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.norm3 = new LayerNorm(dModel, { eps });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
  }
  /** (tgt, memory) → tgt's shape; masks as PyTorch's tgt_mask, memory_mask and the key-padding masks. */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForwardOptions = {}): Tensor {
    const o = options<DecoderLayerForwardOptions>('TransformerDecoderLayer', opts,
      ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask', 'tgtIsCausal', 'memoryIsCausal']);
    const sa = (x: Tensor): Tensor => this.dropout1.forward(this.selfAttn.forward(x, x, x, {
      attnMask: o.tgtMask, keyPaddingMask: o.tgtKeyPaddingMask, needWeights: false, isCausal: o.tgtIsCausal,
    })[0]);
    const mha = (x: Tensor): Tensor => this.dropout2.forward(this.multiheadAttn.forward(x, memory, memory, {
      attnMask: o.memoryMask, keyPaddingMask: o.memoryKeyPaddingMask, needWeights: false, isCausal: o.memoryIsCausal,
    })[0]);
    const ff = (x: Tensor): Tensor => this.feedForward(x, this.linear1, this.dropout, this.linear2, this.dropout3);
    if (this.normFirst) {
      let x = tgt.add(sa(this.norm1.forward(tgt)));
      x = x.add(mha(this.norm2.forward(x)));
      return x.add(ff(this.norm3.forward(x)));
    }
    let x = this.norm1.forward(tgt.add(sa(tgt)));
    x = this.norm2.forward(x.add(mha(x)));
    return this.norm3.forward(x.add(ff(x)));
  }
}
