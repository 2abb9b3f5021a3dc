// Every endpoint of born serve over real HTTP on loopback: predict in JSON, .npy and raw bytes
// against the model run directly, /v1/models, /healthz, /readyz, /metrics, and the 4xx answers
// that name the problem.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import type { Module } from '../../src/nn/module.js';
import { tensor } from '../../src/tensor/creation.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { Server } from '../../src/serve/index.js';
import { metric, predict, start, tempDir, writeMlp, writeTinyOnnx } from './helpers.js';

const tmp = tempDir();
let server: Server, tiny: Module;
const X = [[1, 2, 3, 4], [-1, 0.5, 2, -3], [0, 0, 0, 0]];

beforeAll(async () => {
  tiny = await writeTinyOnnx(path.join(tmp.dir, 'tiny.onnx'));
  await writeMlp(path.join(tmp.dir, 'mlp.safetensors'));
  server = await start({ models: [{ name: 'tiny', path: path.join(tmp.dir, 'tiny.onnx') }, { name: 'mlp', path: path.join(tmp.dir, 'mlp.safetensors') }], maxBatch: 4, bodyLimit: 64 * 1024 });
});
afterAll(async () => { await server?.close(); tmp.remove(); });

const expected = async (x: number[][]): Promise<number[][]> =>
  (await (tiny.forward as (t: Tensor) => Tensor)(tensor(x)).tolist()) as number[][];

const close = (a: number[][], b: number[][]): void => {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, 5)));
};

describe('predict', () => {
  it('JSON by input name and, for one input, as a bare nested array', async () => {
    const want = await expected(X);
    const r1 = await predict(server.url, 'tiny', { inputs: { x: X } });
    expect(r1.status).toBe(200);
    close(((await r1.json()) as { outputs: { y: number[][] } }).outputs.y, want);
    const r2 = await predict(server.url, 'tiny', { inputs: X });
    close(((await r2.json()) as { outputs: { y: number[][] } }).outputs.y, want);
  });

  it('a Born safetensors model (born train\'s MLP): ten logits per image', async () => {
    const img = Array.from({ length: 2 }, () => [Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => ((i * 28 + j) % 7) / 7))]);
    const r = await predict(server.url, 'mlp', { inputs: { input: img } });
    expect(r.status).toBe(200);
    const { logits } = ((await r.json()) as { outputs: { logits: number[][] } }).outputs;
    expect(logits.length).toBe(2);
    expect(logits[0]!.length).toBe(10);
    close([logits[1]!], [logits[0]!]); // the same image twice: the same logits (padded rows do not leak in)
  });

  it('.npy in, .npy out', async () => {
    const body = writeNpy({ dtype: 'float32', shape: [3, 4], data: Float32Array.from(X.flat()) });
    const r = await predict(server.url, 'tiny', body);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/x-npy/);
    const a = readNpy(new Uint8Array(await r.arrayBuffer()));
    expect(a.shape).toEqual([3, 3]);
    close([[...a.data as Float32Array]], [(await expected(X)).flat()]);
  });

  it('raw little-endian bytes with dtype and shape headers, answered the same way', async () => {
    const r = await fetch(`${server.url}/v1/models/tiny:predict`, {
      method: 'POST', body: Buffer.from(Float32Array.from(X.flat()).buffer),
      headers: { 'content-type': 'application/octet-stream', 'x-born-dtype': 'float32', 'x-born-shape': '3,4' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-born-dtype')).toBe('float32');
    expect(r.headers.get('x-born-shape')).toBe('3,3');
    close([[...new Float32Array(await r.arrayBuffer())]], [(await expected(X)).flat()]);
  });

  it.each([
    [{ inputs: { z: X } }, /no input 'z'.*'x' \(float32 \[\?, 4\]\)/],
    [{ inputs: [[1, 2, 3]] }, /'x' must have shape \[\?, 4\], got \[1, 3\]/],
    [{ inputs: [[1, 2], [3]] }, /ragged/],
    [{ inputs: [['a', 2, 3, 4]] }, /must be a number/],
    [{ input: X }, /"inputs"/],
    [[1, 2], /"inputs"/],
  ])('400 naming the problem: %j', async (body, message) => {
    const r = await predict(server.url, 'tiny', body);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('400 for a binary body of the wrong dtype or length; 404, 413, 415 and malformed JSON', async () => {
    const wrongDtype = writeNpy({ dtype: 'float64', shape: [1, 4], data: new Float64Array(4) });
    expect((await predict(server.url, 'tiny', wrongDtype)).status).toBe(400);
    const short = await fetch(`${server.url}/v1/models/tiny:predict`, {
      method: 'POST', body: Buffer.alloc(12), headers: { 'content-type': 'application/octet-stream', 'x-born-dtype': 'float32', 'x-born-shape': '1,4' },
    });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: { message: string } }).error.message).toMatch(/needs 16 bytes, the body has 12/);
    const missing = await predict(server.url, 'nope', { inputs: X });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/no model 'nope'.*'tiny'/);
    expect((await predict(server.url, 'tiny', { inputs: Array(20000).fill([1, 2, 3, 4]) })).status).toBe(413);
    expect((await fetch(`${server.url}/v1/models/tiny:predict`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await fetch(`${server.url}/v1/models/tiny:predict`, { method: 'POST', body: '{"inputs": [', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect(await metric(server.url, 'born_serve_errors_total', { model: 'tiny', kind: 'too_large' })).toBe(1);
  });
});

describe('the other endpoints', () => {
  it('GET /v1/models lists both models with their inputs and outputs', async () => {
    const body = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[]; models: { name: string; kind: string; inputs: unknown }[] };
    expect(body.data.map((d) => d.id)).toEqual(['tiny', 'mlp']);
    expect(body.models[0]).toMatchObject({ name: 'tiny', kind: 'onnx', inputs: [{ name: 'x', dtype: 'float32', shape: [null, 4] }] });
    expect(body.models[1]).toMatchObject({ name: 'mlp', kind: 'born', inputs: [{ name: 'input', shape: [null, 1, 28, 28] }], outputs: [{ name: 'logits' }] });
    expect((await fetch(`${server.url}/v1/models/mlp`)).status).toBe(200);
  });

  it('/healthz, /readyz and /metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ ready: true, models: { tiny: true, mlp: true } });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['born_serve_queue_depth', 'born_serve_batch_size_bucket', 'born_serve_request_duration_seconds_bucket', 'born_serve_errors_total', 'born_engine_live_bytes', 'born_llm_tokens_total']) {
      expect(text).toContain(name);
    }
    expect(await metric(server.url, 'born_serve_requests_total', { model: 'tiny', route: 'predict', status: '200' })).toBeGreaterThanOrEqual(4);
  });
});
