/**
 * Packed quantised weights: a [out, in] matrix held as ggml block bytes (q8_0, q4_0, q4_K) in one
 * uint8 device buffer, never as floats. `quantLinear(x, w)` is x Wᵀ as one matmul kernel that
 * dequantises each weight as it loads its operand (the 'dequant' node, scheduler/quant-operand.ts),
 * on the CPU and on WebGPU. Nothing is dequantised on load: the bytes are copied to the device as
 * they are (a GGUF tensor's data, unchanged); the scales, q4_K's 6-bit sub-block scales and mins
 * included, are decoded by the kernels as they read each block.
 *
 * The weights are frozen: no gradient reaches them (the input still gets its gradient, x's
 * matmul reads the packed bytes through the transpose).
 */
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import type { DeviceName } from '../graph/node.js';
import { fromStorage } from '../tensor/creation.js';
import { node } from '../tensor/make.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkQuantShape, QUANT_FORMATS, type QuantFormat } from './blocks.js';

export interface QuantizedWeightOptions {
  /** The device its bytes go to (default: the default device). */
  device?: DeviceName;
}

/** A frozen [out, in] weight in a ggml block format. Make one with `quantizedWeight`. */
export class QuantizedWeight {
  readonly shape: readonly [number, number];
  /** @internal Use quantizedWeight(). */
  constructor(readonly bytes: Tensor, readonly format: QuantFormat, shape: readonly [number, number]) {
    this.shape = [shape[0], shape[1]];
  }
  get device(): DeviceName { return this.bytes.device; }
  /** Bytes of device memory it holds. */
  get nbytes(): number { return this.bytes.numel(); }
  /** A copy on `device`. */
  to(device: DeviceName): QuantizedWeight { return device === this.device ? this : new QuantizedWeight(this.bytes.to(device), this.format, this.shape); }
  /** Gradients never reach packed weights; asking for them is an error. */
  requiresGrad_(): never {
    throw new TypeError(`QuantizedWeight (${this.format}, ${fmt(this.shape)}): quantised weights are frozen and have no gradient (dequantise to a float Tensor to train them)`);
  }
  dispose(): void { this.bytes.dispose(); }
  /** @internal The float matrix it stands for, as a node only a matmul may read. */
  matrix(): Tensor { return node({ kind: 'dequant', format: this.format }, [this.bytes], this.shape, 'float32'); }
  toString(): string { return `QuantizedWeight(${this.format}, [${this.shape.join(', ')}])`; }
}

/**
 * A packed weight from ggml block bytes: `bytes` hold `shape[0]` rows of blocks (q8_0: 34 bytes
 * per 32 weights, q4_0: 18 per 32, q4_K: 144 per 256), exactly as a GGUF tensor stores them. The
 * bytes are copied to the device once; `bytes` may be dropped afterwards.
 */
export function quantizedWeight(bytes: Uint8Array, format: QuantFormat, shape: readonly [number, number], opts: QuantizedWeightOptions = {}): QuantizedWeight {
  const op = 'quantizedWeight';
  const n = checkQuantShape(op, format, shape);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${op}: expected the block bytes as a Uint8Array`);
  if (bytes.length !== n) {
    throw new ShapeError(`${op}: ${format} of shape ${fmt(shape)} takes ${n} bytes (${shape[0]} rows of ${shape[1] / QUANT_FORMATS[format].blockSize} blocks), got ${bytes.length}`);
  }
  // 'packed': the CPU device keeps the bytes where its packed matmul reads them in place.
  return new QuantizedWeight(fromStorage(bytes, [n], 'uint8', opts.device, 'packed'), format, shape);
}

/** x Wᵀ (+ bias) over x's last dim: [..., in] → [..., out], in one matmul reading W packed. */
export function quantLinear(x: Tensor, w: QuantizedWeight, bias?: Tensor): Tensor {
  const [out, inF] = w.shape;
  if (x.shape[x.ndim - 1] !== inF || x.ndim < 1) {
    throw new ShapeError(`quantLinear: input of shape ${fmt(x.shape)} should end in ${inF} (weight ${w.format} [${out}, ${inF}])`);
  }
  if (x.dtype !== 'float32') throw new DTypeError(`quantLinear: expected a float32 input, got ${x.dtype} of shape ${fmt(x.shape)}`);
  // One 2-D matmul (as nn.attention's project): a batched one would broadcast W per batch item.
  const y = x.reshape([-1, inF]).matmul(w.matrix().T);
  return (bias ? y.add(bias) : y).reshape([...x.shape.slice(0, -1), out]);
}
