/** What the export refuses (an op with no ONNX form, a graph that cannot be recorded) says so. */
import { OnnxError } from '../proto.js';

export class ExportError extends OnnxError {
  override name = 'ExportError';
}
