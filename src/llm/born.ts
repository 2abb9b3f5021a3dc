/**
 * Born's own language-model file (what `born train --model gpt` writes): a safetensors file with
 * the LlamaModel's state dict under model.py's names and, in its `__metadata__`, everything else
 * a loader needs — `format` 'born-llm-1', `model` 'gpt' (so `born train` knows whose weights an
 * --out file holds), `config` (the LlamaConfig as JSON) and `tokenizer` 'bytes' with `vocab`
 * (JSON: token i is the byte vocab[i]). A training checkpoint (the same metadata, the weights
 * under `model.` beside the optimizer's state) loads too.
 */
import { loadWithMetadata, save } from '../io/safetensors.js';
import { readMetadata } from '../cli/files.js';
import type { Tensor } from '../tensor/tensor.js';
import { Llm } from './load.js';
import { LlamaModel, type LlamaConfig } from './model.js';
import { fromBytes } from './tokenizer/bytes.js';

export const BORN_LLM_FORMAT = 'born-llm-1';

/** What a born LLM file says besides its weights. */
export interface BornLlmInfo {
  readonly config: LlamaConfig;
  /** Token i is the byte vocab[i]. */
  readonly vocab: readonly number[];
}

/** The `__metadata__` of a born LLM file (also given to training checkpoints). */
export function bornLlmMetadata(info: BornLlmInfo, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, format: BORN_LLM_FORMAT, model: 'gpt', config: JSON.stringify(info.config), tokenizer: 'bytes', vocab: JSON.stringify(info.vocab) };
}

/** Writes `model` (atomically) as a born LLM file. */
export async function saveBornLlm(model: LlamaModel, vocab: readonly number[], path: string): Promise<void> {
  await save(model.stateDict(), path, { metadata: bornLlmMetadata({ config: model.config, vocab }) });
}

/** Whether `path` is a safetensors file whose metadata names the born LLM format (reads the header only). */
export async function isBornLlm(path: string): Promise<boolean> {
  const meta = await readMetadata(path).catch(() => null);
  return meta?.format === BORN_LLM_FORMAT;
}

/** The config and vocabulary in a file's metadata, checked; errors name the file. */
export function parseBornLlmMetadata(path: string, meta: Record<string, string>): BornLlmInfo {
  const fail = (what: string): never => { throw new TypeError(`llm.load: ${path}: ${what}`); };
  if (meta.format !== BORN_LLM_FORMAT) fail(`not a born LLM file (its metadata says format ${JSON.stringify(meta.format ?? null)}, expected '${BORN_LLM_FORMAT}')`);
  if (meta.tokenizer !== 'bytes') fail(`tokenizer '${meta.tokenizer}' is not one this version reads ('bytes')`);
  let config: LlamaConfig, vocab: number[];
  try {
    config = JSON.parse(meta.config ?? 'null') as LlamaConfig;
    vocab = JSON.parse(meta.vocab ?? 'null') as number[];
  } catch (e) {
    return fail(`its config or vocab metadata is not JSON (${(e as Error).message})`);
  }
  const ints = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'maxSeqLen'] as const;
  if (typeof config !== 'object' || config === null || ints.some((k) => !Number.isSafeInteger(config[k]) || config[k] < 1)) {
    fail(`config ${meta.config} lacks one of ${ints.join(', ')} (positive integers)`);
  }
  if (!Array.isArray(vocab) || vocab.length !== config.vocabSize) fail(`vocab lists ${Array.isArray(vocab) ? vocab.length : 'no'} bytes, config.vocabSize is ${config.vocabSize}`);
  return { config, vocab };
}

/** Reads a born LLM file (or a training checkpoint of one) into an Llm with its byte tokenizer. */
export async function loadBornLlm(path: string): Promise<Llm> {
  const { tensors, metadata } = await loadWithMetadata(path);
  const { config, vocab } = parseBornLlmMetadata(path, metadata);
  const tokenizer = fromBytes(vocab);
  const checkpoint = Object.keys(tensors).some((k) => k.startsWith('model.'));
  const weights: Record<string, Tensor> = checkpoint
    ? Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('model.')).map(([k, t]) => [k.slice(6), t]))
    : tensors;
  const model = new LlamaModel(config);
  model.loadStateDict(weights);
  model.eval();
  await model.realize();
  return new Llm(model, config, { tokenizer, name: 'gpt' });
}
