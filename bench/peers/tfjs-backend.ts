// tfjs back-end set-up shared by the tfjs peer (tfjs.ts) and the cold-start child
// (bench/cold-start-child.ts). No static import of tfjs: the cold-start child times that import.
import { createRequire } from 'node:module';
import path from 'node:path';

/** The folder of tfjs-backend-wasm's .wasm files, as setWasmPaths wants it: a path with a trailing slash. */
export function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** tf.setBackend + tf.ready, without tfjs's "Hi there 👋. Looks like you are running TensorFlow.js in Node.js…". */
export async function setTfjsBackend(tf: { setBackend(name: string): Promise<boolean>; ready(): Promise<void> }, backend: string): Promise<void> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
    await tf.ready();
  } finally {
    console.warn = warn;
  }
}
