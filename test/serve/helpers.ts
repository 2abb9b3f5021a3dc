// Tiny models written for the serve tests, in-process servers on loopback port 0, and the
// Prometheus text of /metrics read back as numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MODELS } from '../../src/cli/models.js';
import { save } from '../../src/io/safetensors.js';
import { nn } from '../../src/index.js';
import type { Module } from '../../src/nn/module.js';
import { save as saveOnnx } from '../../src/onnx/export/save.js';
import { manualSeed, randn } from '../../src/tensor/creation.js';
import { serve, type ServeOptions, type Server } from '../../src/serve/index.js';

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'born-serve-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** born train's MLP with seeded random weights, as born train writes it (metadata model: mlp). */
export async function writeMlp(file: string, seed = 0): Promise<void> {
  manualSeed(seed);
  const m = MODELS.mlp();
  await m.realize();
  await save(m.stateDict(), file, { metadata: { model: 'mlp' } });
}

/** Linear(4, 3) + ReLU exported as ONNX with a symbolic batch: input 'x' [?, 4], output 'y' [?, 3]. */
export async function writeTinyOnnx(file: string, seed = 0): Promise<Module> {
  manualSeed(seed);
  const tiny = nn.Sequential(nn.Linear(4, 3), nn.ReLU());
  await tiny.realize();
  await saveOnnx(tiny, randn([1, 4]), file, { dynamicBatch: true, inputNames: ['x'], outputNames: ['y'] });
  return tiny;
}

export const start = (opts: Omit<ServeOptions, 'port' | 'host'>): Promise<Server> =>
  serve({ port: 0, host: '127.0.0.1', log: () => {}, ...opts });

export async function predict(url: string, model: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  const binary = body instanceof Uint8Array;
  return fetch(`${url}/v1/models/${model}:predict`, {
    method: 'POST', signal,
    headers: { 'content-type': binary ? 'application/x-npy' : 'application/json', ...headers },
    body: binary ? body : JSON.stringify(body),
  });
}

/** The value of one series of /metrics (labels matched as given), 0 if absent. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return series(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

/** The value of one series in Prometheus text, 0 if absent. */
export function series(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[3] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[4]);
  }
  return 0;
}

export async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
