/**
 * The request bodies of the OpenAI-compatible routes, checked: /v1/completions and
 * /v1/chat/completions parameters mapped onto llm.generate's options. OpenAI's defaults apply
 * (temperature 1, top_p 1, no top-k or min-p), with vLLM's extensions top_k, min_p and
 * repetition_penalty. Parameters this server cannot honour (n > 1, logprobs, echo, tools, …) are
 * refused by name rather than ignored.
 */
import type { ChatMessage } from '../../llm/chat-template.js';
import type { GenerateOptions } from '../../llm/generate/options.js';

/** An error answered in OpenAI's shape: { error: { message, type, param, code } }. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }

  get type(): string { return this.status >= 500 ? 'server_error' : 'invalid_request_error'; }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const bad = (param: string, what: string): never => { throw new ApiError(400, `${param} ${what}`, param); };

type Body = Record<string, unknown>;

/** The parameters both routes share. */
export interface CommonParams {
  /** The `model` the client named (undefined: none given). */
  readonly model?: string;
  readonly stream: boolean;
  /** stream_options.include_usage: a last chunk carries the usage. */
  readonly includeUsage: boolean;
  /** llm.generate's options (without the signal). */
  readonly options: GenerateOptions;
}

export interface CompletionParams extends CommonParams { readonly prompt: string | number[] }
export interface ChatParams extends CommonParams { readonly messages: ChatMessage[] }

function number(b: Body, name: string, ok: (x: number) => boolean, what: string): number | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) bad(name, `must be ${what}, got ${JSON.stringify(v)}`);
  return v as number;
}

const integer = (b: Body, name: string, ok: (x: number) => boolean, what: string): number | undefined =>
  number(b, name, (x) => Number.isSafeInteger(x) && ok(x), what);

/** Parameters that have one value here: anything else is refused (clients send the defaults). */
const FIXED: readonly (readonly [string, (v: unknown) => boolean, string])[] = [
  ['n', (v) => v === 1, 'must be 1 (one choice per request)'],
  ['best_of', (v) => v === 1, 'must be 1'],
  ['echo', (v) => v === false, 'is not supported'],
  ['suffix', (v) => v === '', 'is not supported'],
  ['logprobs', (v) => v === false || v === 0, 'is not supported'],
  ['top_logprobs', (v) => v === 0, 'is not supported'],
  ['presence_penalty', (v) => v === 0, 'is not supported (use repetition_penalty)'],
  ['frequency_penalty', (v) => v === 0, 'is not supported (use repetition_penalty)'],
  ['logit_bias', (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 0, 'is not supported'],
  ['tools', (v) => Array.isArray(v) && v.length === 0, 'are not supported'],
  ['response_format', (v) => typeof v === 'object' && v !== null && (v as Body).type === 'text', 'is not supported (text only)'],
];

function common(b: Body, defaultMaxTokens: number | undefined, maxTokensName: string): CommonParams {
  for (const [name, ok, what] of FIXED) if (b[name] !== undefined && b[name] !== null && !ok(b[name])) bad(name, what);
  const model = b.model;
  if (model !== undefined && typeof model !== 'string') bad('model', `must be a string, got ${JSON.stringify(model)}`);
  const stream = b.stream ?? false;
  if (typeof stream !== 'boolean') bad('stream', `must be true or false, got ${JSON.stringify(stream)}`);
  const so = b.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) bad('stream_options', 'must be an object');
  const includeUsage = (so as Body | undefined)?.include_usage ?? false;
  if (typeof includeUsage !== 'boolean') bad('stream_options.include_usage', 'must be true or false');
  let stop = b.stop ?? undefined;
  if (typeof stop === 'string') stop = [stop];
  if (stop !== undefined && (!Array.isArray(stop) || stop.length > 16 || stop.some((s) => typeof s !== 'string' || s.length === 0))) {
    bad('stop', 'must be a non-empty string or a list of at most 16 of them');
  }
  const topK = integer(b, 'top_k', (x) => x >= -1, 'an integer ≥ -1 (-1 or 0: off)');
  const options: GenerateOptions = {
    maxTokens: integer(b, maxTokensName, (x) => x >= 1, 'a positive integer') ?? defaultMaxTokens,
    temperature: number(b, 'temperature', (x) => x >= 0 && x <= 2, 'a number in [0, 2]') ?? 1,
    topP: number(b, 'top_p', (x) => x > 0 && x <= 1, 'a number in (0, 1]') ?? 1,
    topK: topK === undefined || topK === -1 ? 0 : topK,
    minP: number(b, 'min_p', (x) => x >= 0 && x < 1, 'a number in [0, 1)') ?? 0,
    repetitionPenalty: number(b, 'repetition_penalty', (x) => x > 0, 'a number > 0') ?? 1,
    seed: integer(b, 'seed', () => true, 'an integer'),
    stop: stop as string[] | undefined,
  };
  return { model: model as string | undefined, stream: stream as boolean, includeUsage: includeUsage as boolean, options };
}

function body(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 'the request body must be a JSON object');
  return v as Body;
}

const isIds = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isSafeInteger(x));

/** POST /v1/completions: `prompt` is a string or a list of token ids (or a list holding one of them); max_tokens defaults to 16, as OpenAI's. */
export function completionParams(raw: unknown): CompletionParams {
  const b = body(raw);
  let prompt = b.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || isIds(prompt[0]))) prompt = prompt[0];
  if (typeof prompt !== 'string' && !isIds(prompt)) {
    bad('prompt', Array.isArray(prompt) && prompt.length > 1 && prompt.every((p) => typeof p === 'string' || Array.isArray(p))
      ? 'must be one prompt (several prompts in one request are not supported: send one request each)'
      : 'must be a string or a non-empty list of token ids');
  }
  return { ...common(b, 16, 'max_tokens'), prompt: prompt as string | number[] };
}

/** A message's content: a string, or OpenAI's list of parts of which only text parts are read. */
function content(c: unknown, i: number): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c) && c.every((p) => typeof p === 'object' && p !== null && (p as Body).type === 'text' && typeof (p as Body).text === 'string')) {
    return c.map((p) => (p as { text: string }).text).join('');
  }
  return bad(`messages[${i}].content`, 'must be a string or a list of { type: "text", text } parts');
}

/** POST /v1/chat/completions: `messages` go through the model's chat template; the reply runs to EOS or the context's end unless max_tokens (or max_completion_tokens) says less. */
export function chatParams(raw: unknown): ChatParams {
  const b = body(raw);
  const m = b.messages;
  if (!Array.isArray(m) || m.length === 0) bad('messages', 'must be a non-empty list of { role, content } messages');
  const messages = (m as unknown[]).map((x, i): ChatMessage => {
    if (typeof x !== 'object' || x === null || typeof (x as Body).role !== 'string') bad(`messages[${i}]`, 'must be a { role, content } object');
    return { role: (x as Body).role as string, content: content((x as Body).content, i) };
  });
  const name = b.max_completion_tokens !== undefined && b.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  return { ...common(b, undefined, name), messages };
}
