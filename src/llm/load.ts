/**
 * `born.llm.load(path)`: a language model from a checkpoint: llama2.c `.bin` checkpoints and
 * Hugging Face folders (src/llm/hf); GGUF is to come behind the same call.
 */
import { stat } from 'node:fs/promises';
import { noGrad } from '../autodiff/grad.js';
import { fmt } from '../graph/errors.js';
import { skipInit } from '../nn/parameter.js';
import { fromStorage } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import type { Tokenizer } from './tokenizer/tokenizer.js';
import { fillParameter } from './fill.js';
import { loadHf } from './hf/load.js';
import { openLlama2c, type Llama2cConfig } from './llama2c.js';
import { LlamaModel, type LlamaConfig } from './model.js';

export interface LlmLoadOptions {
  /** The file's format (default: `.bin` is llama2.c; any other directory is a Hugging Face folder). */
  format?: 'llama2c' | 'hf';
  /**
   * The longest sequence to support, if shorter than the checkpoint's (Hugging Face configs say
   * 32768 or more): the rotary tables, and whatever else is sized by config.maxSeqLen, shrink with it.
   */
  maxSeqLen?: number;
}

/** `config` with maxSeqLen lowered to `opts.maxSeqLen` (never raised: RoPE beyond the trained length is not this option's business). */
export function withMaxSeqLen<C extends LlamaConfig>(config: C, opts: Pick<LlmLoadOptions, 'maxSeqLen'>): C {
  const m = opts.maxSeqLen;
  if (m === undefined) return config;
  if (!Number.isSafeInteger(m) || m < 1) throw new RangeError(`llm.load: maxSeqLen must be a positive integer, got ${String(m)}`);
  return { ...config, maxSeqLen: Math.min(config.maxSeqLen, m) };
}

/** What a checkpoint says besides its weights; every loader fills in what its format carries. */
export interface LlmMeta {
  /** The tokenizer stored with the model (GGUF metadata, tokenizer.json), if any. */
  readonly tokenizer?: Tokenizer;
  readonly bosId?: number;
  /** Ids that end generation (EOS, end-of-turn). */
  readonly eosIds?: readonly number[];
  /** A Jinja chat template (GGUF `tokenizer.chat_template`, tokenizer_config.json's `chat_template`). */
  readonly chatTemplate?: string;
  /** The model's name or architecture as the file gives it. */
  readonly name?: string;
}

/** A loaded language model: its module and the token-level calls on it. */
export class Llm {
  constructor(readonly model: LlamaModel, readonly config: LlamaConfig, readonly meta: LlmMeta = {}) {}

  get tokenizer(): Tokenizer | undefined { return this.meta.tokenizer; }

  get vocabSize(): number { return this.config.vocabSize; }

  /**
   * Logits for a prompt of token ids: [tokens, vocabSize] float32, row t predicting token t+1
   * (full causal attention over the prompt). Lazy, like every Born op: `await llm.logits(ids).data()`.
   */
  logits(ids: readonly number[] | Int32Array | Tensor): Tensor {
    const t = ids instanceof Tensor ? ids : this.idsTensor(ids);
    if (t.ndim !== 1) throw new RangeError(`logits: expected a 1-D list of token ids, got a tensor of shape ${fmt(t.shape)}`);
    return noGrad(() => this.model.forward(t.reshape([1, -1])).reshape([t.shape[0]!, this.vocabSize]));
  }

  private idsTensor(ids: readonly number[] | Int32Array): Tensor {
    const v = this.vocabSize;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= v) throw new RangeError(`logits: token id ${id} at ${i} is outside 0..${v - 1} (the vocabulary)`);
    }
    if (ids.length === 0) throw new RangeError('logits: the prompt has no tokens');
    return fromStorage(Int32Array.from(ids), [ids.length], 'int32');
  }
}

const llamaConfig = (c: Llama2cConfig): LlamaConfig => ({
  dim: c.dim, hiddenDim: c.hiddenDim, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads,
  vocabSize: c.vocabSize, maxSeqLen: c.seqLen, sharedClassifier: c.sharedClassifier, normEps: 1e-5,
});

/**
 * Reads a llama2.c checkpoint into a LlamaModel built without its random init (skipInit): each
 * weight (one layer's matrix at a time) is read from the file into a Float32Array, copied once
 * into a device buffer, and that buffer becomes the parameter (fillParameter). The file is never
 * in memory whole, nor the model twice.
 */
export async function loadLlama2c(path: string, opts: Pick<LlmLoadOptions, 'maxSeqLen'> = {}): Promise<Llm> {
  const file = await openLlama2c(path);
  try {
    const config = withMaxSeqLen(llamaConfig(file.config), opts);
    const model = skipInit(() => new LlamaModel(config));
    model.eval();
    // One host array, reused for every weight (the largest is the embedding or a classifier).
    const scratch = new Float32Array(model.parameters().reduce((m, p) => Math.max(m, p.numel()), 0));
    const put = async (target: Tensor, name: string, layer?: number): Promise<void> => {
      fillParameter(target, await file.read(name, layer, scratch), `llama2.c checkpoint ${path}: ${name}${layer === undefined ? '' : ` of layer ${layer}`}`);
    };
    await put(model.tokEmbeddings.weight, 'token_embedding');
    for (const [l, layer] of model.layers.entries()) {
      const a = layer.attention, f = layer.feedForward;
      await put(layer.attentionNorm.weight, 'rms_att', l);
      await put(a.wq.weight, 'wq', l);
      await put(a.wk.weight, 'wk', l);
      await put(a.wv.weight, 'wv', l);
      await put(a.wo.weight, 'wo', l);
      await put(layer.ffnNorm.weight, 'rms_ffn', l);
      await put(f.w1.weight, 'w1', l);
      await put(f.w2.weight, 'w2', l);
      await put(f.w3.weight, 'w3', l);
    }
    await put(model.norm.weight, 'rms_final');
    if (model.output) await put(model.output.weight, 'wcls');
    return new Llm(model, config);
  } finally {
    await file.close();
  }
}

/** Loads a language model from `path` (a llama2.c `.bin`, or a Hugging Face folder). */
export async function load(path: string, opts: LlmLoadOptions = {}): Promise<Llm> {
  const bin = path.toLowerCase().endsWith('.bin');
  const isDir = opts.format === undefined && !bin && (await stat(path).catch(() => null))?.isDirectory() === true;
  const format = opts.format ?? (bin ? 'llama2c' : isDir ? 'hf' : undefined);
  if (format === 'llama2c') return loadLlama2c(path, opts);
  if (format === 'hf') return loadHf(path, opts);
  throw new TypeError(`llm.load: cannot tell the format of ${path}; llama2.c checkpoints end in .bin (or pass { format: 'llama2c' }), Hugging Face folders are directories (or pass { format }); GGUF is not read yet`);
}
