/**
 * The binding-split pass (scheduler/binding-split.ts): a kernel that would bind more buffers than
 * the device allows is split, on any device; values stay the same.
 */
import { describe, expect, it } from 'vitest';
import * as born from '../src/index.js';
import { bindingsOf } from '../src/scheduler/binding-split.js';
import { plan, walk } from '../src/scheduler/schedule.js';

const parts = (n: number): born.Tensor[] => Array.from({ length: n }, (_, i) => born.tensor([[i, i + 0.5]]));

describe('kernels split to the binding limit', () => {
  it('cat of 20 tensors fits in kernels of at most 8 bindings', () => {
    const y = born.cat(parts(20), 0).mul(2);
    const unbounded = plan([y.node], walk([y.node]));
    expect(Math.max(...unbounded.steps.map((s) => bindingsOf(s.kernel)))).toBe(21);
    for (const limit of [8, 16]) {
      const p = plan([y.node], walk([y.node]), { maxBindings: limit });
      expect(p.steps.length).toBeGreaterThan(1);
      for (const s of p.steps) expect(bindingsOf(s.kernel)).toBeLessThanOrEqual(limit);
    }
  });

  it('a sum of many tensors splits as well', () => {
    const xs = parts(13);
    const y = xs.reduce((a, b) => a.add(b));
    const p = plan([y.node], walk([y.node]), { maxBindings: 4 });
    for (const s of p.steps) expect(bindingsOf(s.kernel)).toBeLessThanOrEqual(4);
  });

  it('on webgpu (16 bindings on the software adapter) the values are the CPU\'s', async () => {
    const cpu = born.cat(parts(20), 0).mul(2);
    const gpu = born.cat(parts(20).map((t) => t.to('webgpu')), 0).mul(2);
    expect(Array.from(await gpu.data())).toEqual(Array.from(await cpu.data()));
    expect(born.explain(born.cat(parts(20).map((t) => t.to('webgpu')), 0).mul(2)).kernels.length).toBeGreaterThan(1);
  });
});
