/** The options of llm.generate, their defaults (llama.cpp's sampling defaults) and their checks. */
import { flag, int, num, options } from '../../tensor/args.js';
import type { SamplingOptions } from './sampling.js';

export interface GenerateOptions {
  /** Tokens to generate at most per prompt (default 256; fewer where the model's context ends). */
  maxTokens?: number;
  /** 0: greedy; higher: more random (default 0.8). */
  temperature?: number;
  /** Sample among the k most likely tokens (default 40; 0: all). */
  topK?: number;
  /** Nucleus sampling: the most likely tokens whose probabilities sum to topP (default 0.95; 1: off). */
  topP?: number;
  /** Drop tokens less likely than minP × the most likely one (default 0.05; 0: off). */
  minP?: number;
  /** Penalty on tokens already in the prompt or the output (default 1: none; 1.1 is common). */
  repetitionPenalty?: number;
  /** Seed of the sampling (default: a random one); the same seed gives the same tokens. */
  seed?: number;
  /**
   * Strings that end the generation; the text yielded stops before the first of them. With
   * `tokens: true` the token that completes one is the last yielded. Needs a tokenizer.
   */
  stop?: string | readonly string[];
  /** Token ids that end the generation and are not yielded (default: the model's EOS ids). */
  eosIds?: readonly number[];
  /** Yield token ids instead of text. */
  tokens?: boolean;
  /** Cancels the generation: the iterator rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
}

export interface ResolvedOptions extends SamplingOptions {
  readonly maxTokens: number;
  readonly seed: number;
  readonly stop: readonly string[];
  readonly eosIds: ReadonlySet<number>;
  readonly tokens: boolean;
  readonly signal?: AbortSignal;
}

const describe = (v: unknown): string => (typeof v === 'object' && v !== null && !Array.isArray(v) ? `a ${v.constructor?.name ?? 'object'}` : JSON.stringify(v) ?? String(v));

const KEYS = ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'seed', 'stop', 'eosIds', 'tokens', 'signal'] as const;

function inRange(op: string, name: string, v: unknown, dflt: number, ok: (x: number) => boolean, what: string): number {
  const x = num(op, name, v) ?? dflt;
  if (!Number.isFinite(x) || !ok(x)) throw new RangeError(`${op}: ${name} must be ${what}, got ${x}`);
  return x;
}

/** Checks `opts` against the model's vocabulary and fills in the defaults. */
export function resolveOptions(opts: unknown, vocabSize: number, modelEos: readonly number[] = []): ResolvedOptions {
  const op = 'generate';
  const o = options<GenerateOptions>(op, opts, KEYS);
  const maxTokens = o.maxTokens === undefined ? 256 : int(op, 'maxTokens', o.maxTokens);
  if (maxTokens < 1) throw new RangeError(`${op}: maxTokens must be at least 1, got ${maxTokens}`);
  const topK = o.topK === undefined ? 40 : int(op, 'topK', o.topK);
  if (topK < 0) throw new RangeError(`${op}: topK must be 0 (off) or more, got ${topK}`);
  const seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : int(op, 'seed', o.seed);
  const stop = o.stop === undefined ? [] : typeof o.stop === 'string' ? [o.stop] : o.stop;
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError(`${op}: stop must be a non-empty string or a list of them, got ${describe(o.stop)}`);
  }
  const eos = o.eosIds ?? modelEos;
  if (!Array.isArray(eos) || eos.some((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize)) {
    throw new TypeError(`${op}: eosIds must be a list of token ids in 0..${vocabSize - 1}, got ${describe(o.eosIds)}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`${op}: signal must be an AbortSignal, got ${describe(o.signal)}`);
  return {
    maxTokens, topK, seed, stop, eosIds: new Set(eos), signal: o.signal,
    tokens: flag(op, 'tokens', o.tokens) ?? false,
    temperature: inRange(op, 'temperature', o.temperature, 0.8, (x) => x >= 0, 'a number ≥ 0 (0: greedy)'),
    topP: inRange(op, 'topP', o.topP, 0.95, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    minP: inRange(op, 'minP', o.minP, 0.05, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    repetitionPenalty: inRange(op, 'repetitionPenalty', o.repetitionPenalty, 1, (x) => x > 0, 'a number > 0 (1: none)'),
  };
}
