// The package entry (`import 'born'`): dist/index.js and the modules it imports, joined by esbuild
// into dist/bundle/ (run after tsc). Node's ESM loader costs about 1 ms a module to resolve,
// read, compile and link, and `import born` loads ~190 of them: one file (plus the lazily loaded
// chunks of src/llm and src/onnx, split out) halves the import time (bench/cold-start.ts).
// Packages stay external. The worker threads still load dist/devices/cpu-workers/worker-entry.cjs (then worker.js) and
// its few modules, and the CLI runs the per-file build; only the package entry is bundled.
// Without esbuild (a dependency of vitest's vite) the entry re-exports the per-file build instead.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const out = 'dist/bundle';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let esbuild = null;
try {
  esbuild = createRequire(import.meta.url)('esbuild');
} catch {
  console.warn('scripts/bundle.mjs: esbuild is not installed; dist/bundle/index.js re-exports dist/index.js (a slower import)');
}
if (esbuild) {
  await esbuild.build({
    // born/serve shares the bundle's chunks, so a server and the code around it use one engine.
    entryPoints: { index: 'dist/index.js', serve: 'dist/serve/index.js' },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  // src/onnx/proto.ts reads its schema beside the module that holds it: here, the onnx chunk.
  for (const f of ['onnx.proto', 'onnx-data.proto']) copyFileSync(`src/onnx/${f}`, `${out}/${f}`);
} else {
  writeFileSync(`${out}/index.js`, "export * from '../index.js';\n");
  writeFileSync(`${out}/serve.js`, "export * from '../serve/index.js';\n");
}
