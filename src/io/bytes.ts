/** Byte order of the files Born reads and writes (little-endian) against this machine's. */
export const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Reverses each `size`-byte element of `bytes` in place (a big-endian machine, a '>' .npy). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}
