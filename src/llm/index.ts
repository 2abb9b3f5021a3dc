/** `born.llm`: language models: tokenizers, llama2.c checkpoints and their logits so far; generation builds on them. */
export { Tokenizer, StreamDecoder } from './tokenizer/index.js';
export * as tokenizers from './tokenizer/index.js';
export { load, loadLlama2c, Llm } from './load.js';
export type { LlmLoadOptions, LlmMeta } from './load.js';
export { LlamaModel } from './model.js';
export type { LlamaConfig } from './model.js';
export { Llama2cError, openLlama2c, parseHeader, expectedBytes } from './llama2c.js';
export type { Llama2cConfig, Llama2cFile } from './llama2c.js';
export { loadHf } from './hf/load.js';
export { HfError, parseHfConfig } from './hf/config.js';
export type { HfModelConfig } from './hf/config.js';
