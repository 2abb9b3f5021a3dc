/**
 * The files `born train` and `born eval` read and write, checked before any work: the data
 * directory given by --data (only that directory: a missing file must not quietly fall back to
 * another copy), the directory of --out, and what an existing --out holds (the model name born
 * train writes into the safetensors metadata), so that training one model does not overwrite
 * another's weights.
 */
import { open, stat } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { FASHION_MNIST_FILES, findFashionMnist, type FashionMnistFiles } from '../data/fashion-mnist.js';
import { MAX_HEADER_BYTES } from '../io/safetensors.js';
import { UsageError } from './flags.js';

const DATA_FILES = Object.values(FASHION_MNIST_FILES);

/** The four Fashion-MNIST files in `dir` and nowhere else; the error lists what it looked for. */
export function dataIn(command: string, dir: string): FashionMnistFiles {
  const found = findFashionMnist(dir, { systemDirs: [] });
  if (found) return found;
  const isDir = existsSync(dir) && statSync(dir).isDirectory();
  const missing = DATA_FILES.filter((f) => !existsSync(path.join(dir, f)) && !existsSync(path.join(dir, `${f}.gz`)));
  throw new UsageError(`born ${command}: --data ${dir}: ${isDir ? 'Fashion-MNIST is not there' : 'no such directory'}. ` +
    `Looked for ${DATA_FILES.map((f) => path.join(dir, `${f}[.gz]`)).join(', ')}` +
    (isDir && missing.length < DATA_FILES.length ? `; missing: ${missing.join(', ')}` : '') + '.');
}

/** Fails unless the directory that would hold `file` exists (before hours of training, not after). */
export async function checkWritableDir(command: string, flag: string, file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const s = await stat(dir).catch(() => null);
  if (!s) throw new UsageError(`born ${command}: --${flag} ${file}: the directory ${path.dirname(file)} does not exist (create it first)`);
  if (!s.isDirectory()) throw new UsageError(`born ${command}: --${flag} ${file}: ${path.dirname(file)} is not a directory`);
  const f = await stat(file).catch(() => null);
  if (f && !f.isFile()) throw new UsageError(`born ${command}: --${flag} ${file}: exists and is not a regular file`);
}

/**
 * The `__metadata__` of a safetensors file, read from its header alone; null when the file is not
 * a safetensors file.
 */
export async function readMetadata(file: string): Promise<Record<string, string> | null> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 8) return null;
    const prefix = Buffer.alloc(8);
    await fh.read(prefix, 0, 8, 0);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(Math.min(size - 8, MAX_HEADER_BYTES))) return null;
    const json = Buffer.alloc(Number(n));
    await fh.read(json, 0, json.length, 8);
    const header = JSON.parse(json.toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null) return null;
    const meta = (header as Record<string, unknown>).__metadata__;
    return typeof meta === 'object' && meta !== null ? meta as Record<string, string> : {};
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * born train's --out: may it be written? A new file, or one holding weights of the same model,
 * yes; a file of another model, or one that born train did not write, only with --force.
 */
export async function checkOut(file: string, model: string, force: boolean, flag = 'out'): Promise<void> {
  await checkWritableDir('train', flag, file);
  if (force || !existsSync(file)) return;
  const meta = await readMetadata(file);
  const held = meta?.model;
  if (held === model) return; // retraining the same model replaces its weights, as intended
  const what = meta === null ? 'is not a safetensors file'
    : held === undefined ? 'is not a born model file (no model name in its safetensors metadata)'
    : `holds the weights of model '${held}'`;
  throw new UsageError(`born train: --${flag} ${file} ${what}; training '${model}' would overwrite it. ` +
    `Pass another --out FILE, or --force to overwrite it.`);
}

/** Fails unless `file` exists (a file to read: --weights, --resume). */
export async function checkReadable(command: string, flag: string, file: string): Promise<void> {
  const s = await stat(file).catch(() => null);
  if (!s) throw new UsageError(`born ${command}: --${flag} ${file}: no such file`);
  if (!s.isFile()) throw new UsageError(`born ${command}: --${flag} ${file}: not a regular file`);
}
