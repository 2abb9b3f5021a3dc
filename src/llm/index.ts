/** `born.llm`: language-model support. So far the tokenizers; loading and generation build on them. */
export { Tokenizer, StreamDecoder } from './tokenizer/index.js';
export * as tokenizers from './tokenizer/index.js';
