/** `born.llm`: language models. Loading llama2.c checkpoints and computing logits so far. */
export { load, loadLlama2c, Llm } from './load.js';
export type { LlmLoadOptions } from './load.js';
export { LlamaModel } from './model.js';
export type { LlamaConfig } from './model.js';
export { Llama2cError, openLlama2c, parseHeader, expectedBytes } from './llama2c.js';
export type { Llama2cConfig, Llama2cFile } from './llama2c.js';
