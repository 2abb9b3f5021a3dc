/**
 * Block-quantised weight formats (ggml's), as the kernel IR names them: a [rows, cols] matrix is
 * stored row by row, each row as cols / blockSize blocks of `blockBytes` bytes, little-endian.
 * - q8_0: 32 weights per block: an f16 scale d, then 32 int8 quants q; weight j = d · q[j].
 * - q4_0: 32 weights per block: an f16 scale d, then 16 bytes qs; weight j (j < 16) is
 *   d · ((qs[j] & 15) - 8) and weight j + 16 is d · ((qs[j] >> 4) - 8).
 * - q4_K: 256 weights per super-block: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins of
 *   its eight 32-weight sub-blocks (ggml's get_scale_min_k4: for j < 4 scale = s[j] & 63,
 *   min = s[j + 4] & 63; else scale = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4),
 *   min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4)), then 128 bytes qs: byte l of chunk c
 *   (qs[32c + l]) holds weight l of sub-block 2c in its low nibble and of 2c + 1 in its high
 *   one; weight = d · scale · q - dmin · min.
 * Printers dequantise a weight where the matmul reads it (MatmulOperand.quant); the packed bytes
 * are the only copy of the weight in memory.
 */

export type QuantFormat = 'q8_0' | 'q4_0' | 'q4_K';

export interface QuantLayout {
  /** Weights per block, along a row (scales come per 32-weight sub-block in every format). */
  readonly blockSize: number;
  /** Bytes per block: the f16 scale (offset 0), then the quants (offset 2). */
  readonly blockBytes: number;
}

export const QUANT_FORMATS: Readonly<Record<QuantFormat, QuantLayout>> = {
  q8_0: { blockSize: 32, blockBytes: 34 },
  q4_0: { blockSize: 32, blockBytes: 18 },
  q4_K: { blockSize: 256, blockBytes: 144 },
};

export const isQuantFormat = (f: unknown): f is QuantFormat => typeof f === 'string' && Object.hasOwn(QUANT_FORMATS, f);

/** Bytes of one row of `cols` weights (cols a multiple of the block size). */
export const quantRowBytes = (format: QuantFormat, cols: number): number =>
  (cols / QUANT_FORMATS[format].blockSize) * QUANT_FORMATS[format].blockBytes;
