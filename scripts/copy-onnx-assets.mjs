// The build step tsc cannot do: the ONNX schema and its licence beside the compiled reader.
import { copyFileSync, mkdirSync } from 'node:fs';
mkdirSync('dist/onnx', { recursive: true });
for (const f of ['onnx.proto', 'LICENSE-onnx.txt']) copyFileSync(`src/onnx/${f}`, `dist/onnx/${f}`);
