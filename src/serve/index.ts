/**
 * `serve(options)`: Born's inference server (what `born serve` runs). It listens at once (so
 * /healthz answers while models load), loads and warms every model, then turns ready; close()
 * drains: /readyz turns unready, queued requests run without waiting for others, the listener
 * stops accepting, and every request already accepted is answered before it resolves.
 */
import type { FastifyInstance } from 'fastify';
import type { Llm } from '../llm/load.js';
import { buildApp } from './app.js';
import type { LlmRoutes } from './llm-contract.js';
import { ServeMetrics } from './metrics.js';
import { ServedModel } from './model.js';
import { kindOf, type ModelSource } from './registry.js';
import { engine } from '../scheduler/engine.js';

export { parseModelFlag, type ModelSource } from './registry.js';
export { moduleServable, type Servable, type TensorSpec } from './servable.js';
export { ServeMetrics } from './metrics.js';
export type { LlmRoutes, LlmRoutesOptions, LlmMetrics } from './llm-contract.js';

export interface ServeOptions {
  readonly models: readonly ModelSource[];
  /** Default 8080; 0 lets the system choose (see Server.port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Rows per batch run at most (default 32). */
  readonly maxBatch?: number;
  /** How long the oldest queued request waits for others (default 2 ms). */
  readonly maxWaitMs?: number;
  /** Requests waiting per model at most; past it 503 with Retry-After (default 256). */
  readonly queue?: number;
  /** Per-request deadline from arrival, in ms (default 30000): 504 past it. */
  readonly timeoutMs?: number;
  /** Batches of a model running at once at most (default 2: a second keeps the workers busy while the first waits for the event loop). */
  readonly batchesInFlight?: number;
  /** Largest request body in bytes (default 10 MiB): 413 past it. */
  readonly bodyLimit?: number;
  /** Reload a model when its file changes (polled every watchIntervalMs, default 500). */
  readonly watch?: boolean;
  readonly watchIntervalMs?: number;
  /** Between /readyz turning unready and the listener closing, on close() (default 0). */
  readonly drainDelayMs?: number;
  /** SIGTERM and SIGINT drain and close, SIGHUP reloads every model (default false: the embedding application decides). */
  readonly signals?: boolean;
  /** Where the server's log lines go (default stderr). */
  readonly log?: (line: string) => void;
  /**
   * The OpenAI routes for language models (default: src/serve/llm's llmRoutes, imported when an
   * LLM is served). A bundler that cannot follow that import passes it here.
   */
  readonly llmRoutes?: () => Promise<LlmRoutes>;
}

export interface Server {
  readonly app: FastifyInstance;
  readonly metrics: ServeMetrics;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly ready: boolean;
  /** Reloads one model (or all) from its source; a failed load keeps the old one serving. */
  reload(name?: string): Promise<void>;
  /** Drains and closes (see the module comment); the same promise on every call. */
  close(): Promise<void>;
  /** Settles when the server has closed (by close() or a signal). */
  readonly closed: Promise<void>;
}

// maxWaitMs: with 64 connections of batch-1 CNN requests (bench/serve.ts), 1 ms served 4,600-4,930
// requests/s against 4,400-4,500 with 2 ms (three alternating pairs); the MLP was within noise (7,570-7,830 against 7,850-7,940).
const DEFAULTS = { port: 8080, host: '127.0.0.1', maxBatch: 32, maxWaitMs: 1, queue: 256, timeoutMs: 30_000, batchesInFlight: 2, bodyLimit: 10 * 2 ** 20, watchIntervalMs: 500, drainDelayMs: 0 };

/** Loaded on the first LLM model only, so a server of tensor models never loads the generation code. */
async function defaultLlmRoutes(): Promise<LlmRoutes> {
  return (await import('./llm/index.js')).llmRoutes;
}

