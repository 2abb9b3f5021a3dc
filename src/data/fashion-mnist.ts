/**
 * Fashion-MNIST: 28×28 grey images of 10 kinds of clothing, 60,000 train and 10,000 test,
 * as the four IDX files Zalando publishes. Debian ships them (package
 * `dataset-fashion-mnist`) gzipped in /usr/share/datasets/fashion-mnist/.
 *
 *   const { train, test } = await loadFashionMnist({ dir: 'data/' });
 *   const loader = new DataLoader(train.dataset(), { batchSize: 64, shuffle: true });
 */
import { existsSync, statSync } from 'node:fs';
import { join, delimiter } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DataError, TensorDataset } from './dataset.js';
import { DEFAULT_MAX_BYTES, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package installs the (gzipped) files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

/** Class names, indexed by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

/** The four IDX file names (each may also be gzipped, with `.gz`). */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Paths of the four files, each plain or `.gz`, all from one directory. */
export interface FashionMnistFiles {
  readonly dir: string;
  readonly trainImages: string;
  readonly trainLabels: string;
  readonly testImages: string;
  readonly testLabels: string;
}

export interface FashionMnistSplit {
  /** Pixels scaled to [0, 1], shape [n, 1, 28, 28] row-major. */
  readonly images: Float32Array;
  /** Class ids 0..9, shape [n]. */
  readonly labels: Int32Array;
  readonly n: number;
  readonly shape: readonly [number, 1, 28, 28];
  /** The split as a TensorDataset (views of the same arrays). */
  dataset(): TensorDataset;
}

export interface FindOptions {
  /** Directories searched after `dir`; default [DEBIAN_FASHION_MNIST_DIR]. */
  systemDirs?: readonly string[];
}

const isFile = (p: string): boolean => {
  try { return statSync(p).isFile(); } catch { return false; }
};

/**
 * Looks for the four files in `dir`, then in Debian's install directory. A plain file wins
 * over its `.gz` (no inflate needed). Files are never mixed across directories, so a
 * half-copied directory does not pair with another one's labels. Returns null when none has all four.
 */
export function findFashionMnist(dir?: string, opts: FindOptions = {}): FashionMnistFiles | null {
  const dirs = [...(dir === undefined ? [] : [dir]), ...(opts.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR])];
  for (const d of dirs) {
    const found: Partial<Record<keyof typeof FASHION_MNIST_FILES, string>> = {};
    for (const [key, name] of Object.entries(FASHION_MNIST_FILES) as [keyof typeof FASHION_MNIST_FILES, string][]) {
      const path = [join(d, name), join(d, `${name}.gz`)].find(isFile);
      if (path) found[key] = path;
    }
    if (found.trainImages && found.trainLabels && found.testImages && found.testLabels) {
      return { dir: d, trainImages: found.trainImages, trainLabels: found.trainLabels, testImages: found.testImages, testLabels: found.testLabels };
    }
  }
  return null;
}

export interface EnsureOptions extends FindOptions {
  /** Run `apt-get install -y dataset-fashion-mnist` when the files are missing (needs root). */
  install?: boolean;
  /** The apt-get to run (default: apt-get on PATH). */
  aptGet?: string;
}

function onPath(cmd: string): string | null {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : null;
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && isFile(join(d, cmd))) return join(d, cmd);
  return null;
}

/**
 * Like findFashionMnist, but never returns null: with `install: true` it installs Debian's
 * package when missing (as root, with apt-get), otherwise it throws an error saying where to put the files.
 */
export async function ensureFashionMnist(dir?: string, opts: EnsureOptions = {}): Promise<FashionMnistFiles> {
  const found = findFashionMnist(dir, opts);
  if (found) return found;
  const searched = [...(dir === undefined ? [] : [dir]), ...(opts.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR])];
  const names = Object.values(FASHION_MNIST_FILES).map((n) => `${n}[.gz]`).join(', ');
  const where = `Fashion-MNIST not found (looked in ${searched.join(', ') || 'no directories'}). ` +
    `Put ${names} in ${dir ?? 'a directory and pass it'}, or install Debian's package: sudo apt-get install ${FASHION_MNIST_PACKAGE} ` +
    `(files go to ${DEBIAN_FASHION_MNIST_DIR})`;
  if (!opts.install) throw new DataError(`${where}, or pass { install: true } when running as root.`);
  const aptGet = onPath(opts.aptGet ?? 'apt-get');
  if (!aptGet) throw new DataError(`${where}. Cannot install: ${opts.aptGet ?? 'apt-get'} was not found (not a Debian-based system?).`);
  if (process.getuid?.() !== 0) throw new DataError(`${where}. Cannot install: apt-get needs root and this process is uid ${process.getuid?.() ?? '?'}.`);
  try {
    await promisify(execFile)(aptGet, ['install', '-y', FASHION_MNIST_PACKAGE], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new DataError(`${where}. ${aptGet} install -y ${FASHION_MNIST_PACKAGE} failed: ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' ')}`, { cause: e });
  }
  const after = findFashionMnist(dir, opts);
  if (!after) throw new DataError(`${where}. apt-get installed ${FASHION_MNIST_PACKAGE} but the files are still not there.`);
  return after;
}

/** Reads one split from an images file and a labels file (each plain or gzipped), checking they agree. */
export async function readFashionMnist(imagesPath: string, labelsPath: string, opts: { maxBytes?: number } = {}): Promise<FashionMnistSplit> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const [img, lab] = await Promise.all([readIdx(imagesPath, IDX_IMAGES_MAGIC, max), readIdx(labelsPath, IDX_LABELS_MAGIC, max)]);
  const [n, rows, cols] = img.dims as [number, number, number];
  if (rows !== 28 || cols !== 28) throw new DataError(`${imagesPath}: images are ${rows}×${cols}; Fashion-MNIST images are 28×28`);
  if (lab.dims[0] !== n) throw new DataError(`${labelsPath}: ${lab.dims[0]} labels for the ${n} images in ${imagesPath}; they must match`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lab.data[i]!;
    if (v > 9) throw new DataError(`${labelsPath}: label ${v} at index ${i} is not a class id 0..9`);
    labels[i] = v;
  }
  const images = new Float32Array(img.data.length);
  // Division (not multiplication by 1/255) matches torchvision's ToTensor bit for bit.
  for (let i = 0; i < images.length; i++) images[i] = img.data[i]! / 255;
  const shape = [n, 1, 28, 28] as const;
  return { images, labels, n, shape, dataset: () => new TensorDataset({ data: images, shape }, labels) };
}

export interface LoadOptions extends EnsureOptions {
  /** Directory to look in before Debian's. */
  dir?: string;
  maxBytes?: number;
}

/** Finds (or with `install: true` installs) and reads both splits. */
export async function loadFashionMnist(opts: LoadOptions = {}): Promise<{ train: FashionMnistSplit; test: FashionMnistSplit; files: FashionMnistFiles }> {
  return readFashionMnistFiles(await ensureFashionMnist(opts.dir, opts), opts);
}

/** Reads both splits from files already found (findFashionMnist). */
export async function readFashionMnistFiles(files: FashionMnistFiles, opts: { maxBytes?: number } = {}): Promise<{ train: FashionMnistSplit; test: FashionMnistSplit; files: FashionMnistFiles }> {
  const [train, test] = await Promise.all([
    readFashionMnist(files.trainImages, files.trainLabels, opts),
    readFashionMnist(files.testImages, files.testLabels, opts),
  ]);
  return { train, test, files };
}
