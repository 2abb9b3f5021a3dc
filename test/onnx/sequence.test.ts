import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { encodeModel, type AttributeProto, type GraphProto, type NodeProto, type TypeProto, type ValueInfo } from '../../src/onnx/proto.js';
import { writeTensorProto } from '../../src/onnx/tensor-proto.js';

const FLOAT = 1, INT64 = 7, BOOL = 9;
const tensorType = (elem: number, dims?: (number | string)[]): TypeProto =>
  ({ tensor_type: { elem_type: elem, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } : {}) } });
const seqType = (elem: number, dims?: (number | string)[]): TypeProto => ({ sequence_type: { elem_type: tensorType(elem, dims) } });
const optType = (t: TypeProto): TypeProto => ({ optional_type: { elem_type: t } });
const info = (name: string, type: TypeProto): ValueInfo => ({ name, type });
const node = (op_type: string, input: string[], output: string[], attribute: AttributeProto[] = []): NodeProto => ({ op_type, input, output, name: `${op_type}_${output[0]}`, attribute });
const int = (name: string, i: number): AttributeProto => ({ name, type: 2, i });
const model = (graph: GraphProto, opset = 17): Uint8Array => encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph });
const i64 = (name: string, v: number): ReturnType<typeof writeTensorProto> => writeTensorProto({ dtype: 'int64', shape: [], data: new BigInt64Array([BigInt(v)]) }, name);
const lists = (ts: born.Tensor[]): Promise<unknown[]> => Promise.all(ts.map((t) => t.tolist()));

// [a, b, c] -> insert c at -1 -> erase 0 -> the list, its length, one element and its concatenation.
const listOps = model({
  name: 'list_ops',
  node: [
    node('SequenceConstruct', ['a', 'b'], ['s0']),
    node('SequenceInsert', ['s0', 'c', 'minus1'], ['s1']),
    node('SequenceErase', ['s1', 'zero'], ['s2']),
    node('SequenceLength', ['s2'], ['n']),
    node('SequenceAt', ['s2', 'minus1'], ['last']),
    node('ConcatFromSequence', ['s2'], ['cat'], [int('axis', 0)]),
    node('ConcatFromSequence', ['s2'], ['stacked'], [int('axis', -1), int('new_axis', 1)]),
  ],
  initializer: [i64('minus1', -1), i64('zero', 0)],
  input: [info('a', tensorType(FLOAT, [2])), info('b', tensorType(FLOAT, [2])), info('c', tensorType(FLOAT, [2]))],
  output: [info('s2', seqType(FLOAT, [2])), info('n', tensorType(INT64, [])), info('last', tensorType(FLOAT, [2])),
    info('cat', tensorType(FLOAT, [4])), info('stacked', tensorType(FLOAT, [2, 2]))],
});

