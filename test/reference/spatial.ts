// The cases of test/fixtures/spatial.json (written by test/fixtures/gen_spatial.py from torch
// 1.13), shared by test/nn-spatial.test.ts and test/ops-movement-more.test.ts.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { Tensor } from './check.js';
import { expectFnCase, f64, type Arr } from './golden.js';
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

const spatial = JSON.parse(readFileSync(new URL('../fixtures/spatial.json', import.meta.url), 'utf8')) as Golden;
const fnCases = spatial.cases.filter((c): c is FnCase => c.section === 'fn');
export const moduleCases = spatial.cases.filter((c): c is ModuleCase => c.section === 'module');

const TOL64 = { rtol: 1e-10, atol: 1e-12 };

/**
 * One test that the fixture holds a case of each function in `fns`, then one per case: `run`
 * computes its output from its float64 inputs, checked with its input gradients.
 */
export function testFnCases(fns: ReadonlySet<string>, what: string,
  run: (fn: string, ins: Record<string, Tensor>, opts: Record<string, never>) => Tensor): void {
  const cases = fnCases.filter((c) => fns.has(c.fn));
  test(`the fixture holds every ${what}`, () => {
    expect(new Set(cases.map((c) => c.fn))).toEqual(fns);
  });
  for (const c of cases) {
    test(c.name, async () => {
      const ins = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, f64(a)]));
      const y = run(c.fn, ins, c.opts as Record<string, never>);
      await expectFnCase(y, ins, c, TOL64);
    });
  }
}
