/** Shapes that do not fit together: thrown where the op was recorded. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}
/** A dtype the op cannot take. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}
/**
 * An index outside its valid range (or negative) met by a kernel: gather, indexSelect, embedding,
 * crossEntropy targets, scatterAdd, indexAdd. Rejects the promises of the schedule that read it;
 * the engine stays usable.
 */
export class IndexError extends Error {
  override name = 'IndexError';
  /** The op, the offending value and the size of the indexed dim (valid: 0 to size - 1), when known. */
  readonly op?: string;
  readonly value?: number;
  readonly size?: number;
  constructor(message: string, details: { op?: string; value?: number; size?: number } = {}) {
    super(message);
    Object.assign(this, details);
  }
}
/** A device that is missing or failed. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

export const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
