import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { encodeModel, type GraphProto, type NodeProto, type ValueInfo } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';

const info = (name: string, elem: number, dims: (number | string)[]): ValueInfo =>
  ({ name, type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } });
const model = (graph: GraphProto, opset = 13): Uint8Array =>
  encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph });
const node = (op_type: string, input: string[], output: string[], extra: Partial<NodeProto> = {}): NodeProto => ({ op_type, input, output, name: `${op_type}_0`, ...extra });

// y = x * w + b over a symbolic batch dim; w and b are initializers (the parameters).
const linear = model({
  name: 'linear',
  node: [node('Mul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
  initializer: [writeTensorProto({ dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) }, 'w'),
    writeTensorProto({ dtype: 'float32', shape: [3], data: new Float32Array([0.5, 0, -1]) }, 'b')],
  input: [info('x', 1, ['batch', 3])],
  output: [info('y', 1, ['batch', 3])],
});

describe('born.onnx.load / run', () => {
  test('inputs, outputs, opsets and parameters are inspectable; run gives lazy tensors', async () => {
    const m = await born.onnx.load(linear);
    expect(m.inputNames).toEqual(['x']);
    expect(m.outputNames).toEqual(['y']);
    expect(m.inputs[0]).toEqual({ name: 'x', kind: 'tensor', dtype: 'float32', shape: ['batch', 3] });
    expect(m.opsets.get('')).toBe(13);
    expect([...m.parameters().keys()]).toEqual(['w', 'b']);
    const { y } = await m.run({ x: born.tensor([[1, 1, 1], [2, 0, 1]]) });
    expect(y).toBeInstanceOf(born.Tensor);
    expect(await y!.tolist()).toEqual([[1.5, 2, 2], [2.5, 0, 2]]);
    // Any batch, without re-importing; nested arrays are accepted too.
    expect((await m.run({ x: [[0, 0, 0]] })).y!.shape).toEqual([1, 3]);
  });

  test('parameters are differentiable: born.grad of a loss through the model', async () => {
    const m = await born.onnx.load(linear);
    const p = m.parameters();
    const x = born.tensor([[1, 2, 3], [4, 5, 6]]);
    const { y } = await m.run({ x });
    const [gw, gb] = born.grad(y!.sum(), [p.get('w')!, p.get('b')!]);
    expect(await gw!.tolist()).toEqual([5, 7, 9]);
    expect(await gb!.tolist()).toEqual([2, 2, 2]);
  });

  test('a wrong input name, a missing input, a wrong dtype or shape is a clear error', async () => {
    const m = await born.onnx.load(linear);
    await expect(m.run({ x: born.ones([1, 3]), z: born.ones([1]) })).rejects.toThrow(/unknown input "z" \(the model's inputs: x\)/);
    await expect(m.run({})).rejects.toThrow(/input "x" \(float32 \[batch, 3\]\) is missing/);
    await expect(m.run({ x: born.ones([2, 3], { dtype: 'int32' }) })).rejects.toThrow(/input "x" must be float32 \(or float16, bfloat16, widened\), got int32/);
    await expect(m.run({ x: born.ones([2, 4]) })).rejects.toThrow(/input "x" must have shape \[batch=2, 3\], got \[2, 4\]/);
  });

  test('a narrower compatible dtype is widened (int32 for int64)', async () => {
    const m = await born.onnx.load(model({
      node: [node('Add', ['a', 'a'], ['s'])], input: [info('a', 7, [2])], output: [info('s', 7, [2])],
    }));
    const { s } = await m.run({ a: born.tensor([3, -4], { dtype: 'int32' }) });
    expect(s!.dtype).toBe('int64');
    expect(Array.from(await s!.data() as unknown as BigInt64Array)).toEqual([6n, -8n]);
  });

  test('symbolic dims must agree across inputs', async () => {
    const m = await born.onnx.load(model({
      node: [node('Add', ['a', 'b'], ['s'])], input: [info('a', 1, ['n']), info('b', 1, ['n'])], output: [info('s', 1, ['n'])],
    }));
    await expect(m.run({ a: born.ones([2]), b: born.ones([3]) })).rejects.toThrow(/input "b" must have shape \[n=2\], got \[3\]/);
  });

  test('an unsupported op names the node, its op type and opset', async () => {
    const m = await born.onnx.load(model({ node: [node('FancyOp', ['a'], ['s'])], input: [info('a', 1, [2])], output: [info('s', 1, [2])] }, 11));
    await expect(m.run({ a: born.ones([2]) })).rejects.toThrow(/node "FancyOp_0" \(FancyOp, opset 11\): op FancyOp is not implemented/);
  });

  test('an input used before it is defined (unsorted graph) is a clear error', async () => {
    const m = await born.onnx.load(model({
      node: [node('Neg', ['t'], ['s']), node('Neg', ['a'], ['t'])], input: [info('a', 1, [2])], output: [info('s', 1, [2])],
    }));
    await expect(m.run({ a: born.ones([2]) })).rejects.toThrow(/input "t" is not defined before it/);
  });

  test('If runs the chosen branch over the outer scope; shape arithmetic stays on the host', async () => {
    const branch = (op: string): GraphProto => ({ name: op, node: [node(op, ['x'], ['r'])], output: [info('r', 1, [2])] });
    const m = await born.onnx.load(model({
      node: [
        node('Shape', ['x'], ['shp']),
        node('Reshape', ['x', 'shp'], ['x2']),
        { ...node('If', ['c'], ['y']), attribute: [{ name: 'then_branch', type: 5, g: branch('Neg') }, { name: 'else_branch', type: 5, g: branch('Abs') }] },
        node('Add', ['y', 'x2'], ['z']),
      ],
      input: [info('c', 9, []), info('x', 1, [2])], output: [info('z', 1, [2])],
    }));
    expect(await (await m.run({ c: born.tensor(true), x: born.tensor([1, -2]) })).z!.tolist()).toEqual([0, 0]);
    expect(await (await m.run({ c: born.tensor(false), x: born.tensor([1, -2]) })).z!.tolist()).toEqual([2, 0]);
  });

  test('a truncated model file is a clear error', async () => {
    await expect(born.onnx.load(linear.subarray(0, linear.length - 7))).rejects.toThrow(/not a valid ModelProto|has no graph|raw data holds/);
  });

  test('import born loads nothing of ONNX until onnx.load is called', () => {
    const src = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
    const staticImports = src.split('\n').filter((l) => /^(import|export)\b(?! type).*from '\.\/onnx\//.test(l));
    expect(staticImports).toEqual([]);
  });
});
