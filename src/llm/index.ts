/** `born.llm`: language models: tokenizers, llama2.c checkpoints, their logits, and generation through a KV cache. */
export { Tokenizer, StreamDecoder } from './tokenizer/index.js';
export * as tokenizers from './tokenizer/index.js';
export { load, loadLlama2c, Llm } from './load.js';
export type { LlmLoadOptions, LlmMeta } from './load.js';
export { LlamaModel } from './model.js';
export type { LlamaConfig } from './model.js';
export { Llama2cError, openLlama2c, parseHeader, expectedBytes } from './llama2c.js';
export type { Llama2cConfig, Llama2cFile } from './llama2c.js';
export { KvCache } from './kv-cache.js';
export type { GenerateOptions } from './generate/options.js';
export type { Prompt, BatchText, BatchToken } from './generate/generate.js';
export { applyChatTemplate, ChatTemplateError } from './chat-template.js';
export type { ChatMessage, ChatTemplateOptions } from './chat-template.js';
export * as gguf from './gguf/index.js';
export { loadGguf, GgufError, openGguf } from './gguf/index.js';
export type { GgufFile, GgufLoadOptions } from './gguf/index.js';
export { chatPromptIds } from './chat.js';
export type { ChatOptions } from './chat.js';
