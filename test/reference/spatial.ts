// The cases of test/fixtures/spatial.json (written by test/fixtures/gen_spatial.py from torch
// 1.13), shared by test/nn-spatial.test.ts and test/ops-movement-more.test.ts.
import { readFileSync } from 'node:fs';
import * as born from '../../src/index.js';
import type { Tensor } from './check.js';
import type { Arr } from './golden.js';

export interface FnCase {
  section: 'fn';
  name: string;
  fn: string;
  opts: Record<string, unknown>;
  inputs: Record<string, Arr>;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr> };
}
export interface ModuleCase {
  section: 'module';
  name: string;
  kind: string;
  args: unknown[];
  opts: Record<string, unknown>;
  mode: 'train' | 'eval';
  state: Record<string, Arr>;
  keys: string[];
  before: Arr[];
  input: Arr;
  r: Arr;
  expected: { out: Arr; grads: Record<string, Arr>; buffers?: Record<string, Arr | number> };
}
interface Golden { torch: string; cases: (FnCase | ModuleCase)[] }

export const spatial = JSON.parse(readFileSync(new URL('../fixtures/spatial.json', import.meta.url), 'utf8')) as Golden;
export const fnCases = spatial.cases.filter((c): c is FnCase => c.section === 'fn');
export const moduleCases = spatial.cases.filter((c): c is ModuleCase => c.section === 'module');

export const f32 = (a: Arr): Tensor => born.tensor(Float32Array.from(a.data), { shape: a.shape });
export const f64 = (a: Arr): Tensor => born.tensor(Float64Array.from(a.data), { shape: a.shape, dtype: 'float64' });
export const i32 = (a: Arr): Tensor => born.tensor(Int32Array.from(a.data), { shape: a.shape, dtype: 'int32' });
