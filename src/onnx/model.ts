/** `born.onnx.load`: an ONNX model as a Born graph, run with lazy tensors. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import type { DType } from '../graph/dtype.js';
import type { DeviceName } from '../graph/node.js';
import { tensor as makeTensor, type NestedArray } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { evaluate, readInitializers } from './graph.js';
import { isHost, toTensor } from './host.js';
import { decodeModel, OnnxError, type GraphProto, type TypeProto, type ValueInfo } from './proto.js';
import { bornDType, onnxTypeName } from './tensor-proto.js';
import { loadStateDictInto, stateDictOf } from './state.js';
import type { LoadResult } from '../nn/module.js';
import { isOptional, isSequence, OptionalValue, SequenceValue, type AnyValue } from './values.js';

export interface LoadOptions {
  /** Where parameters live and the graph runs (default: Born's default device). */
  readonly device?: DeviceName;
  /** The directory external data is read from, for a model given as bytes. */
  readonly baseDir?: string;
}

/**
 * What a declared input or output holds: a tensor; a sequence of tensors (an array in `run`); an
 * optional tensor or sequence (null when empty).
 */
export type ValueKind = 'tensor' | 'sequence' | 'optional tensor' | 'optional sequence';

/** One declared input or output: its kind, and the dtype and shape of its tensor (of each tensor of a sequence). */
export interface ValueSpec {
  readonly name: string;
  readonly kind: ValueKind;
  readonly dtype: DType;
  /** A symbolic dim by its name, an unknown one as null; null for any shape. */
  readonly shape: readonly (number | string | null)[] | null;
}

export type RunInput = Tensor | ArrayBufferView | NestedArray;
/** A value for `run`: a tensor input's value, an array of them for a sequence, null for an empty optional. */
export type RunValue = RunInput | readonly RunInput[] | null;
/** What `run` gives per output: a Tensor, a Tensor[] for a sequence, null for an empty optional. */
export type RunOutput = Tensor | Tensor[] | null;

export interface OnnxModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  /** Opset per domain ('' is the default ai.onnx domain). */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producer: string;
  /** Initializers by name, as tensors: fine-tune with born.grad, save with born.save. */
  parameters(): Map<string, Tensor>;
  /** The initializers as a state dict (nn.Module's stateDict()): live tensors by their ONNX names. */
  stateDict(): Record<string, Tensor>;
  /**
   * Copies values into the initializers by name, in place (nn.Module's loadStateDict()): strict
   * by default (missing or unexpected names are an error); wrong shapes or dtype kinds always are.
   */
  loadStateDict(sd: Record<string, Tensor>, opts?: { strict?: boolean }): LoadResult;
  /**
   * Runs the graph. Outputs are as `outputs[i].kind` says; `T` is what the caller expects them to
   * be (Tensor, for a model whose outputs are all tensors).
   */
  run<T extends RunOutput = Tensor>(inputs: Readonly<Record<string, RunValue>>): Promise<Record<string, T>>;
}

const typeName = (t: TypeProto | undefined): string => (t?.tensor_type ? 'tensor' : t?.sequence_type ? `sequence(${typeName(t.sequence_type.elem_type)})`
  : t?.optional_type ? `optional(${typeName(t.optional_type.elem_type)})` : t?.map_type ? 'map' : t ? 'unknown' : 'none');

function spec(v: ValueInfo, what: string): ValueSpec {
  const name = v.name ?? '';
  const opt = v.type?.optional_type;
  const inner = opt ? opt.elem_type : v.type;
  const seq = inner?.sequence_type;
  const t = (seq ? seq.elem_type : inner)?.tensor_type;
  if (!t) {
    throw new OnnxError(`onnx: ${what} ${JSON.stringify(name)} has type ${typeName(v.type)}: Born reads tensors, sequences of tensors and optionals of those (no maps or nested sequences)`);
  }
  const dims = t.shape?.dim;
  return {
    name,
    kind: opt ? (seq ? 'optional sequence' : 'optional tensor') : seq ? 'sequence' : 'tensor',
    dtype: bornDType(t.elem_type, `${what} ${JSON.stringify(name)}`),
    shape: t.shape === undefined ? null : (dims ?? []).map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param || null)),
  };
}

/** Dtypes an input may be given in and widened from: every value of the narrower type is exact in the wider. */
const WIDENS: Partial<Record<DType, readonly DType[]>> = {
  int64: ['int32', 'int16', 'int8', 'uint8'], int32: ['int16', 'int8', 'uint8'], int16: ['int8', 'uint8'],
  float64: ['float32', 'float16', 'bfloat16'], float32: ['float16', 'bfloat16'],
};

const fmtShape = (s: readonly (number | string | null)[] | null): string => (s === null ? 'any shape' : `[${s.map((d) => d ?? '?').join(', ')}]`);
const fmtSpec = (s: ValueSpec): string => `${s.kind === 'tensor' ? '' : `${s.kind} of `}${s.dtype} ${fmtShape(s.shape)}`;

