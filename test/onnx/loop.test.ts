import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { encodeModel, type AttributeProto, type GraphProto, type NodeProto, type ValueInfo } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';

const FLOAT = 1, INT64 = 7, BOOL = 9;
const info = (name: string, elem: number, dims: number[] | null): ValueInfo =>
  ({ name, type: { tensor_type: { elem_type: elem, ...(dims ? { shape: { dim: dims.map((d) => ({ dim_value: d })) } } : {}) } } });
const node = (op_type: string, input: string[], output: string[], attribute: AttributeProto[] = []): NodeProto => ({ op_type, input, output, name: `${op_type}_0`, attribute });
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: 7, ints: v });
const graphAttr = (g: GraphProto): AttributeProto => ({ name: 'body', type: 5, g });
const model = (graph: GraphProto, opset: number): Uint8Array => encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph });

// x doubles each iteration while it stays under 20 (the condition is computed on the device).
const doubling = (trips: number): Uint8Array => model({
  name: 'doubling',
  node: [node('Loop', ['M', 'c', 'x'], ['x_final', 'xs'], [graphAttr({
    name: 'body',
    node: [node('Mul', ['x_in', 'two'], ['x_out']), node('Less', ['x_out', 'limit'], ['c_out']), node('Identity', ['x_out'], ['x_scan'])],
    input: [info('i', INT64, []), info('c_in', BOOL, []), info('x_in', FLOAT, [])],
    output: [info('c_out', BOOL, []), info('x_out', FLOAT, []), info('x_scan', FLOAT, [])],
  })])],
  initializer: [writeTensorProto({ dtype: 'float32', shape: [], data: new Float32Array([2]) }, 'two'),
    writeTensorProto({ dtype: 'float32', shape: [], data: new Float32Array([20]) }, 'limit'),
    writeTensorProto({ dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(trips)]) }, 'M'),
    writeTensorProto({ dtype: 'bool', shape: [], data: new Uint8Array([1]) }, 'c')],
  input: [info('x', FLOAT, [])],
  output: [info('x_final', FLOAT, []), info('xs', FLOAT, [5])],
}, 11);

describe('onnx Loop', () => {
  test('stops when the body condition turns false; scan outputs stack per iteration', async () => {
    const m = await born.onnx.load(doubling(100));
    const out = await m.run({ x: born.tensor(1) });
    expect(await out.x_final!.tolist()).toBe(32);
    expect(await out.xs!.tolist()).toEqual([2, 4, 8, 16, 32]);
  });

  test('stops at the trip count M; zero trips give the initial value and an empty scan output', async () => {
    const m3 = await born.onnx.load(doubling(3));
    const out = await m3.run({ x: born.tensor(1) });
    expect(await out.xs!.tolist()).toEqual([2, 4, 8]);
    const m0 = await born.onnx.load(doubling(0));
    const zero = await m0.run({ x: born.tensor(5) });
    expect(await zero.x_final!.tolist()).toBe(5);
    expect(zero.xs!.shape).toEqual([0]);
  });
});

// Running sums of x's rows read back to front; the sums stacked as columns (output axis 1).
const reverseScan = model({
  name: 'reverse_scan',
  node: [node('Scan', ['init', 'x'], ['total', 'sums'], [graphAttr({
    name: 'body',
    node: [node('Add', ['s_in', 'row'], ['s_out']), node('Identity', ['s_out'], ['s_scan'])],
    input: [info('s_in', FLOAT, [2]), info('row', FLOAT, [2])],
    output: [info('s_out', FLOAT, [2]), info('s_scan', FLOAT, [2])],
  }), { name: 'num_scan_inputs', type: 2, i: 1 }, ints('scan_input_directions', [1]), ints('scan_output_axes', [-1])])],
  input: [info('init', FLOAT, [2]), info('x', FLOAT, [3, 2])],
  output: [info('total', FLOAT, [2]), info('sums', FLOAT, [2, 3])],
}, 11);

describe('onnx Scan', () => {
  test('input direction and a negative output axis, against a naive running sum', async () => {
    const x = [[1, 2], [3, 4], [5, 6]], init = [10, 20];
    const cols: number[][] = [];
    const acc = [...init];
    for (let i = x.length - 1; i >= 0; i--) { acc[0]! += x[i]![0]!; acc[1]! += x[i]![1]!; cols.push([...acc]); }
    const m = await born.onnx.load(reverseScan);
    const out = await m.run({ init: born.tensor(init), x: born.tensor(x) });
    expect(await out.total!.tolist()).toEqual(acc);
    expect(await out.sums!.tolist()).toEqual([cols.map((c) => c[0]), cols.map((c) => c[1])]);
  });
});
