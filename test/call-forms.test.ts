// PyTorch's call forms (positional arguments as well as options objects) for the existing API,
// and the argument checks that keep plain JavaScript callers from silent wrong answers:
// `x.sum(1)` used to sum everything, `x.add([1, 2])` gave NaN, `born.cat(ts, 1)` joined along
// dim 0, `x.sum({ axis: 1 })` summed all. Every test here fails on the old behaviour, except the
// dtype guards at the end (fixed earlier).
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { expectTensor, ref, toBorn, type Tensor } from './reference/check.js';

const a = ref.random([2, 3, 4], 1, { quantum: 8 });
const x = (): Tensor => toBorn(a);
const m = ref.NDArray.from([[1, 5, 5], [7, 2, 7]]);

/** Both tensors hold the same shape, dtype and values (bit for bit). */
async function same(got: Tensor, want: Tensor, label = ''): Promise<void> {
  expect([...got.shape], `${label} shape`).toEqual([...want.shape]);
  expect(got.dtype, `${label} dtype`).toBe(want.dtype);
  expect(Array.from(await got.data()), `${label} values`).toEqual(Array.from(await want.data()));
}

/** `f` throws a TypeError whose message matches every pattern (the op, what is valid). */
function typeError(f: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try { f(); } catch (e) { caught = e; }
  expect(caught, 'expected a synchronous TypeError').toBeInstanceOf(TypeError);
  for (const p of patterns) expect((caught as Error).message).toMatch(p);
}

describe('reductions take the dim positionally', () => {
  test('sum(dim), sum(dim, keepdim), sum([dims]), sum(dim, { keepdim })', async () => {
    await expectTensor(x().sum(1), ref.sum(a, { dim: 1 }));
    await expectTensor(x().sum(1, true), ref.sum(a, { dim: 1, keepdim: true }));
    await expectTensor(x().sum([0, 2]), ref.sum(a, { dim: [0, 2] }));
    await expectTensor(x().sum([0, -1], true), ref.sum(a, { dim: [0, 2], keepdim: true }));
    await expectTensor(x().sum(-1, { keepdim: true }), ref.sum(a, { dim: 2, keepdim: true }));
    await expectTensor(x().sum({ dim: 1 }), ref.sum(a, { dim: 1 }));
  });
  test('mean, logsumexp', async () => {
    await expectTensor(x().mean(0), ref.mean(a, { dim: 0 }));
    await expectTensor(x().mean([1, 2], true), ref.mean(a, { dim: [1, 2], keepdim: true }));
    await expectTensor(x().logsumexp(2), ref.logsumexp(a, { dim: 2 }), { rtol: 1e-6, atol: 1e-6 });
  });
  test('var / std: (dim), (dim, { correction }), PyTorch\'s (dim, unbiased, keepdim)', async () => {
    const tol = { rtol: 1e-6, atol: 1e-6 };
    await expectTensor(x().var(1), ref.var(a, { dim: 1 }), tol);
    await expectTensor(x().var(1, { correction: 0 }), ref.var(a, { dim: 1, correction: 0 }), tol);
    await expectTensor(x().var(1, false), ref.var(a, { dim: 1, correction: 0 }), tol);
    await expectTensor(x().std(2, true, true), ref.std(a, { dim: 2, keepdim: true }), tol);
    await expectTensor(x().std([0, 1], { correction: 0, keepdim: true }), ref.std(a, { dim: [0, 1], correction: 0, keepdim: true }), tol);
  });
  test('argmax(dim) / argmin(dim, keepdim) index along that dim', async () => {
    await expectTensor(x().argmax(1), ref.argmax(a, { dim: 1 }));
    await expectTensor(x().argmin(-1, true), ref.argmin(a, { dim: 2, keepdim: true }));
    await expectTensor(x().argmax(), ref.argmax(a));
  });
  test('softmax(dim) / logSoftmax(dim); the default dim is -1', async () => {
    const tol = { rtol: 1e-6, atol: 1e-7 };
    await expectTensor(x().softmax(0), ref.softmax(a, { dim: 0 }), tol);
    await expectTensor(x().logSoftmax(1), ref.logSoftmax(a, { dim: 1 }), tol);
    await expectTensor(x().softmax(), ref.softmax(a, { dim: -1 }), tol);
  });
});

