/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so that several servers
 * in one process (tests, an embedding application) do not share counters. Names start with
 * born_serve_ (born_llm_ for the language-model routes); every series has a `model` label.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { engine } from '../scheduler/engine.js';
import type { LlmMetrics } from './llm-contract.js';

/** Batch sizes are powers of two (see batcher.ts's bucket), so are the histogram's bounds. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServeMetrics implements LlmMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'born_serve_requests_total', help: 'Requests answered, by model, route and HTTP status', labelNames: ['model', 'route', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'born_serve_request_duration_seconds', help: 'Seconds from a request\'s arrival to its answer', labelNames: ['model', 'route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly queue = new Gauge({ name: 'born_serve_queue_depth', help: 'Requests waiting for a batch', labelNames: ['model'], registers: [this.registry] });
  readonly batch = new Histogram({ name: 'born_serve_batch_size', help: 'Rows (examples) in each batch run, before padding', labelNames: ['model'], buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly batchRequests = new Histogram({ name: 'born_serve_batch_requests', help: 'Requests merged into each batch run', labelNames: ['model'], buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly errors = new Counter({ name: 'born_serve_errors_total', help: 'Requests that failed, by kind (bad_request, too_large, overloaded, deadline, cancelled, model, worker, draining)', labelNames: ['model', 'kind'], registers: [this.registry] });
  readonly reloads = new Counter({ name: 'born_serve_model_reloads_total', help: 'Hot reloads of a model file, by result (ok, failed)', labelNames: ['model', 'result'], registers: [this.registry] });
  readonly tokensTotal = new Counter({ name: 'born_llm_tokens_total', help: 'Tokens read (prompt) and generated (completion); its rate is tokens/s', labelNames: ['model', 'kind'], registers: [this.registry] });
  readonly llmQueue = new Gauge({ name: 'born_llm_queue_depth', help: 'Sequences waiting to join the running batch', labelNames: ['model'], registers: [this.registry] });
  readonly llmBatch = new Histogram({ name: 'born_llm_batch_size', help: 'Sequences in each decode step', labelNames: ['model'], buckets: BATCH_BUCKETS, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'born_engine_live_bytes', help: 'Bytes of device buffers held by tensors and running schedules', registers: [this.registry],
      collect() { this.set(engine.memory().liveBytes); },
    });
    new Gauge({
      name: 'born_engine_live_buffers', help: 'Device buffers held by tensors and running schedules', registers: [this.registry],
      collect() { this.set(engine.memory().liveBuffers); },
    });
  }

  answered(model: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ model, route, status: String(status) });
    this.latency.observe({ model, route }, seconds);
  }

  // ---- LlmMetrics, for the language-model routes ----
  tokens(model: string, kind: 'prompt' | 'completion', n: number): void { this.tokensTotal.inc({ model, kind }, n); }
  queueDepth(model: string, n: number): void { this.llmQueue.set({ model }, n); }
  batchSize(model: string, n: number): void { this.llmBatch.observe({ model }, n); }
  request(model: string, status: number, seconds: number): void { this.answered(model, 'llm', status, seconds); }
}
