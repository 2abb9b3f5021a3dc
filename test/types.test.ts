// Typed tensors: Tensor<D> carries its dtype in the type. These assertions are checked by the
// compiler (`npm run typecheck` covers test/): a wrong type, or a `@ts-expect-error` line that
// compiles, fails the build. At run time the few value checks confirm the types tell the truth.
import { describe, expect, expectTypeOf, test } from 'vitest';
import * as born from '../src/index.js';
import type { DType } from '../src/graph/dtype.js';

type T<D extends DType> = born.Tensor<D>;

describe('creation infers the dtype', () => {
  test('from opts.dtype, with float32 as the default', () => {
    expectTypeOf(born.zeros([2])).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.ones([2], { dtype: 'int64' })).toEqualTypeOf<T<'int64'>>();
    expectTypeOf(born.full([2], 3, { dtype: 'uint8' })).toEqualTypeOf<T<'uint8'>>();
    expectTypeOf(born.rand([2])).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.randn([2], { dtype: 'float16' })).toEqualTypeOf<T<'float16'>>();
    expectTypeOf(born.randint(0, 9, [2])).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(born.linspace(0, 1, 5)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.eye(3, 3, { dtype: 'bool' })).toEqualTypeOf<T<'bool'>>();
    expectTypeOf(born.arange(0, 5, 1, { dtype: 'int64' })).toEqualTypeOf<T<'int64'>>();
    // arange's default follows its arguments at run time (integers give int32), so the type says "any".
    expectTypeOf(born.arange(5)).toEqualTypeOf<T<DType>>();
  });
  test('from typed arrays and nested arrays', () => {
    expectTypeOf(born.tensor(new Float32Array(2))).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.tensor(new Float64Array(2))).toEqualTypeOf<T<'float64'>>();
    expectTypeOf(born.tensor(new BigInt64Array(2))).toEqualTypeOf<T<'int64'>>();
    expectTypeOf(born.tensor(new Int32Array(2))).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(born.tensor(new Int16Array(2))).toEqualTypeOf<T<'int16'>>();
    expectTypeOf(born.tensor(new Int8Array(2))).toEqualTypeOf<T<'int8'>>();
    expectTypeOf(born.tensor(new Uint8Array(2))).toEqualTypeOf<T<'uint8'>>();
    expectTypeOf(born.tensor([[1, 2], [3, 4]])).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(born.tensor([true, false])).toEqualTypeOf<T<'bool'>>();
    expectTypeOf(born.tensor([1, 2], { dtype: 'bfloat16' })).toEqualTypeOf<T<'bfloat16'>>();
    expectTypeOf(born.tensor(new Uint8Array(2), { dtype: 'bool' })).toEqualTypeOf<T<'bool'>>();
  });
  test('a dtype name Born does not have does not compile', () => {
    // @ts-expect-error: 'float8' is not a DType
    expect(() => born.zeros([1], { dtype: 'float8' })).toThrow(/valid dtypes/);
    // @ts-expect-error: no uint16 dtype, so a Uint16Array needs an explicit dtype
    expect(() => born.tensor(new Uint16Array(1))).toThrow(/unsupported array type/);
  });
});

describe('data() resolves to the matching array', () => {
  test('per dtype', async () => {
    expectTypeOf(born.zeros([1]).data()).resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(born.zeros([1], { dtype: 'float64' }).data()).resolves.toEqualTypeOf<Float64Array>();
    expectTypeOf(born.zeros([1], { dtype: 'float16' }).data()).resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(born.zeros([1], { dtype: 'bfloat16' }).data()).resolves.toEqualTypeOf<Float32Array>();
    expectTypeOf(born.zeros([1], { dtype: 'int64' }).data()).resolves.toEqualTypeOf<BigInt64Array>();
    expectTypeOf(born.zeros([1], { dtype: 'int32' }).data()).resolves.toEqualTypeOf<Int32Array>();
    expectTypeOf(born.zeros([1], { dtype: 'int16' }).data()).resolves.toEqualTypeOf<Int16Array>();
    expectTypeOf(born.zeros([1], { dtype: 'int8' }).data()).resolves.toEqualTypeOf<Int8Array>();
    expectTypeOf(born.zeros([1], { dtype: 'uint8' }).data()).resolves.toEqualTypeOf<Uint8Array>();
    expectTypeOf(born.zeros([1], { dtype: 'bool' }).data()).resolves.toEqualTypeOf<Uint8Array>();
    // And the run time agrees.
    expect(await born.zeros([1], { dtype: 'int64' }).data()).toBeInstanceOf(BigInt64Array);
    expect(await born.zeros([1], { dtype: 'float16' }).data()).toBeInstanceOf(Float32Array);
    expect(await born.zeros([1], { dtype: 'int8' }).data()).toBeInstanceOf(Int8Array);
  });
  test('to(dtype) returns the tensor of that dtype', async () => {
    const x = born.zeros([2]);
    expectTypeOf(x.to('int32')).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(x.to('int64').data()).resolves.toEqualTypeOf<BigInt64Array>();
    expectTypeOf(x.to('cpu')).toEqualTypeOf<T<'float32'>>();
    expect(x.to('int32').dtype).toBe('int32');
    expectTypeOf(x.to('int32').dtype).toEqualTypeOf<'int32'>();
  });
});

