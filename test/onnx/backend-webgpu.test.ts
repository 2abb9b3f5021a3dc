/**
 * The ONNX backend test models on the WebGPU device, where an adapter exists (else skipped, saying
 * why). Only the models the CPU passes run (skip-list.json is the CPU's); skip-list-webgpu.json
 * names those that fail on WebGPU alone, each with its reason (float64 has no WGSL type, ...).
 * Shaders compile slowly on a software adapter, so the default run takes the models of
 * webgpu-subset.json (every op type the full run passes in a model of at most a few seconds cold,
 * each in its cheapest such model: RNN, GRU and LSTM have none); BORN_ONNX_WEBGPU=all runs every
 * model. Both lists: `MESA_SHADER_CACHE_DISABLE=true npx vite-node test/onnx/update-skip-list.ts webgpu`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { backendSuite, readSkipList } from './backend-suite.js';
import { DATA_ROOT, listCases } from './backend.js';

const all = listCases();
const cpuSkip = readSkipList('./skip-list.json');
const full = process.env.BORN_ONNX_WEBGPU === 'all';
const subset = new Set(JSON.parse(readFileSync(new URL('./webgpu-subset.json', import.meta.url), 'utf8')) as string[]);
const noAdapter = all.length ? await acquireGpu().then(() => null, (e: unknown) => (e as Error).message) : null;

if (!all.length) {
  describe.skip(`ONNX backend tests on WebGPU: ${DATA_ROOT} is absent (apt-get install libonnx-testdata)`, () => { it('needs the data', () => {}); });
} else if (noAdapter !== null) {
  describe.skip(`ONNX backend tests on WebGPU: ${noAdapter}`, () => { it('needs an adapter', () => {}); });
} else {
  const cases = all.filter((c) => cpuSkip[c.name] === undefined && (full || subset.has(c.name)));
  backendSuite({
    title: `ONNX backend tests on WebGPU (${full ? 'every model the CPU passes' : 'webgpu-subset.json; BORN_ONNX_WEBGPU=all for every model'})`,
    device: 'webgpu', all, cases, skip: readSkipList('./skip-list-webgpu.json'),
    skipFile: 'skip-list-webgpu.json', update: 'MESA_SHADER_CACHE_DISABLE=true npx vite-node test/onnx/update-skip-list.ts webgpu',
    // An unrolled RNN compiles a pipeline per time step: a minute or more each on a software adapter.
    timeout: 600_000,
  });
  describe('webgpu-subset.json', () => {
    it('names only models the CPU passes and WebGPU is expected to pass', () => {
      const names = new Set(all.map((c) => c.name)), gpuSkip = readSkipList('./skip-list-webgpu.json');
      expect([...subset].filter((n) => !names.has(n) || cpuSkip[n] !== undefined || gpuSkip[n] !== undefined)).toEqual([]);
    });
  });
}