describe('max / min with a dim return { values, indices } like torch.max(x, dim)', () => {
  test('values, int32 indices, the first index on ties', async () => {
    const { values, indices } = toBorn(m).max(1);
    await expectTensor(values, ref.max(m, { dim: 1 }));
    expect(indices.dtype).toBe('int32');
    expect(Array.from(await indices.data())).toEqual([1, 0]);
    const r = toBorn(m).min({ dim: 0, keepdim: true });
    await expectTensor(r.values, ref.min(m, { dim: 0, keepdim: true }));
    expect(Array.from(await r.indices.data())).toEqual([0, 1, 0]);
    expect(r.indices.shape).toEqual([1, 3]);
  });
  test('without a dim: the value, as before; with a tensor: the elementwise max', async () => {
    await expectTensor(toBorn(m).max(), ref.max(m));
    await expectTensor(toBorn(m).min({ keepdim: true }), ref.min(m, { keepdim: true }));
    const y = ref.NDArray.from([[3, 3, 3], [3, 3, 3]]);
    await expectTensor(toBorn(m).max(toBorn(y)), ref.maximum(m, y));
    await expectTensor(toBorn(m).min(toBorn(y)), ref.minimum(m, y));
  });
  test('an empty tensor reduced along a non-empty dim gives empty values and indices', () => {
    const { values, indices } = born.zeros([0, 3]).max(1);
    expect([values.shape, indices.shape, indices.dtype]).toEqual([[0], [0], 'int32']);
    expect(born.zeros([0, 3]).min(1, true).values.shape).toEqual([0, 1]);
  });
  test('a 0-d tensor: max(0) is the value at index 0', async () => {
    const { values, indices } = born.tensor(3).max(0);
    expect(values.shape).toEqual([]);
    expect(await values.item()).toBe(3);
    expect(await indices.item()).toBe(0);
  });
  test('TypeScript knows which form returns what', () => {
    const t = born.tensor([[1, 2], [3, 4]]);
    const whole: born.Tensor<'float32'> = t.max();
    const { values, indices }: { values: born.Tensor<'float32'>; indices: born.Tensor<'int32'> } = t.max(1);
    const byOptions: born.Tensor<'float32'> = t.min({ dim: 0 }).values;
    // @ts-expect-error: with a dim, max is { values, indices }, not a tensor
    const notATensor: born.Tensor = t.max(0);
    expect(notATensor).not.toBeInstanceOf(born.Tensor);
    expect([whole.shape, values.shape, indices.shape, byOptions.shape]).toEqual([[], [2], [2], [2]]);
  });
  test('a list of dims is refused, pointing to amax / amin', () => {
    typeError(() => x().max([0, 1] as never), /max: dim must be a single integer/, /amax/);
    typeError(() => x().min({ dim: [0, 1] } as never), /min:/, /amin/);
  });
});

describe('views take sizes and dims as integer arguments', () => {
  test('reshape(3, 2), view(-1), permute(1, 0), expand(4, 2, 3)', async () => {
    const b = ref.random([2, 3], 2, { quantum: 8 });
    await expectTensor(toBorn(b).reshape(3, 2), ref.reshape(b, [3, 2]));
    await expectTensor(toBorn(b).view(-1), ref.reshape(b, [6]));
    await expectTensor(toBorn(b).view(3, -1), ref.reshape(b, [3, 2]));
    await expectTensor(toBorn(b).permute(1, 0), ref.permute(b, [1, 0]));
    await expectTensor(toBorn(b).expand(4, 2, 3), ref.expand(b, [4, 2, 3]));
    await expectTensor(toBorn(b).reshape([3, 2]), ref.reshape(b, [3, 2]));
  });
  test('flip(0), flip([0, 1]), flip(0, 1)', async () => {
    await expectTensor(x().flip(0), ref.flip(a, [0]));
    await expectTensor(x().flip([0, 2]), ref.flip(a, [0, 2]));
    await expectTensor(x().flip(0, 2), ref.flip(a, [0, 2]));
  });
  test('wrong types are TypeErrors naming the op', () => {
    typeError(() => x().reshape('24' as never), /reshape/, /integers/);
    typeError(() => x().reshape(4, '6' as never), /reshape/);
    typeError(() => x().view([2.5, 2] as never), /view/);
    typeError(() => x().permute([0, '1'] as never), /permute: dims must be integers/);
    typeError(() => x().flip('0' as never), /flip/);
    typeError(() => x().unsqueeze('0' as never), /unsqueeze: dim must be an integer/);
    typeError(() => x().transpose(0, '1' as never), /transpose/);
    typeError(() => x().squeeze('0' as never), /squeeze/);
  });
});

