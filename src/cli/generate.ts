/**
 * `born generate`: streams a language model's continuation of a prompt to stdout, then prints
 * the prompt (prefill) and generation speeds to stderr. Any file llm.load reads; a llama2.c checkpoint holds no
 * tokenizer: give its tokenizer.bin with --tokenizer, or prompt with --prompt-ids (the output is
 * then token ids).
 */
import { readFile } from 'node:fs/promises';
import { load, Llm } from '../llm/load.js';
import type { GenerateOptions } from '../llm/generate/options.js';
import { fromLlama2c } from '../llm/tokenizer/llama2c.js';
import { checkReadable } from './files.js';
import { intFlag, parse, UsageError } from './flags.js';
import { deviceFlag } from './train.js';

/** The sampling flags `born generate` and `born chat` share. */
export const SAMPLING_FLAGS = {
  'max-tokens': { type: 'string', default: '256' },
  temperature: { type: 'string' },
  seed: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'min-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  device: { type: 'string', default: 'cpu' },
} as const;

const FLAGS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  'prompt-ids': { type: 'string' },
  tokenizer: { type: 'string' },
  ...SAMPLING_FLAGS,
} as const;

/** A number flag in [lo, hi] (absent: undefined). */
function numberFlag(cmd: string, name: string, s: string | undefined, lo: number, hi: number): number | undefined {
  if (s === undefined) return undefined;
  const v = s.trim() === '' ? NaN : Number(s);
  if (!(v >= lo && v <= hi)) throw new UsageError(`born ${cmd}: --${name} must be a number in [${lo}, ${hi}], got '${s}'`);
  return v;
}

type SamplingValues = { readonly [K in keyof typeof SAMPLING_FLAGS]?: string };

/** GenerateOptions from the sampling flags. */
export function samplingOptions(cmd: string, v: SamplingValues): GenerateOptions {
  return {
    maxTokens: intFlag(cmd, 'max-tokens', v['max-tokens'], 1),
    temperature: numberFlag(cmd, 'temperature', v.temperature, 0, 100),
    topK: v['top-k'] === undefined ? undefined : intFlag(cmd, 'top-k', v['top-k'], 0),
    topP: numberFlag(cmd, 'top-p', v['top-p'], Number.MIN_VALUE, 1),
    minP: numberFlag(cmd, 'min-p', v['min-p'], 0, 0.999999),
    repetitionPenalty: numberFlag(cmd, 'repetition-penalty', v['repetition-penalty'], Number.MIN_VALUE, 100),
    seed: v.seed === undefined ? undefined : intFlag(cmd, 'seed', v.seed, 0),
  };
}

function idsFlag(s: string): number[] {
  const ids = s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!ids.length || ids.some((id) => !Number.isInteger(id) || id < 0)) throw new UsageError(`born generate: --prompt-ids must be token ids separated by commas (1,2,3), got '${s}'`);
  return ids;
}

export async function generateCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('generate', argv, FLAGS);
  if (v.model === undefined) throw new UsageError('born generate: --model FILE is required');
  if (v.prompt !== undefined && v['prompt-ids'] !== undefined) throw new UsageError('born generate: give --prompt or --prompt-ids, not both');
  const opts: GenerateOptions = { ...samplingOptions('generate', v), tokens: true };
  const ids = v['prompt-ids'] === undefined ? undefined : idsFlag(v['prompt-ids']);
  await checkReadable('generate', 'model', v.model);
  if (v.tokenizer !== undefined) await checkReadable('generate', 'tokenizer', v.tokenizer);
  await deviceFlag('generate', v.device);

  let llm = await load(v.model);
  if (v.tokenizer !== undefined) {
    const tokenizer = fromLlama2c(await readFile(v.tokenizer), { vocabSize: llm.vocabSize });
    const eos = tokenizer.eosId === null ? undefined : [tokenizer.eosId];
    llm = new Llm(llm.model, llm.config, { ...llm.meta, tokenizer, bosId: tokenizer.bosId ?? undefined, eosIds: llm.meta.eosIds ?? eos });
  }
  const tok = llm.tokenizer;
  if (v.prompt !== undefined && !tok) throw new UsageError(`born generate: ${v.model} holds no tokenizer; give one with --tokenizer FILE (llama2.c's tokenizer.bin) or prompt with --prompt-ids`);
  // No prompt: from BOS, as llama2.c's run does.
  const prompt = ids ?? (v.prompt !== undefined ? tok!.encode(v.prompt) : [llm.meta.bosId ?? tok?.bosId ?? 1]);
  const decoder = tok?.decoder();
  if (decoder) {
    for (const id of prompt) decoder.push(id); // the prompt sets where the text continues
    if (v.prompt !== undefined) process.stdout.write(v.prompt);
  }
  const start = performance.now();
  let first = 0, n = 0;
  for await (const id of llm.generate(prompt, opts as GenerateOptions & { tokens: true })) {
    if (n++ === 0) first = performance.now();
    process.stdout.write(decoder ? decoder.push(id) : `${n > 1 ? ' ' : ''}${id}`);
  }
  const end = performance.now();
  // The speeds follow the text: wait until stdout (a pipe writes asynchronously) has taken it.
  await new Promise<void>((resolve) => process.stdout.write(`${decoder?.flush() ?? ''}\n`, () => resolve()));
  const rate = (tokens: number, ms: number): string => (ms > 0 ? (tokens / (ms / 1000)).toFixed(1) : '-');
  // The first token's time is the prompt's forward (prefill); the rest are one step each.
  console.error(`prompt: ${prompt.length} tokens in ${(first - start).toFixed(1)} ms (${rate(prompt.length, first - start)} tokens/s)`);
  console.error(`generated: ${n} tokens; ${Math.max(n - 1, 0)} after the first in ${(end - first).toFixed(1)} ms (${rate(n - 1, end - first)} tokens/s)`);
  return 0;
}
