/** Public types of the CPU matmul kernel generator (re-exported by ../matmul.ts). */
import type { QuantOperand } from '../../../kernel/ir.js';
import type { SimdEpilogue } from '../simd/index.js';

export interface MatmulOperand {
  offset: number;
  sBatch: number;
  sRow: number;
  sCol: number;
  /**
   * A JS expression in `acc` (the element read at the strides) giving the operand's element:
   * applied to every element as it is read, before packing. It may use the epilogue's prelude
   * and the runtime scalars `$rt`.
   */
  prologue?: string;
  /** The same prologue as a SIMD map (simd/index.ts simdPrologueOf), run over staged blocks by the wasm backend. */
  simd?: SimdEpilogue;
  /** A packed weight (kernel/ir.ts MatmulOperand.quant): the kernel is quant.ts's, not the template's. */
  quant?: QuantOperand;
}

export interface MatmulSpec {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** A[bt, m, k] = b[1][a.offset + bt*a.sBatch + m*a.sRow + k*a.sCol] */
  a: MatmulOperand;
  /** B[bt, k, n] = b[2][b.offset + bt*b.sBatch + k*b.sRow + n*b.sCol] */
  b: MatmulOperand;
  /**
   * `expr` is a JS expression in `acc` (the dot product), `o` (flat output
   * index), `$om` and `$on` (the output's row and column within its batch item,
   * cheaper than rebuilding them from `o`) and `b` (the buffer array); `prelude`
   * holds statements run once at the start of each call. Default expr: 'acc'.
   */
  epilogue?: {
    prelude?: string; expr: string;
    /** The same epilogue as a SIMD map over the C block (simd/epilogue.ts), run by the wasm backend instead of `expr`. */
    simd?: SimdEpilogue;
  };
  /** Statements run once at the start of each call, for the operands' prologues (helpers they use). */
  prelude?: string;
  /**
   * Definitions that read nothing of a call (the JS prelude's helper functions): placed once per
   * compiled kernel, outside the call. In the call they were remade every time, a typed array
   * among them, which made a decode step's ~110 packed products a fifth garbage collection.
   */
  helpers?: string;
  dtype?: 'float32' | 'float64';
}

/** Which kernel a generated source uses ('auto' chooses; tests force each one). */
export type MatmulBackend = 'auto' | 'wasm' | 'js' | 'direct';

export interface MatmulSourceOptions {
  backend?: MatmulBackend;
  /** Use relaxed-SIMD fused multiply-add where the engine validates it (default true). */
  fma?: boolean;
}
