/**
 * A GGUF file into a LlamaModel: the architectures llama, mistral (llama's tensors and keys) and
 * qwen2 (q/k/v biases, NeoX half-split RoPE). llama.cpp's convert stores LLaMA's q and k rows in
 * Meta's order (adjacent RoPE pairs) and Qwen2's in Hugging Face's (halves), so the pairing
 * follows the architecture. Projection matrices stored as q8_0, q4_0 or q4_K stay packed: their
 * blocks go to the device as the file holds them, in QuantizedLinears whose matmuls dequantise as
 * they read (src/quant). Every other tensor (norms, the token embedding, f16/bf16 and the other
 * quant types) is dequantised to float32 on load, one tensor at a time.
 */
import { assignAll } from '../../tensor/assign.js';
import { fromStorage } from '../../tensor/creation.js';
import { Tensor } from '../../tensor/tensor.js';
import { fmt } from '../../graph/errors.js';
import { Llm, type LlmMeta } from '../load.js';
import { LlamaModel, type LlamaConfig } from '../model.js';
import { fromGguf } from '../tokenizer/gguf.js';
import { QuantizedLinear } from '../../quant/linear.js';
import { quantizedWeight } from '../../quant/weight.js';
import type { QuantFormat } from '../../quant/blocks.js';
import { floatWeight, type Projection } from '../../nn/llama.js';
import type { RopePairing } from '../../nn/rope.js';
import { GgufError } from './dequant.js';
import { openGguf, type GgufFile, type GgufValue } from './reader.js';

export interface GgufLoadOptions {
  /**
   * The longest sequence the model will take (default: the file's context_length, at most 4096:
   * the rotary tables are built for this many positions in every layer).
   */
  maxSeqLen?: number;
  /** Dequantise q8_0 / q4_0 / q4_K projections to float32 on load too (default false: they stay packed). */
  dequantize?: boolean;
}

/** The ggml types whose projections stay packed (the formats src/quant's matmuls read). */
const PACKED: ReadonlySet<string> = new Set<QuantFormat>(['q8_0', 'q4_0', 'q4_K']);

/** The architectures read, and what sets each apart from llama. */
const ARCHS: Readonly<Record<string, { pairing: RopePairing; qkvBias: boolean }>> = {
  llama: { pairing: 'interleaved', qkvBias: false },
  mistral: { pairing: 'interleaved', qkvBias: false },
  qwen2: { pairing: 'half', qkvBias: true },
};
const DEFAULT_MAX_SEQ = 4096;