describe('onnx sequence ops', () => {
  test('construct, insert, erase, at, length and concat, against the same list ops in JS', async () => {
    const a = [1, 2], b = [3, 4], c = [5, 6];
    const list = [a, b];
    list.splice(list.length - 1, 0, c); // insert at -1: before the last element
    list.splice(0, 1);
    const m = await born.onnx.load(listOps);
    expect(m.outputs[0]).toEqual({ name: 's2', kind: 'sequence', dtype: 'float32', shape: [2] });
    const out = await m.run<born.Tensor | born.Tensor[]>({ a: born.tensor(a), b: born.tensor(b), c: born.tensor(c) });
    expect(Array.isArray(out.s2)).toBe(true);
    expect(await lists(out.s2 as born.Tensor[])).toEqual(list);
    expect(await (out.n as born.Tensor).tolist()).toBe(list.length);
    expect((out.n as born.Tensor).dtype).toBe('int64');
    expect(await (out.last as born.Tensor).tolist()).toEqual(list[list.length - 1]);
    expect(await (out.cat as born.Tensor).tolist()).toEqual(list.flat());
    expect(await (out.stacked as born.Tensor).tolist()).toEqual(list[0]!.map((_, j) => list.map((r) => r[j])));
  });

  // A sequence input split further and mapped: the body multiplies each element by a tensor input.
  const splitMap = model({
    name: 'split_map',
    node: [
      node('SplitToSequence', ['x', 'two'], ['pieces'], [int('axis', 0)]),
      node('SplitToSequence', ['x'], ['rows'], [int('axis', 0), int('keepdims', 0)]),
      node('SequenceMap', ['xs', 'k'], ['scaled'], [{ name: 'body', type: 5, g: {
        name: 'scale',
        node: [node('Mul', ['e', 'f'], ['y'])],
        input: [info('e', tensorType(FLOAT)), info('f', tensorType(FLOAT, []))],
        output: [info('y', tensorType(FLOAT))],
      } }]),
    ],
    initializer: [i64('two', 2)],
    input: [info('x', tensorType(FLOAT, [5])), info('xs', seqType(FLOAT, ['n'])), info('k', tensorType(FLOAT, []))],
    output: [info('pieces', seqType(FLOAT)), info('rows', seqType(FLOAT)), info('scaled', seqType(FLOAT))],
  });

  test('SplitToSequence (a piece length; keepdims 0) and SequenceMap over elements of different shapes', async () => {
    const m = await born.onnx.load(splitMap);
    expect(m.inputs.map((s) => s.kind)).toEqual(['tensor', 'sequence', 'tensor']);
    const x = [1, 2, 3, 4, 5];
    const xs = [[1, 2, 3], [4]];
    const out = await m.run<born.Tensor[]>({ x: born.tensor(x), xs: [born.tensor(xs[0]!), new Float32Array(xs[1]!)], k: born.tensor(10) });
    expect(await lists(out.pieces!)).toEqual([[1, 2], [3, 4], [5]]);
    expect(await lists(out.rows!)).toEqual(x);
    expect(out.rows![0]!.shape).toEqual([]);
    expect(await lists(out.scaled!)).toEqual(xs.map((r) => r.map((v) => v * 10)));
    // An empty sequence maps to an empty one.
    expect((await m.run<born.Tensor[]>({ x: born.tensor(x), xs: [], k: born.tensor(1) })).scaled).toEqual([]);
  });

  // Loop state is a sequence: iteration i appends [i, i].
  const loopSeq = model({
    name: 'loop_seq',
    node: [
      node('SequenceEmpty', [], ['empty'], [int('dtype', INT64)]),
      node('Loop', ['M', '', 'empty'], ['built'], [{ name: 'body', type: 5, g: {
        name: 'body',
        node: [node('Identity', ['c_in'], ['c_out']), node('Unsqueeze', ['i', 'axes'], ['i1']),
          node('Concat', ['i1', 'i1'], ['ii'], [int('axis', 0)]), node('SequenceInsert', ['s_in', 'ii'], ['s_out'])],
        initializer: [writeTensorProto({ dtype: 'int64', shape: [1], data: new BigInt64Array([0n]) }, 'axes')],
        input: [info('i', tensorType(INT64, [])), info('c_in', tensorType(BOOL, [])), info('s_in', seqType(INT64))],
        output: [info('c_out', tensorType(BOOL, [])), info('s_out', seqType(INT64))],
      } }]),
    ],
    input: [info('M', tensorType(INT64, []))],
    output: [info('built', seqType(INT64))],
  }, 13);

  test('a Loop carries a sequence as its state', async () => {
    const m = await born.onnx.load(loopSeq);
    const out = await m.run<born.Tensor[]>({ M: born.tensor(3, { dtype: 'int64' }) });
    expect(await lists(out.built!)).toEqual([[0, 0], [1, 1], [2, 2]]);
    expect(out.built!.every((t) => t.dtype === 'int64')).toBe(true);
    expect((await m.run<born.Tensor[]>({ M: born.tensor(0, { dtype: 'int64' }) })).built).toEqual([]);
  });
});

// An optional tensor input: whether it holds a value, the value itself, and an optional output.
const optionals = model({
  name: 'optionals',
  node: [node('OptionalHasElement', ['o'], ['has']), node('Identity', ['o'], ['o_out'])],
  input: [info('o', optType(tensorType(FLOAT, [2])))],
  output: [info('has', tensorType(BOOL, [])), info('o_out', optType(tensorType(FLOAT, [2])))],
}, 16);
const getElement = model({
  name: 'get_element',
  node: [node('OptionalGetElement', ['o'], ['v'])],
  input: [info('o', optType(seqType(FLOAT)))],
  output: [info('v', seqType(FLOAT))],
}, 16);

