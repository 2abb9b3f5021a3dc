/**
 * The ONNX backend test models from Debian's libonnx-testdata, one `it` per model, through
 * born.onnx on the CPU. Models in skip-list.json (with the reason each fails) are expected to
 * fail: the file fails if one of them now passes (remove it from the list: `npx vite-node
 * test/onnx/update-skip-list.ts` regenerates it) or if a model not on the list fails.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_ROOT, listCases, runCase } from './backend.js';

const skip = JSON.parse(readFileSync(new URL('./skip-list.json', import.meta.url), 'utf8')) as Record<string, string>;
const cases = listCases();

if (!cases.length) {
  describe.skip(`ONNX backend tests: ${DATA_ROOT} is absent (apt-get install libonnx-testdata)`, () => { it('needs the data', () => {}); });
} else {
  describe('ONNX backend tests (libonnx-testdata)', () => {
    let passed = 0;
    afterAll(() => {
      console.log(`onnx backend: ${passed}/${cases.length} pass (${(100 * passed / cases.length).toFixed(1)}%), ${Object.keys(skip).length} on the skip list`);
    });
    for (const c of cases) {
      const why = skip[c.name];
      it(why === undefined ? c.name : `${c.name} (skipped: ${why})`, async () => {
        let error: unknown = null;
        try { await runCase(c); } catch (e) { error = e; }
        if (!error) passed++;
        if (why === undefined) {
          if (error) throw error;
        } else {
          expect(error, `${c.name} now passes: remove it from test/onnx/skip-list.json`).not.toBeNull();
        }
      });
    }
    it('the skip list names only models that exist', () => {
      const names = new Set(cases.map((c) => c.name));
      expect(Object.keys(skip).filter((k) => !names.has(k))).toEqual([]);
    });
  });
}
