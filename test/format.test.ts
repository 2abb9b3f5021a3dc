// Printing: born.format / t.print() give PyTorch's str() of the tensor (test/fixtures/format.json,
// written by test/fixtures/gen_format.py from torch 1.13); console.log (util.inspect) shows the
// same values for a computed tensor, plus shape, dtype and device, and never computes a lazy one.
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as born from '../src/index.js';
import { pyExp, pyFixed } from '../src/tensor/format.js';

interface FormatCase {
  name: string;
  dtype: born.DType;
  shape: number[];
  values?: (number | string | boolean)[];
  formula?: [number, number, number, number];
  requiresGrad?: boolean;
  text: string;
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/format.json', import.meta.url), 'utf8')) as { cases: FormatCase[] };

const decode = (v: number | string | boolean): number | boolean =>
  typeof v === 'string' ? ({ nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 } as Record<string, number>)[v]! : v;

function build(c: FormatCase): born.Tensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const flat = c.formula
    ? Array.from({ length: n }, (_, i) => ((i * c.formula![0]) % c.formula![1] - c.formula![2]) * c.formula![3])
    : c.values!.map(decode);
  const t = c.dtype === 'bool'
    ? born.tensor(flat.map(Boolean), { dtype: 'bool', shape: c.shape })
    : born.tensor(flat as number[], { dtype: c.dtype, shape: c.shape });
  if (c.requiresGrad) (t as born.Tensor<'float32'>).requiresGrad_();
  return t;
}

describe('born.format matches PyTorch str()', () => {
  for (const c of golden.cases) {
    test(c.name, async () => {
      expect(await born.format(build(c))).toBe(c.text);
    });
  }
});

describe('console.log of a computed tensor', () => {
  for (const c of golden.cases) {
    test(c.name, async () => {
      const t = build(c);
      await t.data();
      const shown = inspect(t);
      // The values block is PyTorch's; the suffixes always name shape, dtype and device.
      const values = c.text.slice(0, c.text.lastIndexOf(']') + 1);
      expect(shown.startsWith(values)).toBe(true);
      expect(shown).toContain(`shape=[${c.shape.join(', ')}]`);
      expect(shown).toContain(`dtype=${c.dtype}`);
      expect(shown).toContain('device=cpu');
      expect(shown.endsWith(')')).toBe(true);
    });
  }

  test('a small computed tensor', async () => {
    const y = born.tensor([[1, 2.5], [3, 4]]).mul(2);
    await y.data();
    expect(inspect(y)).toBe('tensor([[2., 5.],\n        [6., 8.]], shape=[2, 2], dtype=float32, device=cpu)');
    expect(String(y)).toBe('Tensor(shape=[2, 2], dtype=float32, device=cpu)');
  });
});

describe('console.log of a lazy tensor', () => {
  test('shows shape and dtype and computes nothing', async () => {
    const x = born.tensor([1, 2, 3]);
    const y = x.add(1).mul(x);
    const before = born.engine.stats().schedules;
    const shown = inspect(y);
    expect(shown).toBe('Tensor(shape=[3], dtype=float32, device=cpu, not computed yet: await t.print() or t.data() computes it)');
    expect(inspect({ y })).toContain('not computed yet'); // nested in an object too
    expect(born.engine.stats().schedules).toBe(before);
    expect(y.node.realized).toBeNull();
    expect(Array.from(await y.data())).toEqual([2, 6, 12]);
  });

  test('a disposed tensor says so', () => {
    const x = born.tensor([1, 2]);
    x.dispose();
    expect(inspect(x)).toBe('Tensor(shape=[2], dtype=float32, device=cpu, disposed)');
  });
});

describe('t.print()', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  test('computes, logs and returns the text', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const t = born.arange(0, 4).reshape([2, 2]).mul(0.5);
    const s = await t.print();
    expect(s).toBe('tensor([[0.0000, 0.5000],\n        [1.0000, 1.5000]])');
    expect(log).toHaveBeenCalledWith(s);
  });
});

describe("Python's rounding", () => {
  test('exact ties round half to even, like str.format', () => {
    expect(pyFixed(0.03125, 4)).toBe('0.0312');
    expect(pyFixed(-0.03125, 4)).toBe('-0.0312');
    expect(pyFixed(0.09375, 4)).toBe('0.0938');
    expect(pyFixed(2.5, 0)).toBe('2');
    expect(pyFixed(-0, 4)).toBe('-0.0000');
    expect(pyExp(1.03125, 4)).toBe('1.0312e+00');
    expect(pyExp(12345, 4)).toBe('1.2345e+04');
    expect(pyExp(1e-200, 4)).toBe('1.0000e-200');
    expect(pyExp(NaN, 4)).toBe('nan');
  });
});