describe('joins take the dim positionally', () => {
  const p = ref.random([2, 3], 4), q = ref.random([2, 3], 5);
  test('born.cat(ts, 1), born.stack(ts, 1)', async () => {
    await expectTensor(born.cat([toBorn(p), toBorn(q)], 1), ref.cat([p, q], { dim: 1 }));
    await expectTensor(born.stack([toBorn(p), toBorn(q)], 1), ref.stack([p, q], { dim: 1 }));
    await expectTensor(born.cat([toBorn(p), toBorn(q)], { dim: -1 }), ref.cat([p, q], { dim: 1 }));
  });
  test('chunk(3, 1), split(2, 1), split([1, 2], 1)', async () => {
    const b = ref.random([2, 6], 6);
    const c = toBorn(b).chunk(3, 1), w = ref.chunk(b, 3, { dim: 1 });
    expect(c.length).toBe(3);
    for (let i = 0; i < 3; i++) await expectTensor(c[i]!, w[i]!);
    const s = toBorn(b).split(4, 1), ws = ref.split(b, 4, { dim: 1 });
    expect(s.map((t) => t.shape)).toEqual([[2, 4], [2, 2]]);
    for (let i = 0; i < 2; i++) await expectTensor(s[i]!, ws[i]!);
    const l = toBorn(b).split([1, 5], -1);
    await expectTensor(l[1]!, ref.slice(b, 1, 1));
  });
  test('a tensor instead of a list, a non-tensor in the list, a bad dim: TypeErrors', () => {
    typeError(() => born.cat(toBorn(p) as never, 1 as never), /cat: expected a list of tensors/);
    typeError(() => born.stack([toBorn(p), [1, 2]] as never), /stack: expected a list of tensors/, /position 1/);
    typeError(() => born.cat([toBorn(p)], { axis: 1 } as never), /cat: unknown option 'axis'/, /dim/);
    typeError(() => born.cat([toBorn(p)], '1' as never), /cat: dim must be an integer/);
    typeError(() => toBorn(p).chunk(2, { axis: 1 } as never), /chunk: unknown option 'axis'/);
    typeError(() => toBorn(p).split('2' as never), /split/, /integer/);
    typeError(() => toBorn(p).chunk(1.5), /chunk: chunks must be an integer/);
  });
});

describe('creation takes sizes as integers', () => {
  test('zeros(2, 3), ones(2, 3, { dtype }), rand(2, 3), randn(2, 3, { seed })', async () => {
    await expectTensor(born.zeros(2, 3), ref.zeros([2, 3]));
    await expectTensor(born.ones(2, 3, { dtype: 'int32' }), ref.ones([2, 3], 'int32'));
    await expectTensor(born.full([2, 3], 7), ref.full([2, 3], 7));
    expect(born.rand(2, 3).shape).toEqual([2, 3]);
    await same(born.randn(2, 3, { seed: 5 }), born.randn([2, 3], { seed: 5 }));
    await same(born.rand(4, { seed: 6, dtype: 'float64' }), born.rand([4], { seed: 6, dtype: 'float64' }));
    expect(born.zeros([]).shape).toEqual([]);
  });
  test('randint(high, shape) as torch.randint(high, size); negative sizes as integers are ShapeErrors', async () => {
    const r = born.randint(3, [50], { seed: 2 });
    expect(r.dtype).toBe('int32');
    await same(r, born.randint(0, 3, [50], { seed: 2 }));
    expect(() => born.zeros(2, -1)).toThrow(born.ShapeError);
  });
  test('arange(n, { dtype }), eye(n, { dtype })', async () => {
    const r = born.arange(4, { dtype: 'float32' });
    expect(r.dtype).toBe('float32');
    expect(Array.from(await r.data())).toEqual([0, 1, 2, 3]);
    const e = born.eye(2, { dtype: 'int32' });
    expect(e.dtype).toBe('int32');
    expect(e.shape).toEqual([2, 2]);
  });
  test('unknown option keys and wrong types are TypeErrors naming the op and the valid options', () => {
    typeError(() => born.zeros([2], { dtyp: 'int32' } as never), /zeros: unknown option 'dtyp'/, /dtype, device/);
    typeError(() => born.randn([2], { sead: 1 } as never), /randn: unknown option 'sead'/, /seed/);
    typeError(() => born.full([2], '7' as never), /full: the fill value must be a number/);
    typeError(() => born.full(2 as never, 7), /full: expected the shape as a list/);
    typeError(() => born.rand([2], { seed: '1' } as never), /rand: seed must be a number/);
    typeError(() => born.zeros('2' as never), /zeros/);
    typeError(() => born.tensor([1, 2], { dtpye: 'int32' } as never), /tensor: unknown option 'dtpye'/);
    typeError(() => born.tensor('12' as never), /tensor: expected a number/);
    typeError(() => born.tensor([1, '2'] as never), /tensor: expected a number/);
  });
});

