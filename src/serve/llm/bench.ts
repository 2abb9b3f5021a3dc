/**
 * For benchmarks and tests of the LLM routes: a fastify server with only these routes on
 * loopback (startLlmServer), a recorder of what they report (RecordingMetrics), and a load of
 * concurrent streaming requests measured from the client's side (streamLoad: completion
 * tokens/s over all streams, time to first token), as bench/serve.ts reports for 1, 8 and 32
 * streams.
 */
import Fastify from 'fastify';
import type { Llm } from '../../llm/load.js';
import type { LlmMetrics } from '../llm-contract.js';
import { llmRoutes } from './index.js';

/** Keeps what the routes report: token counts per model and kind, every decode step's batch size, each request's status. */
export class RecordingMetrics implements LlmMetrics {
  readonly tokenCounts = new Map<string, number>();
  readonly batchSizes: number[] = [];
  readonly queueDepths: number[] = [];
  readonly requests: { model: string; status: number; seconds: number }[] = [];

  tokens(model: string, kind: 'prompt' | 'completion', n: number): void {
    const key = `${model}/${kind}`;
    this.tokenCounts.set(key, (this.tokenCounts.get(key) ?? 0) + n);
  }
  queueDepth(_model: string, n: number): void { this.queueDepths.push(n); }
  batchSize(_model: string, n: number): void { this.batchSizes.push(n); }
  request(model: string, status: number, seconds: number): void { this.requests.push({ model, status, seconds }); }
}

export interface LlmServerOptions {
  readonly models: Readonly<Record<string, Llm>> | ReadonlyMap<string, Llm>;
  readonly metrics?: LlmMetrics;
  readonly maxBatch?: number;
  readonly queue?: number;
  readonly timeoutMs?: number;
  /** Default 0: the OS chooses. */
  readonly port?: number;
  readonly host?: string;
}

export interface LlmServer {
  /** http://host:port */
  readonly url: string;
  readonly metrics: LlmMetrics;
  close(): Promise<void>;
}

/** A fastify server with the LLM routes alone, listening (loopback, an OS-chosen port by default); close() does not drain. */
export async function startLlmServer(o: LlmServerOptions): Promise<LlmServer> {
  // close() ends every connection at once (a benchmark's or a test's server: no drain to wait for).
  const app = Fastify({ forceCloseConnections: true });
  const metrics = o.metrics ?? new RecordingMetrics();
  const models = o.models instanceof Map ? o.models : new Map(Object.entries(o.models));
  await app.register(llmRoutes, { models, metrics, maxBatch: o.maxBatch ?? 32, queue: o.queue ?? 256, timeoutMs: o.timeoutMs ?? 30_000 });
  const url = await app.listen({ port: o.port ?? 0, host: o.host ?? '127.0.0.1' });
  return { url, metrics, close: () => app.close() };
}

/** The data of each server-sent event of a response as it arrives: parsed JSON, or the string '[DONE]'. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield data === '[DONE]' ? data : JSON.parse(data);
    }
  }
}

export interface StreamLoadOptions {
  /** Concurrent streams. */
  readonly streams: number;
  /** The /v1/completions body (stream and stream_options are set here); each stream sends it once. */
  readonly body: Readonly<Record<string, unknown>>;
}

export interface StreamLoadResult {
  readonly streams: number;
  /** Completion tokens over all streams (from each stream's usage chunk). */
  readonly completionTokens: number;
  /** From the first request sent to the last stream's end. */
  readonly seconds: number;
  /** completionTokens / seconds: the server's generation throughput. */
  readonly tokensPerSecond: number;
  /** Milliseconds from each request to its first text chunk, sorted. */
  readonly firstTokenMs: readonly number[];
}

/** Runs `streams` streaming completions at once against `url` and measures them from the client. */
export async function streamLoad(url: string, o: StreamLoadOptions): Promise<StreamLoadResult> {
  const t0 = performance.now();
  const one = async (): Promise<{ tokens: number; first: number }> => {
    const sent = performance.now();
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...o.body, stream: true, stream_options: { include_usage: true } }),
    });
    if (!res.ok || !res.body) throw new Error(`streamLoad: ${res.status} ${await res.text()}`);
    let tokens = 0, first = NaN;
    for await (const d of sseData(res.body)) {
      const c = d as { choices?: { text?: string }[]; usage?: { completion_tokens: number } | null; error?: { message: string } };
      if (c.error) throw new Error(`streamLoad: ${c.error.message}`);
      if (Number.isNaN(first) && c.choices?.[0]?.text) first = performance.now() - sent;
      if (c.usage) tokens = c.usage.completion_tokens;
    }
    return { tokens, first };
  };
  const runs = await Promise.all(Array.from({ length: o.streams }, one));
  const seconds = (performance.now() - t0) / 1000;
  const completionTokens = runs.reduce((s, r) => s + r.tokens, 0);
  return { streams: o.streams, completionTokens, seconds, tokensPerSecond: completionTokens / seconds, firstTokenMs: runs.map((r) => r.first).sort((a, b) => a - b) };
}