export async function serve(options: ServeOptions): Promise<Server> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & ServeOptions;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (o.models.length === 0) throw new TypeError('serve: no models (give at least one)');
  const names = new Set<string>();
  for (const m of o.models) {
    if (!/^[\w.-]+$/.test(m.name)) throw new TypeError(`serve: model name '${m.name}' may hold letters, digits, '_', '.' and '-' only`);
    if (names.has(m.name)) throw new TypeError(`serve: two models are named '${m.name}' (name them: --model name=FILE)`);
    names.add(m.name);
  }
  for (const [k, v] of Object.entries({ maxBatch: o.maxBatch, queue: o.queue, timeoutMs: o.timeoutMs, bodyLimit: o.bodyLimit, batchesInFlight: o.batchesInFlight })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`serve: ${k} must be a positive integer, got ${v}`);
  }
  if (!(o.maxWaitMs >= 0)) throw new RangeError(`serve: maxWaitMs must be >= 0, got ${o.maxWaitMs}`);

  const cpu = engine.cpu(), chainsBefore = cpu.chainsInFlight;
  const metrics = new ServeMetrics();
  const llms = new Map<string, Llm>();
  const batchOpts = { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, queue: o.queue, timeoutMs: o.timeoutMs, inFlight: o.batchesInFlight };
  const models = new Map<string, ServedModel>();
  for (const src of o.models) models.set(src.name, new ServedModel(src, await kindOf(src), batchOpts, metrics, (n, llm) => llms.set(n, llm)));
  let loaded = false, draining = false;
  const app = buildApp({ models, metrics, ready: () => loaded && !draining, draining: () => draining }, { bodyLimit: o.bodyLimit });
  if ([...models.values()].some((m) => m.kind === 'llm')) {
    const routes = await (o.llmRoutes ?? defaultLlmRoutes)();
    await app.register(routes, { models: llms, metrics, maxBatch: o.maxBatch, queue: o.queue, timeoutMs: o.timeoutMs });
  }
  await app.listen({ port: o.port, host: o.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const urlHost = o.host.includes(':') ? `[${o.host}]` : o.host;

  let closing: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => { resolveClosed = r; });
  const onTerm = (): void => {
    // A second signal while draining (a second Ctrl-C) is an operator who does not want to wait.
    if (closing) { log('born serve: a second signal while draining: exiting now'); process.exit(1); }
    void server.close();
  };
  const onHup = (): void => { void server.reload(); };
  const server: Server = {
    app, metrics, host: o.host, port, url: `http://${urlHost}:${port}`, models,
    get ready() { return loaded && !draining; },
    async reload(name?: string) {
      const targets = name === undefined ? [...models.values()] : [models.get(name)].filter((m): m is ServedModel => m !== undefined);
      if (name !== undefined && targets.length === 0) throw new Error(`serve: no model '${name}'`);
      await Promise.all(targets.map((m) => m.reload(log)));
    },
    close() {
      closing ??= (async () => {
        draining = true;
        for (const m of models.values()) m.batcher?.flush();
        if (o.drainDelayMs > 0) await new Promise((r) => setTimeout(r, o.drainDelayMs));
        for (const m of models.values()) m.unwatch();
        await app.close();
        await Promise.all([...models.values()].map((m) => m.batcher?.idle()));
        cpu.chainsInFlight = chainsBefore;
        if (o.signals) { process.off('SIGTERM', onTerm); process.off('SIGINT', onTerm); process.off('SIGHUP', onHup); }
        resolveClosed();
      })();
      return closing;
    },
    closed,
  };
  if (o.signals) { process.on('SIGTERM', onTerm); process.on('SIGINT', onTerm); process.on('SIGHUP', onHup); }
  // Each batch's chain of kernels takes its share of the worker threads (CpuDevice.chainsInFlight).
  cpu.chainsInFlight = Math.max(chainsBefore, o.batchesInFlight);
  try {
    for (const m of models.values()) await m.load();
  } catch (e) {
    await server.close();
    throw e;
  }
  loaded = true;
  if (o.watch) for (const m of models.values()) m.watch(o.watchIntervalMs, log);
  return server;
}
