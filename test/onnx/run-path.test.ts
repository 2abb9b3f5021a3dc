// The run path of an imported model: nodes are resolved once per model and each run only binds
// values (src/onnx/graph.ts); a Conv's bias goes into conv2d (src/onnx/ops/conv.ts). Checked
// against naive JS loops, across runs with different batch sizes.
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { conv2d } from '../../src/nn/conv.js';
import { hostProfile, resetHostProfile } from '../../src/scheduler/host-profile.js';
import { encodeModel, type AttributeProto, type GraphProto, type NodeProto, type ValueInfo } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';

const info = (name: string, dims: (number | string)[]): ValueInfo =>
  ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } });
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: 7, ints: v });
const model = (graph: GraphProto): Uint8Array => encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph });
const node = (op_type: string, input: string[], output: string[], attribute: AttributeProto[] = []): NodeProto => ({ op_type, input, output, name: `${op_type}_${output[0]}`, attribute });
const f32 = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));

// x [N, 2, 5, 5] → Conv 3x3 (3 out channels, bias, pad 1, stride 2) → Relu → Flatten → Reshape [N, 3, 9] (shape from Shape/Concat on the host).
const C = 2, O = 3, H = 5, K = 3;
const w = f32(O * C * K * K, (i) => ((i * 7) % 11) / 10 - 0.5);
const b = f32(O, (i) => i - 1);
const convModel = model({
  name: 'conv',
  node: [
    node('Conv', ['x', 'w', 'b'], ['c'], [ints('kernel_shape', [K, K]), ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])]),
    node('Relu', ['c'], ['r']),
    node('Flatten', ['r'], ['f']),
    node('Shape', ['x'], ['s']),
    node('Slice', ['s', 'zero', 'one'], ['n']),
    node('Concat', ['n', 'tail'], ['shape'], [{ name: 'axis', type: 2, i: 0 }]),
    node('Reshape', ['f', 'shape'], ['y']),
  ],
  initializer: [
    writeTensorProto({ dtype: 'float32', shape: [O, C, K, K], data: w }, 'w'),
    writeTensorProto({ dtype: 'float32', shape: [O], data: b }, 'b'),
    writeTensorProto({ dtype: 'int64', shape: [1], data: new BigInt64Array([0n]) }, 'zero'),
    writeTensorProto({ dtype: 'int64', shape: [1], data: new BigInt64Array([1n]) }, 'one'),
    writeTensorProto({ dtype: 'int64', shape: [2], data: new BigInt64Array([3n, 9n]) }, 'tail'),
  ],
  input: [info('x', ['N', C, H, H])],
  output: [info('y', ['N', O, 9])],
});

/** relu(conv(x, w) + b), pad 1, stride 2, as a naive loop: [N, O, 3, 3] flattened. */
function naive(x: Float32Array, n: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < n; s++) for (let o = 0; o < O; o++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let acc = b[o]!;
    for (let c = 0; c < C; c++) for (let u = 0; u < K; u++) for (let v = 0; v < K; v++) {
      const yy = i * 2 - 1 + u, xx = j * 2 - 1 + v;
      if (yy >= 0 && yy < H && xx >= 0 && xx < H) acc += x[((s * C + c) * H + yy) * H + xx]! * w[((o * C + c) * K + u) * K + v]!;
    }
    out.push(Math.max(0, acc));
  }
  return out;
}

/** The graph nodes the scheduler walks to realize `t`. */
async function walked(t: born.Tensor): Promise<number> {
  resetHostProfile();
  hostProfile.enabled = true;
  try {
    await born.realize(t);
  } finally {
    hostProfile.enabled = false;
  }
  return hostProfile.nodes;
}

describe('onnx run path', () => {
  test('one model, runs of different batch sizes: each matches the naive conv', async () => {
    const m = await born.onnx.load(convModel);
    for (const n of [1, 3, 1, 2]) {
      const x = f32(n * C * H * H, (i) => Math.sin(i + n));
      const { y } = await m.run({ x: born.tensor(x, { shape: [n, C, H, H] }) });
      expect(y!.shape).toEqual([n, O, 9]);
      const got = Array.from(await y!.data());
      const want = naive(x, n);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    }
  });

  test('an imported Conv with a bias is the graph of conv2d with that bias: same kernels, same nodes', async () => {
    const m = await born.onnx.load(model({
      name: 'c', node: [node('Conv', ['x', 'w', 'b'], ['y'], [ints('kernel_shape', [K, K])])],
      initializer: [writeTensorProto({ dtype: 'float32', shape: [O, C, K, K], data: w }, 'w'), writeTensorProto({ dtype: 'float32', shape: [O], data: b }, 'b')],
      input: [info('x', [2, C, H, H])], output: [info('y', [2, O, 3, 3])],
    }));
    const x = born.tensor(f32(2 * C * H * H, (i) => Math.cos(i)), { shape: [2, C, H, H] });
    const { y } = await m.run({ x });
    const ref = conv2d(x, born.tensor(w, { shape: [O, C, K, K] }), born.tensor(b));
    expect(born.explain(y!).kernels.map((k) => k.name)).toEqual(born.explain(ref).kernels.map((k) => k.name));
    expect(await walked(y!)).toBe(await walked(ref));
    expect(Array.from(await y!.data())).toEqual(Array.from(await ref.data()));
  });

  test('a node without a builder fails when reached, naming the node, on every run', async () => {
    const m = await born.onnx.load(model({
      name: 'bad', node: [node('Relu', ['x'], ['r']), node('NoSuchOp', ['r'], ['y'])],
      input: [info('x', [2])], output: [info('y', [2])],
    }));
    for (let i = 0; i < 2; i++) await expect(m.run({ x: born.tensor([1, -1]) })).rejects.toThrow(/node "NoSuchOp_y" \(NoSuchOp, opset 13\): op NoSuchOp is not implemented/);
  });
});
