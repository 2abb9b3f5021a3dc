// Bad input fails when the op is recorded — synchronously, in the caller's
// stack — with an error class, the op's name and the shapes/dtypes involved.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';

type Tensor = ReturnType<typeof born.tensor>;
type ErrorClass = typeof born.ShapeError | typeof born.DTypeError | ErrorConstructor;

const z = (...shape: number[]): Tensor => born.zeros(shape);
const zi = (...shape: number[]): Tensor => born.zeros(shape, { dtype: 'int32' });

/** Escapes a shape like [2, 3] for a RegExp. */
const shapeRe = (s: readonly number[]): RegExp => new RegExp(`\\[${s.join(', ')}\\]`);

/**
 * Runs `fn`, which must throw synchronously an instance of `cls` whose
 * message matches every pattern.
 */
function expectThrows(fn: () => unknown, cls: ErrorClass, ...patterns: (RegExp | readonly number[])[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a synchronous throw').toBeDefined();
  expect(caught).toBeInstanceOf(Error);
  expect(caught).toBeInstanceOf(cls);
  const msg = (caught as Error).message;
  for (const p of patterns) expect(msg).toMatch(p instanceof RegExp ? p : shapeRe(p));
  return caught as Error;
}

describe('error classes', () => {
  test('ShapeError and DTypeError are exported and extend Error', () => {
    expect(new born.ShapeError('x')).toBeInstanceOf(Error);
    expect(new born.DTypeError('x')).toBeInstanceOf(Error);
    expect(new born.ShapeError('x').message).toBe('x');
  });
});

describe('broadcasting errors name the op and both shapes', () => {
  test.each([
    ['add', (a: Tensor, b: Tensor) => a.add(b)],
    ['sub', (a: Tensor, b: Tensor) => a.sub(b)],
    ['mul', (a: Tensor, b: Tensor) => a.mul(b)],
    ['div', (a: Tensor, b: Tensor) => a.div(b)],
    ['pow', (a: Tensor, b: Tensor) => a.pow(b)],
    ['maximum', (a: Tensor, b: Tensor) => a.maximum(b)],
    ['minimum', (a: Tensor, b: Tensor) => a.minimum(b)],
    ['eq', (a: Tensor, b: Tensor) => a.eq(b)],
    ['lt', (a: Tensor, b: Tensor) => a.lt(b)],
    ['gt', (a: Tensor, b: Tensor) => a.gt(b)],
  ] as const)('%s [2, 3] with [4, 5]', (name, op) => {
    expectThrows(() => op(z(2, 3), z(4, 5)), born.ShapeError, new RegExp(name), [2, 3], [4, 5]);
  });

  test('trailing-dim mismatch deep in a higher-rank shape', () => {
    expectThrows(() => z(2, 1, 3).add(z(4, 2)), born.ShapeError, /add/, [2, 1, 3], [4, 2]);
  });

  test('where', () => {
    const c = born.zeros([2, 3], { dtype: 'bool' });
    expectThrows(() => born.where(c, z(4, 3), 0), born.ShapeError, /where/, [2, 3], [4, 3]);
  });

  test('a bad op after valid ones still fails at its own call', () => {
    const a = z(2, 3).exp().mul(2);
    expectThrows(() => a.add(z(3, 2)), born.ShapeError, /add/, [2, 3], [3, 2]);
  });
});

describe('errors are thrown at the call that records the op, in the caller\'s stack', () => {
  test('synchronously, before any data() call', () => {
    const a = z(2, 3);
    const b = z(4, 5);
    expect(() => a.add(b)).toThrow(born.ShapeError);
  });

  test('the stack trace includes this test file', () => {
    const err = expectThrows(() => z(2, 3).matmul(z(4, 5)), born.ShapeError, /matmul/);
    expect(err.stack ?? '').toMatch(/errors\.test\.ts/);
  });

  test('the engine stays usable after an error', async () => {
    expect(() => z(2).add(z(3))).toThrow();
    const ok = born.tensor([1, 2]).add(born.tensor([3, 4]));
    expect(Array.from(await ok.data())).toEqual([4, 6]);
  });
});

describe('matmul', () => {
  test('inner dims differ', () => {
    expectThrows(() => z(2, 3).matmul(z(4, 5)), born.ShapeError, /matmul/, [2, 3], [4, 5]);
  });
  test('vector lengths differ', () => {
    expectThrows(() => z(3).matmul(z(4)), born.ShapeError, /matmul/, [3], [4]);
  });
  test('batch dims do not broadcast', () => {
    expectThrows(() => z(2, 3, 4).matmul(z(3, 4, 5)), born.ShapeError, /matmul/, [2, 3, 4], [3, 4, 5]);
  });
  test('0-d operand', () => {
    const s = born.tensor(new Float32Array([1]), { shape: [] });
    expectThrows(() => s.matmul(z(3)), born.ShapeError, /matmul/);
  });
});

describe('movement ops', () => {
  test('reshape to a different number of elements', () => {
    expectThrows(() => z(2, 3).reshape([4]), born.ShapeError, /reshape/, [2, 3], [4]);
  });
  test('reshape with two -1', () => {
    expectThrows(() => z(2, 3).reshape([-1, -1]), born.ShapeError, /reshape/, [2, 3]);
  });
  test('reshape with -1 that does not divide', () => {
    expectThrows(() => z(2, 3).reshape([4, -1]), born.ShapeError, /reshape/, [2, 3]);
  });
  test('view to a different number of elements', () => {
    expectThrows(() => z(2, 3).view([5]), born.ShapeError, /view|reshape/, [2, 3]);
  });
  test('permute with too few dims', () => {
    expectThrows(() => z(2, 3, 4).permute([0, 1]), born.ShapeError, /permute/, [2, 3, 4]);
  });
  test('permute with a repeated dim', () => {
    expectThrows(() => z(2, 3, 4).permute([0, 0, 1]), born.ShapeError, /permute/, [2, 3, 4]);
  });
  test('transpose out of range', () => {
    expectThrows(() => z(2, 3).transpose(0, 2), born.ShapeError, /transpose/, [2, 3]);
  });
  test('expand a non-1 dim', () => {
    expectThrows(() => z(3, 2).expand([3, 4]), born.ShapeError, /expand/, [3, 2], [3, 4]);
  });
  test('expand to fewer dims', () => {
    expectThrows(() => z(2, 3).expand([3]), born.ShapeError, /expand/, [2, 3]);
  });
  test('slice dim out of range', () => {
    expectThrows(() => z(2, 3).slice(2, 0, 1), born.ShapeError, /slice/, [2, 3]);
  });
  test('slice with a zero or negative step', () => {
    expectThrows(() => z(5).slice(0, 0, 5, 0), born.ShapeError, /slice/);
    expectThrows(() => z(5).slice(0, 0, 5, -1), born.ShapeError, /slice/);
  });
  test('narrow past the end', () => {
    expectThrows(() => z(3, 4).narrow(1, 2, 5), born.ShapeError, /narrow/, [3, 4]);
  });
  test('pad with an odd number of values', () => {
    expectThrows(() => z(2, 3).pad([1, 2, 3]), born.ShapeError, /pad/, [2, 3]);
  });
  test('pad more dims than the tensor has', () => {
    expectThrows(() => z(3).pad([1, 1, 1, 1]), born.ShapeError, /pad/, [3]);
  });
  test('flip out of range', () => {
    expectThrows(() => z(2, 3).flip([2]), born.ShapeError, /flip/, [2, 3]);
  });
  test('squeeze / unsqueeze out of range', () => {
    expectThrows(() => z(2, 3).squeeze(3), born.ShapeError, /squeeze/, [2, 3]);
    expectThrows(() => z(2, 3).unsqueeze(4), born.ShapeError, /unsqueeze/);
  });
  test('flatten with start after end', () => {
    expectThrows(() => z(2, 3, 4).flatten(2, 1), born.ShapeError, /flatten/, [2, 3, 4]);
  });
});

describe('cat / stack / split / chunk', () => {
  test('cat with mismatched non-cat dims', () => {
    expectThrows(() => born.cat([z(2, 3), z(2, 4)], { dim: 0 }), born.ShapeError, /cat/, [2, 3], [2, 4]);
  });
  test('cat with different ranks', () => {
    expectThrows(() => born.cat([z(2, 3), z(3)], { dim: 0 }), born.ShapeError, /cat/, [2, 3], [3]);
  });
  test('cat dim out of range', () => {
    expectThrows(() => born.cat([z(2, 3), z(2, 3)], { dim: 2 }), born.ShapeError, /cat/);
  });
  test('cat of nothing', () => {
    expectThrows(() => born.cat([], { dim: 0 }), Error, /cat/);
  });
  test('stack of different shapes', () => {
    expectThrows(() => born.stack([z(2, 3), z(3, 2)]), born.ShapeError, /stack/, [2, 3], [3, 2]);
  });
  test('split sections that do not sum to the dim', () => {
    expectThrows(() => z(5, 2).split([2, 2], { dim: 0 }), born.ShapeError, /split/, [5, 2]);
  });
  test('chunk into zero pieces', () => {
    expectThrows(() => z(4).chunk(0), Error, /chunk/);
  });
});

describe('reductions', () => {
  test('dim out of range', () => {
    expectThrows(() => z(2, 3).sum({ dim: 2 }), born.ShapeError, /sum/, [2, 3]);
    expectThrows(() => z(2, 3).mean({ dim: -3 }), born.ShapeError, /mean/, [2, 3]);
    expectThrows(() => z(2, 3).max({ dim: 5 }), born.ShapeError, /max/, [2, 3]);
    expectThrows(() => z(2, 3).argmax({ dim: 2 }), born.ShapeError, /argmax/, [2, 3]);
    expectThrows(() => z(2, 3).softmax({ dim: 2 }), born.ShapeError, /softmax/, [2, 3]);
    expectThrows(() => z(2, 3).logsumexp({ dim: 3 }), born.ShapeError, /logsumexp/, [2, 3]);
  });
  test('a repeated dim', () => {
    expectThrows(() => z(2, 3).sum({ dim: [1, -1] }), born.ShapeError, /sum/);
  });
  test('mean / var / std / softmax of int32 are dtype errors (as torch)', () => {
    expectThrows(() => zi(2, 3).mean(), born.DTypeError, /mean/, /int32/);
    expectThrows(() => zi(2, 3).var(), born.DTypeError, /var/, /int32/);
    expectThrows(() => zi(2, 3).std(), born.DTypeError, /std|var/, /int32/);
  });
});

describe('gather / indexSelect / oneHot / where dtypes and shapes', () => {
  test('gather with a float index', () => {
    expectThrows(() => z(3, 4).gather(1, z(3, 2)), born.DTypeError, /gather/, /float32/);
  });
  test('gather with an index of another rank', () => {
    expectThrows(() => z(3, 4).gather(1, zi(3)), born.ShapeError, /gather/, [3, 4], [3]);
  });
  test('gather index larger than the input on another dim', () => {
    expectThrows(() => z(3, 4).gather(1, zi(5, 2)), born.ShapeError, /gather/, [3, 4], [5, 2]);
  });
  test('gather dim out of range', () => {
    expectThrows(() => z(3, 4).gather(2, zi(3, 4)), born.ShapeError, /gather/, [3, 4]);
  });
  test('indexSelect with a float index', () => {
    expectThrows(() => z(3, 4).indexSelect(0, z(2)), born.DTypeError, /indexSelect/, /float32/);
  });
  test('indexSelect with a 2-D index', () => {
    expectThrows(() => z(3, 4).indexSelect(0, zi(2, 2)), born.ShapeError, /indexSelect/, [2, 2]);
  });
  test('oneHot of float labels', () => {
    expectThrows(() => born.oneHot(z(4), 3), born.DTypeError, /oneHot/, /float32/);
  });
  test('where with a float condition', () => {
    expectThrows(() => born.where(z(2), z(2), z(2)), born.DTypeError, /where/, /float32/);
  });
});

describe('creation', () => {
  test('a ragged nested array', () => {
    expectThrows(() => born.tensor([[1, 2], [3]]), born.ShapeError, /tensor/);
  });
  test('a TypedArray that does not fill the shape', () => {
    expectThrows(() => born.tensor(new Float32Array(5), { shape: [2, 3] }), born.ShapeError, /tensor/, [2, 3]);
  });
  test('negative or fractional sizes', () => {
    expectThrows(() => born.zeros([2, -1]), born.ShapeError, /zeros/, [2, -1]);
    expectThrows(() => born.ones([1.5]), born.ShapeError, /ones/);
  });
  test('arange with step 0', () => {
    expectThrows(() => born.arange(0, 5, 0), Error, /arange/);
  });
  test('randint with low >= high', () => {
    expectThrows(() => born.randint(5, 5, [3]), Error, /randint/);
  });
});

describe('item()', () => {
  test('of a multi-element tensor rejects and names the size', async () => {
    await expect((async () => z(2, 3).item())()).rejects.toThrow(/item|element/);
  });
});
