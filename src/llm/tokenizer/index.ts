/**
 * `born.llm.tokenizers`: tokenizers for language models, independent of the tensor engine.
 *
 *   const tok = born.llm.tokenizers.fromHuggingFace(readFileSync('tokenizer.json', 'utf8'));
 *   const ids = tok.encode('Hello world', { bos: true });   // number[]
 *   tok.decode(ids);                                         // 'Hello world'
 *   const d = tok.decoder(); for (const id of ids) process.stdout.write(d.push(id));
 */
export { Tokenizer } from './tokenizer.js';
export type { EncodeOptions, DecodeOptions, TokenModel, TokenizerSpec } from './tokenizer.js';
export { StreamDecoder } from './stream-decoder.js';
export type { AddedToken } from './specials.js';
export { fromSentencePiece, TokenType } from './sentencepiece.js';
export type { SentencePieceVocab } from './sentencepiece.js';
export { fromHuggingFace } from './hf-json.js';
export type { HfTokenizerJson, HfTokenizerConfig } from './hf-json.js';
export { fromTiktoken, parseTiktokenRanks, TIKTOKEN_PATTERNS } from './tiktoken.js';
export type { TiktokenOptions } from './tiktoken.js';
export { fromGguf } from './gguf.js';
export type { GgufMetadata } from './gguf.js';
export { fromLlama2c, readLlama2cTokenizer } from './llama2c.js';
export { fromBytes } from './bytes.js';
export type { Llama2cOptions } from './llama2c.js';
export { GPT2_PATTERN, CL100K_PATTERN, QWEN2_PATTERN, O200K_PATTERN, toJsPattern } from './pretokenize.js';
