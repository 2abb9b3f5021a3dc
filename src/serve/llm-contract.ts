/**
 * What `born serve` hands to the OpenAI-compatible routes of its language models
 * (src/serve/llm/index.ts exports `llmRoutes: LlmRoutes`, a fastify plugin registered once for all
 * LLM models). Kept small and stable: the server owns loading, hot reload, readiness, draining
 * and /metrics; the routes own /v1/completions and /v1/chat/completions and their batching.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Llm } from '../llm/load.js';

/** The counters and gauges the routes feed; each is exposed on /metrics with a `model` label. */
export interface LlmMetrics {
  /** Tokens as they are produced: `rate(born_llm_tokens_total{kind="completion"}[1m])` is tokens/s. */
  tokens(model: string, kind: 'prompt' | 'completion', n: number): void;
  /** Sequences waiting to join the running batch (after each change). */
  queueDepth(model: string, n: number): void;
  /** Sequences in one decode step of the running batch (once per step). */
  batchSize(model: string, n: number): void;
  /** A request finished (or failed): its HTTP status and its seconds from arrival to the last byte. */
  request(model: string, status: number, seconds: number): void;
}

export interface LlmRoutesOptions {
  /**
   * The LLM models by the name clients send as `model`. A hot reload replaces an entry in place,
   * so look the model up per request (and keep the Llm a running sequence started with).
   */
  readonly models: ReadonlyMap<string, Llm>;
  readonly metrics: LlmMetrics;
  /** Sequences in the running batch at most (--max-batch). */
  readonly maxBatch: number;
  /** Sequences waiting at most (--queue); past it answer 503 with a Retry-After header. */
  readonly queue: number;
  /** Milliseconds a request may take from arrival (--timeout-ms); past it answer 504 (or end the stream). */
  readonly timeoutMs: number;
}

/** The plugin's type; fastify's close() (SIGTERM) waits for every request it has accepted. */
export type LlmRoutes = FastifyPluginAsync<LlmRoutesOptions>;
