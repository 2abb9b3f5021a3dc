/**
 * The ONNX schema (the official onnx.proto, committed beside this file) read with protobufjs.
 * The .proto text is parsed at the first decode, not at import, so `import born` never pays for it;
 * the build copies onnx.proto into dist/onnx (scripts/copy-onnx-assets.mjs). onnx-data.proto (the
 * SequenceProto and OptionalProto of backend-test data files) joins the schema on first use.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

export class OnnxError extends Error {
  override name = 'OnnxError';
}

let root: protobuf.Root | null = null;
let withData = false;

function schema(data = false): protobuf.Root {
  if (!root) root = protobuf.parse(readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8'), { keepCase: true }).root;
  // Same package: its `import "onnx/onnx-ml.proto"` names the messages already parsed.
  if (data && !withData) {
    protobuf.parse(readFileSync(new URL('./onnx-data.proto', import.meta.url), 'utf8'), root, { keepCase: true });
    withData = true;
  }
  return root;
}

/** Plain objects of the messages, fields named as in onnx.proto. */
export interface Dim { dim_value?: number; dim_param?: string }
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: Dim[] } };
  sequence_type?: { elem_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  map_type?: unknown;
}
export interface ValueInfo { name?: string; type?: TypeProto }
export interface StringStringEntry { key?: string; value?: string }
export interface TensorProto {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  double_data?: number[];
  uint64_data?: number[];
  external_data?: StringStringEntry[];
  data_location?: number;
  segment?: unknown;
}
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number; i?: number; s?: Uint8Array; t?: TensorProto; g?: GraphProto;
  floats?: number[]; ints?: number[]; strings?: Uint8Array[]; tensors?: TensorProto[]; graphs?: GraphProto[];
  sparse_tensor?: unknown; tp?: TypeProto;
  ref_attr_name?: string;
}
export interface NodeProto {
  input?: string[]; output?: string[]; name?: string; op_type?: string; domain?: string; attribute?: AttributeProto[];
}
export interface GraphProto {
  node?: NodeProto[]; name?: string; initializer?: TensorProto[]; sparse_initializer?: unknown[];
  input?: ValueInfo[]; output?: ValueInfo[]; value_info?: ValueInfo[];
}
export interface SequenceProto {
  name?: string; elem_type?: number; tensor_values?: TensorProto[]; sequence_values?: SequenceProto[];
  map_values?: unknown[]; optional_values?: OptionalProto[]; sparse_tensor_values?: unknown[];
}
export interface OptionalProto {
  name?: string; elem_type?: number; tensor_value?: TensorProto; sequence_value?: SequenceProto;
  map_value?: unknown; optional_value?: OptionalProto; sparse_tensor_value?: unknown;
}
export interface OperatorSetId { domain?: string; version?: number }
export interface ModelProto {
  ir_version?: number; opset_import?: OperatorSetId[]; producer_name?: string; graph?: GraphProto;
  functions?: unknown[];
}

// int64 fields come back as JS numbers: exact to 2^53, which covers every shape, index and offset
// (int64 tensor payloads in raw_data are read exactly, as BigInt64, in tensor-proto.ts).
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: false, arrays: true };

function decode<T>(type: string, bytes: Uint8Array, what: string, data = false): T {
  const t = schema(data).lookupType(`onnx.${type}`);
  try {
    return t.toObject(t.decode(bytes), TO_OBJECT) as T;
  } catch (e) {
    throw new OnnxError(`onnx: ${what} is not a valid ${type} (${(e as Error).message}); is the file truncated or not ONNX?`);
  }
}

export const decodeModel = (bytes: Uint8Array, what = 'the model'): ModelProto => decode<ModelProto>('ModelProto', bytes, what);
export const decodeTensor = (bytes: Uint8Array, what = 'the tensor'): TensorProto => decode<TensorProto>('TensorProto', bytes, what);
/** The data-file messages of onnx-data.proto (backend tests store sequence and optional values so). */
export const decodeSequence = (bytes: Uint8Array, what = 'the sequence'): SequenceProto => decode<SequenceProto>('SequenceProto', bytes, what, true);
export const decodeOptional = (bytes: Uint8Array, what = 'the optional'): OptionalProto => decode<OptionalProto>('OptionalProto', bytes, what, true);

/** Serialises a TensorProto-shaped object (for export and tests). */
export function encodeTensor(t: TensorProto): Uint8Array {
  const type = schema().lookupType('onnx.TensorProto');
  return type.encode(type.fromObject(t)).finish();
}
export function encodeSequence(s: SequenceProto): Uint8Array {
  const type = schema(true).lookupType('onnx.SequenceProto');
  return type.encode(type.fromObject(s)).finish();
}
export function encodeModel(m: ModelProto): Uint8Array {
  const type = schema().lookupType('onnx.ModelProto');
  return type.encode(type.fromObject(m)).finish();
}
