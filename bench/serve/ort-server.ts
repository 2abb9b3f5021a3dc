// The peer of `born serve` in bench/serve.ts: onnxruntime-node inside fastify, the same routes and
// bodies as born serve's JSON predict (POST /v1/models/NAME:predict with {"inputs": nested array}
// or {"inputs": {input: nested array}}, answered {"outputs": {logits: nested array}}), /healthz,
// and the same listening line, but one session.run per request: no batching across requests.
//   node dist-bench/bench/serve/ort-server.js --model NAME=FILE.onnx [--port 0] [--host 127.0.0.1] [--threads N]
// Sessions as bench/peers/ort.ts's, with intra-op threads = the cores (born serve's pool uses them all).
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'body-limit': { type: 'string', default: String(10 * 1024 * 1024) },
  },
});

interface Served { session: ort.InferenceSession; input: string; output: string }
const models = new Map<string, Served>();
for (const spec of values.model ?? []) {
  const eq = spec.indexOf('=');
  const [name, file] = eq < 0 ? [spec.replace(/^.*\//, '').replace(/\.onnx$/, ''), spec] : [spec.slice(0, eq), spec.slice(eq + 1)];
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'], intraOpNumThreads: Number(values.threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  models.set(name, { session, input: session.inputNames[0]!, output: session.outputNames[0]! });
}
if (models.size === 0) throw new Error('ort-server: --model NAME=FILE.onnx is required');

class BadRequest extends Error {}

/** A rectangular nested array of numbers as its shape and float32 leaves. */
function flatten(value: unknown): { shape: number[]; data: Float32Array } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let k = 0;
  const walk = (v: unknown, d: number): void => {
    if (d === shape.length) {
      if (typeof v !== 'number') throw new BadRequest('inputs: leaves must be numbers');
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) throw new BadRequest('inputs: ragged nested array');
    for (const x of v) walk(x, d + 1);
  };
  walk(value, 0);
  return { shape, data };
}

/** Row-major data of `shape` as nested arrays. */
function nest(data: ArrayLike<number>, shape: readonly number[]): unknown {
  const rec = (off: number, d: number): unknown => {
    if (d === shape.length) return data[off];
    const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[d]! }, (_, i) => rec(off + i * stride, d + 1));
  };
  return rec(0, 0);
}

const app = Fastify({ bodyLimit: Number(values['body-limit']) });
app.get('/healthz', async () => ({ ok: true }));
app.get('/readyz', async () => ({ ok: true }));
app.post<{ Params: { target: string }; Body: { inputs?: unknown } }>('/v1/models/:target', async (req, reply) => {
  const m = /^(.+):predict$/.exec(req.params.target);
  const served = m ? models.get(m[1]!) : undefined;
  if (!served) return reply.code(404).send({ error: `no model route ${req.params.target}` });
  try {
    const raw = req.body?.inputs;
    const value = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)[served.input] : raw;
    const { shape, data } = flatten(value);
    const out = (await served.session.run({ [served.input]: new ort.Tensor('float32', data, shape) }))[served.output]!;
    return { outputs: { [served.output]: nest(out.data as Float32Array, out.dims) } };
  } catch (e) {
    if (e instanceof BadRequest) return reply.code(400).send({ error: e.message });
    throw e;
  }
});

const address = await app.listen({ port: Number(values.port), host: values.host });
const url = new URL(address);
process.stdout.write(`ort serve: listening on http://${values.host}:${url.port}\n`);
const stop = (): void => { void app.close().then(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
