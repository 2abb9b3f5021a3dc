/** Shapes that do not fit together: thrown where the op was recorded. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}
/** A dtype the op cannot take. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}
/** A device that is missing or failed. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

export const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
