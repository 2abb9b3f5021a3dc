/**
 * The ONNX backend test models from Debian's libonnx-testdata, one `it` per model, through
 * born.onnx on the CPU (backend-webgpu.test.ts runs them on WebGPU). Models in skip-list.json
 * (with the reason each fails) are expected to fail: the file fails if one of them now passes
 * (remove it from the list: `npx vite-node test/onnx/update-skip-list.ts` regenerates it) or if a
 * model not on the list fails.
 */
import { describe, it } from 'vitest';
import { backendSuite, readSkipList } from './backend-suite.js';
import { DATA_ROOT, listCases } from './backend.js';

const cases = listCases();

if (!cases.length) {
  describe.skip(`ONNX backend tests: ${DATA_ROOT} is absent (apt-get install libonnx-testdata)`, () => { it('needs the data', () => {}); });
} else {
  backendSuite({
    title: 'ONNX backend tests (libonnx-testdata)', device: 'cpu', all: cases, cases, skip: readSkipList('./skip-list.json'),
    skipFile: 'skip-list.json', update: 'npx vite-node test/onnx/update-skip-list.ts',
  });
}