describe('unknown option keys and wrong argument types are TypeErrors', () => {
  test('a misspelt option names the op and the valid options', () => {
    typeError(() => x().sum({ axis: 1 } as never), /sum: unknown option 'axis'/, /valid options: dim, keepdim/);
    typeError(() => x().mean({ dims: 1 } as never), /mean: unknown option 'dims'/);
    typeError(() => x().var({ dim: 1, unbiased: false } as never), /var: unknown option 'unbiased'/, /correction/);
    typeError(() => x().argmax({ axis: 0 } as never), /argmax: unknown option 'axis'/);
    typeError(() => x().softmax({ axis: 0 } as never), /softmax: unknown option 'axis'/);
    typeError(() => x().max({ axis: 0 } as never), /max: unknown option 'axis'/);
    typeError(() => x().clamp({ minimum: 0 } as never), /clamp: unknown option 'minimum'/, /min, max/);
    typeError(() => x().sum(1, { keepDim: true } as never), /sum: unknown option 'keepDim'/);
  });
  test('a wrong type names the op and what is valid', () => {
    typeError(() => x().sum('1' as never), /sum: dim must be an integer/);
    typeError(() => x().sum(1, 'yes' as never), /sum: keepdim must be true or false/);
    typeError(() => x().argmax([0, 1] as never), /argmax: dim must be a single integer/);
    typeError(() => x().softmax('0' as never), /softmax: dim must be an integer/);
    typeError(() => x().var(1, 0 as never), /var: after the dim, expected unbiased/);
    typeError(() => x().std({ correction: '1' } as never), /std: correction must be a number/);
  });
});

describe('the other methods check their options too', () => {
  const b = ref.random([2, 3], 8);
  test('gelu(approximate), softplus(beta, threshold), pad(pads, value) positionally', async () => {
    await same(toBorn(b).gelu('tanh'), toBorn(b).gelu({ approximate: 'tanh' }));
    await same(toBorn(b).softplus(2, 1), toBorn(b).softplus({ beta: 2, threshold: 1 }));
    await expectTensor(toBorn(b).pad([1, 1], 0.5), ref.pad(b, [1, 1], { value: 0.5 }));
  });
  test('backward(gradient) positionally, as in PyTorch', async () => {
    const w = born.tensor([1, 2, 3]).requiresGrad_();
    w.mul(2).backward(born.tensor([1, 10, 100]));
    expect(Array.from(await w.grad!.data())).toEqual([2, 20, 200]);
  });
  test('misspelt options and wrong types are TypeErrors', () => {
    typeError(() => toBorn(b).gelu({ approx: 'tanh' } as never), /gelu: unknown option 'approx'/, /approximate/);
    typeError(() => toBorn(b).gelu('fast' as never), /gelu: approximate must be one of 'none', 'tanh'/);
    typeError(() => toBorn(b).softplus({ beta: 2, thresh: 1 } as never), /softplus: unknown option 'thresh'/);
    typeError(() => toBorn(b).softplus('2' as never), /softplus: beta must be a number/);
    typeError(() => toBorn(b).pad([1, 1], { val: 1 } as never), /pad: unknown option 'val'/, /value/);
    typeError(() => toBorn(b).slice('1' as never, 0), /slice: dim must be an integer/);
    typeError(() => toBorn(b).narrow(1, 0, '2' as never), /narrow: length must be an integer/);
    typeError(() => toBorn(b).requiresGrad_('yes' as never), /requiresGrad_: flag must be true or false/);
    const w = born.tensor([1, 2]).requiresGrad_();
    typeError(() => w.sum().backward({ grad: born.tensor(1) } as never), /backward: unknown option 'grad'/, /gradOutput/);
  });
});

