/** GGUF (llama.cpp's format): the reader, ggml's dequantizers and the model loader. */
export { GgufError, GGML_TYPES, READABLE_TYPES, dequantize } from './dequant.js';
export type { GgmlType } from './dequant.js';
export { openGguf, parseGgufHeader, GGUF_VALUE_TYPES } from './reader.js';
export type { GgufFile, GgufHeader, GgufTensorInfo, GgufValue, GgufValueType, GgufArray } from './reader.js';
export { loadGguf, ggufConfig, ggufMeta } from './load.js';
export type { GgufLoadOptions } from './load.js';
