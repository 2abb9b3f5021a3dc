/** ONNX import: `born.onnx.load`. Loaded on first use only (src/index.ts imports it dynamically). */
export { load } from './model.js';
export type { LoadOptions, OnnxModel, RunInput, RunOutput, RunValue, ValueKind, ValueSpec } from './model.js';
export { OnnxError } from './proto.js';
export { NodeError } from './context.js';
export { readTensorProto, writeTensorProto, type HostArray } from './tensor-proto.js';
export { decodeTensor, encodeTensor } from './proto.js';
export { registeredOps } from './ops/registry.js';
/** ONNX export: `born.onnx.save` / `born.onnx.toBytes`. */
export { save, toBytes, type SaveOptions, type SampleInputs } from './export/save.js';
export type { Exportable } from './export/trace.js';
export { ExportError } from './export/errors.js';
