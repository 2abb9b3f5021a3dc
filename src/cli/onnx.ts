/** `born run model.onnx` and `born info model.onnx`: run or describe an ONNX model from the command line. */
import { readFile } from 'node:fs/promises';
import { itemBytes } from '../graph/dtype.js';
import { loadNpy, NpyError, saveNpy } from '../io/npy.js';
import { load, type OnnxModel, type ValueSpec } from '../onnx/model.js';
import { NodeError } from '../onnx/context.js';
import { decodeModel, OnnxError, type GraphProto } from '../onnx/proto.js';
import { format } from '../tensor/format.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkReadable, checkWritableDir } from './files.js';
import { parse, UsageError } from './flags.js';
import { deviceFlag } from './train.js';

/** The model path, which comes first, and the flags after it. */
function modelArg(command: string, argv: string[]): [string, string[]] {
  const [file, ...rest] = argv;
  if (file === undefined || file.startsWith('-')) throw new UsageError(`born ${command}: expected the model file first (born ${command} model.onnx ...)`);
  return [file, rest];
}

async function loadModel(command: string, file: string): Promise<OnnxModel> {
  await checkReadable(command, 'model', file);
  try {
    return await load(file);
  } catch (e) {
    // A file that is not a readable model is a mistake in the call; a model Born cannot run is not.
    if (e instanceof OnnxError && !(e instanceof NodeError)) throw new UsageError(`born ${command}: --model ${file}: ${e.message}`);
    throw e;
  }
}

/**
 * `--flag file` or `--flag name=file` values bound to `names`: named ones where the part before
 * '=' is one of `names`, the others in order to the names not yet bound.
 */
function bind(command: string, flag: string, values: readonly string[], names: readonly string[], what: string): Map<string, string> {
  const out = new Map<string, string>();
  const positional: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : null;
    if (name !== null && names.includes(name)) {
      if (out.has(name)) throw new UsageError(`born ${command}: --${flag} ${name}= is given twice`);
      out.set(name, v.slice(eq + 1));
    } else if (name !== null && !/[/\\.]/.test(name)) {
      throw new UsageError(`born ${command}: --${flag} ${v}: the model has no ${what} '${name}' (its ${what}s: ${names.join(', ') || 'none'})`);
    } else positional.push(v);
  }
  const free = names.filter((n) => !out.has(n));
  if (positional.length > free.length) {
    throw new UsageError(`born ${command}: ${positional.length} unnamed --${flag} files but only ${free.length} ${what}s left to bind (${free.join(', ') || 'none'})`);
  }
  positional.forEach((file, i) => out.set(free[i]!, file));
  return out;
}

const shapeText = (s: ValueSpec['shape']): string => (s === null ? 'any shape' : `[${s.map((d) => d ?? '?').join(', ')}]`);

export async function runCommand(argv: string[]): Promise<number> {
  const [file, rest] = modelArg('run', argv);
  const { values } = parse('run', rest, {
    input: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', multiple: true, default: [] },
    device: { type: 'string', default: 'cpu' },
  });
  await deviceFlag('run', values.device);
  const model = await loadModel('run', file);
  const inputs = bind('run', 'input', values.input, model.inputNames, 'input');
  const missing = model.inputs.filter((i) => !inputs.has(i.name));
  if (missing.length) {
    throw new UsageError(`born run: no --input for ${missing.map((i) => `'${i.name}' (${i.dtype} ${shapeText(i.shape)})`).join(', ')}`);
  }
  const outs = bind('run', 'out', values.out, model.outputNames, 'output');
  for (const f of inputs.values()) await checkReadable('run', 'input', f);
  for (const f of outs.values()) await checkWritableDir('run', 'out', f);
  const given: Record<string, Tensor> = {};
  for (const [name, f] of inputs) {
    try {
      given[name] = await loadNpy(f);
    } catch (e) {
      if (e instanceof NpyError) throw new UsageError(`born run: --input ${f}: ${e.message}`);
      throw e;
    }
  }
  let result: Record<string, Tensor>;
  try {
    result = await model.run(given);
  } catch (e) {
    // The inputs' dtypes and shapes are checked before anything runs: those errors are the call's.
    if (e instanceof OnnxError && e.message.startsWith('onnx: model.run:')) throw new UsageError(`born run: ${e.message}`);
    throw e;
  }
  for (const name of model.outputNames) {
    const t = result[name]!;
    const target = outs.get(name);
    if (target !== undefined) {
      await saveNpy(target, t);
      console.log(`${name}: ${t.dtype} [${t.shape.join(', ')}] -> ${target}`);
    } else {
      console.log(`${name}: ${t.dtype} [${t.shape.join(', ')}]\n${await format(t)}`);
    }
  }
  return 0;
}

/** Op types of a graph and of its subgraphs (If/Loop/Scan bodies), counted. */
function histogram(g: GraphProto, into = new Map<string, number>()): Map<string, number> {
  for (const n of g.node ?? []) {
    const op = n.domain ? `${n.domain}.${n.op_type ?? '?'}` : n.op_type ?? '?';
    into.set(op, (into.get(op) ?? 0) + 1);
    for (const a of n.attribute ?? []) {
      if (a.g) histogram(a.g, into);
      for (const sub of a.graphs ?? []) histogram(sub, into);
    }
  }
  return into;
}

export async function infoCommand(argv: string[]): Promise<number> {
  const [file, rest] = modelArg('info', argv);
  parse('info', rest, {});
  const model = await loadModel('info', file);
  const proto = decodeModel(await readFile(file), file);
  const line = (s: ValueSpec): string => `  ${s.name}: ${s.dtype} ${shapeText(s.shape)}`;
  console.log(`model: ${file}`);
  console.log(`producer: ${model.producer || '(none)'}${proto.ir_version !== undefined ? `, IR version ${proto.ir_version}` : ''}`);
  console.log(`opsets: ${[...model.opsets].map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')}`);
  console.log(`inputs:\n${model.inputs.map(line).join('\n') || '  (none)'}`);
  console.log(`outputs:\n${model.outputs.map(line).join('\n') || '  (none)'}`);
  const ops = [...histogram(proto.graph ?? {})].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  console.log(`ops (${ops.reduce((n, [, c]) => n + c, 0)} nodes):\n${ops.map(([op, c]) => `  ${op} ${c}`).join('\n') || '  (none)'}`);
  let count = 0;
  let bytes = 0;
  const params = model.parameters();
  for (const t of params.values()) { count += t.numel(); bytes += t.numel() * itemBytes[t.dtype]; }
  console.log(`parameters: ${count} in ${params.size} initializers (${bytes} bytes)`);
  return 0;
}