describe('elementwise operands', () => {
  const b = ref.random([2, 3], 7, { quantum: 8 });
  test('nested number arrays are tensors (float32), as born.tensor makes them', async () => {
    await expectTensor(toBorn(b).add([1, 2, 3]), ref.add(b, ref.NDArray.from([1, 2, 3])));
    await expectTensor(toBorn(b).mul([[2], [3]]), ref.mul(b, ref.NDArray.from([[2], [3]])));
    await expectTensor(toBorn(b).gt([0, 0, 0]), ref.gt(b, ref.NDArray.from([0, 0, 0])));
    await expectTensor(born.tensor([1, 2, 3], { dtype: 'int32' }).add([1, 1, 1]), ref.add(ref.NDArray.from([1, 2, 3], 'int32'), ref.NDArray.from([1, 1, 1])));
    const w = born.where(toBorn(b).gt(0), [10, 20, 30], 0);
    await expectTensor(w, ref.where(ref.gt(b, 0), ref.NDArray.from([10, 20, 30]), 0));
    await expectTensor(toBorn(b).clamp(-1, [0, 1, 2]), ref.minimum(ref.maximum(b, -1), ref.NDArray.from([0, 1, 2])));
  });
  test('undefined, null, strings and objects are refused, naming the op and what is valid', () => {
    const valid = /a tensor, a number, a boolean or a nested array of numbers/;
    typeError(() => toBorn(b).add(undefined as never), /add: expected/, valid, /got undefined/);
    typeError(() => toBorn(b).add(null as never), /add:/, valid, /got null/);
    typeError(() => toBorn(b).add('1' as never), /add:/, valid, /string "1"/);
    typeError(() => toBorn(b).mul({} as never), /mul:/, valid);
    typeError(() => toBorn(b).sub([1, '2'] as never), /sub:/, valid);
    typeError(() => toBorn(b).gt(undefined as never), /gt:/);
    typeError(() => toBorn(b).pow('2' as never), /pow:/);
    typeError(() => toBorn(b).maximum(null as never), /maximum:/);
    typeError(() => born.where(toBorn(b).gt(0), undefined as never, 0), /where:/);
    typeError(() => toBorn(b).clamp({ min: '0' } as never), /clamp:/, valid);
  });
  test('clamp(min, max) positionally', async () => {
    await expectTensor(toBorn(b).clamp(-0.5, 0.5), ref.clamp(b, { min: -0.5, max: 0.5 }));
    await expectTensor(toBorn(b).clamp(undefined, 0.5), ref.clamp(b, { max: 0.5 }));
  });
});

// The Uint8Array and dtype-name defects of the issue were fixed before these call forms; these
// guard them (the zeros / randn cases also use the integer-size forms).
describe('dtypes at the call', () => {
  test('a Uint8Array is a uint8 tensor holding its values', async () => {
    const t = born.tensor(new Uint8Array([0, 1, 2]));
    expect(t.dtype).toBe('uint8');
    expect(Array.from(await t.data())).toEqual([0, 1, 2]);
    expect(await t.sum().item()).toBe(3);
  });
  test.each([
    ['tensor', () => born.tensor([1], { dtype: 'float8' as never })],
    ['zeros', () => born.zeros(2, { dtype: 'half' as never })],
    ['randn', () => born.randn(2, 2, { dtype: 'float128' as never })],
    ['to', () => born.zeros([2]).to('float17' as never)],
  ])('%s: an unsupported dtype name fails at the call, listing the valid dtypes', (_, f) => {
    expect(f).toThrow(/float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool/);
  });
});
