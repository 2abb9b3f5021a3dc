/**
 * The IDX format of (Fashion-)MNIST: a 4-byte magic (0, 0, element type, number of dims), one
 * big-endian uint32 per dim, then the elements. Files are untrusted input: every size is
 * checked against the bytes actually present before anything is indexed, gzip is detected by
 * its own magic (whatever the file is called), and decompression is capped so a small
 * "zip bomb" cannot exhaust memory.
 */
import { readFile, stat } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError } from './dataset.js';

const gunzipAsync = promisify(gunzip);

/** The element type byte of unsigned bytes, the only type MNIST-style files use. */
export const IDX_UBYTE = 0x08;
export const IDX_IMAGES_MAGIC = 2051; // ubyte, 3 dims: [n, rows, cols]
export const IDX_LABELS_MAGIC = 2049; // ubyte, 1 dim: [n]

/** Default cap on a file's (decompressed) size: Fashion-MNIST's largest file is 47 MB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export interface IdxArray {
  readonly dims: readonly number[];
  /** The elements, row-major; a view into the file's bytes. */
  readonly data: Uint8Array;
}

/**
 * Parses IDX bytes holding unsigned bytes, requiring `magic` (2051 images, 2049 labels).
 * `name` appears in every error so the user knows which file is wrong.
 */
export function parseIdx(bytes: Uint8Array, magic: number, name = 'IDX data'): IdxArray {
  const ndim = magic & 0xff;
  const expect = (m: number): string => `${m} (0x${m.toString(16).padStart(8, '0')}: ${m === IDX_IMAGES_MAGIC ? 'images, ubyte [n, rows, cols]' : m === IDX_LABELS_MAGIC ? 'labels, ubyte [n]' : `${m & 0xff} dims`})`;
  if (bytes.length < 4) throw new DataError(`${name}: only ${bytes.length} bytes; an IDX file starts with a 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const hint = found === IDX_IMAGES_MAGIC || found === IDX_LABELS_MAGIC ? ` (this looks like an ${found === IDX_IMAGES_MAGIC ? 'images' : 'labels'} file: are the image and label paths swapped?)` : '';
    throw new DataError(`${name}: bad magic number ${found} (0x${found.toString(16).padStart(8, '0')}), expected ${expect(magic)}${hint}`);
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new DataError(`${name}: truncated header: ${ndim} dims need ${header} bytes, the file has ${bytes.length}`);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    dims.push(view.getUint32(4 + 4 * d, false));
    count *= dims[d]!; // exact while it stays below 2^53; anything larger already exceeds any file
  }
  const body = bytes.length - header;
  if (count > body) {
    throw new DataError(`${name}: dims [${dims.join(', ')}] promise ${count} bytes of data but the file has ${body} after its ${header}-byte header (truncated, or the header lies)`);
  }
  if (count < body) {
    throw new DataError(`${name}: ${body - count} unexpected bytes after the ${count} that dims [${dims.join(', ')}] describe (not an IDX file of this kind, or concatenated files)`);
  }
  return { dims, data: bytes.subarray(header, header + count) };
}

/** Reads a file, gunzipping it when it starts with the gzip magic, within `maxBytes`. */
export async function readMaybeGzip(path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new DataError(`${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  if (size > maxBytes) throw new DataError(`${path}: ${size} bytes is over the ${maxBytes}-byte limit (raise maxBytes if the file is genuine)`);
  const raw = new Uint8Array(await readFile(path));
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    const out = await gunzipAsync(raw, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError ? `decompresses to more than the ${maxBytes}-byte limit` : `is not valid gzip (${err.message})`;
    throw new DataError(`${path}: ${why}`, { cause: e });
  }
}

/** Reads and parses one IDX file (plain or gzipped). */
export async function readIdx(path: string, magic: number, maxBytes = DEFAULT_MAX_BYTES): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(path, maxBytes), magic, path);
}
