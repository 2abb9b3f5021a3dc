/**
 * The backend-test suite for one device, shared by backend.test.ts (CPU) and
 * backend-webgpu.test.ts: one `it` per model; a model on the skip list (with the reason it fails)
 * is expected to fail, and the file fails if one of them now passes (regenerate the list with
 * update-skip-list.ts) or if a model not on the list fails.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceName } from '../../src/index.js';
import { runCase, type Case } from './backend.js';

export const readSkipList = (file: string): Record<string, string> =>
  JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as Record<string, string>;

export interface SuiteOptions {
  readonly title: string;
  readonly device: DeviceName;
  /** Every model of the data, for the check that the skip list names only models that exist. */
  readonly all: readonly Case[];
  /** The models this run tries. */
  readonly cases: readonly Case[];
  /** Expected failures: model → reason. */
  readonly skip: Record<string, string>;
  /** The skip list's file name (in test/onnx/), for the messages. */
  readonly skipFile: string;
  /** The command that regenerates the skip list. */
  readonly update: string;
  /** Per model, in ms (vitest's default otherwise). */
  readonly timeout?: number;
}

export function backendSuite(o: SuiteOptions): void {
  describe(o.title, () => {
    let passed = 0;
    afterAll(() => {
      const onList = o.cases.filter((c) => o.skip[c.name] !== undefined).length;
      console.log(`onnx backend on ${o.device}: ${passed}/${o.cases.length} pass (${(100 * passed / Math.max(1, o.cases.length)).toFixed(1)}%), ${onList} of them on the skip list`);
    });
    for (const c of o.cases) {
      const why = o.skip[c.name];
      it(why === undefined ? c.name : `${c.name} (skipped: ${why})`, async () => {
        let error: unknown = null;
        try { await runCase(c, o.device); } catch (e) { error = e; }
        if (!error) passed++;
        if (why === undefined) {
          if (error) throw error;
        } else {
          expect(error, `${c.name} now passes on ${o.device}: remove it from test/onnx/${o.skipFile} (${o.update})`).not.toBeNull();
        }
      }, o.timeout);
    }
    it('the skip list names only models that exist', () => {
      const names = new Set(o.all.map((c) => c.name));
      expect(Object.keys(o.skip).filter((k) => !names.has(k))).toEqual([]);
    });
  });
}
