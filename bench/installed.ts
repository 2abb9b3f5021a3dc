// Which peers can run here: `--peers installed` (and `born bench` by default).

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const resolves = (...pkgs: string[]): boolean => {
  try {
    for (const p of pkgs) require.resolve(p);
    return true;
  } catch {
    return false;
  }
};

const imports = (python: string, module: string): boolean =>
  spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 120_000 }).status === 0;

/**
 * The peers whose packages are installed, in the orchestrator's order (born-nn is Born too: its
 * nn module, the onnx-* workloads' baseline). tfjs-cpu and the plain
 * JS loop are left out: they are slow floors (tfjs-cpu takes minutes a CNN step) that no target
 * compares with; name them in --peers to run them.
 */
export function installedPeers(python: string): string[] {
  const out = ['born', 'born-nn'];
  if (resolves('@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm')) out.push('tfjs-wasm');
  if (imports(python, 'numpy')) out.push('numpy');
  if (imports(python, 'torch')) out.push('torch');
  if (resolves('onnxruntime-node')) out.push('ort');
  return out;
}
