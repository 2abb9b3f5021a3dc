// In-place ops on the store node (fill_, zero_, add_, sub_, mul_, div_, clamp_): PyTorch's
// semantics (the target keeps its shape and dtype, only the operand broadcasts), storage
// semantics (views see the write, reads started before it see the old values), one kernel per
// update, and refusal where autodiff would silently miss the write.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

async function kernelCount(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const on = (): void => { n++; };
  born.engine.on('kernel', on);
  try { await fn(); } finally { born.engine.off('kernel', on); }
  return n;
}

describe('values as PyTorch', () => {
  test('fill_, zero_, add_ with alpha, sub_, mul_, div_, clamp_ (positional and options)', async () => {
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(await x.add_(born.tensor([10, 20, 30]), { alpha: 2 }).tolist()).toEqual([[21, 42, 63], [24, 45, 66]]);
    expect(await x.sub_(1).tolist()).toEqual([[20, 41, 62], [23, 44, 65]]);
    expect(await x.sub_(born.tensor([[1], [2]]), { alpha: 10 }).tolist()).toEqual([[10, 31, 52], [3, 24, 45]]);
    expect(await x.mul_(born.tensor([1, 0, -1])).tolist()).toEqual([[10, 0, -52], [3, 0, -45]]);
    expect(await x.div_(2).tolist()).toEqual([[5, 0, -26], [1.5, 0, -22.5]]);
    expect(await x.clamp_(-10, 2).tolist()).toEqual([[2, 0, -10], [1.5, 0, -10]]);
    expect(await x.clamp_({ min: 0 }).tolist()).toEqual([[2, 0, 0], [1.5, 0, 0]]);
    expect(await x.clamp_(null, 1).tolist()).toEqual([[1, 0, 0], [1, 0, 0]]);
    expect(await x.fill_(7).tolist()).toEqual([[7, 7, 7], [7, 7, 7]]);
    expect(await x.fill_(born.tensor(3)).tolist()).toEqual([[3, 3, 3], [3, 3, 3]]);
    expect(await x.zero_().tolist()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });

  test('the target keeps its dtype: integer targets take integer results, floats into ints are refused', async () => {
    const i = born.tensor(new Int32Array([1, 2, 3]));
    i.add_(2).mul_(born.tensor(new Int32Array([1, 2, 3])));
    expect(i.dtype).toBe('int32');
    expect(await i.tolist()).toEqual([3, 8, 15]);
    i.fill_(2.9); // fill_ casts, as PyTorch's
    expect(await i.tolist()).toEqual([2, 2, 2]);
    expect(() => i.div_(2)).toThrow(/div_: the result type float32 can't be cast to the target's dtype int32/);
    expect(() => i.add_(0.5)).toThrow(/add_: the result type float32 can't be cast to the target's dtype int32/);
    expect(() => i.add_(1, { alpha: 0.5 })).toThrow(/add_: a non-integer alpha 0.5 cannot be used with a int32 tensor/);
    const h = born.tensor([1, 2], { dtype: 'float64' });
    h.add_(born.tensor([0.5, 0.25])); // a float32 operand into a float64 target stays float64
    expect(h.dtype).toBe('float64');
    expect(await h.tolist()).toEqual([1.5, 2.25]);
    const f = born.tensor([1, 2]);
    f.add_(born.tensor(new Int32Array([1, 1]))); // an integer operand into a float target: fine
    expect(await f.tolist()).toEqual([2, 3]);
  });

  test('only the operand broadcasts: a result larger than the target is refused', () => {
    const x = born.zeros([3]);
    expect(() => x.add_(born.zeros([2, 3]))).toThrow(/add_: an operand of shape \[2, 3\] does not broadcast to the target's shape \[3\]/);
    expect(() => x.mul_(born.zeros([2]))).toThrow(/mul_: an operand of shape \[2\] does not broadcast/);
    expect(() => x.clamp_(born.zeros([2, 1]))).toThrow(/clamp_: an operand of shape \[2, 1\]/);
    expect(() => born.zeros([2, 3]).add_(born.zeros([2, 1]))).not.toThrow();
  });

  test('bad operands and options are TypeErrors naming the op', () => {
    const x = born.zeros([2]);
    // @ts-expect-error: not an operand
    expect(() => x.mul_('2')).toThrow(/mul_: expected a tensor, a number, a boolean or a nested array of numbers as operand, got string "2"/);
    // @ts-expect-error: not an operand
    expect(() => x.add_({})).toThrow(/add_: expected a tensor, a number, a boolean or a nested array of numbers as operand, got an Object/);
    // @ts-expect-error: alpha, not scale
    expect(() => x.add_(1, { scale: 2 })).toThrow(/add_: unknown option 'scale' \(valid options: alpha\)/);
    expect(() => x.clamp_()).toThrow(/clamp_: give at least one of min and max/);
    expect(() => x.fill_(born.zeros([2]))).toThrow(/fill_: the value must be a number or a 0-d tensor/);
  });
});

describe('storage semantics and ordering', () => {
  test('the buffer is written: the node stays, views sharing it see the new values', async () => {
    const x = born.tensor([1, 2, 3, 4, 5, 6]);
    const v = x.reshape([2, 3]);
    await v.data();
    const node = x.node, buf = x.node.realized;
    x.mul_(10);
    expect(x.node).toBe(node);
    expect(x.node.realized).toBe(buf);
    expect(await v.tolist()).toEqual([[10, 20, 30], [40, 50, 60]]);
  });

  test('a read started before the write sees the old values, one started after it the new', async () => {
    const x = born.tensor([1, 2, 3]);
    const before = x.data();
    x.add_(1);
    const after = x.data();
    x.mul_(2);
    const last = x.data();
    expect([...await before]).toEqual([1, 2, 3]);
    expect([...await after]).toEqual([2, 3, 4]);
    expect([...await last]).toEqual([4, 6, 8]);
  });

  test('a write waits for a schedule in flight that reads the old contents', async () => {
    const n = 1 << 20; // on the worker pool, so the reader is in flight
    const x = born.randn([n], { seed: 5 });
    const s0 = await x.sum().item();
    const r = x.mul(1).sum().data(); // not awaited
    x.add_(1);
    const s1 = (await x.sum().data())[0]!;
    expect((await r)[0]!).toBeCloseTo(s0, 0);
    expect(s1 - s0).toBeCloseTo(n, -1);
  });

  test('a lazy target is computed first, then written; other tensors computed from it keep their values', async () => {
    const a = born.tensor([1, 2]);
    const lazy = a.mul(3);
    const other = a.add(0);
    lazy.add_(1);
    expect(await lazy.tolist()).toEqual([4, 7]);
    expect(await a.tolist()).toEqual([1, 2]);
    expect(await other.tolist()).toEqual([1, 2]);
    const z = born.zerosLike(a); // a filled constant gets a buffer of its own
    z.add_(a);
    expect(await z.tolist()).toEqual([1, 2]);
  });

  test('an update of a realised tensor is one kernel storing into its buffer', async () => {
    const x = born.tensor(Float32Array.from({ length: 64 }, (_, i) => i));
    await x.data();
    expect(await kernelCount(async () => { x.mul_(2).clamp_(0, 50); await x.data(); })).toBeLessThanOrEqual(2);
    expect(await kernelCount(async () => { x.add_(born.scalar(0.5)); await x.data(); })).toBe(1);
    expect((await x.data())[63]).toBe(50.5);
  });
});

describe('autodiff', () => {
  test('a tensor that requires grad is refused outside noGrad, and updated inside it', async () => {
    const p = born.tensor([1, 2]).requiresGrad_();
    expect(() => p.add_(1)).toThrow(/add_: the tensor of shape \[2\] requires grad.*born.noGrad/);
    expect(() => p.zero_()).toThrow(/zero_: .*requires grad/);
    born.noGrad(() => p.sub_(born.tensor([0.5, 0.5]), { alpha: 2 }));
    expect(await p.tolist()).toEqual([0, 1]);
    expect(p.requiresGrad).toBe(true);
  });
  test('an operand that requires grad is refused outside noGrad (the gradient would be lost)', () => {
    const w = born.ones([2]).requiresGrad_();
    const acc = born.zeros([2]);
    expect(() => acc.add_(w)).toThrow(/add_: the operand requires grad/);
    born.noGrad(() => acc.add_(w));
  });
});
