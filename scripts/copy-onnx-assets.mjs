// The build step tsc cannot do: the ONNX schema (model and data-file messages) and its licence beside the compiled reader.
import { copyFileSync, mkdirSync } from 'node:fs';
mkdirSync('dist/onnx', { recursive: true });
for (const f of ['onnx.proto', 'onnx-data.proto', 'LICENSE-onnx.txt']) copyFileSync(`src/onnx/${f}`, `dist/onnx/${f}`);
