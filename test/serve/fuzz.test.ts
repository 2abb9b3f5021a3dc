// Malformed predict bodies, generated: JSON values of any shape, JSON near the model's own
// ("inputs" with ragged, mistyped or misshaped arrays), .npy files and raw bytes with random
// headers. Every answer is a 4xx (or a 200 for a body that happens to be valid), never a 5xx,
// and the server keeps answering.
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy.js';
import type { Server } from '../../src/serve/index.js';
import { start, tempDir, writeTinyOnnx } from './helpers.js';

const tmp = tempDir();
let server: Server;
beforeAll(async () => {
  await writeTinyOnnx(path.join(tmp.dir, 'tiny.onnx'));
  server = await start({ models: [{ name: 'tiny', path: path.join(tmp.dir, 'tiny.onnx') }], maxBatch: 4, maxWaitMs: 0, bodyLimit: 4096 });
});
afterAll(async () => { await server?.close(); tmp.remove(); });

const post = async (body: Uint8Array | string, headers: Record<string, string>): Promise<number> => {
  const r = await fetch(`${server.url}/v1/models/tiny:predict`, { method: 'POST', body, headers });
  await r.arrayBuffer();
  return r.status;
};
const never5xx = (status: number): void => { expect(status).toBeGreaterThanOrEqual(200); expect(status).toBeLessThan(500); };

const leaf = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ maxLength: 3 }), fc.constant(null));
const nested = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 5 })) })).v;

it('JSON bodies: any value, and "inputs" of any nesting', async () => {
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.jsonValue(), nested.map((v) => ({ inputs: v })), fc.dictionary(fc.constantFrom('x', 'y', 'inputs'), nested).map((d) => ({ inputs: d }))),
    async (body) => never5xx(await post(JSON.stringify(body) ?? 'null', { 'content-type': 'application/json' })),
  ), { numRuns: 150 });
});

it('JSON text cut short or with bytes changed', async () => {
  const good = JSON.stringify({ inputs: [[1, 2, 3, 4]] });
  await fc.assert(fc.asyncProperty(fc.nat(good.length), fc.nat(good.length), fc.integer({ min: 0, max: 255 }), async (cut, at, byte) => {
    const b = Buffer.from(good.slice(0, Math.max(cut, 1)));
    if (at < b.length) b[at] = byte;
    never5xx(await post(b, { 'content-type': 'application/json' }));
  }), { numRuns: 100 });
});

it('.npy bodies: valid files of other dtypes and shapes, and bytes changed anywhere', async () => {
  const dtypes = ['float32', 'float64', 'int32', 'uint8', 'bool'] as const;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    async (dtype, shape, flips) => {
      const n = shape.reduce((a, d) => a * d, 1);
      const data = dtype === 'float32' ? new Float32Array(n) : dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
      const b = Buffer.from(writeNpy({ dtype, shape, data }));
      for (const [at, byte] of flips) b[at % b.length] = byte;
      never5xx(await post(b, { 'content-type': 'application/x-npy' }));
    },
  ), { numRuns: 100 });
});

it('raw bodies with random dtype and shape headers', async () => {
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.constantFrom('float32', 'float64', 'int64', 'bool', 'uint8'), fc.string({ maxLength: 8 })),
    fc.oneof(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }).map((d) => d.join(',')), fc.string({ maxLength: 10 })),
    fc.uint8Array({ maxLength: 96 }),
    async (dtype, shape, bytes) => {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (/^[\x21-\x7e]*$/.test(dtype)) headers['x-born-dtype'] = dtype;
      if (/^[\x20-\x7e]*$/.test(shape)) headers['x-born-shape'] = shape;
      never5xx(await post(bytes, headers));
    },
  ), { numRuns: 100 });
});

it('still answers a valid request afterwards', async () => {
  expect(await post(JSON.stringify({ inputs: [[1, 2, 3, 4]] }), { 'content-type': 'application/json' })).toBe(200);
  expect(await post('x'.repeat(5000), { 'content-type': 'application/json' })).toBe(413);
});
