/**
 * The HTTP routes: POST /v1/models/{name}:predict (JSON, .npy or raw bodies), GET /v1/models,
 * GET /v1/models/{name}, /healthz, /readyz and /metrics. Every failure is JSON
 * `{"error": {"message", "kind"}}` with a status that says whose it is: 4xx the client's
 * (400 a bad body, naming the problem; 404 no such model; 413 too large; 415 a body type the
 * server does not read), 503 overloaded or not ready (with Retry-After), 504 past the deadline,
 * 500 the model's (a worker that died mid-batch fails that batch only).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { NpyArray } from '../io/npy.js';
import { ServeError } from './batcher.js';
import {
  BadRequest, checkBatch, decodeJson, decodeNpy, decodeRaw, DTYPE_HEADER, encodeNpy, encodeRaw, NPY_TYPE, OUTPUT_HEADER, pickOutput, RAW_TYPE, SHAPE_HEADER, toNested,
} from './codec.js';
import { readTensorJson } from './json-tensors.js';
import type { ServeMetrics } from './metrics.js';
import type { ServedModel } from './model.js';

export interface AppState {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly metrics: ServeMetrics;
  /** All models loaded and warmed up, and not draining. */
  ready(): boolean;
  draining(): boolean;
}

const RETRY_AFTER_S = '1';
const PREDICT = /^(.+):predict$/;
const PREDICT_URL = /^\/v1\/models\/[^/?]+:predict(?:\?|$)/;

function fail(reply: FastifyReply, status: number, kind: string, message: string): FastifyReply {
  if (status === 503) void reply.header('retry-after', RETRY_AFTER_S);
  return reply.code(status).type('application/json').send({ error: { message, kind } });
}

/** The model a predict URL names, for the metrics of requests that fail before the route runs. */
const modelOfUrl = (url: string): string => decodeURIComponent(/\/v1\/models\/([^/?]+):predict/.exec(url)?.[1] ?? 'none');

export function buildApp(state: AppState, opts: { bodyLimit: number }): FastifyInstance {
  const app = Fastify({ bodyLimit: opts.bodyLimit, logger: false, return503OnClosing: true });
  const { metrics } = state;
  const raw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void): void => done(null, body);
  app.addContentTypeParser(NPY_TYPE, { parseAs: 'buffer' }, raw);
  app.addContentTypeParser(RAW_TYPE, { parseAs: 'buffer' }, raw);
  // A predict body's arrays of numbers are read from its bytes (json-tensors.ts); anything else
  // it does not take, and every other route's JSON, goes to fastify's own parser as before.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    const tensors = PREDICT_URL.test(req.url) ? readTensorJson(body) : undefined;
    if (tensors !== undefined) done(null, tensors);
    else json(req, body.toString('utf8'), done);
  });

  // Body parsing (bad JSON, too large, unknown type) fails before a route runs: answered here, counted under the model the URL names.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const kind = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : status < 500 ? 'bad_request' : 'internal';
    const model = modelOfUrl(req.url);
    metrics.errors.inc({ model, kind });
    metrics.requests.inc({ model, route: 'predict', status: String(status) });
    return fail(reply, status, kind, err.message);
  });
  // While draining, every answer closes its connection: a kept-alive one would hold close() open
  // for fastify's keep-alive timeout (72 s) after its last answer.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (state.draining()) void reply.header('connection', 'close');
    return payload;
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]} (predict is POST /v1/models/{name}:predict)`));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const models = Object.fromEntries([...state.models].map(([k, m]) => [k, m.ready]));
    if (state.ready()) return { ready: true, models };
    return fail(reply, 503, state.draining() ? 'draining' : 'loading', state.draining() ? 'the server is draining (shutting down)' : `models still loading: ${[...state.models.values()].filter((m) => !m.ready).map((m) => m.name).join(', ')}`);
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/v1/models', async () => {
    const list = [...state.models.values()];
    // `data` as OpenAI's GET /v1/models lists models, `models` with what Born knows of each.
    return { object: 'list', data: list.map((m) => ({ id: m.name, object: 'model', created: Math.floor((m.loadedAt?.getTime() ?? 0) / 1000), owned_by: 'born' })), models: list.map((m) => m.describe()) };
  });
  app.get<{ Params: { name: string } }>('/v1/models/:name', async (req, reply) => {
    const m = state.models.get(req.params.name);
    return m ? m.describe() : fail(reply, 404, 'not_found', unknownModel(state, req.params.name));
  });

  app.post<{ Params: { spec: string } }>('/v1/models/:spec', async (req, reply) => {
    const start = performance.now();
    const match = PREDICT.exec(req.params.spec);
    const name = match?.[1] ?? req.params.spec;
    const done = (status: number): void => metrics.answered(name, 'predict', status, (performance.now() - start) / 1000);
    const failed = (status: number, kind: string, message: string): FastifyReply => {
      metrics.errors.inc({ model: name, kind });
      done(status);
      return fail(reply, status, kind, message);
    };
    if (!match) return failed(404, 'not_found', `no route POST ${req.url} (predict is POST /v1/models/{name}:predict)`);
    const model = state.models.get(name);
    if (!model) return failed(404, 'not_found', unknownModel(state, name));
    if (!model.batcher) return failed(400, 'bad_request', `model '${name}' is a language model: use POST /v1/completions or /v1/chat/completions`);
    if (state.draining()) return failed(503, 'draining', 'the server is draining (shutting down)');
    if (!model.ready) return failed(503, 'loading', `model '${name}' is still loading`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== NPY_TYPE && type !== RAW_TYPE && type !== 'application/json') {
      return failed(415, 'unsupported_media_type', `a predict body is application/json, ${NPY_TYPE} or ${RAW_TYPE} (with ${DTYPE_HEADER} and ${SHAPE_HEADER}), not '${type || 'none'}'`);
    }
    let inputs: Record<string, NpyArray>, output: string | null = null;
    try {
      const servable = model.servable;
      if (type === NPY_TYPE || type === RAW_TYPE) output = pickOutput(servable, req.headers[OUTPUT_HEADER]);
      inputs = type === NPY_TYPE ? decodeNpy(servable, req.body as Buffer)
        : type === RAW_TYPE ? decodeRaw(servable, req.body as Buffer, req.headers)
        : decodeJson(servable, req.body);
      checkBatch(servable, inputs);
    } catch (e) {
      if (e instanceof BadRequest) return failed(e.status, 'bad_request', `model '${name}': ${e.message}`);
      throw e;
    }
    // The client going away before its answer cancels the request (if it is still queued).
    const gone = new AbortController();
    reply.raw.on('close', () => { if (!reply.raw.writableEnded) gone.abort(); });
    let outputs: Record<string, NpyArray>;
    try {
      outputs = await model.batcher.submit(inputs, gone.signal);
    } catch (e) {
      if (e instanceof ServeError) return failed(e.status, e.kind, e.message);
      throw e;
    }
    done(200);
    if (output === null) return { outputs: Object.fromEntries(Object.entries(outputs).map(([k, a]) => [k, toNested(a)])) };
    const a = outputs[output]!;
    void reply.header(OUTPUT_HEADER, output).header(DTYPE_HEADER, a.dtype).header(SHAPE_HEADER, a.shape.join(','));
    return reply.type(type).send(type === NPY_TYPE ? encodeNpy(a) : encodeRaw(a));
  });
  return app;
}

function unknownModel(state: AppState, name: string): string {
  return `no model '${name}' (served: ${[...state.models.keys()].map((k) => `'${k}'`).join(', ') || 'none'})`;
}