describe('ops carry the promoted dtype where TypeScript can see it', () => {
  const f32 = born.zeros([2]), f16 = born.zeros([2], { dtype: 'float16' }), bf16 = born.zeros([2], { dtype: 'bfloat16' });
  const i32 = born.zeros([2], { dtype: 'int32' }), i8 = born.zeros([2], { dtype: 'int8' }), u8 = born.zeros([2], { dtype: 'uint8' });
  const b = born.zeros([2], { dtype: 'bool' });
  test('with numbers: a scalar never widens within its category', async () => {
    expectTypeOf(f32.add(2)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(f16.mul(2.5)).toEqualTypeOf<T<'float16'>>();
    expectTypeOf(i32.add(2)).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(i32.add(2.5)).toEqualTypeOf<T<'float32'>>();
    const n: number = Math.random();
    expectTypeOf(i8.mul(n)).toEqualTypeOf<T<'int8' | 'float32'>>(); // integer or not is known at run time only
    expectTypeOf(b.add(1)).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(u8.add(true)).toEqualTypeOf<T<'uint8'>>();
    expect([i32.add(2).dtype, i32.add(2.5).dtype, i8.mul(3).dtype, b.add(1).dtype]).toEqual(['int32', 'float32', 'int8', 'int32']);
  });
  test('with tensors: across categories the higher one, within one the union of what 0-d rules allow', () => {
    expectTypeOf(i32.add(f16)).toEqualTypeOf<T<'float16'>>();
    expectTypeOf(f32.sub(i8)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(b.maximum(u8)).toEqualTypeOf<T<'uint8'>>();
    expectTypeOf(i8.add(u8)).toEqualTypeOf<T<'int8' | 'uint8' | 'int16'>>();
    expectTypeOf(f16.add(bf16)).toEqualTypeOf<T<'float16' | 'bfloat16' | 'float32'>>();
    expectTypeOf(f32.add(f32)).toEqualTypeOf<T<'float32'>>();
    expect([i8.add(u8).dtype, f16.add(bf16).dtype]).toEqual(['int16', 'float32']);
  });
  test('float results, comparisons, reductions, views, matmul', () => {
    expectTypeOf(i32.div(2)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(f16.div(2)).toEqualTypeOf<T<'float16'>>();
    expectTypeOf(i32.exp()).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(f16.sigmoid()).toEqualTypeOf<T<'float16'>>();
    expectTypeOf(f32.gt(0)).toEqualTypeOf<T<'bool'>>();
    expectTypeOf(b.sum()).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(i8.max()).toEqualTypeOf<T<'int8'>>();
    expectTypeOf(f32.argmax()).toEqualTypeOf<T<'int32'>>();
    expectTypeOf(u8.reshape([1, 2]).T.flip([0]).slice(0, 0, 1)).toEqualTypeOf<T<'uint8'>>();
    expectTypeOf(i8.chunk(2)).toEqualTypeOf<T<'int8'>[]>();
    expectTypeOf(f32.matmul(f32)).toEqualTypeOf<T<'float32'>>();
    expectTypeOf(f16.mean()).toEqualTypeOf<T<'float16'>>();
  });
});

describe('ops that need a float tensor refuse an int one at compile time', () => {
  const i = born.tensor([1, 2], { dtype: 'int32' }), m = born.tensor([true]);
  test('mean, var, std, logsumexp, softmax, logSoftmax, requiresGrad_', () => {
    // @ts-expect-error: mean of an int32 tensor (PyTorch: "mean(): could not infer output dtype")
    expect(() => i.mean()).toThrow(/mean: expected a floating-point tensor/);
    // @ts-expect-error: var of an int tensor
    expect(() => i.var()).toThrow(/var: expected a floating-point tensor/);
    // @ts-expect-error: std of an int tensor
    expect(() => i.std({ dim: 0 })).toThrow(/std: expected a floating-point tensor/);
    // @ts-expect-error: requiresGrad_ on an int tensor
    expect(() => i.requiresGrad_()).toThrow(/only floating-point tensors can require gradients/);
    // @ts-expect-error: requiresGrad_ on a bool tensor
    expect(() => m.requiresGrad_(true)).toThrow(/only floating-point tensors/);
    // @ts-expect-error: softmax of an int tensor
    void i.softmax({ dim: 0 });
    // @ts-expect-error: logSoftmax of an int tensor
    void i.logSoftmax();
    // @ts-expect-error: logsumexp of a uint8 tensor
    void born.zeros([2], { dtype: 'uint8' }).logsumexp();
    // Float tensors of every float dtype are fine, and the dtype is kept.
    expectTypeOf(i.to('float64').mean()).toEqualTypeOf<T<'float64'>>();
    expectTypeOf(born.zeros([2], { dtype: 'bfloat16' }).softmax()).toEqualTypeOf<T<'bfloat16'>>();
    expectTypeOf(born.zeros([2]).requiresGrad_()).toEqualTypeOf<T<'float32'>>();
  });
  test('a tensor whose dtype TypeScript cannot see compiles as before (checked at run time)', () => {
    const any: born.Tensor = i;
    expect(() => any.mean()).toThrow(/mean: expected a floating-point tensor/);
    expectTypeOf(any.add(1)).toEqualTypeOf<born.Tensor>();
    expectTypeOf(any.exp()).toEqualTypeOf<born.Tensor>();
    // Mixed with an untyped tensor, a typed one gives an untyped result (it could be float64).
    expectTypeOf(born.zeros([2]).mul(any)).toEqualTypeOf<born.Tensor>();
    let t: born.Tensor = born.zeros([2]);
    t = t.mul(any).add(1);
    expect(t.dtype).toBe('float32');
  });
});

describe('assignability', () => {
  test('a Tensor<D> is a Tensor; tensors of different known dtypes are not interchangeable', () => {
    expectTypeOf<T<'float32'>>().toExtend<born.Tensor>();
    expectTypeOf<T<'int64'>>().toExtend<born.Tensor>();
    expectTypeOf<T<'bool'>[]>().toExtend<readonly born.Tensor[]>();
    expectTypeOf<T<'int32'>>().not.toExtend<T<'float32'>>();
    expectTypeOf<T<'float32'>>().not.toExtend<T<'float16'>>();
    const keep = (xs: readonly born.Tensor[]): number => xs.length;
    expect(keep([born.zeros([1]), born.zeros([1], { dtype: 'int8' })])).toBe(2);
  });
});

describe('module types', () => {
  const { nn } = born;
  test('layers whose forward takes options or returns several tensors are Modules: they chain and list', () => {
    const enc = nn.TransformerEncoderLayer(6, 2, { dimFeedforward: 8 });
    const seq = nn.Sequential(nn.Linear(6, 6), enc);
    expectTypeOf(seq.forward(born.zeros([3, 2, 6]))).toEqualTypeOf<born.Tensor>();
    const heads = nn.ModuleList([nn.MultiheadAttention(6, 2), nn.MultiheadAttention(6, 2)]);
    const x = born.zeros([3, 2, 6]);
    expectTypeOf(heads.at(0).forward(x, x, x)).toEqualTypeOf<[born.Tensor, born.Tensor | null]>();
    const lstm = nn.LSTM(6, 4);
    expectTypeOf(lstm.forward(x)).toEqualTypeOf<[born.Tensor, [born.Tensor, born.Tensor]]>();
    expect(lstm).toBeInstanceOf(nn.Module);
    // @ts-expect-error: Sequential chains one tensor to one tensor; an LSTM returns an array
    nn.Sequential(lstm);
  });
});

describe('functional forms of overloaded methods', () => {
  test('born.max / born.min keep the method overloads: a value, { values, indices } along a dim, or elementwise', async () => {
    const x = born.tensor([[1, 5], [7, 2]]);
    expectTypeOf(born.max(x)).toEqualTypeOf<born.Tensor<'float32'>>();
    const r = born.max(x, 1);
    expectTypeOf(r.indices).toEqualTypeOf<born.Tensor<'int32'>>();
    expect(Array.from(await r.values.data())).toEqual([5, 7]);
    expect(Array.from(await born.min(x, { dim: 0 }).indices.data())).toEqual([0, 1]);
    expect(Array.from(await born.max(x, born.tensor([[3, 3], [3, 3]])).data())).toEqual([3, 5, 7, 3]);
    expect(Array.from(await born.nn.functional.gelu(born.tensor([1]), 'tanh').data())).toEqual(Array.from(await born.tensor([1]).gelu({ approximate: 'tanh' }).data()));
  });
});
