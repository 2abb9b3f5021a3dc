// The Fashion-MNIST / IDX reader against a committed 64-example subset of the real files
// (test/fixtures/fashion-mnist, written by make_subset.mjs), and against malformed files.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import {
  DataError, DataLoader, DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, ensureFashionMnist, findFashionMnist,
  loadFashionMnist, parseIdx, readFashionMnist, readIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
} from '../src/data/index.js';

const FIX = fileURLToPath(new URL('./fixtures/fashion-mnist', import.meta.url)); // import.meta.dirname needs Node 20.11
const at = (name: string): string => join(FIX, name);
// From the full files via numpy (gzip.open + frombuffer): the first 16 labels of each split,
// the sum of image 0's bytes, and the sum of the 64 scaled images.
const TRAIN_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9];
const TEST_LABELS = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1];

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-fmnist-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, bytes: Uint8Array): string => { const p = join(tmp, name); writeFileSync(p, bytes); return p; };
const header = (magic: number, ...dims: number[]): Buffer => {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
};

describe('readFashionMnist on the committed subset', () => {
  test('plain train split: shape, [0, 1] scaling, labels and pixel values of the real data', async () => {
    const s = await readFashionMnist(at('train-images-idx3-ubyte'), at('train-labels-idx1-ubyte'));
    expect(s.n).toBe(64);
    expect(s.shape).toEqual([64, 1, 28, 28]);
    expect(s.images).toBeInstanceOf(Float32Array);
    expect(s.images.length).toBe(64 * 784);
    expect(Array.from(s.labels.subarray(0, 16))).toEqual(TRAIN_LABELS);
    expect(s.labels.every((l) => l >= 0 && l <= 9)).toBe(true);
    expect(Math.min(...s.images)).toBe(0);
    expect(Math.max(...s.images)).toBe(1);
    expect(s.images[14 * 28 + 14]).toBe(Math.fround(217 / 255));
    const img0 = s.images.subarray(0, 784).reduce((a, v) => a + Math.round(v * 255), 0);
    expect(img0).toBe(76247);
    expect(s.images.reduce((a, v) => a + v, 0)).toBeCloseTo(14448.7414, 2);
  });

  test('gzipped files decode to exactly the plain ones; the test split too', async () => {
    const plain = await readFashionMnist(at('t10k-images-idx3-ubyte'), at('t10k-labels-idx1-ubyte'));
    const gz = await readFashionMnist(at('t10k-images-idx3-ubyte.gz'), at('t10k-labels-idx1-ubyte.gz'));
    expect(gz.images).toEqual(plain.images);
    expect(gz.labels).toEqual(plain.labels);
    expect(Array.from(gz.labels.subarray(0, 16))).toEqual(TEST_LABELS);
    expect(gz.images[14 * 28 + 14]).toBe(Math.fround(110 / 255));
    expect(FASHION_MNIST_CLASSES[gz.labels[0]!]).toBe('Ankle boot');
  });

  test('a split feeds a DataLoader as [B, 1, 28, 28] float32 and [B] int32', async () => {
    const s = await readFashionMnist(at('train-images-idx3-ubyte.gz'), at('train-labels-idx1-ubyte.gz'));
    const loader = new DataLoader(s.dataset(), { batchSize: 16, shuffle: true, seed: 1 });
    let seen = 0;
    for await (const { x, y, indices } of loader) {
      expect(x.shape).toEqual([16, 1, 28, 28]);
      expect(y.shape).toEqual([16]);
      expect(Array.from(await y.data())).toEqual(Array.from(indices, (i) => s.labels[i]));
      const xd = await x.data();
      expect(xd.subarray(784, 1568)).toEqual(s.images.subarray(indices[1]! * 784, (indices[1]! + 1) * 784));
      seen += indices.length;
    }
    expect(seen).toBe(64);
  });
});

