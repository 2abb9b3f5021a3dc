// Creation ops, tensor metadata, and reading values back (data/tolist/item).
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectTensor, ref, toBorn } from './reference/check.js';

describe('born.tensor', () => {
  test('from nested arrays: shape, default dtype float32, row-major data', async () => {
    const t = born.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.ndim).toBe(2);
    expect(t.device).toBe('cpu');
    const d = await t.data();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await t.tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  test('nested arrays with an explicit dtype', async () => {
    const i = born.tensor([[1, -2], [3, 4]], { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(await i.data()).toBeInstanceOf(Int32Array);
    const d = born.tensor([0.1, 0.2], { dtype: 'float64' });
    expect(Array.from(await d.data())).toEqual([0.1, 0.2]);
    const b = born.tensor([1, 0, 1], { dtype: 'bool' });
    const bd = await b.data();
    expect(bd).toBeInstanceOf(Uint8Array);
    expect(Array.from(bd)).toEqual([1, 0, 1]);
  });

  test('float32 storage rounds values', async () => {
    const t = born.tensor([0.1, 1 / 3]);
    expect(Array.from(await t.data())).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
  });

  test('from a TypedArray with a shape', async () => {
    const src = Float32Array.from({ length: 6 }, (_, i) => i * 0.5);
    const t = born.tensor(src, { shape: [2, 3] });
    expect(t.shape).toEqual([2, 3]);
    await expectTensor(t, ref.reshape(ref.NDArray.from([0, 0.5, 1, 1.5, 2, 2.5]), [2, 3]));
  });

  test('TypedArrays of every dtype', async () => {
    for (const a of [
      ref.random([3, 2], 1, { dtype: 'float64' }),
      ref.random([3, 2], 2, { dtype: 'int32', lo: -1000, hi: 1000 }),
      ref.random([3, 2], 3, { dtype: 'bool' }),
      ref.random([2, 1, 2], 4),
    ]) {
      await expectTensor(toBorn(a), a, {}, a.dtype);
    }
  });

  test('the source array is copied: later writes do not change the tensor', async () => {
    const src = new Float32Array([1, 2, 3]);
    const t = born.tensor(src, { shape: [3] });
    src[0] = 100;
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
  });

  test('a 0-d tensor from a TypedArray with shape []', async () => {
    const t = born.tensor(new Float32Array([2.5]), { shape: [] });
    expect(t.shape).toEqual([]);
    expect(t.ndim).toBe(0);
    expect(await t.item()).toBe(2.5);
    expect(await t.tolist()).toBe(2.5);
  });

  test('size-1 dims are kept', () => {
    expect(born.tensor([[[1]]]).shape).toEqual([1, 1, 1]);
    expect(born.tensor([[1], [2]]).shape).toEqual([2, 1]);
  });

  test('data() is a copy or read-only snapshot: mutating it does not change the tensor', async () => {
    const t = born.tensor([1, 2, 3]);
    const d = await t.data();
    try {
      d[0] = 42;
    } catch {
      // a frozen / read-only view is fine too
    }
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
  });
});

describe('metadata', () => {
  test('shape, ndim, size(), size(d), dtype, device', () => {
    const t = born.zeros([2, 3, 4]);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.ndim).toBe(3);
    expect(t.size()).toEqual([2, 3, 4]);
    expect(t.size(1)).toBe(3);
    expect(t.size(-1)).toBe(4);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
  });

  test('0-d metadata', () => {
    const t = born.tensor(new Float32Array([1]), { shape: [] });
    expect(t.shape).toEqual([]);
    expect(t.size()).toEqual([]);
    expect(t.ndim).toBe(0);
  });
});

describe('tolist / item', () => {
  test('tolist nests by shape and gives booleans or numbers as torch does', async () => {
    expect(await toBorn(ref.NDArray.from([[1, 2], [3, 4]], 'int32')).tolist()).toEqual([[1, 2], [3, 4]]);
    const b = await born.tensor([1, 0], { dtype: 'bool' }).tolist();
    // torch gives Python bools; accept JS booleans (preferred) or 0/1.
    expect((b as unknown[]).map((v) => Number(v))).toEqual([1, 0]);
    expect(await born.tensor(new Float32Array([1.5]), { shape: [1, 1] }).tolist()).toEqual([[1.5]]);
  });

  test('zero-size tensors read back as empty lists', async () => {
    expect(await born.zeros([2, 0]).tolist()).toEqual([[], []]);
    expect((await born.zeros([0]).data()).length).toBe(0);
  });

  test('item() on one-element tensors of any rank', async () => {
    expect(await born.tensor([[7]]).item()).toBe(7);
    expect(await born.tensor([3], { dtype: 'int32' }).item()).toBe(3);
    expect(await born.tensor([1, 2, 3]).sum().item()).toBe(6);
  });

  test('item() on a multi-element tensor fails with a clear error', async () => {
    const t = born.tensor([1, 2]);
    await expect((async () => t.item())()).rejects.toThrow(/item|element/i);
  });
});

describe('zeros / ones / full', () => {
  test.each([[[2, 3]], [[1]], [[]], [[2, 1, 3]]] as [number[]][])('shape %j', async (shape) => {
    await expectTensor(born.zeros(shape), ref.zeros(shape));
    await expectTensor(born.ones(shape), ref.ones(shape));
    await expectTensor(born.full(shape, -2.5), ref.full(shape, -2.5));
  });

  test('dtypes', async () => {
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as const) {
      await expectTensor(born.zeros([2, 2], { dtype }), ref.zeros([2, 2], dtype), {}, `zeros ${dtype}`);
      await expectTensor(born.ones([3], { dtype }), ref.ones([3], dtype), {}, `ones ${dtype}`);
    }
    await expectTensor(born.full([2], 7, { dtype: 'int32' }), ref.full([2], 7, 'int32'));
    await expectTensor(born.full([2], 0.1, { dtype: 'float64' }), ref.full([2], 0.1, 'float64'));
    await expectTensor(born.full([2], 1, { dtype: 'bool' }), ref.full([2], 1, 'bool'));
  });

  test('full with a fractional value defaults to float32', async () => {
    const t = born.full([2, 2], 0.5);
    expect(t.dtype).toBe('float32');
    await expectTensor(t, ref.full([2, 2], 0.5));
  });

  test('full with special values', async () => {
    await expectTensor(born.full([2], -Infinity), ref.full([2], -Infinity));
    const n = await born.full([1], NaN).data();
    expect(Number.isNaN(n[0])).toBe(true);
  });

  test('constants combine with other tensors and broadcast', async () => {
    const x = ref.random([2, 3], 1);
    await expectTensor(toBorn(x).add(born.ones([3])), ref.add(x, ref.ones([3])));
    await expectTensor(born.zeros([4, 1, 1]).add(toBorn(x)), ref.add(ref.zeros([4, 1, 1]), x));
  });
});

describe('arange', () => {
  test.each([
    [[5]],
    [[0]],
    [[2, 7]],
    [[0, 10, 3]],
    [[5, 0, -1]],
    [[-3, 3, 2]],
    [[10, 0, -3]],
  ] as [number[]][])('integer args %j give int32', async (args) => {
    const [a, b, c] = args as [number, number?, number?];
    const got = b === undefined ? born.arange(a) : born.arange(a, b, c);
    const want = ref.arange(a, b, c);
    expect(want.dtype).toBe('int32');
    await expectTensor(got, want);
  });

  test.each([
    [[2.5]],
    [[0, 1, 0.25]],
    [[1, 2.5, 0.5]],
    [[0, 1, 0.1]],
    [[-1, 1, 0.3]],
    [[0.5, 3]],
    [[1, 0, -0.25]],
  ] as [number[]][])('fractional args %j give float32', async (args) => {
    const [a, b, c] = args as [number, number?, number?];
    const got = b === undefined ? born.arange(a) : born.arange(a, b, c);
    const want = ref.arange(a, b, c);
    expect(want.dtype).toBe('float32');
    await expectTensor(got, want);
  });

  test('two-argument form steps by 1', async () => {
    expect(Array.from(await born.arange(3, 6).data())).toEqual([3, 4, 5]);
  });

  test('arange feeds arithmetic (int32 promotes against float32)', async () => {
    const x = ref.random([4], 2);
    await expectTensor(born.arange(4).mul(toBorn(x)), ref.mul(ref.arange(4), x));
    await expectTensor(born.arange(4).div(2), ref.div(ref.arange(4), 2));
  });
});

describe('linspace', () => {
  test.each([
    [0, 1, 5],
    [0, 1, 7],
    [-2, 3, 11],
    [5, 5, 3],
    [1, -1, 4],
    [3, 10, 1],
    [0, 1, 2],
  ])('linspace(%d, %d, %i)', async (s, e, n) => {
    await expectTensor(born.linspace(s, e, n), ref.linspace(s, e, n), { rtol: 1e-6, atol: 1e-6 });
  });

  test('endpoints are exact', async () => {
    const d = await born.linspace(-1.5, 2.25, 10).data();
    expect(d[0]).toBe(-1.5);
    expect(d[9]).toBe(2.25);
  });
});

describe('eye', () => {
  test.each([
    [1, undefined],
    [3, undefined],
    [2, 4],
    [4, 2],
  ] as [number, number | undefined][])('eye(%i, %j)', async (n, m) => {
    const got = m === undefined ? born.eye(n) : born.eye(n, m);
    await expectTensor(got, ref.eye(n, m));
  });

  test('eye is the identity for matmul', async () => {
    const x = ref.random([3, 3], 4);
    await expectTensor(born.eye(3).matmul(toBorn(x)), x, { rtol: 1e-6, atol: 1e-7 });
  });
});

describe('devices', () => {
  test('to("cpu") is a no-op', async () => {
    const x = ref.random([2, 2], 5);
    const t = toBorn(x).to('cpu');
    expect(t.device).toBe('cpu');
    await expectTensor(t, x);
  });

  test('to("webgpu") without a WebGPU device is a clear error, not a silent no-op', async () => {
    const x = born.tensor([1, 2]);
    let message = '';
    try {
      const moved = x.to('webgpu');
      // If the device check is asynchronous, it must surface at the latest when reading.
      await moved.data();
      // A real WebGPU device is available: then the tensor really lives there.
      expect(moved.device).toBe('webgpu');
      return;
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      message = (e as Error).message;
    }
    expect(message).toMatch(/webgpu/i);
  });
});