describe('onnx optional values', () => {
  test('an optional input given a value, null or nothing; an optional output is its value or null', async () => {
    const m = await born.onnx.load(optionals);
    expect(m.inputs[0]!.kind).toBe('optional tensor');
    const full = await m.run<born.Tensor | null>({ o: born.tensor([1, 2]) });
    expect(full.has!.dtype).toBe('bool');
    expect(await full.has!.tolist()).toBe(1);
    expect(await full.o_out!.tolist()).toEqual([1, 2]);
    for (const given of [{ o: null }, {}] as Record<string, null>[]) {
      const empty = await m.run<born.Tensor | null>(given);
      expect(await empty.has!.tolist()).toBe(0);
      expect(empty.o_out).toBeNull();
    }
  });

  test('OptionalGetElement gives the sequence it holds, and fails clearly on an empty one', async () => {
    const m = await born.onnx.load(getElement);
    expect(m.inputs[0]!.kind).toBe('optional sequence');
    expect(await lists((await m.run<born.Tensor[]>({ o: [born.tensor([1]), born.tensor([2, 3])] })).v!)).toEqual([[1], [2, 3]]);
    await expect(m.run({ o: null })).rejects.toThrow(/node "OptionalGetElement_v" \(OptionalGetElement, opset 16\): the optional is empty/);
  });
});

describe('onnx sequence errors', () => {
  const oneNode = (n: NodeProto, inputs: ValueInfo[], output: ValueInfo, opset = 17): Uint8Array =>
    model({ name: 'one', node: [n], input: inputs, output: [output], initializer: [i64('five', 5)] }, opset);

  test('a tensor where a sequence is expected, and a sequence where a tensor is', async () => {
    const at = await born.onnx.load(oneNode(node('SequenceAt', ['x', 'five'], ['y']), [info('x', tensorType(FLOAT, [2]))], info('y', tensorType(FLOAT)), 11));
    await expect(at.run({ x: born.tensor([1, 2]) })).rejects.toThrow('node "SequenceAt_y" (SequenceAt, opset 11): input 0 ("x") is a tensor, expected a sequence');
    const add = await born.onnx.load(oneNode(node('Add', ['s', 's'], ['y']), [info('s', seqType(FLOAT))], info('y', tensorType(FLOAT))));
    await expect(add.run({ s: [born.tensor([1])] })).rejects.toThrow('node "Add_y" (Add, opset 17): input 0 ("s") is a sequence, expected a tensor');
  });

  test('positions out of range, mixed dtypes and an empty concatenation', async () => {
    const at = await born.onnx.load(oneNode(node('SequenceAt', ['s', 'five'], ['y']), [info('s', seqType(FLOAT))], info('y', tensorType(FLOAT))));
    await expect(at.run({ s: [born.tensor([1]), born.tensor([2])] })).rejects.toThrow(/position 5 is out of range for a sequence of 2 \(allowed: -2 to 1\)/);
    const ins = await born.onnx.load(oneNode(node('SequenceInsert', ['s', 't'], ['y']), [info('s', seqType(FLOAT)), info('t', tensorType(INT64, [1]))], info('y', seqType(FLOAT))));
    await expect(ins.run({ s: [], t: born.tensor([1], { dtype: 'int64' }) })).rejects.toThrow(/the tensor is int64, but the sequence holds float32/);
    const cat = await born.onnx.load(oneNode(node('ConcatFromSequence', ['s'], ['y'], [int('axis', 0)]), [info('s', seqType(FLOAT))], info('y', tensorType(FLOAT))));
    await expect(cat.run({ s: [] })).rejects.toThrow(/the sequence is empty: there is nothing to concatenate/);
  });

  test('model.run checks a sequence input is an array of tensors of its dtype and fixed dims', async () => {
    const m = await born.onnx.load(oneNode(node('Identity', ['s'], ['y']), [info('s', seqType(FLOAT, [2]))], info('y', seqType(FLOAT, [2]))));
    await expect(m.run({ s: born.tensor([1, 2]) })).rejects.toThrow(/input "s" is a sequence of float32 \[2\]: pass an array of its tensors/);
    await expect(m.run({ s: [born.tensor([1, 2]), born.tensor([1, 2, 3])] })).rejects.toThrow(/input "s"\[1\] must have shape \[2\], got \[3\]/);
    await expect(m.run({ s: null })).rejects.toThrow(/input "s" \(sequence of float32 \[2\]\) is not optional/);
    await expect(m.run({})).rejects.toThrow(/input "s" \(sequence of float32 \[2\]\) is missing/);
  });

  test('maps and nested sequences are refused at load, naming the type', async () => {
    const nested: TypeProto = { sequence_type: { elem_type: seqType(FLOAT) } };
    await expect(born.onnx.load(oneNode(node('Identity', ['s'], ['y']), [info('s', nested)], info('y', nested))))
      .rejects.toThrow(/input "s" has type sequence\(sequence\(tensor\)\): Born reads tensors, sequences of tensors and optionals of those/);
  });
});
