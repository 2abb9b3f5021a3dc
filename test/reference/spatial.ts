// The cases of test/fixtures/spatial.json (written by test/fixtures/gen_spatial.py from torch
// 1.13), shared by test/nn-spatial.test.ts and test/ops-movement-more.test.ts.
import { readFileSync } from 'node:fs';
import type { Arr } from './golden.js';
import type { ModuleGolden } from './module-case.js';

export interface FnCase {
  section: 'fn';
  name: string;
  fn: string;
  opts: Record<string, unknown>;
  inputs: Record<string, Arr>;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr> };
}
export interface ModuleCase extends ModuleGolden {
  section: 'module';
  name: string;
  kind: string;
  args: unknown[];
  opts: Record<string, unknown>;
}
interface Golden { torch: string; cases: (FnCase | ModuleCase)[] }

export const spatial = JSON.parse(readFileSync(new URL('../fixtures/spatial.json', import.meta.url), 'utf8')) as Golden;
export const fnCases = spatial.cases.filter((c): c is FnCase => c.section === 'fn');
export const moduleCases = spatial.cases.filter((c): c is ModuleCase => c.section === 'module');
