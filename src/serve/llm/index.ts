/**
 * The OpenAI-compatible routes of `born serve`'s language models, as a fastify plugin:
 * POST /v1/completions and POST /v1/chat/completions, answered as one JSON object or, with
 * `stream: true`, as server-sent events. Every model has one continuous-batching decode loop
 * (src/llm/generate/continuous.ts) that all its requests join; a client that goes away, or a
 * request past its deadline, leaves the loop at the next step. Errors come in OpenAI's shape.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChatTemplateError } from '../../llm/chat-template.js';
import { chatPromptIds } from '../../llm/chat.js';
import { ContinuousBatcher, type ContinuousSequence } from '../../llm/generate/continuous.js';
import type { Llm } from '../../llm/load.js';
import type { LlmRoutes, LlmRoutesOptions } from '../llm-contract.js';
import { ApiError, chatParams, completionParams, type ChatParams, type CommonParams, type CompletionParams } from './params.js';
import { DONE, Envelope, event, usage, type Route } from './respond.js';

export { ApiError } from './params.js';

/** Seconds a client is asked to wait (Retry-After) when the queue is full. */
const RETRY_AFTER_S = 1;

/** The client closed the connection: nothing more can be sent. */
class ClientGone extends Error {}

function apiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  // What llm.generate and the chat template refuse is the request's fault.
  if (e instanceof TypeError || e instanceof RangeError || e instanceof ChatTemplateError) return new ApiError(400, (e as Error).message);
  return new ApiError(500, `generation failed: ${e instanceof Error ? e.message : String(e)}`);
}

/** Each model's decode loop, made on first use; a reloaded model (a new Llm under the name) gets a new one. */
class Loops {
  private readonly loops = new Map<string, ContinuousBatcher>();

  constructor(private readonly o: LlmRoutesOptions) {}

  model(name: string | undefined): { name: string; llm: Llm } {
    const names = [...this.o.models.keys()];
    if (name === undefined) {
      if (names.length === 1) return { name: names[0]!, llm: this.o.models.get(names[0]!)! };
      throw new ApiError(400, `model is required (served: ${names.join(', ') || 'none'})`, 'model');
    }
    const llm = this.o.models.get(name);
    if (!llm) throw new ApiError(404, `The model '${name}' does not exist (served: ${names.join(', ') || 'none'})`, 'model', 'model_not_found');
    return { name, llm };
  }

  loop(name: string, llm: Llm): ContinuousBatcher {
    const have = this.loops.get(name);
    if (have?.llm === llm) return have;
    const m = this.o.metrics;
    // The old loop, if any, finishes the sequences it holds.
    const loop = new ContinuousBatcher(llm, {
      maxBatch: this.o.maxBatch,
      onStep: (s) => m.batchSize(name, s.sequences),
      onWaiting: (n) => m.queueDepth(name, n),
    });
    this.loops.set(name, loop);
    return loop;
  }
}

interface Job {
  readonly route: Route;
  readonly name: string;
  readonly seq: ContinuousSequence;
  readonly params: CommonParams;
  /** Ends the request's bookkeeping (deadline timer, the metrics' request record) with its status. */
  readonly finish: (status: number) => void;
}

/** The streamed answer: chunks as the pieces come, the finish reason, usage if asked, [DONE]. */
async function* events(job: Job, tokens: () => void): AsyncGenerator<string> {
  const env = new Envelope(job.route, job.name), iu = job.params.includeUsage;
  // Until the answer is whole, an end is the client's: a stream closed while this generator waits
  // at a yield is ended by return() (straight to finally), not by the sequence's ClientGone.
  let n = 0, status = 499;
  try {
    if (job.route === 'chat') yield env.chunk({ role: true }, iu);
    for await (const p of job.seq) {
      if (p.token >= 0) { n++; tokens(); }
      if (p.text) yield env.chunk({ text: p.text }, iu);
      if (p.finishReason) yield env.chunk({ finish: p.finishReason }, iu);
    }
    if (iu) yield env.usageChunk(usage(job.seq.promptTokens, n));
    status = 200;
    yield DONE;
  } catch (e) {
    if (e instanceof ClientGone) return;
    const err = apiError(e);
    status = err.status;
    yield event(err.toJSON());
    yield DONE;
  } finally {
    job.finish(status);
  }
}

async function whole(job: Job, tokens: () => void, reply: FastifyReply): Promise<unknown> {
  let text = '', n = 0, finish: 'stop' | 'length' = 'length';
  try {
    for await (const p of job.seq) {
      if (p.token >= 0) { n++; tokens(); }
      text += p.text;
      if (p.finishReason) finish = p.finishReason;
    }
  } catch (e) {
    if (e instanceof ClientGone) { job.finish(499); return reply; }
    const err = apiError(e);
    job.finish(err.status);
    return reply.code(err.status).send(err.toJSON());
  }
  job.finish(200);
  return new Envelope(job.route, job.name).whole(text, finish, usage(job.seq.promptTokens, n));
}

export const llmRoutes: LlmRoutes = async (app, o) => {
  const loops = new Loops(o);
  // Fastify's own refusals (a body that is not JSON, too large, a wrong content type) in OpenAI's shape too.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    return reply.code(status).send(new ApiError(status, error.message).toJSON());
  });

  const answer = async (route: Route, request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const started = performance.now();
    let name = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = (status: number): void => {
      clearTimeout(timer);
      o.metrics.request(name, status, (performance.now() - started) / 1000);
    };
    try {
      const params: CompletionParams | ChatParams = route === 'chat' ? chatParams(request.body) : completionParams(request.body);
      const picked = loops.model(params.model);
      name = picked.name;
      const llm = picked.llm;
      if (!llm.tokenizer) throw new ApiError(400, `the model '${name}' has no tokenizer, so it cannot answer in text`, 'model');
      const prompt = 'messages' in params ? await chatPromptIds(llm, params.messages) : params.prompt;
      const loop = loops.loop(name, llm);
      if (loop.stats.waiting >= o.queue) {
        reply.header('retry-after', String(RETRY_AFTER_S));
        throw new ApiError(503, `the model '${name}' has ${loop.stats.waiting} requests waiting (the most this server queues); retry later`, null, 'overloaded');
      }
      const abort = new AbortController();
      timer = setTimeout(() => abort.abort(new ApiError(504, `the request ran past its deadline of ${o.timeoutMs} ms`, null, 'timeout')), o.timeoutMs);
      reply.raw.on('close', () => {
        if (reply.raw.writableFinished) return;
        abort.abort(new ClientGone('the client closed the connection'));
        // A half-closed connection would otherwise stay open (and hold up the server's close).
        reply.raw.destroy();
      });
      // A chat reply runs to the end of the turn unless max_tokens says less.
      const maxTokens = params.options.maxTokens ?? llm.config.maxSeqLen;
      const seq = loop.generate(prompt, { ...params.options, maxTokens, signal: abort.signal });
      o.metrics.tokens(name, 'prompt', seq.promptTokens);
      const tokens = (): void => o.metrics.tokens(name, 'completion', 1);
      const job: Job = { route, name, seq, params, finish };
      if (!params.stream) return await whole(job, tokens, reply);
      reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
      return reply.send(Readable.from(events(job, tokens), { objectMode: false }));
    } catch (e) {
      const err = apiError(e);
      finish(err.status);
      return reply.code(err.status).send(err.toJSON());
    }
  };

  app.post('/v1/completions', (request, reply) => answer('completion', request, reply));
  app.post('/v1/chat/completions', (request, reply) => answer('chat', request, reply));
};