describe('malformed files are clear DataErrors, never out-of-bounds reads', () => {
  const images = readFileSync(at('train-images-idx3-ubyte'));
  const labels = readFileSync(at('train-labels-idx1-ubyte'));

  test('bad magic, including swapped image and label paths', async () => {
    const bad = Buffer.from(images); bad.writeUInt32BE(0x12345678, 0);
    await expect(readIdx(write('bad-magic', bad), IDX_IMAGES_MAGIC)).rejects.toThrow(/bad magic number 305419896 \(0x12345678\), expected 2051/);
    await expect(readFashionMnist(at('train-labels-idx1-ubyte'), at('train-images-idx3-ubyte'))).rejects.toThrow(/are the image and label paths swapped/);
  });

  test('truncated data, truncated header, too-short file', async () => {
    await expect(readIdx(write('trunc', images.subarray(0, 5000)), IDX_IMAGES_MAGIC)).rejects.toThrow(/dims \[64, 28, 28\] promise 50176 bytes of data but the file has 4984/);
    expect(() => parseIdx(images.subarray(0, 10), IDX_IMAGES_MAGIC, 'x')).toThrow(/truncated header: 3 dims need 16 bytes, the file has 10/);
    expect(() => parseIdx(new Uint8Array(2), IDX_LABELS_MAGIC, 'x')).toThrow(/only 2 bytes/);
    const gzTrunc = readFileSync(at('train-images-idx3-ubyte.gz')).subarray(0, 1000);
    await expect(readIdx(write('trunc.gz', gzTrunc), IDX_IMAGES_MAGIC)).rejects.toThrow(/is not valid gzip/);
  });

  test('dims that lie about the size, in either direction, and huge dims', () => {
    expect(() => parseIdx(Buffer.concat([header(IDX_LABELS_MAGIC, 65), labels.subarray(8)]), IDX_LABELS_MAGIC, 'x')).toThrow(/promise 65 bytes of data but the file has 64/);
    expect(() => parseIdx(Buffer.concat([header(IDX_LABELS_MAGIC, 63), labels.subarray(8)]), IDX_LABELS_MAGIC, 'x')).toThrow(/1 unexpected bytes after the 63/);
    expect(() => parseIdx(header(IDX_IMAGES_MAGIC, 0xffffffff, 0xffffffff, 0xffffffff), IDX_IMAGES_MAGIC, 'x')).toThrow(/promise .* bytes of data but the file has 0/);
    expect(parseIdx(header(IDX_IMAGES_MAGIC, 0, 28, 28), IDX_IMAGES_MAGIC).dims).toEqual([0, 28, 28]);
  });

  test('consistent files that are not Fashion-MNIST: wrong image size, count mismatch, labels > 9', async () => {
    const small = write('small', Buffer.concat([header(IDX_IMAGES_MAGIC, 2, 4, 4), Buffer.alloc(32)]));
    const two = write('two', Buffer.concat([header(IDX_LABELS_MAGIC, 2), Buffer.from([1, 2])]));
    await expect(readFashionMnist(small, two)).rejects.toThrow(/images are 4×4; Fashion-MNIST images are 28×28/);
    await expect(readFashionMnist(at('train-images-idx3-ubyte'), two)).rejects.toThrow(/2 labels for the 64 images/);
    const big = Buffer.from(labels); big[8 + 5] = 10;
    await expect(readFashionMnist(at('train-images-idx3-ubyte'), write('big', big))).rejects.toThrow(/label 10 at index 5 is not a class id 0..9/);
  });

  test('size limits: a file over maxBytes, and a gzip that inflates past it', async () => {
    await expect(readIdx(at('train-images-idx3-ubyte'), IDX_IMAGES_MAGIC, 1000)).rejects.toThrow(/50192 bytes is over the 1000-byte limit/);
    const bomb = write('bomb.gz', gzipSync(Buffer.concat([header(IDX_LABELS_MAGIC, 1 << 20), Buffer.alloc(1 << 20)])));
    await expect(readIdx(bomb, IDX_LABELS_MAGIC, 100_000)).rejects.toThrow(/decompresses to more than the 100000-byte limit/);
    await expect(readIdx(join(tmp, 'missing'), IDX_LABELS_MAGIC)).rejects.toThrow(DataError);
  });
});

describe('finding the files', () => {
  test('a directory with all four files is found; plain files win over .gz', () => {
    const f = findFashionMnist(FIX, { systemDirs: [] })!;
    expect(f.dir).toBe(FIX);
    expect(f.trainImages).toBe(at('train-images-idx3-ubyte'));
    expect(f.testLabels).toBe(at('t10k-labels-idx1-ubyte'));
  });

  test('gz-only directories work; incomplete ones are skipped for the next candidate', async () => {
    const gzDir = mkdtempSync(join(tmp, 'gz-'));
    for (const n of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(at(`${n}.gz`), join(gzDir, `${n}.gz`));
    const partial = mkdtempSync(join(tmp, 'partial-'));
    copyFileSync(at('train-images-idx3-ubyte'), join(partial, 'train-images-idx3-ubyte'));
    expect(findFashionMnist(partial, { systemDirs: [] })).toBeNull();
    const f = findFashionMnist(partial, { systemDirs: [gzDir] })!;
    expect(f.dir).toBe(gzDir);
    expect(f.trainLabels).toBe(join(gzDir, 'train-labels-idx1-ubyte.gz'));
    const { train, test: t } = await loadFashionMnist({ dir: gzDir, systemDirs: [] });
    expect([train.n, t.n]).toEqual([64, 64]);
  });

  test('missing files: ensureFashionMnist says where to put them and how to install', async () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const err = await ensureFashionMnist(empty, { systemDirs: [DEBIAN_FASHION_MNIST_DIR + '-nowhere'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(`Put train-images-idx3-ubyte[.gz]`);
    expect((err as Error).message).toContain(`in ${empty}`);
    expect((err as Error).message).toContain('apt-get install dataset-fashion-mnist');
    expect((err as Error).message).toContain('/usr/share/datasets/fashion-mnist');
    await expect(ensureFashionMnist(empty, { systemDirs: [], install: true, aptGet: join(tmp, 'no-apt-get') }))
      .rejects.toThrow(/Cannot install: .*no-apt-get was not found/);
    expect(await ensureFashionMnist(FIX, { systemDirs: [] })).toEqual(findFashionMnist(FIX, { systemDirs: [] }));
  });
});