export async function load(source: string | Uint8Array, opts: LoadOptions = {}): Promise<OnnxModel> {
  const bytes = typeof source === 'string' ? await readFile(source) : source;
  if (!(bytes instanceof Uint8Array)) throw new TypeError('onnx.load: expected a file path or the model\'s bytes (Uint8Array)');
  const baseDir = typeof source === 'string' ? dirname(resolvePath(source)) : opts.baseDir;
  const m = decodeModel(bytes, typeof source === 'string' ? source : 'the model bytes');
  const g: GraphProto | undefined = m.graph;
  if (!g) throw new OnnxError('onnx: the model has no graph (is this an ONNX model?)');
  const opsets = new Map<string, number>();
  for (const o of m.opset_import ?? []) opsets.set(o.domain === 'ai.onnx' ? '' : o.domain ?? '', Number(o.version ?? 1));
  if (!opsets.has('') && !(m.opset_import?.length)) opsets.set('', 1);
  const device = opts.device;
  const inits = readInitializers(g, device, baseDir);
  // Graph inputs that are also initializers are defaults a caller may override (IR < 4 lists them).
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map((v) => spec(v, 'input'));
  const outputs = (g.output ?? []).map((v) => spec(v, 'output'));
  const run = { opsets, device, baseDir };
  return {
    inputNames: inputs.map((i) => i.name), outputNames: outputs.map((o) => o.name), inputs, outputs, opsets,
    producer: m.producer_name ?? '',
    parameters: () => new Map(Object.entries(stateDictOf(inits, device))),
    stateDict: () => stateDictOf(inits, device),
    loadStateDict: (sd, o) => loadStateDictInto(inits, sd, o, device),
    async run<T extends RunOutput>(given: Readonly<Record<string, RunValue>>) {
      if (given === null || typeof given !== 'object') throw new TypeError('onnx model.run: expected an object of inputs by name');
      const bound = new Map<string, AnyValue>();
      const dims = new Map<string, number>();
      for (const k of Object.keys(given)) {
        if (!inputs.some((i) => i.name === k)) {
          throw new OnnxError(`onnx: model.run: unknown input ${JSON.stringify(k)} (the model's inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`);
        }
      }
      for (const s of inputs) {
        const v = given[s.name];
        if (v === undefined && !s.kind.startsWith('optional')) throw new OnnxError(`onnx: model.run: input ${JSON.stringify(s.name)} (${fmtSpec(s)}) is missing`);
        bound.set(s.name, bindValue(s, v, dims, device));
      }
      const outs = await evaluate(g, bound, inits, null, run);
      const give = (v: AnyValue): RunOutput => (isSequence(v) ? v.items.map((x) => give(x) as Tensor) : isOptional(v) ? (v.value === null ? null : give(v.value))
        : isHost(v) ? toTensor(v, device) : v);
      return Object.fromEntries(outputs.map((o, i) => [o.name, give(outs[i]!)])) as Record<string, T>;
    },
  };
}

/**
 * A sequence given as an array, an optional as a value or null (or left out). A sequence's tensors
 * are checked against the element dtype and fixed dims; its symbolic dims may differ per element.
 */
function bindValue(s: ValueSpec, v: RunValue | undefined, dims: Map<string, number>, device: DeviceName | undefined): AnyValue {
  const what = `input ${JSON.stringify(s.name)}`;
  const sequence = (x: RunValue): SequenceValue => {
    if (!Array.isArray(x)) {
      throw new OnnxError(`onnx: model.run: ${what} is a sequence of ${s.dtype} ${fmtShape(s.shape)}: pass an array of its tensors`);
    }
    return new SequenceValue(s.dtype, (x as readonly RunInput[]).map((e, i) => bindInput(s, e, new Map(dims), device, `${what}[${i}]`)));
  };
  if (s.kind === 'optional tensor' || s.kind === 'optional sequence') {
    if (v === null || v === undefined) return new OptionalValue(null);
    return new OptionalValue(s.kind === 'optional sequence' ? sequence(v) : bindInput(s, v as RunInput, dims, device, what));
  }
  if (v === null || v === undefined) throw new OnnxError(`onnx: model.run: ${what} (${fmtSpec(s)}) is not optional: it cannot be null`);
  return s.kind === 'sequence' ? sequence(v) : bindInput(s, v as RunInput, dims, device, what);
}

function bindInput(s: ValueSpec, v: RunInput, dims: Map<string, number>, device: DeviceName | undefined, what: string): Tensor {
  let t: Tensor;
  if (v instanceof Tensor) t = v;
  else if (ArrayBuffer.isView(v)) {
    const shape = s.shape && s.shape.every((d) => typeof d === 'number') ? s.shape as number[] : null;
    const len = (v as unknown as ArrayLike<number>).length;
    if (!shape && s.shape?.length !== 1) throw new OnnxError(`onnx: model.run: ${what} has shape ${fmtShape(s.shape)}: pass a Tensor (a typed array has no shape)`);
    t = makeTensor(v as Float32Array, { shape: shape ?? [len], device, ...(s.dtype === 'float16' || s.dtype === 'bfloat16' ? { dtype: s.dtype } : {}) });
  } else t = makeTensor(v as NestedArray, { dtype: s.dtype, device });
  if (t.dtype !== s.dtype) {
    if (!WIDENS[s.dtype]?.includes(t.dtype)) {
      throw new OnnxError(`onnx: model.run: ${what} must be ${s.dtype}${WIDENS[s.dtype] ? ` (or ${WIDENS[s.dtype]!.join(', ')}, widened)` : ''}, got ${t.dtype}`);
    }
    t = t.to(s.dtype);
  }
  if (s.shape) {
    const bad = t.shape.length !== s.shape.length || s.shape.some((d, i) => {
      if (typeof d === 'number') return d !== t.shape[i];
      if (typeof d === 'string') { const seen = dims.get(d); if (seen === undefined) { dims.set(d, t.shape[i]!); return false; } return seen !== t.shape[i]; }
      return false;
    });
    if (bad) {
      const known = s.shape.map((d) => (typeof d === 'string' && dims.has(d) ? `${d}=${dims.get(d)}` : d ?? '?'));
      throw new OnnxError(`onnx: model.run: ${what} must have shape [${known.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  return device !== undefined && t.device !== device ? t.to(device) : t;
}

export { onnxTypeName };
