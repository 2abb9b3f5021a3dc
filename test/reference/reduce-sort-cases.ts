// The PyTorch golden cases of test/fixtures/reduce_sort.json (written by
// test/fixtures/gen_reduce_sort.py), shared by test/ops-sort-scan.test.ts and
// test/ops-contract.test.ts: decoding (NaN is null, infinities are strings), building Born
// inputs, and checking outputs and gradients of sum(out * r).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import type { Tensor } from './check.js';

export interface CaseArr { shape: number[]; dtype: string; data: (number | string | null)[] }
export interface GoldenCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: Record<string, CaseArr>;
  out: CaseArr[];
  r?: CaseArr;
  grads?: Record<string, CaseArr>;
}

const goldenCases: GoldenCase[] = JSON.parse(readFileSync(new URL('../fixtures/reduce_sort.json', import.meta.url), 'utf8')).cases;

const decode = (v: number | string | null): number => (v === null ? NaN : typeof v === 'string' ? Number(v) : v);

/** A Born tensor of a fixture array: float64 stays float64, int64 indices become int32. */
function fromCase(a: CaseArr): Tensor {
  const data = a.data.map(decode);
  switch (a.dtype) {
    case 'float64': return born.tensor(new Float64Array(data), { shape: a.shape });
    case 'bool': return born.tensor(new Uint8Array(data), { shape: a.shape, dtype: 'bool' });
    default: return born.tensor(new Int32Array(data), { shape: a.shape });
  }
}

/** Shape and values within atol + rtol·|want|, NaN where PyTorch has NaN, infinities exactly. */
async function expectCase(t: Tensor, want: CaseArr, label: string, tol = { rtol: 1e-10, atol: 1e-12 }): Promise<void> {
  expect([...t.shape], `${label}: shape`).toEqual(want.shape);
  const got = await t.data();
  const bad: string[] = [];
  want.data.map(decode).forEach((w, i) => {
    const g = Number(got[i]);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w);
    if (!ok && bad.length < 6) bad.push(`[${i}] got ${g}, want ${w}`);
  });
  expect(bad, `${label}: values`).toEqual([]);
}

/** Runs a case: `run` maps the Born inputs to the outputs (in the fixture's order). */
async function checkCase(c: GoldenCase, run: (inputs: Record<string, Tensor>) => Tensor[]): Promise<void> {
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromCase(v)]));
  // Kept differentiable: the outputs are read before their gradients are taken.
  for (const k of Object.keys(c.grads ?? {})) inputs[k]!.requiresGrad_();
  const outs = run(inputs);
  expect(outs.length, `${c.name}: number of outputs`).toBe(c.out.length);
  for (let i = 0; i < outs.length; i++) await expectCase(outs[i]!, c.out[i]!, `${c.name}: output ${i}`);
  if (!c.grads || !c.r) return;
  const names = Object.keys(c.grads);
  const loss = outs[0]!.mul(fromCase(c.r)).sum();
  const grads = born.grad(loss, names.map((k) => inputs[k]!), { allowUnused: true });
  for (let i = 0; i < names.length; i++) await expectCase(grads[i]!, c.grads[names[i]!]!, `${c.name}: gradient of ${names[i]}`);
}

/** How a test runs one op of the fixture: its inputs by name and the case's args, to its outputs. */
export type CaseRun = (inputs: Record<string, Tensor>, args: Record<string, unknown>) => Tensor[];

/** One test per fixture case of the ops in `runs`, and one that the fixture covers each of them. */
export function describeGoldenCases(runs: Record<string, CaseRun>): void {
  describe('PyTorch golden values and gradients', () => {
    const mine = goldenCases.filter((c) => c.op in runs);
    test('the fixture covers every op here', () => {
      expect(new Set(mine.map((c) => c.op))).toEqual(new Set(Object.keys(runs)));
    });
    test.each(mine.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      await checkCase(c, (x) => runs[c.op]!(x, c.args));
    });
  });
}