function num(meta: Readonly<Record<string, GgufValue>>, key: string, path: string, fallback?: number): number {
  const v = meta[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new GgufError(`GGUF ${path}: metadata ${key} is ${v === undefined ? 'missing' : `a ${typeof v}, not a number`}`);
  return Number(v);
}

/** The LlamaConfig a GGUF file's metadata and tensors describe. */
export function ggufConfig(f: GgufFile, opts: GgufLoadOptions = {}): LlamaConfig {
  const m = f.metadata, arch = String(m['general.architecture'] ?? '');
  const kind = ARCHS[arch];
  if (!kind) throw new GgufError(`GGUF ${f.path}: architecture "${arch}" is not read; ${Object.keys(ARCHS).join(', ')} are`);
  const k = (s: string): string => `${arch}.${s}`;
  const dim = num(m, k('embedding_length'), f.path), nHeads = num(m, k('attention.head_count'), f.path);
  const nKvHeads = num(m, k('attention.head_count_kv'), f.path, nHeads);
  const ropeDims = num(m, k('rope.dimension_count'), f.path, dim / nHeads);
  if (ropeDims !== dim / nHeads) throw new GgufError(`GGUF ${f.path}: RoPE on ${ropeDims} of each head's ${dim / nHeads} features (partial rotary) is not supported`);
  const scaling = m[k('rope.scaling.type')];
  if (scaling !== undefined && scaling !== 'none' && scaling !== 'linear') throw new GgufError(`GGUF ${f.path}: RoPE scaling "${String(scaling)}" is not supported ('linear' is)`);
  if (f.tensors.has('rope_freqs.weight')) throw new GgufError(`GGUF ${f.path}: per-frequency RoPE factors (rope_freqs.weight, LLaMA-3.1 style) are not supported`);
  const embd = f.tensor('token_embd.weight');
  const context = num(m, k('context_length'), f.path, DEFAULT_MAX_SEQ);
  // Attention over a sliding window equals full attention on sequences no longer than the window,
  // so a Mistral-style window caps the sequence length rather than changing the attention.
  const window = m[k('attention.sliding_window')];
  const cap = Math.min(context, typeof window === 'number' && window > 0 ? window : Infinity);
  const maxSeqLen = opts.maxSeqLen ?? Math.min(cap, DEFAULT_MAX_SEQ);
  if (!(Number.isInteger(maxSeqLen) && maxSeqLen >= 1 && maxSeqLen <= cap)) throw new RangeError(`llm.load: maxSeqLen ${maxSeqLen} is outside 1..${cap} (the file's context length${cap < context ? ' capped by its sliding window' : ''})`);
  return {
    dim, nHeads, nKvHeads, maxSeqLen,
    hiddenDim: num(m, k('feed_forward_length'), f.path),
    nLayers: num(m, k('block_count'), f.path),
    vocabSize: embd.shape[0]!,
    sharedClassifier: !f.tensors.has('output.weight'),
    normEps: num(m, k('attention.layer_norm_rms_epsilon'), f.path, 1e-5),
    ropeTheta: num(m, k('rope.freq_base'), f.path, 10000),
    ropeScalingFactor: scaling === 'linear' ? num(m, k('rope.scaling.factor'), f.path) : undefined,
    ropePairing: kind.pairing,
    qkvBias: kind.qkvBias,
  };
}

/** What the metadata says besides the weights: tokenizer, BOS/EOS, chat template, name. */
export function ggufMeta(f: GgufFile): LlmMeta {
  const m = f.metadata;
  const id = (key: string): number | undefined => (typeof m[key] === 'number' ? (m[key] as number) : undefined);
  const eos = [id('tokenizer.ggml.eos_token_id'), id('tokenizer.ggml.eot_token_id'), id('tokenizer.ggml.eom_token_id')]
    .filter((x): x is number => x !== undefined);
  const template = m['tokenizer.chat_template'], name = m['general.name'] ?? m['general.architecture'];
  return {
    tokenizer: m['tokenizer.ggml.model'] === undefined ? undefined : fromGguf(m),
    bosId: id('tokenizer.ggml.bos_token_id'),
    eosIds: [...new Set(eos)],
    chatTemplate: typeof template === 'string' ? template : undefined,
    name: typeof name === 'string' ? name : undefined,
  };
}

/**
 * Reads a GGUF checkpoint into a LlamaModel. As the llama2.c loader: each tensor is read,
 * dequantized into one Float32Array, copied into a device buffer and written into its parameter,
 * then freed; the random init of the parameters is made first and overwritten.
 */
export async function loadGguf(path: string, opts: GgufLoadOptions = {}): Promise<Llm> {
  const f = await openGguf(path);
  try {
    const config = ggufConfig(f, opts);
    const meta = ggufMeta(f);
    const model = new LlamaModel(config);
    model.eval();
    const unused = new Set(f.tensors.keys());
    const check = (shape: readonly number[], name: string): void => {
      const info = f.tensor(name);
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        throw new GgufError(`GGUF ${path}: tensor ${name} is ${fmt(info.shape)}, the model (from the metadata) expects ${fmt(shape)}`);
      }
    };
    const put = async (target: Tensor | undefined, name: string): Promise<void> => {
      if (!target) throw new GgufError(`GGUF ${path}: tensor ${name} has no place in the model`);
      check(target.shape, name);
      const values = fromStorage(await f.read(name), target.shape, 'float32');
      await assignAll([[target, values]]);
      values.dispose();
      unused.delete(name);
    };
    /** A projection's weight (and bias): packed in place of the Linear, or written into it. */
    const putProjection = async <K extends string>(owner: { [k in K]: Projection }, key: K, name: string, bias?: string): Promise<void> => {
      const lin = owner[key];
      const type = f.tensor(name).type.name;
      if (opts.dequantize || !PACKED.has(type)) {
        await put(floatWeight(lin, 'llm.load'), name);
        if (bias) await put(lin.bias, bias);
        return;
      }
      const shape = lin.weight.shape as [number, number];
      check(shape, name);
      let b: Tensor | undefined;
      if (bias) {
        check([shape[0]], bias);
        b = fromStorage(await f.read(bias), [shape[0]], 'float32');
        unused.delete(bias);
      }
      const q = new QuantizedLinear(quantizedWeight(await f.readRaw(name), type as QuantFormat, shape), b);
      q.eval();
      if (lin.weight instanceof Tensor) lin.weight.dispose();
      lin.bias?.dispose();
      owner[key] = q;
      unused.delete(name);
    };
    await put(model.tokEmbeddings.weight, 'token_embd.weight');
    for (const [l, layer] of model.layers.entries()) {
      const a = layer.attention, ff = layer.feedForward, p = `blk.${l}.`;
      await put(layer.attentionNorm.weight, `${p}attn_norm.weight`);
      for (const [key, n] of [['wq', 'q'], ['wk', 'k'], ['wv', 'v']] as const) {
        await putProjection(a, key, `${p}attn_${n}.weight`, config.qkvBias ? `${p}attn_${n}.bias` : undefined);
      }
      await putProjection(a, 'wo', `${p}attn_output.weight`);
      await put(layer.ffnNorm.weight, `${p}ffn_norm.weight`);
      await putProjection(ff, 'w1', `${p}ffn_gate.weight`);
      await putProjection(ff, 'w3', `${p}ffn_up.weight`);
      await putProjection(ff, 'w2', `${p}ffn_down.weight`);
    }
    await put(model.norm.weight, 'output_norm.weight');
    if (model.output) await putProjection(model as { output: Projection }, 'output', 'output.weight');
    if (unused.size) throw new GgufError(`GGUF ${path}: tensors the ${String(f.metadata['general.architecture'])} model does not use: ${[...unused].slice(0, 8).join(', ')}`);
    return new Llm(model, config, meta);
  } finally {
    await f.close();
  }
}
