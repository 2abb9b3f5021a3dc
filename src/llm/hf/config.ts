/**
 * A Hugging Face model folder's `config.json`, for the LLaMA family of decoders transformers
 * implements as one architecture: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM.
 * They differ in what the config says (GQA, rope_theta, tied embeddings, Mistral's sliding
 * window), and Qwen2 (or `attention_bias: true`) adds biases to the q/k/v projections.
 * Hugging Face's rotary embedding rotates x[i] with x[i + d/2] (rotate_half): 'half' pairing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LlamaConfig } from '../model.js';

/** A Hugging Face folder that cannot be read: a missing file or key, a mismatched shape, an unsupported setting. */
export class HfError extends Error {
  override name = 'HfError';
}

/**
 * LlamaConfig with the q/k/v biases Qwen2 needs: `qkvBias` is the name GroupedQueryAttention's
 * option takes; a build whose LlamaModel ignores it leaves the biases out, and the loader says so.
 */
export type HfLlamaConfig = LlamaConfig & { qkvBias?: boolean };

export interface HfModelConfig {
  /** The LlamaModel to build. */
  readonly config: HfLlamaConfig;
  /** `architectures[0]` (or the model_type when there is none). */
  readonly architecture: string;
  /** The q/k/v projections have biases (Qwen2, or attention_bias). */
  readonly qkvBias: boolean;
  /** What config.json says of the weights' dtype (they are read as float32 whatever it says). */
  readonly torchDtype?: string;
  readonly bosId?: number;
  readonly eosIds: readonly number[];
}

const ARCHITECTURES: Record<string, string> = { LlamaForCausalLM: 'llama', MistralForCausalLM: 'mistral', Qwen2ForCausalLM: 'qwen2' };

/** Parses a JSON file of the folder; `undefined` when it is absent and optional. */
export async function readJson(dir: string, name: string, required: true): Promise<Record<string, unknown>>;
export async function readJson(dir: string, name: string, required?: false): Promise<Record<string, unknown> | undefined>;
export async function readJson(dir: string, name: string, required = false): Promise<Record<string, unknown> | undefined> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new HfError(`Hugging Face folder ${dir}: cannot read ${name} (${(e as Error).message})`);
  }
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new HfError(`Hugging Face folder ${dir}: ${name} is not valid JSON (${(e as Error).message})`); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HfError(`Hugging Face folder ${dir}: ${name} is not a JSON object`);
  return v as Record<string, unknown>;
}

const ids = (v: unknown): number[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).filter((x): x is number => Number.isInteger(x));

/** The LlamaModel config of a parsed config.json; throws HfError naming the key that is missing or not supported. */
export function parseHfConfig(c: Record<string, unknown>, where = 'config.json'): HfModelConfig {
  const fail = (why: string): never => { throw new HfError(`${where}: ${why}`); };
  const archs = Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === 'string') : [];
  const arch = archs.find((a) => a in ARCHITECTURES) ?? archs[0] ?? (typeof c.model_type === 'string' ? c.model_type : undefined);
  const family = arch === undefined ? undefined : ARCHITECTURES[arch] ?? (Object.values(ARCHITECTURES).includes(arch) ? arch : undefined);
  if (family === undefined) fail(`architecture ${JSON.stringify(arch ?? null)} is not read (${Object.keys(ARCHITECTURES).join(', ')} are)`);
  const int = (key: string, dflt?: number): number => {
    const v = c[key] ?? dflt;
    if (v === undefined) fail(`"${key}" is missing`);
    if (!Number.isSafeInteger(v) || (v as number) < 1) fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const num = (key: string, dflt: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !(v > 0)) fail(`"${key}" must be a positive number, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const dim = int('hidden_size'), nHeads = int('num_attention_heads'), nKvHeads = int('num_key_value_heads', nHeads);
  if (dim % nHeads !== 0 || (dim / nHeads) % 2 !== 0) fail(`hidden_size ${dim} must split into num_attention_heads ${nHeads} heads of even size`);
  if (nHeads % nKvHeads !== 0) fail(`num_key_value_heads ${nKvHeads} must divide num_attention_heads ${nHeads}`);
  if (c.head_dim !== undefined && c.head_dim !== null && c.head_dim !== dim / nHeads) fail(`head_dim ${JSON.stringify(c.head_dim)} differs from hidden_size / num_attention_heads (${dim / nHeads}); such models are not supported`);
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') fail(`hidden_act ${JSON.stringify(act)} is not supported (silu is, as SwiGLU)`);
  if (c.mlp_bias === true) fail('mlp_bias: true is not supported (the feed-forward has no biases)');
  let ropeScalingFactor: number | undefined;
  const scaling = c.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    const s = scaling as Record<string, unknown>;
    const type = s.rope_type ?? s.type;
    if (type === 'linear') {
      if (typeof s.factor !== 'number' || !(s.factor > 0)) fail(`rope_scaling.factor must be a positive number, got ${JSON.stringify(s.factor)}`);
      ropeScalingFactor = s.factor as number;
    } else if (type !== 'default') fail(`rope_scaling type ${JSON.stringify(type)} is not supported (linear is)`);
  }
  let maxSeqLen = int('max_position_embeddings', 2048);
  // Mistral's sliding window: attention is full causal up to the window, which is as far as this model reads.
  const window = c.sliding_window;
  const windowed = c.use_sliding_window !== false && Number.isSafeInteger(window) && (window as number) > 0;
  if (windowed && family === 'mistral') maxSeqLen = Math.min(maxSeqLen, window as number);
  const qkvBias = family === 'qwen2' || c.attention_bias === true;
  const config: HfLlamaConfig = {
    dim, hiddenDim: int('intermediate_size'), nLayers: int('num_hidden_layers'), nHeads, nKvHeads,
    vocabSize: int('vocab_size'), maxSeqLen,
    sharedClassifier: c.tie_word_embeddings === true,
    normEps: num('rms_norm_eps', 1e-6), ropeTheta: num('rope_theta', 10000), ropePairing: 'half',
    ...(ropeScalingFactor === undefined ? {} : { ropeScalingFactor }), ...(qkvBias ? { qkvBias } : {}),
  };
  const bos = ids(c.bos_token_id)[0];
  return {
    config, architecture: arch!, qkvBias,
    ...(typeof c.torch_dtype === 'string' ? { torchDtype: c.torch_dtype } : {}),
    ...(bos === undefined ? {} : { bosId: bos }), eosIds: ids(c.eos_token_id),
  };
}

/** Reads and parses `dir/config.json`. */
export async function readHfConfig(dir: string): Promise<HfModelConfig> {
  return parseHfConfig(await readJson(dir, 'config.json', true), `Hugging Face folder ${dir}: config.json`);
}
