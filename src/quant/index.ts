/** Packed quantised weights (ggml q8_0, q4_0, q4_K) read by the matmul kernels without unpacking. */
export { QuantizedWeight, quantizedWeight, quantLinear, type QuantizedWeightOptions } from './weight.js';
export { QuantizedLinear } from './linear.js';
export { quantize, checkQuantShape, quantRowBytes, QUANT_FORMATS, type QuantFormat } from './blocks.js';
