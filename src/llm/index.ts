/** `born.llm`: language models: tokenizers, llama2.c checkpoints, their logits, and generation through a KV cache. */
export { Tokenizer, StreamDecoder } from './tokenizer/index.js';
export * as tokenizers from './tokenizer/index.js';
export { load, loadLlama2c, Llm } from './load.js';
export type { LlmLoadOptions, LlmMeta } from './load.js';
export { LlamaModel } from './model.js';
export { loadBornLlm, saveBornLlm } from './born.js';
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
export { loadHf } from './hf/load.js';
export { HfError, parseHfConfig } from './hf/config.js';
export type { HfModelConfig } from './hf/config.js';
// born.llm (src/lazy-llm.ts) reads its non-async members from this namespace once it is evaluated.
import * as self from './index.js';
import { provideLlm } from '../lazy-llm.js';
provideLlm(self);
