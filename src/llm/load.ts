/**
 * `born.llm.load(path)`: a language model from a checkpoint: llama2.c `.bin` checkpoints, GGUF
 * files (./gguf/load.ts), Born LLM files (./born.ts) and Hugging Face folders (./hf/load.ts).
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
import { floatWeight } from '../nn/llama.js';
import { generateBatch, generateOne, isBatch, type BatchText, type BatchToken, type Prompt } from './generate/generate.js';
import type { GenerateOptions } from './generate/options.js';
import { loadGguf, type GgufLoadOptions } from './gguf/load.js';
import { chat, type ChatOptions } from './chat.js';
import type { ChatMessage } from './chat-template.js';
import { isBornLlm, loadBornLlm } from './born.js';

export interface LlmLoadOptions extends GgufLoadOptions {
  /**
   * The file's format (default: from the extension; `.bin` is llama2.c, `.gguf` GGUF,
   * `.safetensors` with Born's LLM metadata 'born'; a directory is a Hugging Face folder, 'hf').
   */
  format?: 'llama2c' | 'gguf' | 'born' | 'hf';
}

/** `config` with maxSeqLen set to `opts.maxSeqLen`, which may lower the checkpoint's length but not raise it. */
export function withMaxSeqLen<C extends LlamaConfig>(config: C, opts: Pick<LlmLoadOptions, 'maxSeqLen'>): C {
  const m = opts.maxSeqLen;
  if (m === undefined) return config;
  if (!Number.isSafeInteger(m) || m < 1 || m > config.maxSeqLen) throw new RangeError(`llm.load: maxSeqLen ${String(m)} is outside 1..${config.maxSeqLen} (the checkpoint's length)`);
  return { ...config, maxSeqLen: m };
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

  /**
   * Streams a continuation of `prompt` (text, or token ids): text pieces, or ids with
   * `{ tokens: true }`, through a KV cache; greedy at `temperature: 0`, the same tokens for the
   * same `seed`. A list of prompts (of any lengths) is generated as one batch, one step per token
   * for all, yielding `{ index, text }` (or `{ index, token }`) pieces per prompt.
   * Example: `for await (const piece of llm.generate('Once upon a time', { maxTokens: 50 })) process.stdout.write(piece)`.
   */
  generate(prompt: Prompt, opts: GenerateOptions & { tokens: true }): AsyncIterable<number>;
  generate(prompt: Prompt, opts?: GenerateOptions & { tokens?: false }): AsyncIterable<string>;
  generate(prompts: readonly Prompt[], opts: GenerateOptions & { tokens: true }): AsyncIterable<BatchToken>;
  generate(prompts: readonly Prompt[], opts?: GenerateOptions & { tokens?: false }): AsyncIterable<BatchText>;
  generate(prompt: Prompt | readonly Prompt[], opts?: GenerateOptions): AsyncIterable<string | number | BatchText | BatchToken> {
    return isBatch(prompt) ? generateBatch(this, prompt, opts) : generateOne(this, prompt as Prompt, opts);
  }

  /**
   * Streams the assistant's reply to a conversation, rendered by the model's chat template
   * (GGUF `tokenizer.chat_template`, tokenizer_config.json's `chat_template`, or `{ template }`).
   * Example: `for await (const piece of llm.chat([{ role: 'user', content: 'Hi' }])) process.stdout.write(piece)`.
   */
  chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): AsyncIterable<string> {
    return chat(this, messages, opts);
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
      await put(floatWeight(a.wq, 'llm.load'), 'wq', l);
      await put(floatWeight(a.wk, 'llm.load'), 'wk', l);
      await put(floatWeight(a.wv, 'llm.load'), 'wv', l);
      await put(floatWeight(a.wo, 'llm.load'), 'wo', l);
      await put(layer.ffnNorm.weight, 'rms_ffn', l);
      await put(floatWeight(f.w1, 'llm.load'), 'w1', l);
      await put(floatWeight(f.w2, 'llm.load'), 'w2', l);
      await put(floatWeight(f.w3, 'llm.load'), 'w3', l);
    }
    await put(model.norm.weight, 'rms_final');
    if (model.output) await put(floatWeight(model.output, 'llm.load'), 'wcls');
    return new Llm(model, config);
  } finally {
    await file.close();
  }
}

/** Loads a language model from `path` (a llama2.c `.bin`, a GGUF file, a Born LLM file, or a Hugging Face folder). */
export async function load(path: string, opts: LlmLoadOptions = {}): Promise<Llm> {
  const ext = path.toLowerCase();
  const info = await stat(path).catch(() => null);
  // Said before any format guess, so a typo in the path is not reported as an unknown format.
  if (info === null) throw new Error(`llm.load: no file or folder at ${path}`);
  const byExt = ext.endsWith('.bin') ? 'llama2c' : ext.endsWith('.gguf') ? 'gguf' : undefined;
  const isDir = opts.format === undefined && byExt === undefined && info.isDirectory();
  const format = opts.format ?? byExt ?? (isDir ? 'hf' : undefined);
  if (format === 'llama2c') return loadLlama2c(path, opts);
  if (format === 'gguf') return loadGguf(path, { maxSeqLen: opts.maxSeqLen, dequantize: opts.dequantize });
  if (format === 'hf') return loadHf(path, opts);
  // A Born LLM file (born train --model gpt): a .safetensors file whose metadata says so.
  if (format === 'born' || (format === undefined && ext.endsWith('.safetensors') && await isBornLlm(path))) return loadBornLlm(path);
  throw new TypeError(`llm.load: cannot tell the format of ${path}; llama2.c checkpoints end in .bin, GGUF files in .gguf, Born LLM files (born train --model gpt) are .safetensors with format 'born-llm-1' in their metadata, Hugging Face folders are directories (or pass { format })`);
}
