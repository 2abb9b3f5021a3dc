/** born.data: datasets, the DataLoader, and the Fashion-MNIST reader. */
export { DataError, TensorDataset, Subset, permutation, randomSplit } from './dataset.js';
export type { Dataset, Example, ExampleDataset, Column, Columns, Row } from './dataset.js';
export { DataLoader } from './loader.js';
export type { DataLoaderOptions, Batch } from './loader.js';
export { parseIdx, readIdx, readMaybeGzip, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, DEFAULT_MAX_BYTES } from './idx.js';
export type { IdxArray } from './idx.js';
export {
  findFashionMnist, ensureFashionMnist, readFashionMnist, loadFashionMnist,
  DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_PACKAGE, FASHION_MNIST_CLASSES,
} from './fashion-mnist.js';
export type { FashionMnistFiles, FashionMnistSplit, FindOptions, EnsureOptions, LoadOptions } from './fashion-mnist.js';
